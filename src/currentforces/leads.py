"""Leads: semi-infinite reservoirs seen by the device through a self-energy.

Every lead offers one interface (the Kwant idea: a solver needs nothing
else)::

    lead.self_energy(E)             # Sigma(E), shape (..., N, N), device basis
    lead.broadening(E)              # Gamma(E) = i (Sigma - Sigma^dagger)
    lead.self_energy_derivative(E)  # d Sigma / dE
    lead.size                       # N, number of device orbitals
    lead.support                    # device orbitals the lead couples to
    lead.self_energy_block(E)       # Sigma(E) on support only, (..., n_s, n_s)
    lead.self_energy_derivative_block(E)  # d Sigma / dE on support only
    lead.band_edges                 # energies where Sigma is not smooth

``E`` is a scalar or an array of energies in eV, real (the retarded
branch, E + i0) or complex in the upper half plane (contour points).

Lead geometry (design.md)::

    device | cell 1 | cell 2 | cell 3 | ...
           <-coupling-> <-hopping->

``onsite`` = H_nn, ``hopping`` = H_{n,n+1} (towards the far end),
``coupling`` = H_{device, cell 1} with device rows and lead-cell columns, and
Sigma = coupling g coupling^dagger with g the surface Green's function of
cell 1.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._checks import as_dense_matrix, check_energies, check_finite, check_number, check_positive, check_rtol
from .errors import BandEdgeWarning, InputError

__all__ = [
    "LeadBase",
    "Lead",
    "ChainLead",
    "WideBandLead",
    "broadening_from_self_energy",
    "chain_surface_green",
    "SelfEnergyAccuracyWarning",
    "EDGE_RTOL",
    "FLAT_BAND_RTOL",
]

EDGE_RTOL = 1e-12
"""A real energy within ``EDGE_RTOL`` times the energy scale of a band edge
(or of a dispersionless band) counts as lying on it: round-off of the edge
and of an energy grid."""

FLAT_BAND_RTOL = 1e-8
"""A lead band narrower than ``FLAT_BAND_RTOL`` times the lead's energy scale
(largest of its on-site, hopping and coupling entries) counts as
dispersionless.  Its states have a group velocity of order the band width,
and the self-energy it gives, of order coupling^2 / width, exceeds the
energy scale by the inverse ratio: beyond 1e8 the closed forms and the
decimation lose the band to round-off."""


class SelfEnergyAccuracyWarning(UserWarning):
    """A lead self-energy could not be converged to the requested broadening."""


def broadening_from_self_energy(sigma):
    r"""Gamma = i (Sigma - Sigma^dagger), batched over leading axes.

    .. math:: \Gamma = i\,(\Sigma - \Sigma^\dagger)
    """
    return 1j * (sigma - np.conj(np.swapaxes(sigma, -1, -2)))


_as_energies = check_energies


class LeadBase:
    """Common interface of all leads (see module docstring).

    Subclasses implement :meth:`self_energy` and, where available,
    :meth:`self_energy_derivative`; ``size`` and ``support`` are attributes.
    """

    size: int
    support: np.ndarray
    band_edges: tuple = ()

    def self_energy(self, energy):  # pragma: no cover - interface
        raise NotImplementedError

    def self_energy_derivative(self, energy):  # pragma: no cover - interface
        raise NotImplementedError(f"{type(self).__name__} has no self-energy derivative")

    def self_energy_block(self, energy):
        """Sigma(E) restricted to ``support``: shape (..., n_support, n_support), eV.

        The junction adds self-energies block-wise through this method, so a
        lead never has to build an N x N array."""
        idx = self.support
        return self.self_energy(energy)[..., idx[:, None], idx[None, :]]

    def self_energy_derivative_block(self, energy):
        """dSigma/dE restricted to ``support`` (dimensionless), (..., n_support, n_support)."""
        idx = np.asarray(self.support, dtype=int)
        return np.asarray(self.self_energy_derivative(energy))[..., idx[:, None], idx[None, :]]

    def broadening(self, energy):
        """Broadening Gamma(E) = i (Sigma - Sigma^dagger) in eV, shape (..., N, N)."""
        return broadening_from_self_energy(self.self_energy(energy))

    def broadening_derivative(self, energy):
        """dGamma/dE (dimensionless), from :meth:`self_energy_derivative`."""
        return broadening_from_self_energy(self.self_energy_derivative(energy))

    def _embed(self, block):
        """Embed (..., n, n) on ``support`` into (..., N, N)."""
        out = np.zeros(block.shape[:-2] + (self.size, self.size), dtype=complex)
        idx = self.support
        out[..., idx[:, None], idx[None, :]] = block
        return out


# ----------------------------------------------------------------------------
# wide-band lead
# ----------------------------------------------------------------------------
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
    G(z) ~ 1/z, but its Lorentzian tails extend to all energies.
    """

    def __init__(self, gamma):
        g = as_dense_matrix("gamma", gamma, hermitian=True)
        w = np.linalg.eigvalsh(0.5 * (g + g.conj().T))
        if w.min() < -1e-12 * max(1.0, abs(w).max()):
            raise InputError(f"gamma must be positive semi-definite; smallest eigenvalue {w.min():.3g} eV")
        self.gamma = g
        self.size = g.shape[0]
        nz = np.flatnonzero(np.any(g != 0, axis=0) | np.any(g != 0, axis=1))
        self.support = nz if nz.size else np.arange(0)
        self._sigma = -0.5j * g

    def self_energy(self, energy):
        """Sigma = -i Gamma / 2 (eV), broadcast to the shape of ``energy``."""
        e = _as_energies(energy)
        return np.broadcast_to(self._sigma, e.shape + self._sigma.shape).copy()

    def self_energy_block(self, energy):
        e = _as_energies(energy)
        idx = self.support
        block = self._sigma[np.ix_(idx, idx)]
        return np.broadcast_to(block, e.shape + block.shape)

    def self_energy_derivative(self, energy):
        """dSigma/dE = 0 for a wide-band lead."""
        e = _as_energies(energy)
        return np.zeros(e.shape + self._sigma.shape, dtype=complex)

    def self_energy_derivative_block(self, energy):
        """dSigma/dE = 0 on ``support``."""
        e = _as_energies(energy)
        n = self.support.size
        return np.zeros(e.shape + (n, n), dtype=complex)

    def __repr__(self):
        return f"WideBandLead(size={self.size}, support={self.support.tolist()})"


