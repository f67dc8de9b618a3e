"""Couplings by finite differences (currentforces.couplings) against the
analytic derivatives of the tight-binding models, from precomputed
displaced geometries; the step check; bad input (sisl sources:
test_couplings_sisl.py)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from currentforces import (
    InputError,
    StepSizeWarning,
    couplings_from_displacements,
    finite_difference_couplings,
    force_coefficients,
)
from currentforces.models.atomistic import device_hamiltonian, device_hamiltonian_derivative
from currentforces.models.presets import carbon_model, gold_chain, gold_model
from currentforces.models.tight_binding import SBandModel, SlaterKosterSP

from couplinghelpers import (
    ANALYTIC_TOL,
    STEP,
    analytic_ds,
    analytic_forces,
    crooked_chain,
    cutoff_margin,
    overlap_model,
)

MODELS = {
    "gold s band": (gold_model(), 2.6),
    "s band, steep": (SBandModel(t0=1.7, beta=1.5, d0=2.5, cutoff=3.6), 2.5),
    "carbon sp (Harrison)": (carbon_model(cutoff=2.1), 1.3),
    "sp exponential": (
        SlaterKosterSP(
            e_s=-5, e_p=1, v_sss=-2, v_sps=2.5, v_pps=3, v_ppp=-1, d0=1.4, cutoff=2.2, scaling="exponential", beta=1.3
        ),
        1.4,
    ),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_equal_to_the_analytic_derivatives_of_the_tight_binding_models(name):
    """-dH/dX of the built-in models (models/atomistic.py, analytic) to 1e-7 eV/A."""
    model, d = MODELS[name]
    pos = crooked_chain(d)
    assert cutoff_margin(model, pos) > STEP  # no displacement (<= h) crosses the hopping cutoff
    movable = [1, 2, 4]
    with warnings.catch_warnings():
        warnings.simplefilter("error", StepSizeWarning)  # a smooth source must pass the step check
        c = finite_difference_couplings(lambda p: device_hamiltonian(model, p), pos, movable, STEP)
    exact = analytic_forces(model, pos, movable)
    assert c.coordinates == [(a, x) for a in movable for x in range(3)]
    assert len(c.forces) == 9 and c.overlap_derivatives is None
    scale = max(np.abs(f).max() for f in exact)
    assert 0.5 < scale < 25.0  # the scale ANALYTIC_TOL was reasoned for
    for f, fe in zip(c.forces, exact):
        assert np.max(np.abs(f - fe)) < ANALYTIC_TOL
    # the error estimate bounds the actual error of the extrapolated value
    actual = np.array([np.max(np.abs(f - fe)) for f, fe in zip(c.forces, exact)])
    assert np.all(actual <= c.error + 1e-12)
    assert np.allclose(c.hamiltonian, device_hamiltonian(model, pos), atol=0, rtol=0)


def test_one_central_difference_without_the_check():
    """check=False: the O(h^2) central difference, 2 builds per coordinate."""
    model, d = MODELS["carbon sp (Harrison)"]
    pos = crooked_chain(d)
    calls = []

    def build(p):
        calls.append(p)
        return device_hamiltonian(model, p)

    c = finite_difference_couplings(build, pos, [2], STEP, check=False)
    assert len(calls) == 1 + 2 * 3
    assert np.all(np.isnan(c.error))
    p, m = pos.copy(), pos.copy()
    p[2, 1] += STEP
    m[2, 1] -= STEP
    assert np.allclose(
        c.forces[1], -(device_hamiltonian(model, p) - device_hamiltonian(model, m)) / (2 * STEP), atol=1e-14, rtol=0
    )
    calls.clear()
    finite_difference_couplings(build, pos, [2], STEP)
    assert len(calls) == 1 + 4 * 3  # with the check: +-h and +-h/2


def test_sparse_source_gives_sparse_couplings_ready_for_force_coefficients():
    """A scipy.sparse H gives CSR couplings holding only the entries that move,
    and force_coefficients of them equals that of the analytic operators of
    the gold-chain preset (the same junction, analytic dh/dR)."""
    pytest.importorskip("ase")  # the preset builds ase.Atoms
    pre = gold_chain(n_atoms=3, axes="z")
    s = pre.system
    pos = s.device.get_positions()
    movable = sorted({a for a, _ in s.coordinates})
    c = finite_difference_couplings(
        lambda p: sp.csr_matrix(device_hamiltonian(s.model, p)), pos, movable, STEP, axes="z"
    )
    assert all(sp.issparse(f) and f.format == "csr" for f in c.forces)
    for f, fa in zip(c.forces, s.forces):
        assert np.max(np.abs(f.toarray() - fa)) < ANALYTIC_TOL
        # an s-band atom moving along z changes only its own two bonds: 4 entries
        assert f.nnz == np.count_nonzero(fa) == 4
    kw = dict(bias=0.5, temperature=300.0, fermi_level=pre.fermi_level)
    a = force_coefficients(s.junction, s.forces, **kw)
    b = force_coefficients(s.junction, c.forces, **kw)
    # K and L are quadratic in f: relative error ~ 2 * 1e-7 / |f|, plus the
    # integration tolerance (rtol 1e-8) of each
    for name in ("mean_force", "K", "L"):
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        assert np.allclose(x, y, rtol=0, atol=1e-6 * np.abs(x).max()), name


def test_overlap_derivatives_of_a_non_orthogonal_source():
    """build -> (H, S): dS/dX equals the analytic derivative of S = s0 exp(-gamma d)."""
    pos = crooked_chain(2.5)
    c = finite_difference_couplings(lambda p: overlap_model(p)[:2], pos, [0, 3], STEP)
    model = overlap_model(pos)[2]
    assert len(c.overlap_derivatives) == 6
    for i, (a, x) in enumerate(c.coordinates):
        assert np.max(np.abs(c.overlap_derivatives[i] - analytic_ds(pos, a)[x])) < ANALYTIC_TOL
        assert np.max(np.abs(c.forces[i] + device_hamiltonian_derivative(model, pos, a)[x])) < ANALYTIC_TOL
    assert np.allclose(c.overlap, overlap_model(pos)[1])
    assert np.all(c.overlap_error < 1e-5)


def test_step_check_fires_on_a_noisy_source():
    """A source with independent noise of 1e-4 eV per build (a loosely
    converged self-consistent cycle) gives an error estimate ~0.5 * 1e-4/h =
    5e-3 eV/A against couplings of ~1 eV/A: above rtol = 1e-3, it warns.  The
    same source without noise does not (the control)."""
    model = gold_model()
    pos = crooked_chain(2.6)
    rng = np.random.default_rng(1)

    def noisy(p, amplitude):
        h = device_hamiltonian(model, p)
        e = rng.standard_normal(h.shape) * amplitude
        return h + (e + e.T) / 2

    with pytest.warns(StepSizeWarning, match=r"estimated error .* rtol = 0.001"):
        c = finite_difference_couplings(lambda p: noisy(p, 1e-4), pos, [1, 2], STEP)
    assert c.error.max() > 1e-3 * max(np.abs(f).max() for f in c.forces)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StepSizeWarning)
        finite_difference_couplings(lambda p: noisy(p, 0.0), pos, [1, 2], STEP)


def test_step_check_fires_when_a_step_crosses_the_hopping_cutoff():
    """A pair 0.004 A inside the hard cutoff: +-h crosses it, +-h/2 does not;
    the derivative does not exist there and the two steps disagree."""
    model = SBandModel(t0=1.0, beta=1.0, d0=2.5, cutoff=3.0)
    pos = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 2.996]])
    with pytest.warns(StepSizeWarning, match="atom 1 z"):  # the message names the coordinate
        finite_difference_couplings(lambda p: device_hamiltonian(model, p), pos, [1], STEP, axes="z")


def test_bad_input_is_named():
    model = gold_model()
    pos = crooked_chain(2.6)

    def build(p):
        return device_hamiltonian(model, p)

    cases = [
        (dict(movable=[7]), "movable: atom index 7 is out of range"),
        (dict(movable=[1, -4]), "movable: repeated atom index"),
        (dict(movable=[]), "movable: give at least one atom index"),
        (dict(movable=[1.5]), "movable: atom indices must be integers"),
        (dict(step=0.0), "step must be > 0"),
        (dict(step=-0.01), "step must be > 0"),
        (dict(positions=pos[:, :2]), r"positions must have shape \(n_atoms, 3\)"),
        (dict(positions=np.where(pos > 1, np.nan, pos)), "positions contains NaN"),
        (dict(build="H"), "build must be a callable"),
        (dict(build=lambda p: np.ones((3, 4))), "must be a square matrix"),
        (dict(build=lambda p: np.triu(build(p))), "build.* at the reference geometry: H is not Hermitian"),
        (
            dict(build=lambda p: build(p) + 1j * (p[1, 0] != pos[1, 0]) * np.triu(np.ones((5, 5)), 1)),
            r"atom 1 displaced by \+0.01 Angstrom along x: H is not Hermitian",
        ),
        (
            dict(
                build=lambda p: build(p)[: 5 if p[1, 0] == pos[1, 0] else 4, :][:, : 5 if p[1, 0] == pos[1, 0] else 4]
            ),
            "the device basis must be the same",
        ),
        (
            dict(build=lambda p: (build(p), np.eye(5)) if p[1, 0] == pos[1, 0] else build(p)),
            "returned H alone but the reference geometry gave",
        ),
        (dict(build=lambda p: (build(p), np.eye(4))), "S has shape"),
        (dict(build=lambda p: (build(p),) * 3), "tuple of 3"),
        (dict(build=lambda p: "H"), "must be a numeric matrix"),
    ]
    for change, message in cases:
        kw = dict(build=build, positions=pos, movable=[1], step=STEP)
        kw.update(change)
        with pytest.raises(InputError, match=message):
            finite_difference_couplings(kw.pop("build"), **kw)


def test_displaced_mapping_and_its_errors():
    """A plain mapping {(atom, axis, sign): H}: the central difference; a
    missing displacement is named."""
    model = gold_model()
    pos = crooked_chain(2.6)
    table = {}
    for c in range(3):
        for s in (1, -1):
            p = pos.copy()
            p[2, c] += s * STEP
            table[(2, c, s)] = device_hamiltonian(model, p)
    c = couplings_from_displacements(table, [2], STEP)
    fd = [(table[(2, x, 1)] - table[(2, x, -1)]) / (-2 * STEP) for x in range(3)]
    assert all(np.allclose(f, g, atol=1e-14, rtol=0) for f, g in zip(c.forces, fd))
    del table[(2, 1, -1)]
    with pytest.raises(InputError, match=r"no Hamiltonian for \(atom 2, axis 1, sign -1\)"):
        couplings_from_displacements(table, [2], STEP)
    with pytest.raises(InputError, match="step must be > 0"):
        couplings_from_displacements(table, [2], 0.0)
    with pytest.raises(InputError, match="displaced must be a mapping"):
        couplings_from_displacements(3.0, [2], STEP)
    with pytest.raises(InputError, match="non-negative integers"):
        couplings_from_displacements(table, [-1], STEP)
