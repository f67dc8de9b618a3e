"""Transverse k-points: closed forms, time-reversal reduction, supercell folding."""

from __future__ import annotations

import numpy as np
import pytest
from kpointhelpers import BlochModel, strip, supercell

from currentforces import InputError, force_coefficients, noise_spectrum
from currentforces.kpoints import KPointJunction, bloch_sum, kpoint_grid, time_reversal_reduction

ONSITE = [0.1, -0.2, 0.3, 0.0, -0.1, 0.2]  # a scattering device, 3 columns x 2 sites


def test_grids():
    # expected: k_j = j/N wrapped into (-1/2, 1/2] (Gamma-centred), and
    # (2j - N - 1)/2N (Monkhorst & Pack 1976), weights 1/N
    k, w = kpoint_grid((4,))
    np.testing.assert_allclose(np.sort(k[:, 0]), [-0.25, 0.0, 0.25, 0.5])
    np.testing.assert_allclose(w, 0.25)
    k, _ = kpoint_grid((4,), centre="monkhorst-pack")
    np.testing.assert_allclose(np.sort(k[:, 0]), [-0.375, -0.125, 0.125, 0.375])
    k, w = kpoint_grid((3, 2))
    assert k.shape == (6, 2) and np.isclose(w.sum(), 1.0)
    # time reversal: Gamma and the zone boundary are their own partners
    kr, wr, folded = time_reversal_reduction(*kpoint_grid((4,)))
    assert sorted(zip(kr[:, 0].tolist(), wr.tolist(), folded.tolist())) == [
        (0.0, 0.25, False),
        (0.25, 0.5, True),
        (0.5, 0.25, False),
    ]
    kr, wr, folded = time_reversal_reduction(*kpoint_grid((4, 4), centre="monkhorst-pack"))
    assert len(kr) == 8 and folded.all() and np.isclose(wr.sum(), 1.0)


def test_strip_transmission_counts_open_channels(solver, tol):
    # expected (closed form): a clean square-lattice strip of width W sites
    # per transverse cell, hopping t, has transverse bands
    # eps_j(k) = 2t cos(2 pi (j + k)/W); channel j is open where
    # |E - eps_j(k)| < 2|t|, and a clean strip transmits every open channel
    # fully: T(E, k) = number of open channels
    t, width = -1.0, 3
    model = strip(3, width, t=t, solver=solver)
    energies = np.array([-3.1, -1.3, 0.2, 1.7, 3.3])
    kset = KPointJunction(model, kgrid=(5,))
    per_k = kset.transmission(energies, resolved=True)
    for k, tk in zip(kset.kpoints[:, 0], per_k):
        eps = 2 * t * np.cos(2 * np.pi * (np.arange(width) + k) / width)
        open_ = (np.abs(energies[:, None] - eps) < 2 * abs(t)).sum(axis=1)
        np.testing.assert_allclose(tk, open_, atol=tol["lead"])
    # the k-average weighs each irreducible point with its multiplicity
    full = np.mean([model(np.array([k])).transmission(energies) for k in np.arange(5) / 5], axis=0)
    np.testing.assert_allclose(kset.transmission(energies), full, atol=tol["lead"])


def _pair_model(solver="dense"):
    # a device whose diagonal hopping breaks the y -> -y mirror: k and -k
    # are related by time reversal only
    return strip(3, 2, diagonal=0.3, onsite=ONSITE, solver=solver)


def test_reduced_grid_equals_full_grid_at_zero_bias(tol):
    # expected: time reversal (real real-space H) gives G(-k) = G(k)^T, so
    # T(-k) = T(k), I(-k) = I(k) (two leads), and at zero bias
    # rho(-k) = rho(k)^*, F0(-k) = F0(k), K, L, S(-k) = K, L, S(k)^T: the
    # reduced grid equals the full grid (both sum the same terms)
    # (dense only: the reduction is backend-independent algebra, and the
    # closed-form test above runs on both backends)
    model = _pair_model()
    full = KPointJunction(model, kgrid=(4,), time_reversal=False)
    red = KPointJunction(model, kgrid=(4,))
    assert len(red) == 3 and len(full) == 4
    e = np.array([-1.1, 0.4])
    np.testing.assert_allclose(red.transmission(e), full.transmission(e), atol=tol["lead"])
    assert red.current(0.3, temperature=0.0) == pytest.approx(full.current(0.3, temperature=0.0), rel=tol["quad"])
    np.testing.assert_allclose(
        red.density_matrix(temperature=0.0), full.density_matrix(temperature=0.0), atol=tol["quad"]
    )
    fs = model.force_operators()
    cr = force_coefficients(red, fs, temperature=0.0)
    cf = force_coefficients(full, fs, temperature=0.0)
    for name in ("mean_force", "K", "L"):
        scale = np.abs(getattr(cf, name)).max()
        np.testing.assert_allclose(getattr(cr, name), getattr(cf, name), atol=tol["quad"] * scale)
    # each k alone has no symmetry: K(k) is not K(k)^T at a folded point...
    one = force_coefficients(red.members[1], fs(red.keys[1]), temperature=0.0)
    assert np.abs(one.L - one.L.T).max() >= tol["visible"] * np.abs(one.L).max()
    # ...but the pair (k, -k) has no Berry force at equilibrium
    assert np.abs(cr.berry).max() <= tol["quad"] * np.abs(cr.L).max()
    nr = noise_spectrum(red, fs, 0.05, temperature=0.0)
    nf = noise_spectrum(full, fs, 0.05, temperature=0.0)
    np.testing.assert_allclose(nr, nf, atol=tol["quad"] * np.abs(nf).max())


