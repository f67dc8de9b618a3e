"""force_coefficients and noise_spectrum with a moving overlap (dS/dX != 0).

The couplings are energy dependent, f_a(E) = F_a + E dS/dX_a, taken at the
mean energy of the two states they connect (docs/theory.rst,
theory-overlap-forces).  Each test checks the kernel of
currentforces.overlap_kernel against an independent route: the functions
of currentforces.nonorthogonal (density matrices by pole sums, the static K
and the Fermi-surface friction), finite differences of the mean force, the
lead-pair (window) kernel of the noise, and, with constant couplings, the
pole-sum route of force_coefficients.
"""

import math

import numpy as np
import pytest
from overlaphelpers import chain_leads
from test_overlap_forces import open_moving_chain

from currentforces import Junction, WideBandLead, dissipation_spectrum, force_coefficients, noise_spectrum
from currentforces.errors import OverlapError
from currentforces.units import HBAR, KB

EF = 0.2  # eV, inside the lead band [-1.36, 3.5] of the chain
ADIABATIC = (1e-3 / 0.3) ** 2
"""Relative distance of L(hbar w = 1e-3 eV) from L(0): Pi is even in w apart
from its odd imaginary part, so L(w) - L(0) = O((hbar w / E)^2) with E the
smallest energy on which G varies here (~0.3 eV, the impurity level above
E_F); measured 1e-8, and the integrals at rtol 1e-10 stay far below it."""


def model(solver, x=0.0):
    """The 7-site chain between non-orthogonal chain leads, atom 3 moved by x:
    two modes, the bond stretch (moves H and S) and the impurity level (moves H)."""
    h, o, dh, ds, d2h, d2s = open_moving_chain(x)
    onsite = np.zeros((7, 7))
    onsite[3, 3] = -1.0
    j = Junction(h, chain_leads(7), overlap=o, solver=solver)
    return j, [-dh, onsite], [ds, np.zeros((7, 7))], (d2h, d2s)


def _embed(m):
    out = np.zeros((8, 8))
    out[:7, :7] = m
    return out


def side_model(solver, x=0.0, level=-2.5):
    """The chain of :func:`model` with an adatom (site 7, level ``level``)
    side-coupled to atom 3 (hopping -0.8 eV, overlap 0.1): a bound state
    below the lead band (at -2.60 eV for level -2.5)."""
    from overlaphelpers import E0, S0, T0

    from currentforces import Lead

    h, o, dh, ds, d2h, d2s = open_moving_chain(x)
    hh, oo = _embed(h), _embed(o)
    hh[7, 7], oo[7, 7] = level, 1.0
    hh[3, 7] = hh[7, 3] = -0.8
    oo[3, 7] = oo[7, 3] = 0.1
    leads = []
    for site in (0, 6):
        c, sc = np.zeros((8, 1)), np.zeros((8, 1))
        c[site], sc[site] = T0, S0
        leads.append(Lead([[E0]], [[T0]], c, onsite_overlap=[[1.0]], hopping_overlap=[[S0]], coupling_overlap=sc))
    j = Junction(hh, leads, overlap=oo, solver=solver)
    return j, [-_embed(dh)], [_embed(ds)], (_embed(d2h), _embed(d2s))


def test_mean_force_static_k_and_friction_against_the_nonorthogonal_routes(solver, tol):
    # second routes (currentforces.nonorthogonal): the mean force from the full
    # rho and rho_E (pole sums plus bias window), the static K on the real
    # axis (eq-overlap-static-k), the Fermi-surface friction
    # (eq-overlap-friction) at zero bias; here the kernel's K at omega = 0 and
    # its L from dIm Pi/domega over the whole Fermi sea, all at rtol 1e-10
    from currentforces.nonorthogonal import equilibrium_friction, mean_force, static_force_constants

    j, forces, derivs, _ = model(solver)
    for bias, temperature in ((0.0, 300.0), (0.0, 0.0), (0.4, 300.0)):
        kw = dict(bias=bias, fermi_level=EF, temperature=temperature, spin=2, rtol=1e-10)
        c = force_coefficients(j, forces, overlap_derivatives=derivs, **kw)
        f0, _ = mean_force(j, forces, derivs, **kw)
        np.testing.assert_allclose(c.mean_force, f0, atol=tol["tight_quad"] * np.abs(f0).max())
        k, _ = static_force_constants(j, forces, derivs, **kw)
        np.testing.assert_allclose(c.K, k, atol=tol["tight_quad"] * np.abs(k).max())
        if bias == 0:
            fr, _ = equilibrium_friction(j, forces, derivs, fermi_level=EF, temperature=temperature, rtol=1e-10)
            np.testing.assert_allclose(c.friction, fr, atol=tol["tight_quad"] * np.abs(fr).max())
            # time reversal (real h, S, F, D; symmetric Sigma): no
            # non-conservative or Berry force in equilibrium
            assert np.abs(c.nonconservative).max() <= tol["exact"] * np.abs(c.K).max()
            assert np.abs(c.berry).max() <= tol["exact"] * np.abs(c.L).max()
            # fluctuation-dissipation: the friction is negative semi-definite
            w = np.linalg.eigvalsh(c.friction)
            assert w.max() <= tol["exact"] * np.abs(w).max()
        else:
            # under bias both appear, and the current-induced parts are K(V) - K(0)
            assert np.abs(c.nonconservative).max() > tol["visible"] * np.abs(c.K).max()
            eq = force_coefficients(j, forces, overlap_derivatives=derivs, **{**kw, "bias": 0.0})
            for name in ("mean_force", "K", "L"):
                ref = getattr(c, name) - getattr(eq, name)
                got = getattr(c, f"{name}_current")
                np.testing.assert_allclose(got, ref, atol=tol["tight_quad"] * np.abs(getattr(c, name)).max())
    # the moving overlap changes K and L visibly (the mean force of the
    # stretch vanishes at zero bias by the mirror symmetry of the chain)
    plain = force_coefficients(j, forces, fermi_level=EF, rtol=1e-10)
    moving = force_coefficients(j, forces, overlap_derivatives=derivs, fermi_level=EF, rtol=1e-10)
    for name in ("K", "L"):
        a, b = getattr(moving, name), getattr(plain, name)
        assert np.abs(a - b).max() > tol["visible"] * np.abs(b).max()


