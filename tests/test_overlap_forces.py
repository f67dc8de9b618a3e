"""Force operators in a non-orthogonal basis: the mean force with the overlap term.

F0_a = Tr[rho F_a] + Tr[rho_E dS_a] (F_a = -dH/dX_a) against the derivative
of the band-structure grand potential of the generalised eigenproblem, the
Loewdin-orthogonalised formulation of the same device, and the mean force of
force_coefficients; bad overlap_derivatives are named errors.
"""

import numpy as np
import pytest
from overlaphelpers import S0, T0, chain_leads, chain_matrices

from currentforces import Junction
from currentforces.errors import OverlapError

# --- the model ---------------------------------------------------------------
#
# A closed chain of 6 atoms whose atom 2 moves along the chain by X: its bonds
# to atoms 1 and 3 have lengths 1 + X and 1 - X (Angstrom), hopping
# t(d) = t0 exp(-b (d - 1)) and overlap s(d) = s0 exp(-c (d - 1)).  H(X), S(X)
# and their derivatives are known exactly.

T_DECAY, S_DECAY = 1.3, 0.9  # 1/Angstrom


def moving_chain(x, n=6, atom=2):
    h, o = chain_matrices(n)
    dh, ds = np.zeros((n, n)), np.zeros((n, n))
    for other, sign in ((atom - 1, 1.0), (atom + 1, -1.0)):
        d = 1.0 + sign * x
        t, s = T0 * np.exp(-T_DECAY * (d - 1)), S0 * np.exp(-S_DECAY * (d - 1))
        h[atom, other] = h[other, atom] = t
        o[atom, other] = o[other, atom] = s
        dh[atom, other] = dh[other, atom] = -T_DECAY * sign * t
        ds[atom, other] = ds[other, atom] = -S_DECAY * sign * s
    return h, o, dh, ds


def grand_potential(x, mu, temperature):
    """Omega = -k_B T sum_n ln(1 + e^{-(E_n - mu)/k_B T}) of the pencil (H(X), S(X)), spin 1 (eV)."""
    import scipy.linalg as la

    from currentforces.units import KB

    h, o, _, _ = moving_chain(x)
    e = la.eigh(h, o, eigvals_only=True)
    kt = KB * temperature
    return float(-kt * np.sum(np.logaddexp(0.0, -(e - mu) / kt)))


def test_mean_force_is_minus_the_derivative_of_the_grand_potential(solver, tol):
    # exact: in equilibrium F0 = -dOmega/dX (Hellmann-Feynman for the pencil:
    # dE_n/dX = c_n^T (dH - E_n dS) c_n), against a 5-point central difference
    # of Omega with step 1e-3 Angstrom (truncation ~ step^4 |Omega^(5)|/30 ~ 1e-13,
    # rounding ~ 1e-16 |Omega| / step ~ 1e-12)
    from currentforces.nonorthogonal import mean_force

    mu, temperature, x = 0.4, 2000.0, 0.05
    h, o, dh, ds = moving_chain(x)
    layers = [1] * 6 if solver == "rgf" else None
    j = Junction(h, [], overlap=o, solver=solver, layers=layers)
    f0, err = mean_force(j, [-dh], [ds], fermi_level=mu, temperature=temperature, spin=1, rtol=1e-11)
    step = 1e-3
    omega = [grand_potential(x + k * step, mu, temperature) for k in (-2, -1, 1, 2)]
    fd = -(omega[0] - 8 * omega[1] + 8 * omega[2] - omega[3]) / (12 * step)
    assert f0[0] == pytest.approx(fd, abs=tol["tight_quad"])
    # without the overlap term the force is off by Tr[rho_E dS], far beyond the tolerance
    f_h, _ = mean_force(j, [-dh], None, fermi_level=mu, temperature=temperature, spin=1, rtol=1e-11)
    assert abs(f_h[0] - fd) > tol["visible"] * abs(fd)