@pytest.mark.slow
def test_reduced_grid_under_bias_evaluates_the_partner(tol):
    # expected: under bias A_l(-k) = [G^dagger Gamma_l G]^T(k) (outgoing
    # states), so rho, F0, K, L, S at -k do not follow from k: the reduced
    # grid evaluates -k and equals the full grid; the naive rule would not
    model = _pair_model()
    full = KPointJunction(model, kgrid=(3,), time_reversal=False)
    red = KPointJunction(model, kgrid=(3,))
    fs = model.force_operators()
    # run at rtol 1e-6 (time): 1e2 * tol["quad"] = 1e-5 is ten times that
    kw = dict(bias=0.4, temperature=0.0, rtol=1e-6)
    cr, cf = force_coefficients(red, fs, **kw), force_coefficients(full, fs, **kw)
    for name in ("mean_force", "K", "L"):
        scale = np.abs(getattr(cf, name)).max()
        np.testing.assert_allclose(getattr(cr, name), getattr(cf, name), atol=1e2 * tol["quad"] * scale)
    np.testing.assert_allclose(red.density_matrix(**kw), full.density_matrix(**kw), atol=1e2 * tol["quad"])
    nr, nf = noise_spectrum(red, fs, 0.05, **kw), noise_spectrum(full, fs, 0.05, **kw)
    np.testing.assert_allclose(nr, nf, atol=1e2 * tol["quad"] * np.abs(nf).max())
    # the naive reduction (F0(-k) = F0(k)) is wrong under bias: k and -k differ
    k = red.kpoints[np.flatnonzero(red.folded)[0]]
    plus = force_coefficients(model(k), fs(tuple(k)), **kw).mean_force
    minus = force_coefficients(model(-k), fs(tuple(-k)), **kw).mean_force
    assert np.abs(plus - minus).max() >= tol["visible"] * np.abs(plus).max()


def test_supercell_on_the_folded_grid_equals_the_primitive_cell(tol):
    # expected: an n-fold transverse supercell at the folded grid (N points)
    # samples the same k as the primitive cell on N n points (k_prim =
    # (K + m)/n): per primitive cell the transmission and the force
    # coefficients of a displacement of every image agree (the supercell's
    # collective displacement moves n copies: F0, K, L are n times larger)
    n = 2
    prim = _pair_model()
    sup = supercell(prim, n)
    kp = KPointJunction(prim, kgrid=(6,))
    ks = KPointJunction(sup, kgrid=(3,))
    e = np.array([-0.9, 0.35, 1.6])
    np.testing.assert_allclose(ks.transmission(e) / n, kp.transmission(e), atol=tol["lead"])
    cp = force_coefficients(kp, prim.force_operators(), temperature=0.0)
    cs = force_coefficients(ks, sup.force_operators(), temperature=0.0)
    for name in ("mean_force", "K", "L"):
        scale = np.abs(getattr(cp, name)).max()
        np.testing.assert_allclose(getattr(cs, name) / n, getattr(cp, name), atol=tol["quad"] * scale)


def test_kpoint_bad_input_is_named():
    model = _pair_model()
    with pytest.raises(InputError, match="kgrid"):
        KPointJunction(model, kgrid=(0,))
    with pytest.raises(InputError, match="kgrid"):
        KPointJunction(model, kgrid=(2, 2, 2))
    with pytest.raises(InputError, match="kpoints"):
        # a grid without the partner of k = 0.2 breaks the symmetry it claims
        KPointJunction(model, kpoints=[[0.0], [0.2]], weights=[0.5, 0.5])
    with pytest.raises(InputError, match="weights"):
        KPointJunction(model, kpoints=[[0.0], [0.5]], weights=[0.5, 0.6])
    with pytest.raises(InputError, match="kpoints"):
        KPointJunction(model, kpoints=np.zeros((2, 3)))

    # a magnetic flux through the cell (Peierls phase on the transverse bond)
    # makes H_R complex: H(-k) != H(k)^*, time reversal does not hold
    flux = BlochModel(
        {r: m * (np.exp(0.3j) if r == (1,) else np.exp(-0.3j) if r == (-1,) else 1) for r, m in model.device.items()},
        model.leads,
        model.forces,
    )
    with pytest.raises(InputError, match="time_reversal"):
        KPointJunction(flux, kgrid=(4,))
    KPointJunction(flux, kgrid=(4,), time_reversal=False)  # the full grid is fine
    with pytest.raises(InputError, match="blocks"):
        bloch_sum({(0, 1): np.eye(2)}, [0.1])