@pytest.mark.slow
def test_k_is_minus_the_derivative_of_the_mean_force(solver, tol):
    # exact (linear response to a frozen displacement, any bias): K = -dF0/dX
    # minus the explicit terms Tr[rho (-d2H/dX2)] + Tr[rho_E d2S/dX2] of the
    # second derivatives (not part of K, eq-overlap-static-k), against a
    # 5-point central difference of force_coefficients' own mean force (step
    # 1e-3 A: truncation ~1e-12; integrals at rtol 1e-11: ~1e-8 |F0| / step)
    kw = dict(fermi_level=EF, temperature=300.0, spin=1, rtol=1e-11)
    step = 1e-3
    for bias in (0.0, 0.4):
        j, forces, derivs, (d2h, d2s) = model(solver)
        c = force_coefficients(j, forces[:1], overlap_derivatives=derivs[:1], bias=bias, **kw)
        rho = j.density_matrix(bias=bias, **kw)
        rho_e = j.energy_density_matrix(bias=bias, **kw)
        explicit = np.trace(rho @ -d2h).real + np.trace(rho_e @ d2s).real
        values = []
        for m in (-2, -1, 1, 2):
            jm, fm, dm, _ = model(solver, m * step)
            values.append(force_coefficients(jm, fm[:1], overlap_derivatives=dm[:1], bias=bias, **kw).mean_force[0])
        dfdx = (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * step)
        assert c.K[0, 0] == pytest.approx(-(dfdx - explicit), abs=tol["quad"])


def test_finite_frequency_against_the_lead_pair_kernel_and_fdt(solver, tol):
    # second route: the dissipative part of the kernel, D = -(omega) L^sym + i
    # K^asym (eq-dissipation), from the lead-pair window integrals of
    # dissipation_spectrum with the couplings at the pair's mean energy,
    # against the full real-axis Pi of force_coefficients, at and off
    # equilibrium; at equilibrium the noise obeys the fluctuation-dissipation
    # relation S = -hbar w coth(hbar w / 2 k_B T) L^sym (as in test_noise)
    j, forces, derivs, _ = model(solver)
    w, temperature = 0.05, 300.0
    for bias in (0.0, 0.4):
        kw = dict(bias=bias, fermi_level=EF, temperature=temperature, rtol=1e-10)
        c = force_coefficients(j, forces, overlap_derivatives=derivs, hbar_omega=w, **kw)
        d = dissipation_spectrum(j, forces, w, overlap_derivatives=derivs, **kw)
        ref = -(w / HBAR) * c.friction + 1j * c.nonconservative
        np.testing.assert_allclose(d, ref, atol=10 * tol["tight_quad"] * np.abs(ref).max())
        if bias == 0:
            s = noise_spectrum(j, forces, w, overlap_derivatives=derivs, **kw)
            coth = 1 / math.tanh(w / (2 * KB * temperature))
            np.testing.assert_allclose(s, -w * coth * c.friction, atol=10 * tol["tight_quad"] * np.abs(s).max())
            assert np.abs(c.berry).max() <= tol["exact"] * np.abs(c.L).max()
    # the adiabatic limit: L(w) -> L(0) as w^2 (Pi is even in w up to the odd Im part / w)
    kw = dict(bias=0.4, fermi_level=EF, temperature=temperature, rtol=1e-10)
    c0 = force_coefficients(j, forces, overlap_derivatives=derivs, **kw)
    c1 = force_coefficients(j, forces, overlap_derivatives=derivs, hbar_omega=1e-3, **kw)
    np.testing.assert_allclose(c1.L, c0.L, atol=ADIABATIC * np.abs(c0.L).max())


