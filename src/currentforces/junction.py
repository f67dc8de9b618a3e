r"""The junction: a tight-binding device between semi-infinite leads.

The electronic model of the seed paper (section II.B): non-interacting
electrons in the Landauer steady state, every lead a reservoir with its own
chemical potential and a common temperature.  From the device Hamiltonian h
and the lead self-energies Sigma_l (:ref:`theory-leads`, :ref:`theory-negf`):

.. math::

    G(E) = [E S - h - \sum_l \Sigma_l(E)]^{-1}, \qquad
    \Gamma_l = i(\Sigma_l - \Sigma_l^\dagger), \qquad
    A_l = G \Gamma_l G^\dagger,

    \rho_{LP} = \int dE \sum_l n_F(E - \mu_l) A_l(E) / 2\pi
    \quad \text{(seed eq 13, device block)}.

Bias convention (:ref:`theory-bias`, :eq:`eq-bias`): a bias V puts lead 0 at mu_0 = E_F + V/2 and
lead 1 at mu_1 = E_F - V/2, so that eV = mu_0 - mu_1; any number of leads
takes explicit ``chemical_potentials``.

Units: energies eV, bias V, temperature K, current A, Green's functions 1/eV.
"""

from __future__ import annotations

import contextlib
import functools
import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ._checks import (
    as_dense_matrix,
    as_operator,
    as_overlap,
    check_energies,
    check_leads,
    check_number,
    check_rtol,
    check_spin,
    check_temperature,
)
from .boundstates import BOUND_STATE_COINCIDENCE, RESOLUTION, find_bound_states
from .errors import BandEdgeWarning, BoundStateError, InputError, OverlapError
from .fermi_steps import STEP_CLEARANCE, drop_step_grading, smooth_steps, step_correction
from .greens import BlockTridiagonal, DenseInverse, GreensBackend
from .integrate import (
    THERMAL_CUTOFF,
    Integral,
    fermi,
    fermi_sea_sum,
    graded_breakpoints,
    integrate_adaptive,
    window_bounds,
)
from .leads import EDGE_RTOL, as_lead, broadening_from_self_energy
from .resonances import NARROW, device_poles, overlapping
from .units import CONDUCTANCE_QUANTUM_SPINLESS, KB

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from numpy.typing import NDArray

    from ._checks import ArrayLike, ComplexArray, Indices, MatrixLike, RealArray, RealSequence
    from .boundstates import BoundStates


__all__ = ["Junction", "GreenCounter"]

GRADING = 8.0
"""Growth factor of the panels graded around a narrow resonance."""


def _hermitian_part(m):
    return 0.5 * (m + np.conj(np.swapaxes(m, -1, -2)))


def _complex_linear(observable):
    """The complex-linear extension P(ReH X) + i P(ImH X) of a real linear map
    P on Hermitian matrices (ImH X = (X - X^dagger)/2i): the pole expansion
    sums analytic, non-Hermitian X, and Re of the sum of P_c(X) is P(ReH S[X])."""

    def project(x):
        xh = np.conj(np.swapaxes(x, -1, -2))
        return observable(0.5 * (x + xh)) + 1j * observable(-0.5j * (x - xh))

    return project


class GreenCounter:
    """Tally of the energies at which a junction evaluated its Green's function.

    Filled inside :meth:`Junction.count_energies`.  Every call of
    ``green``, ``green_submatrix``, ``green_derivative_submatrix``,
    ``spectral_functions`` or ``transmission`` adds the number of its
    energies once (a call made inside another one is not counted again).

    Attributes
    ----------
    energies : int
        Energies (real or complex) at which G was evaluated.
    calls : int
        Outermost Green's-function calls.
    """

    def __init__(self) -> None:
        self.energies = 0
        self.calls = 0
        self._depth = 0

    def __repr__(self):
        return f"GreenCounter(energies={self.energies}, calls={self.calls})"


def _counted(method):
    """Count the energies of an outermost Green's-function call while a
    :class:`GreenCounter` is attached (one attribute test otherwise)."""

    @functools.wraps(method)
    def wrapper(self, energy, *args, **kwargs):
        counter = self._green_counter
        if counter is None:
            return method(self, energy, *args, **kwargs)
        if counter._depth == 0:
            counter.energies += int(np.size(energy))
            counter.calls += 1
        counter._depth += 1
        try:
            return method(self, energy, *args, **kwargs)
        finally:
            counter._depth -= 1

    return wrapper