def test_lowdin_route_gives_the_same_equilibrium_mean_force(solver, tol):
    # second route, exact for a closed device in equilibrium: Loewdin
    # orthogonalisation H' = S^-1/2 H S^-1/2 has the same eigenvalues, so
    # -dOmega/dX = Tr[rho' (-dH'/dX)] in the orthogonal basis, with
    # d(S^-1/2) = -S^-1/2 dY S^-1/2 and Y dY + dY Y = dS (Y = S^1/2, Sylvester)
    import scipy.linalg as la

    from currentforces.nonorthogonal import mean_force

    mu, temperature = 0.1, 1000.0
    h, o, dh, ds = moving_chain(0.02)
    y = la.sqrtm(o).real
    yi = np.linalg.inv(y)
    dyi = -yi @ la.solve_sylvester(y, y, ds) @ yi
    hl = yi @ h @ yi
    dhl = dyi @ h @ yi + yi @ dh @ yi + yi @ h @ dyi
    layers = [1] * 6 if solver == "rgf" else None
    orthogonal = Junction(hl, [], solver=solver, layers=None if solver == "dense" else [6])
    ref, _ = mean_force(orthogonal, [-dhl], fermi_level=mu, temperature=temperature, spin=1, rtol=1e-11)
    j = Junction(h, [], overlap=o, solver=solver, layers=layers)
    got, _ = mean_force(j, [-dh], [ds], fermi_level=mu, temperature=temperature, spin=1, rtol=1e-11)
    assert got[0] == pytest.approx(ref[0], abs=tol["tight_quad"])


def test_mean_force_without_overlap_derivatives_is_the_force_coefficients_one(solver, tol):
    # second route: under bias, Tr[rho F] from the density matrix equals the
    # mean force of force_coefficients (its own pole sum and window), with and
    # without an identity overlap
    from currentforces import force_coefficients
    from currentforces.nonorthogonal import mean_force

    h, o, dh, _ = moving_chain(0.0)
    leads = chain_leads(6)
    kw = dict(bias=0.3, fermi_level=0.2, temperature=300.0, spin=2, rtol=1e-10)
    ref = force_coefficients(Junction(h, leads, solver=solver), [-dh], **kw).mean_force
    got, _ = mean_force(Junction(h, leads, overlap=np.eye(6), solver=solver), [-dh], **kw)
    np.testing.assert_allclose(got, ref, atol=tol["tight_quad"])
    with_s = force_coefficients(Junction(h, leads, overlap=o, solver=solver), [-dh], **kw).mean_force
    got_s, _ = mean_force(Junction(h, leads, overlap=o, solver=solver), [-dh], **kw)
    np.testing.assert_allclose(got_s, with_s, atol=tol["tight_quad"])


def test_overlap_derivatives_bad_input_is_named(solver):
    # named errors: wrong count, wrong shape, non-Hermitian, no overlap in the
    # junction; the same checks in force_coefficients and noise_spectrum
    from currentforces import force_coefficients, noise_spectrum
    from currentforces.nonorthogonal import mean_force

    h, o, dh, ds = moving_chain(0.0)
    j = Junction(h, chain_leads(6), overlap=o, solver=solver)
    for bad in ([ds, ds], [np.eye(3)], [ds + np.eye(6, k=1)]):
        with pytest.raises(OverlapError, match="overlap_derivatives"):
            mean_force(j, [-dh], bad)
    with pytest.raises(OverlapError, match="overlap_derivatives"):
        mean_force(Junction(h, chain_leads(6), solver=solver), [-dh], [ds])
    for bad in ([ds, ds], [ds + np.eye(6, k=1)]):
        with pytest.raises(OverlapError, match="overlap_derivatives"):
            force_coefficients(j, [-dh], overlap_derivatives=bad)
        with pytest.raises(OverlapError, match="overlap_derivatives"):
            noise_spectrum(j, [-dh], 0.01, overlap_derivatives=bad)


def open_moving_chain(x, n=7, atom=3):
    """The chain with atom 3 (an impurity level 0.3 eV up, so that G stays finite
    at the band edges) moved by x between two non-orthogonal chain leads, the
    first and second derivatives of H and S (the explicit term of -dF0/dX)."""
    h, o = chain_matrices(n)
    h[atom, atom] += 0.3
    dh, ds, d2h, d2s = (np.zeros((n, n)) for _ in range(4))
    for other, sign in ((atom - 1, 1.0), (atom + 1, -1.0)):
        d = 1.0 + sign * x
        t, s = T0 * np.exp(-T_DECAY * (d - 1)), S0 * np.exp(-S_DECAY * (d - 1))
        for m, v in ((h, t), (o, s), (dh, -T_DECAY * sign * t), (ds, -S_DECAY * sign * s)):
            m[atom, other] = m[other, atom] = v
        d2h[atom, other] = d2h[other, atom] = T_DECAY**2 * t
        d2s[atom, other] = d2s[other, atom] = S_DECAY**2 * s
    return h, o, dh, ds, d2h, d2s


