r"""Phonon bath: the electrode phonons as Ohmic friction with matching noise.

The atoms at the boundary of the device couple to the phonons of the
electrodes, a reservoir at the electrode temperature.  In the Ohmic (Markov)
limit the reservoir acts on each bath degree of freedom i as a friction
force plus a random force,

.. math::

    F_i = -\eta_i \dot X_i + \xi_i(t), \qquad \eta_i = M_i \gamma_i ,

with the noise spectrum that the fluctuation-dissipation theorem fixes
(H. B. Callen and T. A. Welton, Phys. Rev. 83, 34 (1951);
:ref:`theory-phonon-bath`, :eq:`eq-bath-noise`) for the friction kernel
eta_i, in the convention <xi(t+s) xi(t)> = int dw/2pi e^{-iws} S(w) of
:mod:`currentforces.dynamics.noise_generation`:

.. math::

    S_{ii}(\omega) = \eta_i\, \hbar\omega \coth\frac{\hbar\omega}{2k_BT}
    \quad\text{(quantum)}, \qquad
    S_{ii}(\omega) = 2 k_B T\, \eta_i \quad\text{(classical)},

for ``hbar |omega|`` below the cutoff hbar omega_c, zero above.  This is the
structure of the phonon bath of the semi-classical Langevin dynamics of
J.-S. Wang, Phys. Rev. Lett. 99, 160601 (2007) and J.-T. Lü, M. Brandbyge,
P. Hedegård, T. N. Todorov and D. Dundas, Phys. Rev. B 85, 245444 (2012):
friction on the boundary atoms, coloured quantum noise at the electrode
temperature, a cutoff of the order of the electrode's Debye energy.
Without a cutoff the zero-point part ``hbar |omega| eta/2`` of the quantum
noise makes <V^2> grow logarithmically with the bandwidth that the time
step resolves; the classical noise is white and needs none.

A weakly damped mode k (friction gamma_k = sum_i e_ki^2 gamma_i << omega_k,
e_k its mass-weighted eigenvector) then has the equilibrium energy
S_k(omega_k)/(2 eta_k) = (hbar omega_k/2) coth(hbar omega_k/2k_BT) =
hbar omega_k (n_B(hbar omega_k) + 1/2), the Bose-Einstein value, whatever
gamma_k is (k_B T with classical noise), and relaxes at the rate gamma_k.

How strong: an atom of mass M bound by a spring k to a semi-infinite chain
of the same atoms radiates its low-frequency motion into the chain as
sound, with the friction of the chain's acoustic impedance eta = sqrt(k M),
gamma = sqrt(k/M) (about 0.01/fs for gold atoms with k = 2 eV/Angstrom^2).

Units: friction rate gamma in 1/fs, eta in eV*fs/Angstrom^2 (the unit of
L: the bath adds -eta to the diagonal of L), temperature K, hbar*omega and
the cutoff in eV, S in eV^2*fs/Angstrom^2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import check_positive, check_temperature
from ..errors import InputError
from ..units import AMU, KB
from .noise_generation import _x_coth

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .._checks import ArrayLike, Indices, RealArray, RealSequence, Spectrum

__all__ = ["PhononBath", "combined_spectrum"]


class PhononBath:
    """Ohmic friction and its fluctuation-dissipation noise on chosen degrees of freedom.

    Parameters
    ----------
    dofs : sequence of int
        The degrees of freedom of the dynamics that couple to the bath
        (indices into its coordinates, e.g. the x, y, z of the boundary
        atoms); distinct, >= 0.
    friction : float or array_like
        Friction rate gamma in 1/fs (> 0), one for all or one per entry of
        ``dofs``; the friction coefficient is eta = M gamma.
    temperature : float
        Bath (electrode) temperature in K (>= 0).
    cutoff : float, optional
        hbar*omega_c in eV (> 0): the noise vanishes above it.  Required
        for quantum noise; classical noise without it is white.
    quantum : bool
        Quantum noise eta hbar omega coth(hbar omega/2k_BT) (default) or
        classical 2 k_B T eta.
    """

    def __init__(
        self,
        dofs: Indices,
        friction: ArrayLike,
        temperature: float,
        *,
        cutoff: float | None = None,
        quantum: bool = True,
    ) -> None:
        try:
            d = np.atleast_1d(np.asarray(dofs))
        except (TypeError, ValueError):
            d = None
        if d is None or d.ndim != 1 or d.size == 0 or d.dtype.kind not in "iu":
            raise InputError(f"dofs must be a non-empty sequence of integer degree-of-freedom indices, got {dofs!r}")
        if np.any(d < 0) or np.unique(d).size != d.size:
            raise InputError(f"dofs must be distinct indices >= 0, got {list(d)}")
        self.dofs = d.astype(int)
        try:
            g = np.broadcast_to(np.asarray(friction, dtype=float), d.shape).copy()
        except (TypeError, ValueError):
            raise InputError(
                f"friction must be a rate in 1/fs, one number or one per dof ({d.size}), got {friction!r}"
            ) from None
        if not np.all(np.isfinite(g)) or np.any(g <= 0):
            raise InputError(f"friction must be finite and > 0 (a rate in 1/fs), got {friction!r}")
        self.friction = g
        self.temperature = check_temperature(temperature)
        self.quantum = bool(quantum)
        self.cutoff = None if cutoff is None else check_positive("cutoff", cutoff, "eV")
        if self.quantum and self.cutoff is None:
            raise InputError(
                "cutoff (hbar*omega_c in eV) is required with quantum noise: its zero-point part "
                "grows like hbar*omega; use e.g. the electrode's Debye energy, above the modes"
            )

    def _check(self, masses, n):
        m = np.asarray(masses, dtype=float).ravel()
        if m.size != n:
            raise InputError(f"masses has {m.size} entries for {n} degrees of freedom")
        if self.dofs.max() >= n:
            raise InputError(f"bath dofs {list(self.dofs)} reach beyond the {n} degrees of freedom of the dynamics")
        return m

    def coefficients(self, masses: ArrayLike) -> RealArray:
        """eta_i = M_i gamma_i in eV*fs/Angstrom^2 for ``masses`` (amu) of the bath dofs."""
        return np.asarray(masses, dtype=float) * AMU * self.friction

    def velocity_matrix(self, masses: RealSequence, n: int | None = None) -> RealArray:
        """The bath's part of L: -diag(eta) on the bath dofs, (n, n) in eV*fs/Angstrom^2.

        ``masses`` (amu) are those of all n degrees of freedom."""
        n = len(masses) if n is None else n
        m = self._check(masses, n)
        out = np.zeros((n, n))
        out[self.dofs, self.dofs] = -self.coefficients(m[self.dofs])
        return out

    def spectrum(self, masses: RealSequence, n: int | None = None) -> Spectrum:
        """Noise spectrum callable ``spectrum(hbar_omega) -> (k, n, n)`` in
        eV^2*fs/Angstrom^2, diagonal on the bath dofs (``masses`` in amu)."""
        n = len(masses) if n is None else n
        eta = self.coefficients(self._check(masses, n)[self.dofs])
        kt = KB * self.temperature
        dofs, quantum, cutoff = self.dofs, self.quantum, self.cutoff

        def spectrum(hbar_omega):
            hw = np.atleast_1d(np.asarray(hbar_omega, dtype=float))
            w = _x_coth(hw, kt) if quantum else np.full(hw.shape, 2.0 * kt)
            if cutoff is not None:
                w = np.where(np.abs(hw) <= cutoff, w, 0.0)
            s = np.zeros((hw.size, n, n), dtype=complex)
            s[:, dofs, dofs] = w[:, None] * eta[None, :]
            return s

        return spectrum

    def fingerprint(self) -> NDArray[Any]:
        """Numbers that identify the bath (for checkpoints)."""
        return np.concatenate(
            [
                self.dofs.astype(float),
                self.friction,
                [self.temperature, -1.0 if self.cutoff is None else self.cutoff, float(self.quantum)],
            ]
        )


def combined_spectrum(*spectra: Spectrum | None) -> Spectrum | None:
    """The sum of independent noise sources: ``spectrum(hbar_omega)`` adding
    each non-``None`` spectrum callable of ``spectra`` (``None`` if none)."""
    parts = [s for s in spectra if s is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]

    def spectrum(hbar_omega):
        total = 0.0
        for s in parts:
            a = np.asarray(s(hbar_omega), dtype=complex)
            total = total + (a.reshape(-1, 1, 1) if a.ndim == 1 else a)  # one mode may come as (n,)
        return total

    return spectrum