def test_the_real_axis_kernel_with_constant_couplings_is_the_pole_route(solver, tol):
    # second route: with D = 0 stacked in, the real-axis kernel of
    # overlap_kernel must give force_coefficients' pole-sum-plus-window result
    # (both at rtol 1e-10), at finite bias, at omega = 0 and omega > 0
    from currentforces.forces import SpectralBlocks
    from currentforces.operators import stacked_operators
    from currentforces.overlap_kernel import moving_overlap_coefficients

    j, forces, _, _ = model(solver)
    mus = j.chemical_potentials(0.4, EF, None)
    for w in (0.0, 0.05):
        ref = force_coefficients(j, forces, bias=0.4, fermi_level=EF, hbar_omega=w, spin=1, rtol=1e-10)
        blocks = SpectralBlocks(j, stacked_operators(forces, [np.zeros((7, 7))] * 2, 7))
        got, _ = moving_overlap_coefficients(blocks, 2, mus, EF, 300.0, w, 1e-10)
        for name, value in got.items():
            scale = np.abs(getattr(ref, name.replace("_current", ""))).max()
            np.testing.assert_allclose(value, getattr(ref, name), atol=tol["tight_quad"] * scale, err_msg=name)


def test_zero_overlap_derivatives_are_bit_identical(solver):
    # exact: an all-zero dS/dX means an orthogonal-like constant coupling and
    # takes the unchanged route, bit for bit
    j, forces, _, _ = model(solver)
    zeros = [np.zeros((7, 7))] * 2
    for kw in (dict(bias=0.4), dict(bias=0.0, hbar_omega=0.05)):
        a = force_coefficients(j, forces, fermi_level=EF, **kw)
        b = force_coefficients(j, forces, fermi_level=EF, overlap_derivatives=zeros, **kw)
        for name in ("mean_force", "K", "L", "K_current", "L_current"):
            assert np.array_equal(getattr(a, name), getattr(b, name))
    a = noise_spectrum(j, forces, 0.05, bias=0.4, fermi_level=EF)
    b = noise_spectrum(j, forces, 0.05, bias=0.4, fermi_level=EF, overlap_derivatives=zeros)
    assert np.array_equal(a, b)


@pytest.mark.slow
def test_bound_states_at_zero_frequency(solver, tol):
    # exact: K = -dF0/dX (minus the explicit second-derivative terms) with a
    # bound state below the band, occupied with n_F(E_b - mu_0): the bound
    # state's terms of F0 and K (its residue and the regular part of G at E_b)
    # against a 5-point central difference of nonorthogonal.mean_force (the
    # density matrices by pole sums, bound states included), step 1e-3 A as in
    # test_k_is_minus_the_derivative_of_the_mean_force; at E_F = -2.59 eV, k_B T
    # from the level, the occupation's derivative dominates
    from currentforces.nonorthogonal import mean_force

    step = 1e-3
    j, forces, derivs, (d2h, d2s) = side_model(solver)
    assert j.bound_states().energies.min() < min(j.band_edges)
    for fermi_level in (EF, -2.59):
        kw = dict(fermi_level=fermi_level, temperature=300.0, spin=1, rtol=1e-11)
        c = force_coefficients(j, forces, overlap_derivatives=derivs, **kw)
        f0, _ = mean_force(j, forces, derivs, **kw)
        # F0 of the stretch vanishes at zero bias by mirror symmetry: judged
        # against its natural scale sum |F_ij| (eV/A)
        np.testing.assert_allclose(c.mean_force, f0, atol=tol["tight_quad"] * np.abs(forces[0]).sum())
        rho = j.density_matrix(**kw)
        rho_e = j.energy_density_matrix(**kw)
        explicit = np.trace(rho @ -d2h).real + np.trace(rho_e @ d2s).real
        values = [mean_force(*side_model(solver, m * step)[:3], **kw)[0][0] for m in (-2, -1, 1, 2)]
        dfdx = (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * step)
        assert c.K[0, 0] == pytest.approx(-(dfdx - explicit), abs=tol["quad"])


def test_where_the_real_axis_route_does_not_apply_is_named(solver):
    # named errors: wide-band leads (the E- and E^2-weighted Fermi sea
    # diverges), bound states at finite frequency (poles of G(E -+ hbar w) on
    # the real-axis path), a precomputed constant-coupling Fermi-sea part
    from currentforces import fermi_sea_part

    h, o, dh, ds, _, _ = open_moving_chain(0.0)
    wide = Junction(h, [WideBandLead(np.diag([0.5] + [0] * 6)), WideBandLead(np.diag([0] * 6 + [0.5]))], overlap=o)
    with pytest.raises(OverlapError, match="wide-band"):
        force_coefficients(wide, [-dh], overlap_derivatives=[ds])
    bound, bf, bd, _ = side_model(solver)
    with pytest.raises(OverlapError, match="bound states"):
        force_coefficients(bound, bf, overlap_derivatives=bd, fermi_level=EF, hbar_omega=0.05)
    j, forces, derivs, _ = model(solver)
    part = fermi_sea_part(j, forces, fermi_level=EF)
    with pytest.raises(OverlapError, match="fermi_sea"):
        force_coefficients(j, forces, overlap_derivatives=derivs, fermi_level=EF, fermi_sea=part)
