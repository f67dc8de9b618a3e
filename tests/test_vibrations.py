"""Bare force constants and normal modes from an ASE calculator
(currentforces.vibrations) against ASE's own Vibrations, central springs
with a closed-form Hessian, the acoustic sum rule and the relaxation check."""

import warnings

import numpy as np
import pytest

ase = pytest.importorskip("ase")
from ase import Atoms  # noqa: E402
from ase.calculators.calculator import Calculator, all_changes  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402
from ase.vibrations import Vibrations  # noqa: E402

from currentforces import InputError, NotRelaxedWarning, StepSizeWarning, bare_force_constants  # noqa: E402
from currentforces.models.atomistic import spring_force_constants  # noqa: E402
from currentforces.units import AMU, HBAR  # noqa: E402


def cu_cluster():
    """Five Cu atoms (a distorted trigonal bipyramid) with EMT."""
    atoms = Atoms("Cu5", positions=[[0, 0, 0], [2.5, 0, 0], [1.25, 2.2, 0], [1.3, 0.7, 2.0], [1.2, 0.8, -2.1]])
    atoms.calc = EMT()
    return atoms


@pytest.fixture(scope="module")
def relaxed():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a relaxed, smooth EMT cluster passes both checks
        return bare_force_constants(cu_cluster(), relax=True, fmax=1e-4)


def ase_hessian(atoms, tmp_path, nfree, delta, indices=None):
    vib = Vibrations(atoms, indices=indices, name=str(tmp_path / f"vib{nfree}"), nfree=nfree, delta=delta)
    vib.run()
    vib.read()
    return vib


def test_equals_ase_vibrations(relaxed, tmp_path):
    """Richardson of steps h and h/2 is the five-point stencil of spacing h/2:
    ASE's Vibrations(nfree=4, delta=h/2) on the same structure and
    calculator; one central difference (check=False) is Vibrations(nfree=2,
    delta=h).  Both symmetrise (K + K^T)/2.  The same force calls in another
    order of arithmetic: equal to round-off (1e-9 of the largest entry)."""
    atoms = relaxed.atoms.copy()
    atoms.calc = EMT()
    scale = np.abs(relaxed.hessian).max()
    vib4 = ase_hessian(atoms, tmp_path, 4, relaxed.step / 2)
    assert np.allclose(relaxed.hessian, vib4.H, rtol=0, atol=1e-9 * scale)
    plain = bare_force_constants(atoms, check=False)
    vib2 = ase_hessian(atoms, tmp_path, 2, relaxed.step)
    assert np.allclose(plain.hessian, vib2.H, rtol=0, atol=1e-9 * scale)
    assert np.isnan(plain.error)
    # frequencies: hbar*omega in eV as ASE's get_energies (imaginary ones are
    # negative here); ASE's units are CODATA 2014, ours 2018: 1e-6 relative
    e = vib4.get_energies()
    ase_hw = np.where(np.abs(e.imag) > np.abs(e.real), -np.abs(e.imag), e.real)
    hw = relaxed.modes().hbar_omega
    assert np.allclose(np.sort(hw)[6:], np.sort(ase_hw)[6:], rtol=1e-6, atol=0)
    assert hw.max() > 0.02  # Cu vibrations: tens of meV


def test_symmetric_and_acoustic_sum_rule(relaxed):
    """K^b is symmetric (the raw differences to within their error estimate),
    and a free cluster's forces do not change under a rigid translation, so
    every row sums to zero over all atoms (acoustic sum rule): three modes
    at zero frequency.  After relaxation to 1e-4 eV/A the three rotations
    are zero modes too (their curvature is set by the residual force)."""
    k = relaxed.hessian
    scale = np.abs(k).max()
    assert np.array_equal(k, k.T)
    # the error estimate max|D(h) - D(h/2)|/3 bounds the error of D(h/2); the
    # extrapolated value is O(h^4) better: EMT varies on a scale of ~1 A, so
    # (h/2)^4 = 6e-10 relative.  Allow 1e-7 of the largest entry.
    assert relaxed.error < 1e-3 * scale
    assert relaxed.asymmetry < 1e-7 * scale
    for b in range(3):  # sum over all atoms j of K_{ia, jb}
        rows = k[:, b::3].sum(axis=1)
        assert np.abs(rows).max() < 1e-7 * scale, b
    hw = relaxed.modes().hbar_omega
    order = np.argsort(np.abs(hw))
    # 6 zero modes of a free, relaxed, non-linear cluster: translations to
    # the FD error, rotations to the residual force (1e-4 eV/A: hbar omega ~ 5e-5 eV)
    assert np.all(np.abs(hw[order[:6]]) < 5e-4)
    assert np.all(hw[order[6:]] > 5e-3)
    assert relaxed.relaxed is True and relaxed.residual_force < 1e-4


