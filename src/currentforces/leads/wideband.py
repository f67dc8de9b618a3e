r"""The wide-band lead: an energy-independent broadening (:ref:`theory-wide-band`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._checks import as_dense_matrix, check_energies
from ..errors import InputError
from .base import LeadBase

if TYPE_CHECKING:
    from .._checks import ArrayLike, ComplexArray, IndexArray

__all__ = ["WideBandLead"]


class WideBandLead(LeadBase):
    r"""Energy-independent broadening: :math:`\Sigma = -i\Gamma/2`.

    Parameters
    ----------
    gamma : (N, N) array_like
        Broadening matrix Gamma in eV, Hermitian and positive semi-definite,
        in the device basis.  A scalar is not accepted: the lead must state
        which orbitals it couples to.

    Notes
    -----
    The wide-band limit keeps the sum rule integral of Tr A / 2 pi = N since
    G(z) ~ 1/z, but its Lorentzian tails extend to all energies.  Sigma is
    the same at every energy, real or complex: the imaginary part of a
    complex energy is not a broadening of this lead.
    """

    def __init__(self, gamma: ArrayLike) -> None:
        g = as_dense_matrix("gamma", gamma, hermitian=True)
        w = np.linalg.eigvalsh(0.5 * (g + g.conj().T))
        if w.min() < -1e-12 * max(1.0, abs(w).max()):
            raise InputError(f"gamma must be positive semi-definite; smallest eigenvalue {w.min():.3g} eV")
        self.gamma = g
        nz = np.flatnonzero(np.any(g != 0, axis=0) | np.any(g != 0, axis=1))
        self._support = nz if nz.size else np.arange(0)
        self._block = -0.5j * g[np.ix_(self._support, self._support)]

    @property
    def size(self) -> int:
        """Number N of device orbitals."""
        return self.gamma.shape[0]

    @property
    def support(self) -> IndexArray:
        """Orbitals with a non-zero row or column of ``gamma``."""
        return self._support

    def self_energy_block(self, energy: ArrayLike) -> ComplexArray:
        """Sigma = -i Gamma / 2 on ``support`` (eV), broadcast to the shape of ``energy``."""
        e = check_energies(energy)
        return np.broadcast_to(self._block, e.shape + self._block.shape).copy()

    def self_energy_derivative_block(self, energy: ArrayLike) -> ComplexArray:
        """dSigma/dE = 0 on ``support``."""
        e = check_energies(energy)
        return np.zeros(e.shape + self._block.shape, dtype=complex)

    def __repr__(self):
        return f"WideBandLead(size={self.size}, support={self.support.tolist()})"