def test_static_k_is_minus_the_derivative_of_the_mean_force(solver, tol):
    # exact (linear response of the steady state to a frozen displacement, at
    # zero and at finite bias): K = -dF0/dX minus the explicit second-derivative
    # terms Tr[rho (-d2H/dX2)] + Tr[rho_E d2S/dX2], against a 5-point central
    # difference of F0 (step 1e-3 Angstrom: truncation ~ step^4 |F0^(5)| ~ 1e-12;
    # the integrals at rtol 1e-11 give ~ 1e-11 |F0| / step ~ 1e-8)
    from currentforces.nonorthogonal import mean_force, static_force_constants

    kw = dict(fermi_level=0.3, temperature=300.0, spin=1, rtol=1e-11)
    step = 1e-3
    for bias in (0.0, 0.4):

        def f0(x, bias=bias):
            h, o, dh, ds, _, _ = open_moving_chain(x)
            return mean_force(Junction(h, chain_leads(7), overlap=o, solver=solver), [-dh], [ds], bias=bias, **kw)[0]

        h, o, dh, ds, d2h, d2s = open_moving_chain(0.0)
        j = Junction(h, chain_leads(7), overlap=o, solver=solver)
        k, _ = static_force_constants(j, [-dh], [ds], bias=bias, **kw)
        rho = j.density_matrix(bias=bias, **{**kw, "rtol": 1e-11})
        rho_e = j.energy_density_matrix(bias=bias, **{**kw, "rtol": 1e-11})
        explicit = np.trace(rho @ -d2h).real + np.trace(rho_e @ d2s).real
        values = [f0(m * step)[0] for m in (-2, -1, 1, 2)]
        dfdx = (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * step)
        assert k[0, 0] == pytest.approx(-(dfdx - explicit), abs=tol["quad"])


def test_static_k_without_overlap_derivatives_is_the_force_coefficients_k(solver, tol):
    # second route: with dS/dX = 0 the real-axis integral over the bands equals
    # the K of force_coefficients (pole sum plus bias window), both at rtol 1e-10
    from currentforces import force_coefficients
    from currentforces.nonorthogonal import static_force_constants

    h, o, dh, _, _, _ = open_moving_chain(0.0)
    onsite = np.zeros((7, 7))
    onsite[3, 3] = -1.0  # a second mode: the impurity level moving with its coordinate
    forces = [-dh, onsite]
    kw = dict(bias=0.3, fermi_level=0.2, temperature=300.0, spin=2, rtol=1e-10)
    for overlap, leads in ((None, chain_leads(7, s=0.0)), (o, chain_leads(7))):
        j = Junction(h, leads, overlap=overlap, solver=solver)
        ref = force_coefficients(j, forces, **kw).K
        with j.count_energies() as counter:
            got, _ = static_force_constants(j, forces, **kw)
        np.testing.assert_allclose(got, ref, atol=tol["tight_quad"] * max(1.0, np.abs(ref).max()))
        # the integral over the bands starts at the lower band edge, where G and
        # A have square-root branch points: integrated in u (E = E_edge + u^2)
        # it takes 495 energies (both solvers, with and without overlap); bisected
        # in E it took 945
        assert counter.energies <= 600


def test_equilibrium_friction_with_overlap_is_negative_semidefinite(solver, tol):
    # exact (fluctuation-dissipation: electron-hole pairs only absorb energy in
    # equilibrium): the symmetric part of L is negative semi-definite, here in
    # a non-orthogonal basis whose overlap the modes do not move (dS/dX = 0)
    from currentforces import force_coefficients

    h, o, dh, _, _, _ = open_moving_chain(0.0)
    onsite = np.zeros((7, 7))
    onsite[3, 3] = -1.0
    j = Junction(h, chain_leads(7), overlap=o, solver=solver)
    c = force_coefficients(j, [-dh, onsite], fermi_level=0.2, temperature=300.0, rtol=1e-10)
    friction = np.linalg.eigvalsh(0.5 * (c.L + c.L.T))
    assert friction.max() <= tol["tight_quad"] * np.abs(friction).max()
    assert friction.min() < -tol["visible"] * np.abs(c.L).max()