class Springs(Calculator):
    """Central springs E = sum_pairs (k/2)(|r_ij| - d_ij^0)^2, rest lengths
    d_ij^0 from a reference geometry, for pairs closer than ``cutoff``."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, k, reference, cutoff):
        super().__init__()
        ref = np.asarray(reference, dtype=float)
        self.k, self.cutoff = k, cutoff
        d = np.linalg.norm(ref[:, None] - ref[None], axis=-1)
        self.pairs = [(i, j, d[i, j]) for i in range(len(ref)) for j in range(i + 1, len(ref)) if d[i, j] < cutoff]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        p = self.atoms.get_positions()
        e, f = 0.0, np.zeros_like(p)
        for i, j, d0 in self.pairs:
            r = p[j] - p[i]
            d = np.linalg.norm(r)
            e += 0.5 * self.k * (d - d0) ** 2
            g = self.k * (d - d0) * r / d
            f[i] += g
            f[j] -= g
        self.results = {"energy": e, "forces": f}


def test_central_springs_have_the_closed_form_hessian():
    """At the springs' rest geometry K^b is sum k e e^T over bonds
    (models.atomistic.spring_force_constants, the closed form), here for a
    zig-zag chain whose end atoms are held fixed; its modes are those of the
    mass-weighted closed form, and a free dimer has hbar sqrt(2k/m)."""
    pos = np.array([[0, 0, 0], [1.2, 0.8, 0], [2.4, 0, 0.3], [3.6, 0.7, 0.1], [4.9, 0, 0]])
    atoms = Atoms("Au5", positions=pos)
    atoms.calc = Springs(2.0, pos, 1.8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fc = bare_force_constants(atoms, indices=[1, 2, 3])
    coords = [(a, c) for a in (1, 2, 3) for c in range(3)]
    exact = spring_force_constants(pos[1:4], [(a - 1, c) for a, c in coords], 2.0, 1.8, fixed_positions=pos[[0, 4]])
    # E is quadratic near the rest geometry up to the d^-1 terms of the
    # bond directions: Richardson error (h/2)^4 k/d^4 ~ 1e-9 eV/A^2
    assert np.allclose(fc.hessian, exact, rtol=0, atol=1e-8)
    assert fc.labels[:3] == ["Au1 x", "Au1 y", "Au1 z"]
    assert np.allclose(fc.select([(2, 2), (1, 0)]), exact[np.ix_([5, 0], [5, 0])])
    dimer = Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 2.2]])
    dimer.calc = Springs(3.0, dimer.get_positions(), 3.0)
    hw = bare_force_constants(dimer).modes().hbar_omega
    m = dimer.get_masses()[0] * AMU
    assert hw[-1] == pytest.approx(HBAR * np.sqrt(2 * 3.0 / m), rel=1e-9)
    assert np.all(np.abs(hw[:-1]) < 1e-6)


def test_not_relaxed_warns_and_relaxation_moves_only_the_moving_atoms():
    """The unrelaxed cluster has residual forces of ~1 eV/A: a
    NotRelaxedWarning naming the residual.  relax=True with indices moves
    only those atoms, leaves the caller's atoms untouched, and the residual
    force ends below fmax."""
    atoms = cu_cluster()
    start = atoms.get_positions()
    with pytest.warns(NotRelaxedWarning, match=r"residual force .* eV/Angstrom on atom"):
        fc = bare_force_constants(atoms, indices=[3, 4])
    assert fc.residual_force > 0.05 and fc.relaxed is None
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotRelaxedWarning)
        fc = bare_force_constants(atoms, indices=[3, 4], relax=True, fmax=0.01)
    assert fc.relaxed is True and fc.residual_force < 0.01
    moved = np.linalg.norm(fc.atoms.get_positions() - start, axis=1)
    assert np.all(moved[:3] == 0) and np.all(moved[3:] > 1e-3)
    assert np.array_equal(atoms.get_positions(), start)
    assert fc.hessian.shape == (6, 6) and fc.coordinates[0] == (3, 0)


def test_noisy_calculator_fires_the_step_check():
    """Forces with independent noise of 1e-4 eV/A per call: error estimate
    ~0.5e-4/h = 5e-3 eV/A^2 against K ~ 1 eV/A^2: StepSizeWarning."""
    rng = np.random.default_rng(0)

    class Noisy(EMT):
        def calculate(self, *args, **kwargs):
            super().calculate(*args, **kwargs)
            self.results["forces"] = self.results["forces"] + 1e-4 * rng.standard_normal((len(self.atoms), 3))

    atoms = cu_cluster()
    atoms.calc = Noisy()
    with pytest.warns(StepSizeWarning, match="finite differences of the forces"):
        bare_force_constants(atoms, indices=[0], force_tolerance=10.0)


def test_bad_input():
    atoms = cu_cluster()
    bare = Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 2.3]])
    cases = [
        (lambda: bare_force_constants(bare), "no calculator"),
        (lambda: bare_force_constants(atoms, indices=[5]), "indices: atom index 5 is out of range"),
        (lambda: bare_force_constants(atoms, step=0), "step must be > 0"),
        (lambda: bare_force_constants(atoms, relax=True, optimizer="Newton"), "ase.optimize has no 'Newton'"),
        (lambda: bare_force_constants(np.zeros((3, 3))), "must be an ase.Atoms"),
        (lambda: bare_force_constants(atoms, max_steps=0), "max_steps"),
    ]
    for call, message in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotRelaxedWarning)
            with pytest.raises(InputError, match=message):
                call()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotRelaxedWarning)
        fc = bare_force_constants(atoms, indices=[0])
    with pytest.raises(InputError, match="not among the moving coordinates"):
        fc.select([(1, 0)])