# ----------------------------------------------------------------------------
# analytic single-orbital chain
# ----------------------------------------------------------------------------
def chain_surface_green(z, hopping, onsite=0.0):
    r"""Retarded surface Green's function of a semi-infinite 1D chain (1/eV).

    .. math::

        g(z) = \frac{(z - \epsilon_0) - \sqrt{z - \epsilon_0 - 2|t|}\,
                     \sqrt{z - \epsilon_0 + 2|t|}}{2 t^2}

    with principal square roots (the surface element of the semi-infinite
    chain's resolvent, g = 1/(z - t^2 g)).  For real E this is
    (E - i sqrt(4t^2 - E^2))/2t^2 inside the band ``|E| < 2|t|`` and
    (E - sgn(E) sqrt(E^2 - 4t^2))/2t^2 outside: the retarded branch
    everywhere.  Real energies are taken as E + i0.
    """
    t = abs(hopping)
    if t == 0:
        raise InputError("hopping of a chain lead must be non-zero")
    z = np.asarray(z, dtype=complex)
    x = np.empty(z.shape, dtype=complex)
    # in units of |t|, so that t^2 can neither underflow nor overflow
    x.real = (z.real - onsite) / t
    x.imag = np.where(z.imag > 0, z.imag / t, 0.0)  # +0.0 exactly: the upper lip of the cut
    # numpy's complex sqrt follows C99: sqrt(-a + 0.0j) = +i sqrt(a), the limit from above.
    # At a band edge, x = +-2: g = x/2t, the limit from both sides (Gamma -> 0).
    a = np.sqrt(x - 2)
    b = np.sqrt(x + 2)
    return (x - a * b) / (2 * t)


