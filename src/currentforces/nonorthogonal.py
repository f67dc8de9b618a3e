r"""Force operators in a non-orthogonal basis: the overlap derivatives and the mean force.

When an atom moves, both the Hamiltonian and the overlap of the atomic
orbitals change, so the perturbation that a displacement dX_a makes to the
pencil z S - h is dX_a (z dS_a - dh_a) = -dX_a f_a(z), with the
energy-dependent coupling (:ref:`theory-overlap-forces`,
:eq:`eq-overlap-coupling`)

.. math:: f_a(E) = -\Big(\frac{\partial h}{\partial X_a}
          - E\,\frac{\partial S}{\partial X_a}\Big) = F_a + E\,D_a,

with ``forces[a]`` = F_a = -dh/dX_a (eV/Angstrom) and
``overlap_derivatives[a]`` = D_a = dS/dX_a (1/Angstrom).  The mean force is
the expectation of f_a(E) over the occupied states (:eq:`eq-overlap-mean-force`),

.. math:: F^{(0)}_a = \mathrm{Tr}[\rho F_a] + \mathrm{Tr}[\rho_E D_a],

rho_E the energy-weighted density matrix
(:meth:`~currentforces.Junction.energy_density_matrix`).  The static force
constants K = -dF0/dX (the response of the steady state to a frozen
displacement) carry f at the one energy of the states they connect
(:eq:`eq-overlap-static-k`): :func:`static_force_constants`.

Units: F_a eV/Angstrom, D_a 1/Angstrom, forces eV/Angstrom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import check_leads, check_rtol, check_spin, check_temperature
from .errors import InputError, OverlapError
from .integrate import fermi, fermi_derivative, integrate_adaptive
from .operators import ForceOperators
from .units import HBAR, KB

if TYPE_CHECKING:
    from ._checks import ArrayLike, OperatorsLike, RealArray
    from .junction import Junction

__all__ = ["check_overlap_derivatives", "equilibrium_friction", "mean_force", "static_force_constants"]


def check_overlap_derivatives(
    junction: Junction, forces: OperatorsLike, overlap_derivatives: OperatorsLike | None
) -> ForceOperators | None:
    """Validate ``overlap_derivatives`` against the junction and ``forces``.

    Returns
    -------
    ForceOperators or None
        The operators D_a (on their own support), or None when the argument
        is None or every D_a vanishes (an orthogonal basis, or an overlap that
        the displacements do not change).

    Raises
    ------
    OverlapError
        Not one Hermitian, finite (N, N) matrix per force operator (message
        naming ``overlap_derivatives[a]``), or overlap derivatives for a
        junction without an overlap matrix.
    """
    if overlap_derivatives is None:
        return None
    if getattr(junction, "overlap", None) is None:
        raise OverlapError(
            "overlap_derivatives: the junction has no overlap matrix (an orthogonal basis, S = 1, does not "
            "move); give Junction(..., overlap=S) or leave overlap_derivatives out"
        )
    try:
        derivs = list(overlap_derivatives)
        n_forces = len(list(forces))
    except TypeError:
        raise OverlapError("overlap_derivatives must be a sequence of (N, N) matrices dS/dX_a, one per force") from None
    if len(derivs) != n_forces:
        raise OverlapError(
            f"overlap_derivatives has {len(derivs)} matrices but forces has {n_forces}: give dS/dX_a for every "
            "displacement a (a zero matrix where S does not change)"
        )
    try:
        ops = ForceOperators(derivs, junction.size)
    except InputError as exc:
        message = str(exc).replace("forces", "overlap_derivatives")
        if "identically zero" in message:
            return None
        raise OverlapError(message) from None
    return ops


def mean_force(
    junction: Junction,
    forces: OperatorsLike,
    overlap_derivatives: OperatorsLike | None = None,
    bias: float = 0.0,
    temperature: float = 300.0,
    fermi_level: float = 0.0,
    spin: int = 2,
    chemical_potentials: ArrayLike | None = None,
    rtol: float = 1e-8,
) -> tuple[RealArray, float]:
    r"""Mean current-induced force in a non-orthogonal basis (eV/Angstrom).

    .. math:: F^{(0)}_a = g_s\big(\mathrm{Tr}[\rho F_a] + \mathrm{Tr}[\rho_E D_a]\big)

    (:eq:`eq-overlap-mean-force`), rho the steady-state density matrix and
    rho_E the energy-weighted one, both per spin; in equilibrium this is
    -d Omega/dX_a of the band-structure grand potential.

    Parameters
    ----------
    junction : Junction
        With ``overlap`` when ``overlap_derivatives`` is given.
    forces : sequence of (N, N) arrays or sparse matrices
        F_a = -dh/dX_a in eV/Angstrom.
    overlap_derivatives : sequence of (N, N) arrays or sparse matrices, optional
        D_a = dS/dX_a in 1/Angstrom, one per force (None: the overlap does not
        move, F0 = Tr[rho F_a]).
    bias, temperature, fermi_level, spin, chemical_potentials, rtol
        As for :func:`~currentforces.force_coefficients`.

    Returns
    -------
    (ndarray, float)
        F0 (M,) in eV/Angstrom and its estimated absolute error.  Read from the
        full N x N rho and rho_E (:meth:`~currentforces.Junction.density_matrix`):
        for small devices.

    Raises
    ------
    OverlapError
        Bad ``overlap_derivatives`` (:func:`check_overlap_derivatives`).
    InputError
        With ``overlap_derivatives``, a wide-band lead (rho_E diverges,
        :meth:`~currentforces.Junction.energy_density_matrix`).
    """
    spin = check_spin(spin)
    ops = ForceOperators(forces, junction.size)
    dops = check_overlap_derivatives(junction, forces, overlap_derivatives)
    kw: dict[str, Any] = dict(
        bias=bias,
        temperature=temperature,
        fermi_level=fermi_level,
        spin=1,
        chemical_potentials=chemical_potentials,
        rtol=rtol,
        return_error=True,
    )
    rho, err = junction.density_matrix(**kw)
    value = ops.expectation(ops.on_support(rho)).real
    error = err * float(np.abs(ops.dense).sum(axis=(1, 2)).max())
    if dops is not None:
        rho_e, err_e = junction.energy_density_matrix(**kw)
        value = value + dops.expectation(dops.on_support(rho_e)).real
        error += err_e * float(np.abs(dops.dense).sum(axis=(1, 2)).max())
    return spin * value, spin * error


def _couplings_on_union(ops, dops):
    """F_a and D_a on the union of their supports: (support, F (M, s, s), D (M, s, s))."""
    support = ops.support if dops is None else np.union1d(ops.support, dops.support)
    f = np.zeros((ops.n_modes, support.size, support.size), dtype=complex)
    idx = np.searchsorted(support, ops.support)
    f[:, idx[:, None], idx[None, :]] = ops.dense
    d = np.zeros_like(f)
    if dops is not None:
        idx = np.searchsorted(support, dops.support)
        d[:, idx[:, None], idx[None, :]] = dops.dense
    return support, f, d


def _pair_traces(fe, x, y):
    """Re Tr[f_a X f_b Y] for all a, b with energy-dependent f: fe (n, M, s, s), x, y (n, s, s)."""
    fx = np.einsum("nair,nrj->naij", fe, x)
    fy = np.einsum("nbjr,nri->nbji", fe, y)
    return np.einsum("naij,nbji->nab", fx, fy).real


def equilibrium_friction(
    junction: Junction,
    forces: OperatorsLike,
    overlap_derivatives: OperatorsLike | None = None,
    fermi_level: float = 0.0,
    temperature: float = 300.0,
    spin: int = 2,
    rtol: float = 1e-8,
) -> tuple[RealArray, float]:
    r"""Equilibrium electronic friction in a non-orthogonal basis (eV fs/Angstrom^2).

    .. math::

        L_{ab} = -\frac{g_s\hbar}{4\pi}\int dE\,\Big(-\frac{dn_F}{dE}\Big)\,
            \mathrm{Re}\,\mathrm{Tr}\big[f_a(E)\, A(E)\, f_b(E)\, A(E)\big]

    (:eq:`eq-overlap-friction`): the dissipative (Fermi-surface) part of L at
    zero bias, with A = sum_l A_l and the coupling f_a(E) = F_a + E D_a of the
    electron-hole pairs at the Fermi surface (their two energies coincide as
    omega -> 0, so the choice of energy in :eq:`eq-overlap-moving` does not
    enter; the neglected connection term does not either).  Symmetric and
    negative semi-definite.  At T = 0 the integrand at mu alone.

    Parameters
    ----------
    As :func:`mean_force` (no bias: the leads share ``fermi_level``).

    Returns
    -------
    (ndarray, float)
        L (M, M) in eV fs/Angstrom^2 and its estimated absolute error.
    """
    temperature = check_temperature(temperature)
    spin = check_spin(spin)
    rtol = check_rtol(rtol)
    check_leads(junction, "equilibrium_friction")
    ops = ForceOperators(forces, junction.size)
    dops = check_overlap_derivatives(junction, forces, overlap_derivatives)
    support, f, d = _couplings_on_union(ops, dops)
    m = ops.n_modes
    mu = float(fermi_level)

    def kernel(e):
        a = sum(junction.solver.spectral_functions(junction._energies(e), support))
        fe = f[None] + e.real[:, None, None, None] * d[None]
        return -HBAR / (4 * np.pi) * _pair_traces(fe, a, a)

    if temperature == 0:
        return spin * kernel(np.array([mu]))[0], 0.0
    kt = KB * temperature
    lo, hi = mu - 40 * kt, mu + 40 * kt
    pts = list(junction.window_breakpoints([lo, hi], 0.0)) + [mu - 4 * kt, mu, mu + 4 * kt]

    def integrand(e):
        return fermi_derivative(e, mu, temperature)[:, None, None] * kernel(e)  # -dn_F/dE >= 0

    res = integrate_adaptive(
        lambda e: integrand(e).reshape(e.size, -1),
        np.unique(pts),
        rtol=rtol,
        atol=1e-300,
        what="equilibrium friction",
    )
    return spin * res.value.reshape(m, m), spin * float(res.error)


def static_force_constants(
    junction: Junction,
    forces: OperatorsLike,
    overlap_derivatives: OperatorsLike | None = None,
    bias: float = 0.0,
    temperature: float = 300.0,
    fermi_level: float = 0.0,
    spin: int = 2,
    chemical_potentials: ArrayLike | None = None,
    rtol: float = 1e-8,
) -> tuple[RealArray, float]:
    r"""Static force constants K_ab = -dF0_a/dX_b in a non-orthogonal basis (eV/Angstrom^2).

    .. math::

        K_{ab} = \frac{g_s}{\pi}\int dE \sum_l n_l(E)\,
            \mathrm{Re}\,\mathrm{Tr}\big[f_a(E)\, G(E)\, f_b(E)\, A_l(E)\big],
        \qquad f_a(E) = F_a + E D_a

    (:eq:`eq-overlap-static-k`): the response of the mean force
    (:func:`mean_force`) to a frozen displacement, which changes the pencil
    by dX_b (E D_b - dh/dX_b) = -dX_b f_b(E) at each energy, at any bias (K
    is then not symmetric: its antisymmetric part is the non-conservative
    force).  The explicit terms Tr[rho dF_a/dX_b] + Tr[rho_E dD_a/dX_b] of the
    second derivatives of h and S are not included (as in
    :func:`~currentforces.force_coefficients`).  Integrated on the real axis
    over the lead bands, with break points at the band edges, the chemical
    potentials and graded around narrow resonances.

    Parameters
    ----------
    As :func:`mean_force`.

    Returns
    -------
    (ndarray, float)
        K (M, M) in eV/Angstrom^2 and its estimated absolute error.

    Raises
    ------
    InputError
        A lead without band edges (a wide-band lead: the integral over its
        unbounded continuum is not done here), or a device with occupied
        bound states (their contribution is not included here; empty ones,
        more than 40 k_B T above every chemical potential, contribute below
        e^-40).
    """
    temperature = check_temperature(temperature)
    spin = check_spin(spin)
    rtol = check_rtol(rtol)
    check_leads(junction, "static_force_constants")
    ops = ForceOperators(forces, junction.size)
    dops = check_overlap_derivatives(junction, forces, overlap_derivatives)
    for i, lead in enumerate(junction.leads):
        if not lead.band_edges:
            raise InputError(
                f"leads[{i}] has no band edges (a wide-band lead?): static_force_constants integrates over the "
                "lead bands on the real axis and needs leads of finite bands"
            )
    mus = junction.chemical_potentials(bias, fermi_level, chemical_potentials)
    kt = KB * temperature
    occupied = junction.bound_states().energies < float(np.max(mus)) + 40 * kt
    if np.any(occupied):
        raise InputError(
            "static_force_constants: the device has bound states that are occupied (below the highest chemical "
            "potential + 40 k_B T), whose response is not included here; use force_coefficients (orthogonal "
            "couplings) or a device without them"
        )
    support, f, d = _couplings_on_union(ops, dops)
    m = ops.n_modes
    edges = np.asarray(junction.band_edges)
    lo = float(edges.min())
    hi = min(float(edges.max()), float(np.max(mus)) + 40 * kt)
    if not hi > lo:
        return np.zeros((m, m)), 0.0
    pts = list(junction.window_breakpoints([lo, hi], 0.0))
    pts += [x for mu in mus for x in (mu - 4 * kt, mu, mu + 4 * kt) if lo < x < hi]

    def integrand(e):
        g = junction.green_submatrix(e, support, support)
        a_l = junction.solver.spectral_functions(junction._energies(e), support)
        fe = f[None] + e[:, None, None, None].real * d[None]  # (n, M, s, s)
        occ = [fermi(e, mu, temperature) for mu in mus]
        aw = sum(o[:, None, None] * a for o, a in zip(occ, a_l))
        return (_pair_traces(fe, g, aw) / np.pi).reshape(e.size, -1)

    res = integrate_adaptive(
        integrand,
        np.unique(pts),
        edges=[x for x in edges if lo <= x <= hi],  # sqrt branch points of G and A
        rtol=rtol,
        atol=1e-14,
        what="static force constants",
    )
    return spin * res.value.reshape(m, m), spin * float(res.error)