@pytest.mark.parametrize("closed_form", [False, True])
def test_bias_window_contour_with_overlap_agrees_with_the_real_axis(tol, monkeypatch, closed_form):
    # second route: narrow resonances (half-widths ~1e-4 eV) between wide-band
    # leads put the dense backend's bias window on the contour (poles of the
    # pencil (h + Sigma, S), residues with r^dagger S l), or with closed_form in
    # closed form (module spectral_window, eigenvectors of the same pencil); the
    # RGF backend integrates the same window on the real axis with graded break points
    from currentforces import WideBandLead, contour, force_coefficients
    from currentforces import forces as forces_module

    monkeypatch.setattr(forces_module, "_CLOSED_WINDOW", closed_form)

    h = np.array([[0.2, -0.5, 0.0], [-0.5, -0.1, -0.4], [0.0, -0.4, 0.3]])
    o = np.eye(3) + 0.15 * (np.eye(3, k=1) + np.eye(3, k=-1))
    leads = [WideBandLead(np.diag([3e-4, 0, 0])), WideBandLead(np.diag([0, 0, 3e-4]))]
    forces = [np.diag([0.0, 1.0, 0.0]), np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]])]
    dense = Junction(h, leads, overlap=o)
    assert contour.applies(dense, dense.chemical_potentials(0.6, 0.0, None), 300.0, 1e-8)
    kw = dict(bias=0.6, temperature=300.0, rtol=1e-8)
    on_contour = force_coefficients(dense, forces, **kw)
    real_axis = force_coefficients(Junction(h, leads, overlap=o, solver="rgf"), forces, **kw)
    for name in ("K", "L"):
        ref = getattr(real_axis, name)
        np.testing.assert_allclose(getattr(on_contour, name), ref, atol=tol["quad"] * np.abs(ref).max())


def test_identity_overlap_reproduces_the_orthogonal_force_coefficients(solver, tol):
    # exact: S = 1 makes every formula the orthogonal one (the same pole sums
    # and windows; only C = lim z G is read numerically, to ~1e-14)
    from currentforces import force_coefficients, noise_spectrum

    h, _, dh, _, _, _ = open_moving_chain(0.0)
    onsite = np.zeros((7, 7))
    onsite[3, 3] = -1.0
    leads = chain_leads(7, s=0.0)
    plain = Junction(h, leads, solver=solver)
    unit = Junction(h, leads, overlap=np.eye(7), solver=solver)
    for kw in (dict(bias=0.0), dict(bias=0.4, hbar_omega=0.05)):
        ref = force_coefficients(plain, [-dh, onsite], fermi_level=0.2, **kw)
        got = force_coefficients(unit, [-dh, onsite], fermi_level=0.2, **kw)
        for name in ("mean_force", "K", "L"):
            a, b = getattr(got, name), getattr(ref, name)
            np.testing.assert_allclose(a, b, atol=tol["exact"] * np.abs(b).max())
    ref = noise_spectrum(plain, [-dh, onsite], 0.05, bias=0.4)
    got = noise_spectrum(unit, [-dh, onsite], 0.05, bias=0.4)
    np.testing.assert_allclose(got, ref, atol=tol["exact"] * np.abs(ref).max())


def test_equilibrium_friction_with_moving_overlap(solver, tol):
    # exact: the Fermi-surface friction -(hbar/4pi) int (-n_F') Re Tr[f_a A f_b A]
    # is negative semi-definite for any Hermitian couplings, here f(E) = F + E dS/dX;
    # second route: with dS/dX = 0 it is the friction (symmetric part of L) of
    # force_coefficients at zero bias
    from currentforces import force_coefficients
    from currentforces.nonorthogonal import equilibrium_friction

    h, o, dh, ds, _, _ = open_moving_chain(0.0)
    onsite = np.zeros((7, 7))
    onsite[3, 3] = -1.0
    j = Junction(h, chain_leads(7), overlap=o, solver=solver)
    forces, derivs = [-dh, onsite], [ds, np.zeros((7, 7))]
    for temperature in (0.0, 300.0):
        friction, _ = equilibrium_friction(j, forces, derivs, fermi_level=0.2, temperature=temperature, rtol=1e-10)
        w = np.linalg.eigvalsh(friction)
        assert np.abs(friction - friction.T).max() <= tol["roundoff"] * np.abs(friction).max()
        assert w.max() <= tol["exact"] * np.abs(w).max() and w.min() < -tol["visible"] * np.abs(w).max()
    ref = force_coefficients(j, forces, fermi_level=0.2, temperature=300.0, rtol=1e-10).friction
    got, _ = equilibrium_friction(j, forces, fermi_level=0.2, temperature=300.0, rtol=1e-10)
    np.testing.assert_allclose(got, ref, atol=tol["tight_quad"] * np.abs(ref).max())
    # the overlap term changes the friction visibly
    moving, _ = equilibrium_friction(j, forces, derivs, fermi_level=0.2, temperature=300.0, rtol=1e-10)
    assert np.abs(moving - got).max() > tol["visible"] * np.abs(got).max()