def _chain_surface_green_derivative(z, hopping, onsite=0.0):
    """dg/dz for :func:`chain_surface_green` (1/eV^2); from g = 1/(z - t^2 g):
    dg/dz = -g^2 / (1 - t^2 g^2)."""
    g = chain_surface_green(z, hopping, onsite)
    t2 = abs(hopping) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return -g * g / (1.0 - t2 * g * g)


class ChainLead(LeadBase):
    r"""A semi-infinite single-orbital chain with the closed-form self-energy.

    Parameters
    ----------
    hopping : float
        Nearest-neighbour hopping t of the chain in eV (the band is
        onsite +- 2|t|).
    coupling : (N,) or (N, 1) array_like
        Hopping in eV from each device orbital to the first chain site.
    onsite : float
        On-site energy of the chain in eV.

    Notes
    -----
    Sigma(E) = coupling g(E) coupling^dagger with g of
    :func:`chain_surface_green`.  Exactly at a band edge,
    E = onsite +- 2|t|, the closed form gives the limit from both sides,
    ``g = +-1/|t|`` and Gamma = 0 (the channel opening there has zero velocity);
    only dSigma/dE diverges.  A band narrower than ``FLAT_BAND_RTOL`` times
    the energy scale is refused (:data:`FLAT_BAND_RTOL`).
    """

    def __init__(self, hopping, coupling, onsite=0.0):
        self.hopping = check_number("hopping", hopping, "eV")
        self.onsite = check_number("onsite", onsite, "eV")
        try:
            c = np.asarray(coupling, dtype=complex)
        except (TypeError, ValueError):
            raise InputError(f"coupling must be numbers in eV, got {coupling!r}") from None
        if c.ndim == 2 and c.shape[1] == 1:
            c = c[:, 0]
        if c.ndim != 1:
            raise InputError(f"coupling must have shape (N,) or (N, 1), got {np.shape(coupling)}")
        check_finite("coupling", c)
        scale = max(abs(self.hopping), abs(self.onsite), np.abs(c).max(initial=0.0))
        if not 4 * abs(self.hopping) > FLAT_BAND_RTOL * scale:
            raise InputError(
                f"hopping = {hopping!r} eV is negligible against the lead's energy scale {scale:.3g} eV "
                f"(|onsite|, |coupling|): its band, of width 4|hopping|, is below {FLAT_BAND_RTOL:g} of "
                "it, a lead with no propagating states to speak of (FLAT_BAND_RTOL)"
            )
        self.coupling = c
        self.size = c.size
        self.support = np.flatnonzero(c)
        self._c = c[self.support]
        t = abs(self.hopping)
        self.band_edges = (self.onsite - 2 * t, self.onsite + 2 * t)

    def _block(self, scalar):
        return self._embed(self._small(scalar))

    def _small(self, scalar):
        outer = self._c[:, None] * self._c.conj()[None, :]
        return scalar[..., None, None] * outer

    def self_energy_block(self, energy):
        return self._small(self.surface_green(energy))

    def surface_green(self, energy):
        """Surface Green's function g(E) of the chain (1/eV)."""
        return chain_surface_green(_as_energies(energy), self.hopping, self.onsite)

    def self_energy(self, energy):
        """Sigma(E) = ``|c><c|`` g(E), shape (..., N, N), eV."""
        return self._block(self.surface_green(energy))

    def self_energy_derivative(self, energy):
        """dSigma/dE = ``|c><c|`` dg/dE; diverges at the band edges."""
        return self._block(_chain_surface_green_derivative(_as_energies(energy), self.hopping, self.onsite))

    def self_energy_derivative_block(self, energy):
        """dSigma/dE = ``|c><c|`` dg/dE on ``support``, (..., n_s, n_s)."""
        return self._small(_chain_surface_green_derivative(_as_energies(energy), self.hopping, self.onsite))

    def __repr__(self):
        return f"ChainLead(hopping={self.hopping}, onsite={self.onsite}, support={self.support.tolist()})"