class Junction:
    r"""A device Hamiltonian coupled to semi-infinite leads.

    Parameters
    ----------
    hamiltonian : (N, N) array_like or scipy.sparse matrix
        Device Hamiltonian h in eV; Hermitian, finite.
    leads : sequence of leads
        Leads of ``size`` N, instances of :class:`~currentforces.leads.LeadBase`
        (:class:`~currentforces.Lead`, :class:`~currentforces.WideBandLead`,
        :class:`~currentforces.ChainLead`, the adapters' leads, or a subclass of
        your own; checked by :func:`~currentforces.leads.as_lead`).  Lead order defines the lead
        indices used by ``bias``, ``chemical_potentials`` and
        :meth:`spectral_functions`.
    overlap : (N, N) array_like or scipy.sparse matrix, optional
        Overlap matrix S_ij = <i|j> of a non-orthogonal basis
        (dimensionless): Hermitian, positive definite, finite, N x N (else
        :class:`~currentforces.errors.OverlapError` naming ``overlap``).
        Then G(E) = [E S - h - Sigma(E)]^{-1} (:ref:`theory-overlap`,
        :eq:`eq-overlap-green`) everywhere, the number of electrons is
        Tr[rho S], and the leads may carry overlap blocks of their own
        (:class:`~currentforces.Lead`).  With ``solver="rgf"`` S must be block
        tridiagonal on the same layers as h.  None: an orthogonal basis.
    solver : {"dense", "rgf"} or GreensBackend, optional
        The Green's-function backend (:mod:`currentforces.greens`).
        ``"dense"`` (default) inverts E - h - Sigma
        (:class:`~currentforces.greens.DenseInverse`); ``"rgf"`` uses the
        block-tridiagonal recursive Green's function method
        (:class:`~currentforces.greens.BlockTridiagonal`), cost linear in the
        device length, with ``hamiltonian`` kept sparse.  An instance of a
        :class:`~currentforces.greens.GreensBackend` subclass for the same
        device (``size`` N, one lead per lead) is used as given, with
        ``hamiltonian`` kept sparse unless the backend is ``dense``.
    layers : sequence, optional
        Principal layers for ``solver="rgf"``: layer sizes, or the orbital
        indices of each layer; default: found from the sparsity pattern of h
        (and of S; :func:`~currentforces.greens.layers_from_sparsity`).

    Notes
    -----
    ``leads`` may be empty: a closed device.  Its Green's function (away
    from its eigenvalues) and its equilibrium density matrix are defined;
    anything carried by lead states (a bias, a current, a transmission,
    force coefficients, noise) raises ``InputError`` saying so.

    Examples
    --------
    A four-site chain between two chain leads (unit transmission in the band):

    >>> import numpy as np
    >>> from currentforces import Junction, ChainLead
    >>> h = -1.0 * (np.eye(4, k=1) + np.eye(4, k=-1))
    >>> left = ChainLead(-1.0, [-1.0, 0, 0, 0])
    >>> right = ChainLead(-1.0, [0, 0, 0, -1.0])
    >>> round(float(Junction(h, [left, right]).transmission(0.3)), 12)
    1.0
    """

    _green_counter: GreenCounter | None = None
    overlap: Any  # dense array or CSR matrix, or None (documented in __init__)

    def __init__(
        self,
        hamiltonian: MatrixLike,
        leads: Sequence,
        overlap: MatrixLike | None = None,
        solver: str | GreensBackend = "dense",
        layers: Sequence[Any] | None = None,
    ) -> None:
        if isinstance(overlap, (str, GreensBackend)):
            # the order before overlap matrices: Junction(h, leads, solver, layers)
            warnings.warn(
                "Junction(hamiltonian, leads, solver, layers) with the solver as the third positional argument is "
                "deprecated: the third argument is now the overlap matrix; pass solver= (and layers=) by keyword",
                DeprecationWarning,
                stacklevel=2,
            )
            if not isinstance(solver, (str, GreensBackend)):  # the old fourth positional argument: layers
                layers = solver
            solver = overlap
            overlap = None
        if isinstance(solver, str) and solver not in ("dense", "rgf"):
            raise InputError(f"solver must be 'dense', 'rgf' or a GreensBackend instance, got {solver!r}")
        if not isinstance(solver, (str, GreensBackend)):
            raise InputError(
                f"solver must be 'dense', 'rgf' or a GreensBackend instance (a subclass of "
                f"currentforces.greens.GreensBackend implementing green_submatrix and "
                f"green_derivative_submatrix), got {type(solver).__name__}"
            )
        if layers is not None and not (isinstance(solver, str) and solver == "rgf"):
            raise InputError("layers is used only with solver='rgf'")
        h: Any  # a dense complex array or a scipy.sparse CSR matrix (untyped)
        if solver.dense if isinstance(solver, GreensBackend) else solver == "dense":
            h = as_dense_matrix("hamiltonian", hamiltonian, hermitian=True)
        else:
            # sparse input stays sparse: a 10^5-orbital wire is never densified
            h = as_operator(
                "hamiltonian",
                hamiltonian if sp.issparse(hamiltonian) else sp.csr_matrix(as_dense_matrix("hamiltonian", hamiltonian)),
                hermitian=True,
            )
        self.hamiltonian = 0.5 * (h + h.conj().T)
        self.size = h.shape[0]
        lowest = None
        if overlap is not None:
            sparse = not (solver.dense if isinstance(solver, GreensBackend) else solver == "dense")
            overlap, lowest = as_overlap("overlap", overlap, self.size, sparse=sparse)
        self.overlap = overlap
        """The overlap matrix S (dimensionless; dense, or CSR with a sparse
        backend), or None for an orthogonal basis."""
        leads = [as_lead(lead, f"leads[{i}]", self.size) for i, lead in enumerate(leads or ())]
        self.leads = leads
        self.n_leads = len(leads)
        if isinstance(solver, GreensBackend):
            if solver.size != self.size or len(solver.leads) != self.n_leads:
                raise InputError(
                    f"solver: the backend {solver!r} is built for {solver.size} orbitals and "
                    f"{len(solver.leads)} leads, this junction has {self.size} and {self.n_leads}"
                )
            if (overlap is None) != (solver.overlap is None):
                raise OverlapError(
                    "overlap: give the same overlap matrix to the junction and to the backend instance "
                    f"(the junction has {'none' if overlap is None else 'one'}, the backend "
                    f"{'none' if solver.overlap is None else 'one'})"
                )
        elif solver == "dense":
            solver = DenseInverse(self.hamiltonian, leads, overlap=overlap)
        else:
            solver = BlockTridiagonal(self.hamiltonian, leads, layers=layers, overlap=overlap)
            if overlap is not None and lowest is None:
                lowest = solver.layering.overlap_lowest
        self.solver = solver
        """The Green's-function backend (a :class:`~currentforces.greens.GreensBackend`:
        :class:`~currentforces.greens.DenseInverse` for ``solver="dense"``),
        to which every Green's-function method delegates."""
        edges = sorted({float(e) for lead in leads for e in lead.band_edges})
        self.band_edges = tuple(edges)
        scales = [1.0, float(abs(self.hamiltonian).sum(axis=1).max()) if self.size else 0.0]
        if lowest is not None:
            # the spectrum of the pencil (h, S) reaches |h| / lambda_min(S)
            scales.append(scales[1] / lowest)
        scales += [abs(e) for e in edges]
        self.energy_scale = max(scales)
        """A typical energy scale (eV) of the spectrum: used to map the
        imaginary-axis tail of Fermi-sea sums."""
        self._bound_states: BoundStates | None = None
        self._poles: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]] = {}

    # ------------------------------------------------------------------ helpers
    def __repr__(self):
        backend = "" if type(self.solver) is DenseInverse else f", solver={self.solver!r}"  # the default unsaid
        return f"Junction(size={self.size}, leads={self.leads!r}{backend})"

    EDGE_RTOL = EDGE_RTOL
    """A real energy within ``EDGE_RTOL * energy_scale`` of a lead band edge
    counts as lying on it (round-off of the edge and of an energy grid)."""

    EDGE_SINGULAR_RTOL = 1e-6
    """At a band edge, E - h - Sigma(E) counts as singular when its smallest
    singular value is below ``EDGE_SINGULAR_RTOL * energy_scale`` (G above
    1e6 / energy_scale)."""

    EDGE_ETA = 1e-13
    """Imaginary part, times ``energy_scale``, given to a real energy where G
    diverges at a band edge."""

    def _energies(self, energy):
        r"""Checked energies (eV); a real energy where G diverges at a lead band edge becomes E + i eta.

        At a band edge E_b a lead channel opens with zero velocity: Gamma_l
        vanishes like sqrt|E - E_b| while Sigma_l stays finite (its
        derivative diverges).  If the device has no state at E_b, G(E_b) is
        finite and T(E_b) = 0 is the limit from both sides: nothing is done.
        If it has one (a perfect chain has one at each edge),
        E - h - Sigma(E_b) is singular and T jumps (from 1 inside the band to
        0 outside for a perfect chain): there the retarded prescription
        E + i0 is taken literally, E + i eta with eta = ``EDGE_ETA *
        energy_scale``, for every kind of lead alike, and a
        :class:`~currentforces.errors.BandEdgeWarning` says so.  For a
        perfect chain this gives T = 1/2 (between the one-sided limits) up to
        O(sqrt(eta / energy_scale)).
        """
        e = check_energies(energy)
        if not self.band_edges:
            return e
        real = np.real(e)
        on = (
            np.abs(real[..., None] - np.asarray(self.band_edges)).min(axis=-1) <= self.EDGE_RTOL * self.energy_scale
        ) & (np.imag(e) == 0)
        if not np.any(on):
            return e
        idx = np.flatnonzero(on)
        singular = self._singular_at(real.reshape(-1)[idx].astype(complex))
        if not np.any(singular):
            return e
        hit = real.reshape(-1)[idx[singular]]
        warnings.warn(
            f"energy {hit[0]:.12g} eV{f' (and {hit.size - 1} more)' if hit.size > 1 else ''} lies on a "
            "lead band edge where the device has a state: G diverges and T(E) is discontinuous there; "
            f"evaluated at E + i*{self.EDGE_ETA * self.energy_scale:.1e} eV, between the one-sided "
            "limits (1/2 for a perfect chain); use E -+ a small offset for the limit from one side",
            BandEdgeWarning,
            stacklevel=3,
        )
        out = np.array(e, dtype=complex).reshape(-1)
        out[idx[singular]] += 1j * self.EDGE_ETA * self.energy_scale
        return out.reshape(e.shape)

    def _singular_at(self, z):
        """Mask over real energies z (1-d, complex dtype): is E - h - Sigma(E) singular there?"""
        tol = self.EDGE_SINGULAR_RTOL * self.energy_scale
        with np.errstate(all="ignore"):
            try:
                return self.solver.singular(z, tol)
            except np.linalg.LinAlgError:
                return np.ones(z.shape, dtype=bool)

    def _lead_index(self, name, index):
        if not isinstance(index, (int, np.integer)) or not -self.n_leads <= index < self.n_leads:
            raise InputError(f"{name} must be a lead index in [0, {self.n_leads}), got {index!r}")
        return int(index) % self.n_leads

    @contextlib.contextmanager
    def count_energies(self) -> Iterator[GreenCounter]:
        """Count the energies at which this junction evaluates its Green's function.

        Yields a :class:`GreenCounter`; costs one attribute test per
        Green's-function call when not in use.  Calls made in other
        processes (parallel backends) are not seen.

        Examples
        --------
        >>> import numpy as np
        >>> from currentforces import Junction, WideBandLead
        >>> j = Junction(np.zeros((1, 1)), [WideBandLead(np.eye(1))])
        >>> with j.count_energies() as c:
        ...     _ = j.green(np.linspace(-1, 1, 5))
        >>> c.energies
        5
        """
        outer = self._green_counter
        counter = GreenCounter()
        self._green_counter = counter
        try:
            yield counter
        finally:
            if outer is None:
                del self._green_counter
            else:
                outer.energies += counter.energies
                outer.calls += counter.calls
                self._green_counter = outer

    # ------------------------------------------------------------ Green's functions
    def self_energies(self, energy: ArrayLike) -> list[ComplexArray]:
        """List over leads of Sigma_l(E), each (..., N, N) in eV."""
        e = self._energies(energy)
        return [np.asarray(lead.self_energy(e)) for lead in self.leads]

    def self_energy(self, energy: ArrayLike) -> ComplexArray:
        """Total self-energy sum_l Sigma_l(E), (..., N, N) in eV."""
        return self.solver.self_energy(self._energies(energy))

    @_counted
    def green(self, energy: ArrayLike) -> ComplexArray:
        r"""Retarded Green's function G(E) = [E S - h - Sigma(E)]^{-1} in 1/eV (S = 1 without ``overlap``).

        Parameters
        ----------
        energy : float, complex or array_like
            Energies in eV: real (taken as E + i0 through the retarded
            self-energies) or complex in the upper half plane.

        Returns
        -------
        ndarray, shape energy.shape + (N, N)
        """
        return self.solver.green(self._energies(energy))

    @_counted
    def green_submatrix(self, energy: ArrayLike, rows: Indices, cols: Indices) -> ComplexArray:
        r"""Block G(E)[rows, cols] of the retarded Green's function (1/eV).

        The one access point through which the force coefficients read the
        Green's function: they need only the orbitals the force operators
        touch and the lead supports.  The dense backend solves
        (E - h - Sigma) X = 1[:, cols]; the block-tridiagonal backend
        computes the same block at a cost linear in the device length.

        Parameters
        ----------
        energy : float, complex or array_like
            Energies in eV (real: E + i0; complex: upper half plane).
        rows, cols : array_like of int
            Device orbital indices.

        Returns
        -------
        ndarray, energy.shape + (len(rows), len(cols))
        """
        return self.solver.green_submatrix(self._energies(energy), rows, cols)

    @_counted
    def green_derivative_submatrix(
        self, energy: ArrayLike, orbitals: Indices, cols: Indices | None = None
    ) -> tuple[ComplexArray, ComplexArray]:
        r"""G[S, S] and dG/dE[S, S] on a set S of orbitals (1/eV, 1/eV^2).

        .. math:: \frac{dG}{dE} = -G\Big(1 - \sum_l \frac{d\Sigma_l}{dE}\Big)G

        restricted to S (differentiate G (E - h - Sigma) = 1).  The dense
        backend takes the rows G[S, :] and columns G[:, S] of one inverse;
        the block-tridiagonal one differentiates its recursions.

        Parameters
        ----------
        energy : array_like
            Energies in eV.
        orbitals : array_like of int
            The set S.
        cols : array_like of int, optional
            Return G[S, cols] instead of G[S, S], from the same pass.

        Returns
        -------
        (ndarray, ndarray), each energy.shape + (len(S), len(S)) (the first
        energy.shape + (len(S), len(cols)) with ``cols``)
        """
        return self.solver.green_derivative_submatrix(self._energies(energy), orbitals, cols)

    def broadening(self, energy: ArrayLike) -> list[ComplexArray]:
        """List over leads of Gamma_l(E) = i(Sigma_l - Sigma_l^dagger), (..., N, N) in eV."""
        return [broadening_from_self_energy(s) for s in self.self_energies(energy)]

    @_counted
    def spectral_functions(self, energy: ArrayLike) -> list[ComplexArray]:
        r"""Partial spectral functions A_l = G Gamma_l G^dagger, one per lead, in lead order.

        Computed from the columns of G on the lead supports only.

        Parameters
        ----------
        energy : float or array_like
            Real energies in eV.

        Returns
        -------
        list of ndarray, each energy.shape + (N, N), in 1/eV
            ``A_l / 2 pi`` is the partial density of states d_l of seed eq (12)
            (states incident from lead l).
        """
        return self.solver.spectral_functions(self._energies(energy))

    def spectral_function(self, energy: ArrayLike) -> ComplexArray:
        """Total spectral function A = sum_l A_l (1/eV); equals i(G - G^dagger)
        when the device has no bound states."""
        return sum(self.spectral_functions(energy))

    @_counted
    def transmission(self, energy: ArrayLike, source: int = 0, drain: int = 1) -> RealArray:
        r"""Transmission T(E) = Tr[Gamma_source G Gamma_drain G^dagger] (dimensionless).

        Evaluated on the lead supports only, from the block of G between the
        two supports (:meth:`~currentforces.greens.GreensBackend.transmission`).

        Parameters
        ----------
        energy : float or array_like
            Real energies in eV.
        source, drain : int
            Lead indices.
        """
        check_leads(self, "transmission", 2)
        s = self._lead_index("source", source)
        d = self._lead_index("drain", drain)
        if s == d:
            raise InputError(f"source and drain are the same lead ({s}): a transmission is between two different leads")
        return self.solver.transmission(self._energies(energy), s, d)

    # ------------------------------------------------------------ steady state
    def chemical_potentials(
        self, bias: float = 0.0, fermi_level: float = 0.0, chemical_potentials: ArrayLike | None = None
    ) -> RealArray:
        """Chemical potentials of the leads in eV.

        ``bias`` V (volt) gives mu_0 = E_F + V/2 and mu_1 = E_F - V/2; explicit
        ``chemical_potentials`` (one per lead, eV) override it.
        """
        if chemical_potentials is not None:
            mus = np.asarray(chemical_potentials, dtype=float)
            if mus.shape != (self.n_leads,):
                raise InputError(
                    f"chemical_potentials needs one value per lead ({self.n_leads}), got shape {mus.shape}"
                )
            if not np.all(np.isfinite(mus)):
                raise InputError("chemical_potentials contains NaN or inf")
            if bias != 0.0:
                raise InputError("give either bias or chemical_potentials, not both")
            return mus
        bias = check_number("bias", bias, "V")
        fermi_level = check_number("fermi_level", fermi_level, "eV")
        if bias != 0.0:
            if self.n_leads < 2:
                raise InputError(f"a bias needs at least two leads; this junction has {self.n_leads}")
            if self.n_leads > 2:
                raise InputError(
                    f"bias is defined between leads 0 and 1; with {self.n_leads} leads give "
                    "chemical_potentials explicitly"
                )
            return np.array([fermi_level + 0.5 * bias, fermi_level - 0.5 * bias])
        return np.full(self.n_leads, fermi_level)

    def bound_states(self) -> BoundStates:
        """The bound states of the device (computed once).

        Returns
        -------
        :class:`~currentforces.boundstates.BoundStates`
            Energies (eV), device amplitudes (residues of G) and whether each
            state is decoupled from every lead; see
            :func:`~currentforces.boundstates.find_bound_states` for the
            method and for the occupation they get under bias.
        """
        if self._bound_states is None:
            self._bound_states = find_bound_states(self)
        return self._bound_states

    def resonances(self, lo: float, hi: float) -> tuple[RealArray, RealArray]:
        """Poles eps - i w of G(E) with eps near [lo, hi] (eV), computed once per window.

        Returns
        -------
        centers, halfwidths : ndarray
            See :func:`~currentforces.resonances.device_poles`.
        """
        key = (float(lo), float(hi))
        if key not in self._poles:
            if len(self._poles) > 64:
                self._poles.clear()
            self._poles[key] = device_poles(self, lo, hi)
        return self._poles[key]

    def check_bound_state_occupation(self, mu: float, temperature: float, name: str = "fermi_level") -> None:
        """Raise :class:`~currentforces.errors.BoundStateError` when a bound
        state sits exactly on the chemical potential ``mu`` (eV) at T = 0,
        where its occupation (0 or 1) is undefined."""
        if temperature > 0:
            return
        bs = self.bound_states()
        tol = BOUND_STATE_COINCIDENCE * max(1.0, self.energy_scale)
        hit = bs.near(mu, tol)
        if hit.size:
            raise BoundStateError(
                f"{name}: the chemical potential {float(mu)!r} eV coincides with the bound state at "
                f"E_b = {float(bs.energies[hit[0]])!r} eV at temperature 0, where its occupation (0 or 1) is "
                "undefined; move the chemical potential off E_b or give a temperature > 0"
            )

    def window_breakpoints(
        self,
        chemical_potentials: RealSequence,
        temperature: float,
        extra: RealSequence = (),
        shifts: RealSequence = (),
        cutoff: float = THERMAL_CUTOFF,
    ) -> RealArray:
        """Breakpoints (eV) for integrals over the occupation window.

        Its bounds, the chemical potentials (with points 4 and 12 k_B T
        beyond each group of them less than k_B T apart),
        the lead band edges inside, and points graded around every narrow
        resonance of G (:meth:`resonances`, :func:`~currentforces.integrate.graded_breakpoints`),
        so that a peak of any width down to
        :data:`~currentforces.boundstates.RESOLUTION` of the energy scale is
        resolved (narrower levels are bound states, :meth:`bound_states`).
        Poles inside a row of overlapping ones
        (:func:`~currentforces.resonances.overlapping`: the Fabry-Perot
        levels of a long, weakly reflecting device) make no peak of their
        own and are not graded.

        Parameters
        ----------
        chemical_potentials : sequence of float
            Energies (eV) whose thermal windows make up the interval.
        temperature : float
            K.
        extra : sequence of float
            Further breakpoints (eV).
        shifts : sequence of float
            Energies s (eV) at which the integrand also evaluates G(E + s):
            every resonance eps is graded at eps - s too (the omega-window
            terms).
        cutoff : float
            Half-width of the window beyond the chemical potentials, in
            units of k_B T (:func:`~currentforces.integrate.thermal_cutoff`
            of the tolerance; default 40).
        """
        temperature = check_temperature(temperature)
        lo, hi = window_bounds(chemical_potentials, temperature, cutoff=cutoff)
        pts = [lo, hi, *chemical_potentials, *extra]
        kt = KB * temperature
        if kt > 0:
            # 4 and 12 k_B T beyond each group of chemical potentials less than
            # k_B T apart (mu and mu - hbar w at finite frequency, a small bias
            # at high T), where the Fermi functions have their tails: one
            # potential's points a fraction of k_B T from another's only cut
            # panels that are smooth already
            mu = np.sort(np.asarray(chemical_potentials, dtype=float).reshape(-1))
            if mu.size:
                cut = np.flatnonzero(np.diff(mu) > kt)
                for a, b in zip(mu[np.concatenate([[0], cut + 1])], mu[np.concatenate([cut, [mu.size - 1]])]):
                    pts += [a - 4 * kt, b + 4 * kt, a - 12 * kt, b + 12 * kt]
        pts += [e for e in self.band_edges]
        pts = list(np.unique(np.clip(pts, lo, hi)))
        if hi > lo:
            shifts = [0.0, *[float(x) for x in shifts]]
            span = max(abs(x) for x in shifts)
            centers, widths = self.resonances(lo - span, hi + span)
            narrow = (widths < NARROW * (hi - lo)) & (widths > 0.5 * RESOLUTION * max(1.0, self.energy_scale))
            # the integrand's peaks: every pole at eps - s for every shift s,
            # all graded together; one inside a row of overlapping ones makes
            # no peak of its own
            centers = np.concatenate([centers - x for x in shifts])
            widths = np.tile(widths, len(shifts))
            narrow = np.tile(narrow, len(shifts)) & ~overlapping(centers, widths)
            pts += list(graded_breakpoints(lo, hi, centers[narrow], widths[narrow], GRADING))
        return np.unique(pts)

    def current(
        self,
        bias: float = 0.0,
        temperature: float = 300.0,
        fermi_level: float = 0.0,
        spin: float = 2,
        chemical_potentials: ArrayLike | None = None,
        lead: int = 0,
        rtol: float = 1e-8,
        on_fail: str = "raise",
    ) -> float:
        r"""Landauer current in ampere.

        .. math::

            I_l = \frac{g_s e}{h} \sum_m \int dE\, T_{lm}(E)\,[n_l(E) - n_m(E)]

        the electric current carried by electrons leaving reservoir ``lead``
        into the device (positive for V > 0 and lead 0 in a two-terminal
        junction, the sign of a positive conductance).

        Parameters
        ----------
        bias : float
            V in volt (mu_0 - mu_1 = eV).
        temperature : float
            Reservoir temperature in K (0 allowed: step occupations).
        fermi_level : float
            E_F in eV.
        spin : int
            Spin degeneracy g_s (1 spinless, 2 spin-degenerate).
        chemical_potentials : sequence of float, optional
            One per lead, eV; replaces ``bias``/``fermi_level``.
        lead : int
            Lead whose current is returned.
        rtol : float
            Relative tolerance of the energy integral.
        on_fail : {"raise", "warn"}
            When the integral misses ``rtol``: raise
            :class:`~currentforces.errors.IntegrationError`, or warn with the
            achieved error.

        Notes
        -----
        The window integral has breakpoints graded around every narrow
        resonance of G (:meth:`window_breakpoints`): a level of width
        1e-10 eV is integrated to the requested tolerance.
        """
        temperature = check_temperature(temperature)
        spin = check_spin(spin)
        rtol = check_rtol(rtol)
        check_leads(self, "current", 2)
        mus = self.chemical_potentials(bias, fermi_level, chemical_potentials)
        src = self._lead_index("lead", lead)
        if np.ptp(mus) == 0:
            return 0.0

        def integrand(e, occupation, full=True):
            e = self._energies(e)
            return self.solver.current_integrand(e, src, [occupation(e, mu) for mu in mus])

        res = self._stepped_window(integrand, mus, mus, temperature, rtol, 1e-14, "current integral", on_fail)
        return float(spin * CONDUCTANCE_QUANTUM_SPINLESS * res.value)

    def equilibrium_density_matrix(
        self,
        fermi_level: float = 0.0,
        temperature: float = 300.0,
        rtol: float = 1e-9,
        orbitals: Indices | None = None,
        observable: Callable[[NDArray[Any]], NDArray[np.float64]] | None = None,
        on_fail: str = "raise",
    ) -> Integral:
        r"""Per-spin equilibrium density matrix from the Fermi-sea pole expansion.

        .. math::

            \rho_{eq} = \tfrac12 \Big(1 - \sum_b R_b\Big)
                + \mathrm{ReH}\, S\big[G_c - C/(z - \mu + iW)\big]
                + \sum_b n_F(E_b - \mu) R_b ,

            S[F] = 2k_BT \sum_{n\ge0} F(\mu + i\omega_n), \qquad \omega_n = \pi k_B T(2n+1)

        (ReH X = (X + X^dagger)/2; at T = 0 the sum becomes
        (1/pi) int_0^inf F(mu + iy) dy).  G_c = G - sum_b R_b/(z - E_b)
        is the Green's function without the poles of its bound states
        (:meth:`bound_states`), whose occupations n_F(E_b - mu) are added
        exactly: the identity 1/2 + ReH S[1/(z - E_b)] = n_F(E_b - mu) makes
        this equal to 1/2 + ReH S[G], but free of the sharp structure a
        bound state near mu puts on the imaginary axis.  G_c decays as C/z,
        C = 1 - sum_b R_b; the subtracted C/(z - mu + iW), W =
        :attr:`energy_scale`, makes the summand decay as 1/z^2, and its own
        sum is anti-Hermitian (every term C/(i(omega_n + W)) is), so ReH is
        unchanged.  S is the pole expansion of
        :func:`~currentforces.integrate.fermi_sea_sum`: about a hundred
        Green's functions or fewer at any temperature.  It includes the
        bound states below mu, which the scattering-state integral of seed
        eq (13) does not.

        Parameters
        ----------
        orbitals : array_like of int, optional
            Return only the block rho[orbitals, orbitals], computed from
            G[orbitals, orbitals] alone (what a large device needs).
        observable : callable, optional
            A linear map from (n, s, s) Hermitian blocks to (n, k) real
            arrays, e.g. the expectation values Tr[f_a rho] of a set of
            operators: then the sum is done on it directly and ``value`` and
            ``error`` are those of observable(rho), to ``rtol`` of its own
            size.
        on_fail : {"raise", "warn"}
            When the sum misses ``rtol``: raise IntegrationError or warn.

        Returns
        -------
        Integral
            ``value`` (N, N) (or the block on ``orbitals``) Hermitian,
            dimensionless (electrons per spin), and ``error``.

        Raises
        ------
        BoundStateError
            At T = 0 with a bound state exactly at ``fermi_level``.
        """
        temperature = check_temperature(temperature)
        mu = check_number("fermi_level", fermi_level, "eV")
        rtol = check_rtol(rtol)
        self.check_bound_state_occupation(mu, temperature)
        if orbitals is None:

            def green(z):
                return self.green(z)
        else:
            orbitals = np.asarray(orbitals, dtype=int).reshape(-1)

            def green(z):
                return self.green_submatrix(z, orbitals, orbitals)

        analytic, extra, near = self.fermi_sea_density_terms(mu, temperature, orbitals)
        project = (lambda x: x) if observable is None else _complex_linear(observable)
        res = fermi_sea_sum(
            lambda z: project(analytic(z, green(z))),
            mu,
            temperature,
            rtol=rtol,
            energy_scale=self.energy_scale,
            what="equilibrium density matrix",
            on_fail=on_fail,
            adaptive_at_zero=near,
        )
        if observable is None:
            res.value = extra + _hermitian_part(res.value)
        else:
            res.value = observable(extra[None])[0] + res.value.real
        return res

    TAIL_HEIGHT = 1e7
    """Height Y, times ``energy_scale``, at which :meth:`asymptotic_weight`
    reads z G(z): its error is O((energy_scale/Y)^2)."""

    MOMENT_HEIGHT = 3e3
    """Height Y, times ``energy_scale``, of the first-moment estimate of
    :meth:`energy_density_matrix` (Richardson-extrapolated from Y and 2Y:
    error O((energy_scale/Y)^4) + round-off O(eps Y/energy_scale))."""

    def asymptotic_weight(self, orbitals: Indices | None = None) -> NDArray[Any]:
        r"""C = lim z G(z) for ``|z|`` -> infinity on ``orbitals`` (dimensionless).

        In an orthogonal basis C = 1.  With an overlap S, G(z) =
        [z(S - Sigma_1) - h - ...]^{-1} where Sigma_1 = lim Sigma(z)/z is
        non-zero for leads with overlap blocks of their own, so C = (S -
        Sigma_1)^{-1} (:eq:`eq-overlap-tail`), the device block of the inverse
        overlap of the whole system.  It is read as ReH[iY G(iY)] at Y =
        :attr:`TAIL_HEIGHT` times :attr:`energy_scale`: the 1/z term of z G is
        anti-Hermitian there (the moments of G are Hermitian), so the error is
        O((energy_scale/Y)^2).  It is the weight 1/2 C that the pole expansion
        of the density matrix adds in closed form, and its sum rule: Tr[rho S]
        counts the electrons of a closed device.
        """
        size = self.size if orbitals is None else len(orbitals)
        if self.overlap is None:
            return np.eye(size)
        idx = np.arange(self.size) if orbitals is None else np.asarray(orbitals, dtype=int)
        key = idx.tobytes()
        cache = self.__dict__.setdefault("_tails", {})
        if key not in cache:
            if len(cache) > 16:
                cache.clear()
            y = self.TAIL_HEIGHT * self.energy_scale
            cache[key] = _hermitian_part(1j * y * self.solver.green_submatrix(np.array([1j * y]), idx, idx)[0])
        return cache[key]

    def fermi_sea_density_terms(
        self, mu: float, temperature: float, orbitals: Indices | None = None
    ) -> tuple[Callable[[ComplexArray, ComplexArray], ComplexArray], ComplexArray, bool]:
        r"""The parts of rho_eq = extra + ReH S[X] (:meth:`equilibrium_density_matrix`).

        Returns ``analytic(z, g)``, which turns the block g = G[orbitals,
        orbitals](z) for a 1-d array z into X(z) = G_c(z) - C/(z - mu + iW),
        analytic in the upper half plane and O(1/z^2), the closed-form
        ``extra`` = (1 - sum_b R_b)/2 + sum_b n_F(E_b - mu) R_b, and whether
        a subtracted pole lies within 1e-3 W of mu (then
        :func:`~currentforces.integrate.fermi_sea_sum` wants
        ``adaptive_at_zero``).  Callers that evaluate G at the poles anyway
        (the force constants) add the density matrix to the same pole
        expansion this way.
        """
        bs = self.bound_states()
        eye = self.asymptotic_weight(orbitals)
        scale = self.energy_scale
        if len(bs):
            r = bs.residues(orbitals)
            tail = eye - r.sum(axis=0)
            occ = fermi(bs.energies, mu, temperature) - 0.5
            extra = 0.5 * eye + np.einsum("b,bij->ij", occ, r)
        else:
            tail = eye
            extra = 0.5 * eye

        def analytic(z, g):
            x = g - tail[None] / (z - mu + 1j * scale)[:, None, None]
            if len(bs):
                x = x - bs.pole_part(z, orbitals)
            return x

        near = bool(len(bs)) and float(np.min(np.abs(bs.energies - mu))) < 1e-3 * scale
        return analytic, extra, near

    def density_matrix(
        self,
        bias: float = 0.0,
        temperature: float = 300.0,
        fermi_level: float = 0.0,
        spin: float = 2,
        chemical_potentials: ArrayLike | None = None,
        rtol: float = 1e-8,
        return_error: bool = False,
    ) -> NDArray[Any] | tuple[NDArray[Any], float]:
        r"""Steady-state density matrix of the device (seed eq 13), times ``spin``.

        .. math::

            \rho = g_s\Big[\rho_{eq}(\mu_{ref}) + \int dE \sum_l
                   \big(n_l(E) - n_{ref}(E)\big)\, \frac{A_l(E)}{2\pi}\Big]

        with mu_ref the mean chemical potential: the Fermi sea by the pole
        sum (:meth:`equilibrium_density_matrix`), the non-equilibrium part
        by an adaptive integral over the bias window (:ref:`theory-dm-split`, :eq:`eq-dm-split`).

        Parameters
        ----------
        bias : float
            V in volt.
        temperature : float
            K.
        fermi_level : float
            eV.
        spin : int
            Spin degeneracy g_s.
        chemical_potentials : sequence, optional
            One per lead, eV.
        rtol : float
            Relative tolerance of both integrals.
        return_error : bool
            Also return the estimated absolute error.

        Returns
        -------
        ndarray (N, N)
            Hermitian; its trace is the number of electrons in the device.
        """
        temperature = check_temperature(temperature)
        spin = check_spin(spin)
        rtol = check_rtol(rtol)
        mus = self.chemical_potentials(bias, fermi_level, chemical_potentials)
        mu_ref = float(np.mean(mus)) if len(mus) else float(fermi_level)
        eq = self.equilibrium_density_matrix(mu_ref, temperature, rtol=rtol)
        rho, err = eq.value, eq.error
        if len(mus) and np.ptp(mus) > 0:

            def integrand(e, occupation, full=True):
                a_l = self.spectral_functions(e)
                n_ref = occupation(e, mu_ref)
                out = np.zeros(e.shape + (self.size, self.size), dtype=complex)
                for a, mu in zip(a_l, mus):
                    out += (occupation(e, mu) - n_ref)[:, None, None] * a
                return out / (2 * math.pi)

            win = self._stepped_window(
                integrand, [*mus, mu_ref], mus, temperature, rtol, 1e-13, "density-matrix window"
            )
            rho = rho + _hermitian_part(win.value)
            err += win.error
        rho = spin * rho
        return (rho, spin * err) if return_error else rho

    def _continuum_window(self, pts: NDArray[Any]) -> NDArray[Any] | None:
        """The sorted breakpoints ``pts`` of a window integral with its ends
        moved in to the outermost lead band edges beyond which no lead has
        states: every window integrand (each carries A_l(E) or A(E)) vanishes
        there; bound states are treated apart.  None if no lead has states
        anywhere in [pts[0], pts[-1]]; ``pts`` unchanged for leads without band
        edges (wide band)."""
        if not self.band_edges:
            return pts
        lo, hi = float(pts[0]), float(pts[-1])
        cuts = np.array([lo, *[e for e in self.band_edges if lo < e < hi], hi])
        # Gamma_l is analytic between consecutive band edges: test two interior
        # points of each interval, against the size of Sigma_l itself (a weakly
        # coupled lead has a small Sigma_l, all of it broadening inside its band)
        step = cuts[1:] - cuts[:-1]
        probe = np.concatenate([cuts[:-1] + step / 3, cuts[:-1] + 2 * step / 3])
        states = np.zeros(probe.size, dtype=bool)
        for lead in self.leads:
            sig = np.asarray(lead.self_energy_block(probe))
            gam = np.abs(broadening_from_self_energy(sig)).reshape(probe.size, -1).max(axis=1)
            states |= gam > 1e-8 * np.abs(sig).reshape(probe.size, -1).max(axis=1)
        inside = states[: cuts.size - 1] | states[cuts.size - 1 :]
        if not inside.any():
            return None
        first = int(np.argmax(inside))
        last = inside.size - 1 - int(np.argmax(inside[::-1]))
        a, b = cuts[first], cuts[last + 1]
        return np.unique(np.concatenate([[a, b], pts[(pts > a) & (pts < b)]]))

    def _step_singularities(self, lo: float, hi: float, shifts: RealSequence = ()) -> ComplexArray:
        """Points (eV; poles complex) near [lo, hi] where the factors of the
        Fermi steps of a window integrand are not analytic: the lead band
        edges, the poles of G (resonances eps - i w, bound states), and their
        copies at p - s for each shift s (G(E + s) in an omega-window term);
        the resonances are searched as :meth:`window_breakpoints` does for the
        same window."""
        sh = [0.0, *[float(x) for x in shifts]]
        span = max(abs(x) for x in sh)
        centers, widths = self.resonances(lo - span, hi + span)
        points = [np.asarray(self.band_edges, dtype=complex), centers - 1j * widths]
        bound = self.bound_states()
        if len(bound):
            points.append(np.asarray(bound.energies, dtype=complex))
        base = np.concatenate(points)
        return np.concatenate([base - x for x in sh])

    def _stepped_window(
        self,
        factor: Callable[..., NDArray[Any]],
        steps: RealSequence,
        grading: RealSequence,
        temperature: float,
        rtol: float,
        atol: float,
        what: str,
        on_fail: str = "raise",
        groups: Sequence[int] | None = None,
        shifts: RealSequence = (),
        edges: RealSequence | None = None,
        cutoff: float = THERMAL_CUTOFF,
        thermal: RealSequence = (),
        points: RealSequence = (),
        rules: bool = True,
    ) -> Integral:
        """The window integral int dE factor(E, n, full) of an integrand linear
        in the occupations n(E, c) = n_F(E - c) of the Fermi steps ``steps``
        (eV), over their thermal window, with the breakpoints
        :meth:`window_breakpoints` of ``grading`` (``shifts``, ``cutoff``), the
        square-root branch points ``edges`` (default the lead band edges), and
        its ends moved in to the lead continua (:meth:`_continuum_window`).

        At T > 0 a step whose factor has no singularity within
        :data:`~currentforces.fermi_steps.STEP_CLEARANCE` k_B T
        (:meth:`_step_singularities`) is taken at T = 0 in the adaptive
        integral, and its thermal correction is added by
        :func:`~currentforces.fermi_steps.step_correction`
        (:eq:`eq-fermi-step-split`): the cost does not grow as T falls.
        ``factor(E, n, full)`` is called with ``full`` True in the adaptive
        integral, where it may add terms that are not linear in the
        occupations (thermal weights centred on the energies ``thermal``,
        whose windows and grading the integral then covers), and False for
        the corrections.  ``groups``: as in :func:`integrate_adaptive`; the
        result's ``errors`` are per group.  ``points``: further breakpoints
        (eV); ``rules=False`` keeps every Fermi function (no step at T = 0).
        """
        steps_arr = np.unique(np.asarray(steps, dtype=float))
        extra = [float(x) for x in thermal]
        kt = KB * temperature
        band = self.band_edges if edges is None else tuple(edges)
        lo, hi = window_bounds([*steps_arr, *extra], temperature, cutoff=cutoff)
        hull = self._continuum_window(np.array([lo, hi]))
        if hull is not None and kt > 0:
            # states only beyond one side of every step (the steps in a gap): the
            # integral is the tail of the occupations there, e^(-gap/kT) at its
            # largest, and the cutoff counts from where the states begin
            every = [*steps_arr, *extra]
            gap = max(min(every) - hull[-1], hull[0] - max(every), 0.0)
            if gap > 0:
                cutoff = cutoff + gap / kt
                lo, hi = window_bounds(every, temperature, cutoff=cutoff)
                hull = self._continuum_window(np.array([lo, hi]))
        ruled = steps_arr[:0]
        if hull is not None and kt > 0 and rules:
            ruled = steps_arr[smooth_steps(steps_arr, kt, self._step_singularities(lo, hi, shifts))]
        pts = self.window_breakpoints(list(grading), temperature, shifts=shifts, cutoff=cutoff)
        if len(points):
            pts = np.unique(np.concatenate([pts, np.asarray(points, dtype=float)]))
        if ruled.size:
            kept = [c for c in steps_arr if not np.any(ruled == c)] + extra
            ends = list(ruled) + [c + x * cutoff * kt for c in kept for x in (-1, 1)]
            pts = drop_step_grading(pts, ruled, kt, kept, ends)

        def occupation(e, c):
            return fermi(e, c, 0.0 if np.any(ruled == c) else temperature)

        clipped = None if hull is None else self._continuum_window(pts)
        if hull is None or clipped is None:
            # no lead has states in the window (a ruled step has no band edge
            # within its clearance, so the hull decides)
            shape = np.asarray(factor(np.array([lo]), occupation, False)).shape[1:]
            ngroups = 1 if groups is None else len(groups)
            return Integral(np.zeros(shape), 0.0, 1, np.zeros(ngroups))
        res = integrate_adaptive(
            lambda e: factor(e, occupation, True),
            clipped,
            rtol=rtol,
            atol=atol,
            what=what,
            on_fail=on_fail,
            groups=groups,
            edges=band,
        )
        value, errors, count = res.value, np.asarray(res.errors, dtype=float), res.evaluations
        reach = STEP_CLEARANCE * kt
        for c in ruled[(ruled + reach > hull[0]) & (ruled - reach < hull[-1])]:

            def unit(x: NDArray[Any], y: float, c: float = float(c)) -> NDArray[Any]:
                # the occupation of step c alone: the factor of n_F(E - c)
                return np.full(np.shape(x), 1.0 if y == c else 0.0)

            def factor_of_step(e: NDArray[Any], unit: Callable[..., NDArray[Any]] = unit) -> NDArray[Any]:
                return np.asarray(factor(e, unit, False))

            corr = step_correction(factor_of_step, float(c), kt, groups=groups)
            value = value + corr.value.reshape(np.shape(value))
            errors, count = errors + np.asarray(corr.errors, dtype=float), count + corr.evaluations
        return Integral(value, float(errors.max()), count, errors)

    def energy_density_matrix(
        self,
        bias: float = 0.0,
        temperature: float = 300.0,
        fermi_level: float = 0.0,
        spin: float = 2,
        chemical_potentials: ArrayLike | None = None,
        rtol: float = 1e-8,
        return_error: bool = False,
    ) -> NDArray[Any] | tuple[NDArray[Any], float]:
        r"""Steady-state energy-weighted density matrix (eV), times ``spin``.

        .. math::

            \rho_E = g_s \int \frac{dE}{2\pi}\, E \sum_l n_l(E)\, A_l(E)

        (:ref:`theory-overlap`, :eq:`eq-energy-density`): the matrix whose
        trace with dS/dX gives the overlap part of the mean force in a
        non-orthogonal basis, Tr[rho_E dS/dX].  Split as the density matrix is
        (:meth:`density_matrix`): at the reference chemical potential mu,
        rho_E,eq = mu rho_eq + int f (E - mu) A/2pi, the second term by the pole
        expansion of (z - mu) G_c(z) minus its constant C_c, whose 1/(z - mu)
        tail M (the first moment of G_c about mu, read from G far up the
        imaginary axis, :attr:`MOMENT_HEIGHT`) adds M/2 in closed form; the
        bound states add (E_b - mu) n_F(E_b - mu) R_b exactly; the bias window
        is integrated on the real axis.

        Parameters
        ----------
        bias, temperature, fermi_level, spin, chemical_potentials, rtol, return_error
            As for :meth:`density_matrix`.

        Returns
        -------
        ndarray (N, N)
            Hermitian, eV (times the spin degeneracy).  Built from full N x N
            Green's functions (as :meth:`density_matrix`): for small devices.

        Raises
        ------
        InputError
            A lead whose broadening does not vanish far from the device's
            spectrum (a wide-band lead): then A(E) ~ 1/E^2 and the integral of
            E A(E) diverges logarithmically; rho_E exists only with leads of
            finite bands (or a closed device).
        """
        temperature = check_temperature(temperature)
        spin = check_spin(spin)
        rtol = check_rtol(rtol)
        mus = self.chemical_potentials(bias, fermi_level, chemical_potentials)
        mu_ref = float(np.mean(mus)) if len(mus) else float(fermi_level)
        self.check_bound_state_occupation(mu_ref, temperature)
        y = self.MOMENT_HEIGHT * self.energy_scale
        far = np.array([mu_ref - y, mu_ref + y])
        for i, lead in enumerate(self.leads):
            gam = np.abs(np.asarray(lead.broadening_block(far))).max(initial=0.0)
            if gam > 1e-12 * self.energy_scale:
                raise InputError(
                    f"leads[{i}]: its broadening does not vanish far from the spectrum ({gam:.3g} eV at "
                    f"E = mu +- {y:.3g} eV; a wide-band lead?): the energy-weighted density matrix int E A(E) dE "
                    "diverges logarithmically; use a lead with finite bands"
                )
        eq = self.equilibrium_density_matrix(mu_ref, temperature, rtol=rtol)
        _, _, near = self.fermi_sea_density_terms(mu_ref, temperature)
        bs = self.bound_states()
        n = self.size
        h = self.hamiltonian
        h = np.asarray(h.toarray() if sp.issparse(h) else h, dtype=complex)
        s: Any = np.eye(n) if self.overlap is None else self.overlap
        s = np.asarray(s.toarray() if sp.issparse(s) else s, dtype=complex)
        slope = np.zeros((n, n), dtype=complex)
        for lead in self.leads:
            sup = np.asarray(lead.support, dtype=int)
            slope[sup[:, None], sup[None, :]] += lead.self_energy_slope_block()
        c_inf = np.linalg.inv(s - slope)  # C = lim z G(z)

        def g_c(z):
            g = self.green(z)
            return g - bs.pole_part(z) if len(bs) else g

        def f_c(z):
            """(z - mu) G_c(z) - C_c without cancellation: (z - mu) G - C = [C (h + Sigma_r(z)) - mu] G
            (from G^{-1} = z (S - Sigma_1) - h - Sigma_r), minus the bound-state terms
            sum_b R_b (E_b - mu)/(z - E_b)."""
            g = self.green(z)
            m = np.broadcast_to(h, g.shape).copy()
            for lead in self.leads:
                sup = np.asarray(lead.support, dtype=int)
                m[:, sup[:, None], sup[None, :]] += lead.self_energy_remainder_block(z)
            out = (c_inf @ m - mu_ref * np.eye(n)) @ g
            if len(bs):
                out = out - np.einsum("zb,bij->zij", (bs.energies - mu_ref) / (z[:, None] - bs.energies), bs.residues())
            return out

        # first moment of G_c about mu: M = -Y^2 ReH G_c(mu + iY) + O(Y^-2), Richardson in Y and 2Y
        m1, m2 = (-(x**2) * _hermitian_part(g_c(np.array([mu_ref + 1j * x]))[0]) for x in (y, 2 * y))
        moment = (4 * m2 - m1) / 3
        scale = self.energy_scale

        def summand(z):
            w = (z - mu_ref)[:, None, None]
            return f_c(z) - moment[None] / (w + 1j * scale)

        res = fermi_sea_sum(
            summand,
            mu_ref,
            temperature,
            rtol=rtol,
            energy_scale=scale,
            what="equilibrium energy density matrix",
            adaptive_at_zero=near,
        )
        rho_e = mu_ref * eq.value + 0.5 * moment + _hermitian_part(res.value)
        err = abs(mu_ref) * eq.error + res.error
        if len(bs):
            occ = fermi(bs.energies, mu_ref, temperature) * (bs.energies - mu_ref)
            rho_e = rho_e + np.einsum("b,bij->ij", occ, bs.residues())
        if len(mus) and np.ptp(mus) > 0:

            def integrand(e, occupation, full=True):
                a_l = self.spectral_functions(e)
                n_ref = occupation(e, mu_ref)
                out = np.zeros(e.shape + (self.size, self.size), dtype=complex)
                for a, mu in zip(a_l, mus):
                    out += ((occupation(e, mu) - n_ref) * np.real(e))[:, None, None] * a
                return out / (2 * math.pi)

            win = self._stepped_window(
                integrand, [*mus, mu_ref], mus, temperature, rtol, 1e-13, "energy-density window"
            )
            rho_e = rho_e + _hermitian_part(win.value)
            err += win.error
        rho_e = spin * rho_e
        return (rho_e, spin * err) if return_error else rho_e
