"""Green's-function solvers behind :class:`~currentforces.Junction`.

The junction's default dense solver inverts E - h - Sigma; for long devices
:class:`BlockTridiagonal` computes the same blocks by the recursive Green's
function method at a cost linear in the number of principal layers.  Both
answer the same questions: ``green_submatrix(E, rows, cols)``,
``spectral_functions(E)`` and ``transmission(E)``.
"""

from __future__ import annotations

from .rgf import CENTRAL_MAX, DEFAULT_MEMORY_BYTES, BlockTridiagonal, layers_from_sparsity

__all__ = ["BlockTridiagonal", "layers_from_sparsity", "DEFAULT_MEMORY_BYTES", "CENTRAL_MAX"]
