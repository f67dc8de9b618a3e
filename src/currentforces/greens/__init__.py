"""The Green's-function backends behind :class:`~currentforces.Junction`.

:class:`GreensBackend` (``greens/base.py``) is the interface: a backend
implements G(E)[rows, cols] and dG/dE on a set of orbitals, and inherits
the spectral functions, the transmission and the current integrand, written
once from those blocks.  Two backends:

* :class:`DenseInverse` (``greens/dense.py``, ``solver="dense"``): the dense
  inverse of E - h - Sigma, O(N^3) per energy;
* :class:`BlockTridiagonal` (``greens/rgf.py``, ``solver="rgf"``): the
  recursive Green's function method on principal layers
  (``greens/layers.py``), cost linear in the device length.

A subclass of :class:`GreensBackend` of your own is accepted by
``Junction(..., solver=backend)``.
"""

from __future__ import annotations

from .base import GreensBackend
from .dense import DenseInverse
from .rgf import CENTRAL_MAX, DEFAULT_MEMORY_BYTES, BlockTridiagonal, layers_from_sparsity

__all__ = [
    "GreensBackend",
    "DenseInverse",
    "BlockTridiagonal",
    "layers_from_sparsity",
    "DEFAULT_MEMORY_BYTES",
    "CENTRAL_MAX",
]