# ----------------------------------------------------------------------------
# general periodic lead: Lopez-Sancho decimation
# ----------------------------------------------------------------------------
class Lead(LeadBase):
    r"""A semi-infinite periodic lead with the exact surface Green's function.

    Parameters
    ----------
    onsite : (n, n) array_like
        Cell Hamiltonian H_nn in eV (Hermitian).
    hopping : (n, n) array_like
        Hopping H_{n,n+1} from a cell to the next one away from the device, eV.
    coupling : (N, n) array_like
        Hopping H_{device, cell 1} in eV: device rows, lead-cell columns.
    eta : float, optional
        Positive imaginary part (eV) added to real energies to select the
        retarded branch.  The default 1e-13 times the lead's energy scale
        biases Sigma by O(eta) inside the band and O(sqrt(eta)) exactly at a
        band edge.
    tol : float, optional
        Convergence threshold of the decimation, relative to the energy
        scale; 0 < tol < 1.

    Notes
    -----
    The surface Green's function g of cell 1 is obtained by the
    Lopez-Sancho-Lopez-Sancho-Rubio decimation (J. Phys. F 15, 851 (1985)),
    which doubles the number of cells eliminated per iteration, so it
    converges in about log2(bandwidth/eta) steps even at real energies
    inside the band and is exact for multi-orbital cells and singular
    hopping matrices.  Convergence is checked: a decimation that does not
    converge raises ``RuntimeError``.  A lead whose bands are all
    dispersionless (narrower than :data:`FLAT_BAND_RTOL` times its energy
    scale) has no propagating states and raises ``InputError``; a single
    dispersionless band is a pole of Sigma, listed in ``flat_bands``, and a
    real energy on it emits :class:`~currentforces.errors.BandEdgeWarning`.
    Then

    .. math:: \Sigma(E) = V\, g(E)\, V^\dagger, \qquad
              g = [E - H_{00} - H_{01}\, g_{\rm bulk}\dots]^{-1}.

    The derivative dSigma/dE comes from differentiating the Dyson equation
    g = (z - H00 - H01 g H10)^{-1} of the surface, a linear (Sylvester)
    equation solved exactly.
    """

    max_iter = 200

    def __init__(self, onsite, hopping, coupling, eta=None, tol=1e-14):
        h00 = as_dense_matrix("onsite", onsite, hermitian=True)
        n = h00.shape[0]
        h01 = np.asarray(hopping, dtype=complex)
        if h01.ndim == 0 and n == 1:
            h01 = h01.reshape(1, 1)
        if h01.shape != (n, n):
            raise InputError(f"hopping must have the shape of onsite {(n, n)}, got {h01.shape}")
        check_finite("hopping", h01)
        c = np.asarray(coupling, dtype=complex)
        if c.ndim == 1 and n == 1:
            c = c[:, None]
        if c.ndim != 2 or c.shape[1] != n:
            raise InputError(
                f"coupling must have shape (N_device, {n}) (device rows, lead-cell columns), got {c.shape}"
            )
        check_finite("coupling", c)
        if not np.any(h01):
            raise InputError("hopping is zero: the lead cells are not connected")
        self.tol = check_rtol(tol, "tol", minimum=0.0)
        if eta is not None:
            eta = check_positive("eta", eta, "eV")
        self.onsite, self.hopping, self.coupling = h00, h01, c
        self.size = c.shape[0]
        self.cell_size = n
        self.support = np.flatnonzero(np.any(c != 0, axis=1))
        self._v = c[self.support]
        scale = max(np.abs(h00).max(), np.abs(h01).max(), 1e-300)
        self._scale = scale
        self.eta = 1e-13 * scale if eta is None else eta
        self._decimation_eta = 1e-2 * scale
        self.band_edges = self._band_edges()

    # -- bulk band structure, for quadrature breakpoints --------------------
    def _band_edges(self, nk=257):
        """Band minima/maxima of the lead's bulk bands (eV), by sampling k
        and refining the extrema of each band at k = 0 and pi and in between.

        Also finds the dispersionless bands (an energy that is an eigenvalue
        at every k, to ``FLAT_BAND_RTOL``), stored in ``flat_bands``: the
        self-energy has a pole there.  A lead whose bands are all
        dispersionless has no propagating states and is refused."""
        k = np.linspace(0, np.pi, nk)
        hk = (self.onsite[None] + self.hopping[None] * np.exp(1j * k)[:, None, None]
              + self.hopping.conj().T[None] * np.exp(-1j * k)[:, None, None])
        bands = np.linalg.eigvalsh(hk)
        edges = np.unique(np.round(np.concatenate([bands.min(axis=0), bands.max(axis=0)]), 12))
        scale = max(self._scale, np.abs(self.coupling).max(initial=0.0))
        flat_tol = FLAT_BAND_RTOL * scale
        if np.all(np.ptp(bands, axis=0) <= flat_tol):
            raise InputError(
                f"the lead has no propagating states: every band is dispersionless (narrower than "
                f"{flat_tol:.1e} eV) at {np.round(bands.mean(axis=0), 6).tolist()} eV, so the cells do "
                "not conduct (check hopping; a finite cluster belongs in the device, not in a lead)"
            )
        self.flat_bands = tuple(float(e) for e in edges
                                if np.abs(bands - e).min(axis=1).max() <= flat_tol)
        return tuple(edges)

    flat_bands: tuple = ()

    def _warn_flat_bands(self, energy):
        """BandEdgeWarning for real energies on a dispersionless band (a pole of Sigma)."""
        e = np.asarray(energy)
        real = np.real(e)[np.imag(e) == 0]
        if not self.flat_bands or real.size == 0:
            return
        flat = np.asarray(self.flat_bands)
        hit = real[np.abs(real[:, None] - flat).min(axis=1) <= EDGE_RTOL * max(self._scale, 1.0)]
        if hit.size:
            warnings.warn(
                f"energy {hit[0]:.12g} eV lies on a dispersionless band of the lead (localised states, "
                "no velocity): Sigma has a pole there and its value, of order coupling^2/eta with "
                f"eta = {self.eta:.1e} eV, is set by the broadening alone",
                BandEdgeWarning, stacklevel=4,
            )

    # -- surface Green's function ------------------------------------------
    def _complex_energy(self, energy):
        e = _as_energies(energy)
        z = np.asarray(e, dtype=complex)
        return np.where(z.imag < self.eta, z.real + 1j * self.eta, z)

    def _decimate(self, z):
        """Lopez-Sancho decimation at complex energies z (1-d); returns g (nz, n, n)."""
        n = self.cell_size
        eye = np.eye(n)
        alpha = np.broadcast_to(self.hopping, (z.size, n, n)).copy()          # towards far end
        beta = np.broadcast_to(self.hopping.conj().T, (z.size, n, n)).copy()  # towards device
        eps_s = np.broadcast_to(self.onsite, (z.size, n, n)).copy()
        eps = eps_s.copy()
        zI = z[:, None, None] * eye
        active = np.ones(z.size, dtype=bool)
        for _ in range(self.max_iter):
            g = np.linalg.inv(zI[active] - eps[active])
            a, b = alpha[active], beta[active]
            ag, bg = a @ g, b @ g
            agb = ag @ b
            eps_s[active] += agb
            eps[active] += agb + bg @ a
            alpha[active] = ag @ a
            beta[active] = bg @ b
            size = np.maximum(np.abs(alpha[active]).max(axis=(1, 2)), np.abs(beta[active]).max(axis=(1, 2)))
            idx = np.flatnonzero(active)
            active[idx[size < self.tol * self._scale]] = False
            if not active.any():
                break
        else:
            raise RuntimeError(
                f"Lead decimation did not converge in {self.max_iter} iterations at "
                f"E = {z[active][0]:.6g} eV"
            )
        return np.linalg.inv(zI - eps_s)

    def _kron_system(self, left, right):
        """Matrix of X -> left X right in row-major vec form, batched."""
        n = self.cell_size
        return np.einsum("bij,bkl->bikjl", left, np.swapaxes(right, -1, -2)).reshape(-1, n * n, n * n)

    def _newton(self, z, g, max_iter=12):
        """Newton iterations on the surface Dyson equation
        (z - H00 - H01 g H10) g = 1, started from ``g``.

        Returns the new g and a mask of the energies that converged.  The
        Jacobian 1 - (A^-1 H01) x (H10 g) has eigenvalues 1 - lambda_i
        lambda_j (products of Bloch factors), so it becomes singular as
        eta -> 0 where a right- and a left-moving band cross (folded cells);
        such energies report no convergence and keep their previous g.
        """
        n = self.cell_size
        h01, h10 = self.hopping, self.hopping.conj().T
        eye = np.eye(n)
        g = g.copy()
        active = np.ones(z.size, dtype=bool)
        converged = np.zeros(z.size, dtype=bool)
        previous = np.full(z.size, np.inf)
        for _ in range(max_iter):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            gi = g[idx]
            ainv = np.linalg.inv(z[idx, None, None] * eye - self.onsite - h01 @ gi @ h10)
            lhs = np.eye(n * n)[None] - self._kron_system(ainv @ h01, h10 @ gi)
            rhs = (ainv - gi).reshape(-1, n * n)  # = A^-1 (1 - A g), the scaled residual
            delta = np.linalg.solve(lhs, rhs[..., None])[..., 0].reshape(-1, n, n)
            g[idx] = gi + delta
            size = np.abs(delta).max(axis=(1, 2))
            gscale = np.maximum(1.0 / self._scale, np.abs(g[idx]).max(axis=(1, 2)))
            # converged: at the round-off floor (quadratic convergence stalls) and small
            stalled = (size <= 1e-13 * gscale) | (size > 0.5 * previous[idx])
            ok = stalled & (size <= 1e-9 * gscale)
            if np.any(ok):
                ok[ok] = self._well_conditioned(z[idx[ok]], lhs[ok])
            converged[idx[ok]] = True
            active[idx[stalled]] = False
            previous[idx] = size
        return g, converged

    def _jacobian(self, z, g):
        """Jacobian of the surface Dyson equation in row-major vec form."""
        n = self.cell_size
        h01, h10 = self.hopping, self.hopping.conj().T
        ainv = np.linalg.inv(z[:, None, None] * np.eye(n) - self.onsite - h01 @ g @ h10)
        return np.eye(n * n)[None] - self._kron_system(ainv @ h01, h10 @ g)

    def _well_conditioned(self, z, jacobian):
        """Trust g at broadening eta = Im z only where the round-off along the
        Jacobian's near-null directions, ~ cond * eps, stays below the eta bias
        itself: going to smaller eta past that point only adds error (both for
        Newton steps and for the decimation, which solves the same equation)."""
        cond = np.linalg.cond(jacobian)
        return cond * np.finfo(float).eps <= np.maximum(z.imag / self._scale, 1e-13)

    def _residual(self, z, g):
        """max |(z - H00 - H01 g H10) g - 1| of the surface Dyson equation."""
        h01 = self.hopping
        a = z[:, None, None] * np.eye(self.cell_size) - self.onsite - h01 @ g @ h01.conj().T
        return np.abs(a @ g - np.eye(self.cell_size)).max(axis=(1, 2))

    def _is_retarded(self, g):
        """True where i(g - g^dagger) is positive semi-definite."""
        w = np.linalg.eigvalsh(broadening_from_self_energy(g))
        return w.min(axis=-1) >= -1e-9 * np.maximum(1.0, np.abs(w).max(axis=-1))

    def _report_accuracy(self, energies, eta_reached):
        if eta_reached > 1e-8 * self._scale:
            warnings.warn(
                f"Lead surface Green's function at {energies.size} energies (e.g. E = "
                f"{energies.real[0]:.6g} eV) is converged only to a broadening of {eta_reached:.1e} eV: "
                "a lead band edge, or a crossing of a right- and a left-moving lead band (folded "
                "lead cell?), makes the surface Dyson equation singular there; the "
                f"self-energy carries an error of order {eta_reached:.0e} eV times dg/dE",
                SelfEnergyAccuracyWarning, stacklevel=4,
            )

    def surface_green(self, energy):
        """Surface Green's function g of cell 1 (1/eV), shape (..., n, n).

        Real energies are E + i eta.  The decimation runs at a broadening
        of 1e-2 times the lead's energy scale, where it is well conditioned
        at every energy (at small broadening it loses all digits, or
        overflows, at energies where a cell block is nearly singular: the
        centre of a chain band, an eigenvalue of H00).  Newton iterations on
        the surface Dyson equation then follow the retarded root down to
        ``eta`` in steps of 100 (a continuation in the broadening).  Where
        Newton cannot converge (a right- and a left-moving band cross) the
        last converged broadening is kept and a
        :class:`SelfEnergyAccuracyWarning` states it: never a silent error.

        The last result is kept (keyed by the exact energies), so the
        self-energy and its derivative at the same energies, asked for by
        different parts of a calculation, cost one evaluation.
        """
        self._warn_flat_bands(energy)
        z = self._complex_energy(energy)
        key = (z.shape, z.tobytes())
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[1].copy()
        g = self._surface_green(z)
        self._cache = (key, g)
        return g.copy()

    _cache = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_cache", None)  # not worth shipping to parallel workers
        return state

    def _surface_green(self, z):
        shape = z.shape
        z = z.reshape(-1)
        eta_d = max(self.eta, self._decimation_eta)
        zd = np.where(z.imag < eta_d, z.real + 1j * eta_d, z)
        g = self._decimate(zd)
        low = np.flatnonzero(z.imag < eta_d)
        eta_k = eta_d
        while low.size and eta_k > self.eta:
            eta_k = max(eta_k * 1e-2, self.eta)
            zk = np.where(z[low].imag < eta_k, z[low].real + 1j * eta_k, z[low])
            gk, ok = self._newton(zk, g[low])
            ok &= self._is_retarded(gk)
            if not ok.all():
                # far from the previous root (close to a band edge): decimate afresh at eta_k
                bad = np.flatnonzero(~ok)
                with np.errstate(all="ignore"):
                    try:
                        gd = self._decimate(zk[bad])
                    except (RuntimeError, np.linalg.LinAlgError):
                        gd = np.full((bad.size,) + gk.shape[1:], np.nan, dtype=complex)
                fine = np.all(np.isfinite(gd), axis=(1, 2))
                fine[fine] = (self._is_retarded(gd[fine])
                              & (self._residual(zk[bad[fine]], gd[fine]) < 1e-9)
                              & self._well_conditioned(zk[bad[fine]], self._jacobian(zk[bad[fine]], gd[fine])))
                gk[bad[fine]] = gd[fine]
                ok[bad[fine]] = True
            g[low[ok]] = gk[ok]
            if not ok.all():
                self._report_accuracy(z[low[~ok]], eta_k * 1e2)
            low = low[ok]
        return g.reshape(shape + (self.cell_size, self.cell_size))

    def self_energy(self, energy):
        """Sigma(E) = V g(E) V^dagger in eV, shape (..., N, N)."""
        return self._embed(self.self_energy_block(energy))

    def self_energy_block(self, energy):
        g = self.surface_green(energy)
        return self._v @ g @ self._v.conj().T

    def surface_green_derivative(self, energy):
        r"""dg/dE (1/eV^2) from the surface Dyson equation.

        With g^{-1} = z - H00 - H01 g H10 (H10 = H01^dagger),
        dg = -g g + (g H01) dg (H10 g), solved as a linear system in vec(dg).
        """
        g = self.surface_green(energy)
        shape = g.shape[:-2]
        n = self.cell_size
        g = g.reshape(-1, n, n)
        p = g @ self.hopping
        q = self.hopping.conj().T @ g
        kron = self._kron_system(p, q)
        rhs = -(g @ g).reshape(-1, n * n)
        lhs = np.eye(n * n)[None] - kron
        x = np.linalg.solve(lhs, rhs[..., None])[..., 0]
        return x.reshape(shape + (n, n))

    def self_energy_derivative(self, energy):
        """dSigma/dE = V (dg/dE) V^dagger (dimensionless), shape (..., N, N)."""
        dg = self.surface_green_derivative(energy)
        return self._embed(self._v @ dg @ self._v.conj().T)

    def self_energy_derivative_block(self, energy):
        """dSigma/dE = V (dg/dE) V^dagger on ``support``, (..., n_s, n_s)."""
        return self._v @ self.surface_green_derivative(energy) @ self._v.conj().T

    def __repr__(self):
        return f"Lead(cell_size={self.cell_size}, size={self.size}, support={self.support.tolist()})"
