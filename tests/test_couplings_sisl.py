"""Couplings by finite differences from sisl sources: a sisl-built
tight-binding model through sisl_builder, and displaced-geometry TSHS files
(the Inelastica layout) through couplings_from_displacements, against the
analytic derivatives of the same model."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

sisl = pytest.importorskip("sisl")

from currentforces import InputError, StepSizeWarning, couplings_from_displacements, finite_difference_couplings  # noqa: E402
from currentforces.adapters.sisl import sisl_builder, sisl_matrices  # noqa: E402
from currentforces.models.presets import gold_model  # noqa: E402
from currentforces.models.tight_binding import SBandModel  # noqa: E402

from couplinghelpers import ANALYTIC_TOL, STEP, analytic_ds, analytic_forces, crooked_chain, cutoff_margin  # noqa: E402


def sisl_tb(positions, model, orthogonal=True, s0=0.2, gamma=1.1):
    """An s-band sisl Hamiltonian built by sisl's own neighbour search,
    hopping t(d) of ``model``; non-orthogonal: overlap s0 exp(-gamma d)."""
    geom = sisl.Geometry(
        np.asarray(positions), atoms=sisl.Atom("Au", R=model.cutoff), lattice=sisl.Lattice([40, 40, 60], nsc=[1, 1, 1])
    )
    h = sisl.Hamiltonian(geom, orthogonal=orthogonal)
    for ia in geom:
        idx, xyz = geom.close(ia, R=model.cutoff, ret_xyz=True)
        for ja, r in zip(idx, xyz):
            d = np.linalg.norm(r - geom.xyz[ia])
            if orthogonal:
                h[ia, ja] = model.onsite if d < 1e-8 else float(model.hopping(d))
            else:
                h[ia, ja] = (model.onsite, 1.0) if d < 1e-8 else (float(model.hopping(d)), s0 * np.exp(-gamma * d))
    return h


def test_sisl_builder_equals_the_analytic_derivative():
    """A sisl-built orthogonal tight-binding model with distance-dependent
    hoppings (the s band of models/tight_binding.py, built by sisl) through
    sisl_builder: sparse couplings equal to the analytic -dh/dR to 1e-7."""
    model = SBandModel(t0=1.7, beta=0.8, d0=2.5, cutoff=3.6)
    pos = crooked_chain(2.5)
    assert cutoff_margin(model, pos) > STEP
    with warnings.catch_warnings():
        warnings.simplefilter("error", StepSizeWarning)
        c = finite_difference_couplings(sisl_builder(lambda p: sisl_tb(p, model)), pos, [1, 3], STEP)
    assert all(sp.issparse(f) for f in c.forces) and c.overlap_derivatives is None
    for f, fe in zip(c.forces, analytic_forces(model, pos, [1, 3])):
        assert np.max(np.abs(f.toarray() - fe)) < ANALYTIC_TOL


def test_sisl_non_orthogonal_source_gives_overlap_derivatives():
    """The same with an overlap: dS/dX equals the analytic derivative."""
    model = SBandModel(t0=1.7, beta=0.8, d0=2.5, cutoff=3.6)
    pos = crooked_chain(2.5)
    c = finite_difference_couplings(sisl_builder(lambda p: sisl_tb(p, model, orthogonal=False)), pos, [2], STEP)
    for i, (a, x) in enumerate(c.coordinates):
        assert np.max(np.abs(c.overlap_derivatives[i].toarray() - analytic_ds(pos, a)[x])) < ANALYTIC_TOL


def test_sisl_input_checks():
    model = gold_model()
    with pytest.raises(InputError, match="wrap a sisl source with"):
        finite_difference_couplings(lambda p: sisl_tb(p, model), crooked_chain(2.6), [1])
    periodic = sisl_tb(crooked_chain(2.6), model)
    periodic.set_nsc([1, 1, 3])
    with pytest.raises(InputError, match="periodic"):
        sisl_matrices(periodic)
    assert sisl_matrices(periodic, k=(0, 0, 0)).shape == (5, 5)
    with pytest.raises(InputError, match="make must be a callable"):
        sisl_builder(None)
    with pytest.raises(InputError, match="must be a sisl.Hamiltonian"):
        sisl_matrices(np.eye(3))


def test_displaced_tshs_files_in_the_inelastica_layout(tmp_path):
    """One TSHS file per displaced geometry (written by sisl, read back
    through sisl_matrices): couplings_from_displacements equals the central
    difference of the same source at the same step to round-off, and the
    analytic derivative to O(h^2) (|H'''| h^2/6 < 1e-4 eV/A at h = 0.01 A,
    beta = 0.8/A)."""
    model = SBandModel(t0=1.7, beta=0.8, d0=2.5, cutoff=3.6)
    pos = crooked_chain(2.5)
    for a in (1, 3):
        for c in range(3):
            for s in (1, -1):
                p = pos.copy()
                p[a, c] += s * STEP
                sisl_tb(p, model, orthogonal=False).write(tmp_path / f"disp_{a}{'xyz'[c]}{'+-'[s < 0]}.TSHS")

    def displaced(atom, axis, sign):
        path = tmp_path / f"disp_{atom}{'xyz'[axis]}{'+' if sign > 0 else '-'}.TSHS"
        return sisl_matrices(sisl.get_sile(str(path)).read_hamiltonian())

    c = couplings_from_displacements(displaced, [1, 3], STEP)
    direct = finite_difference_couplings(
        sisl_builder(lambda p: sisl_tb(p, model, orthogonal=False)), pos, [1, 3], STEP, check=False
    )
    assert np.all(np.isnan(c.error)) and c.hamiltonian is None
    for f, g, ds, dg, fe in zip(
        c.forces, direct.forces, c.overlap_derivatives, direct.overlap_derivatives, analytic_forces(model, pos, [1, 3])
    ):
        assert np.max(np.abs((f - g).toarray())) < 1e-10
        assert np.max(np.abs((ds - dg).toarray())) < 1e-10
        assert np.max(np.abs(f.toarray() - fe)) < 1e-4
