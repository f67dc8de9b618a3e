"""GFN-xTB extended-molecule junctions (currentforces.adapters.xtb): unit
conversion, reproducibility, mirror symmetry of H, S and the couplings,
K = -dF0/dX through the real xTB Hamiltonian, the choice of the wide-band
broadening, and the calculator's Hessian against ASE's Vibrations.

tblite is the optional extra ``currentforces[xtb]``, which ``make test``
installs: the tests skip without it only outside CI (the CI environment
variable unset), so that they never silently skip there.
"""

import os
import warnings

import numpy as np
import pytest

# tblite's OpenMP threads spin between calls and starve numpy on a shared
# machine; one thread is also the fastest for these 20-atom systems
os.environ.setdefault("OMP_NUM_THREADS", "1")

if not os.environ.get("CI"):
    pytest.importorskip("tblite")
pytest.importorskip("ase")
import ase.io  # noqa: E402
import ase.units  # noqa: E402
from ase.vibrations import Vibrations  # noqa: E402

from currentforces import (  # noqa: E402
    InputError,
    Junction,
    NotRelaxedWarning,
    StepSizeWarning,
    bare_force_constants,
    force_coefficients,
)
from currentforces.adapters.xtb import (  # noqa: E402
    DEFAULT_GAMMA,
    XTBSource,
    gold_benzenedithiol,
    lowdin,
    xtb_calculator,
    xtb_junction,
)
from currentforces.errors import OverlapError  # noqa: E402
from currentforces.units import BOHR, HARTREE  # noqa: E402

# the ring carbons bonded to the sulfurs, images of each other under z -> -z
PARA = [0, 3]


@pytest.fixture(scope="module")
def bdt():
    atoms, mirror = gold_benzenedithiol()
    with warnings.catch_warnings():
        warnings.simplefilter("error", StepSizeWarning)  # the SCC noise stays below the step check
        j = xtb_junction(atoms, movable=PARA, axes="xyz")
    return atoms, mirror, j


def mirror_operator(atoms, mirror, orbital_atoms, orbital_l):
    """The orbital representation of z -> -z: orbitals of atom i go to those
    of mirror[i] (same element, same order), with the sign of the parity of
    their z power.  tblite orders real spherical harmonics by m = -l..l:
    p as (y, z, x), d as (xy, yz, z^2, xz, x^2 - y^2) (checked by the
    overlaps with an s orbital placed along each axis); z-odd: p_z, d_yz, d_xz."""
    z_odd = {0: [1], 1: [1, -1, 1], 2: [1, -1, 1, -1, 1]}
    n = len(orbital_atoms)
    m = np.zeros((n, n))
    first = {a: np.flatnonzero(orbital_atoms == a) for a in range(len(atoms))}
    for a in range(len(atoms)):
        src, dst = first[a], first[mirror[a]]
        signs = []
        ls = orbital_l[src]
        k = 0
        while k < len(ls):
            signs += z_odd[int(ls[k])]
            k += 2 * int(ls[k]) + 1
        m[dst, src] = signs
    return m


def test_units_are_converted_against_ase(bdt):
    """Two independent routes to the same numbers: tblite's ASE calculator
    converts Angstrom -> Bohr and Hartree -> eV with ASE's constants
    (CODATA 2014); ours are CODATA 2018, which differ by < 1e-8 relative.
    The energy agrees to that plus the SCC convergence (energy threshold
    1e-6 x accuracy Hartree = 3e-9 eV at accuracy 1e-4): 2e-8 relative.
    The generalised eigenvalues of the rebuilt (H, S) in eV are tblite's
    orbital energies times HARTREE (an eigen-decomposition inverted:
    round-off, 1e-10 eV)."""
    atoms, _, j = bdt
    ref = atoms.copy()
    ref.calc = xtb_calculator(accuracy=1e-4)
    assert abs(ref.get_potential_energy() - j.matrices.energy) < 2e-8 * abs(j.matrices.energy)
    import scipy.linalg

    eps = scipy.linalg.eigh(j.matrices.hamiltonian, j.matrices.overlap, eigvals_only=True)
    assert np.allclose(eps, j.matrices.orbital_energies, rtol=0, atol=1e-10)
    assert np.allclose(np.linalg.eigvalsh(j.junction.hamiltonian), eps, rtol=0, atol=1e-10)
    assert HARTREE == pytest.approx(ase.units.Hartree, rel=1e-8) and BOHR == pytest.approx(ase.units.Bohr, rel=1e-8)


def test_fixed_geometry_is_reproducible(bdt):
    """A fresh source (new calculator, SCC from atomic densities) gives the
    same H and S as the junction's: S is a closed-form integral (round-off,
    1e-12), H differs by the SCC convergence only (accuracy 1e-4: density
    residual ~2e-9 e times Hubbard parameters ~10 eV: 1e-7 eV)."""
    atoms, _, j = bdt
    h, s = XTBSource(atoms.numbers, orthogonal=False)(atoms.get_positions())
    assert np.abs(s - j.matrices.overlap).max() < 1e-12
    assert np.abs(h - j.matrices.hamiltonian).max() < 1e-7


def test_hamiltonian_overlap_and_couplings_are_mirror_symmetric(bdt):
    """z -> -z maps the structure onto itself (atom i -> mirror[i]), so
    M S M^T = S and M H M^T = H for its orbital representation M (signs
    from the z parity of each orbital), and the couplings of mirror-image
    coordinates map onto each other: M f_{a,x} M^T = f_{m(a),x},
    M f_{a,z} M^T = -f_{m(a),z}.  Tolerances: S round-off (1e-12); H the SCC
    convergence (1e-7 eV, above); f that noise over the step
    (1e-7 eV / 0.005 A = 2e-5 eV/A; the Richardson truncation error, ~1e-3
    eV/A, is the same for mirror images and cancels)."""
    atoms, mirror, j = bdt
    m = mirror_operator(atoms, mirror, j.orbital_atoms, j.source.orbital_l)
    assert np.allclose(m @ m.T, np.eye(len(m)))
    s, h = j.matrices.overlap, j.matrices.hamiltonian
    assert np.abs(m @ s @ m.T - s).max() < 1e-12
    assert np.abs(m @ h @ m.T - h).max() < 1e-7
    assert np.abs(m @ j.junction.hamiltonian @ m.T - j.junction.hamiltonian).max() < 1e-7
    index = {c: i for i, c in enumerate(j.coordinates)}
    scale = max(np.abs(f).max() for f in j.forces)
    for (a, c), i in index.items():
        image = j.forces[index[(int(mirror[a]), c)]]
        sign = -1.0 if c == 2 else 1.0
        assert np.abs(m @ j.forces[i] @ m.T - sign * image).max() < 2e-5
    # the mirror-image couplings are not trivially zero
    assert scale > 1.0


@pytest.mark.slow
def test_K_is_minus_gradient_of_the_mean_force_through_the_xtb_hamiltonian(bdt):
    """K = -dF0/dX (theory page, eq-k-static) with F0(X) = Tr[rho(H(X)) f]
    for the fixed force operator f of the para carbon's z coordinate and
    H(X) the real self-consistent xTB Hamiltonian (Löwdin basis) with the
    atom displaced by +-d: the finite-difference couplings must describe
    how tblite's H actually changes.  Central differences at d = 0.005 A:
    error d^2 |F'''|/6 ~ 1e-5 |K| for variations on the 1 A scale of the
    bonds, the SCC noise (1e-7 eV) over 2d adds ~1e-5 eV/A**2 x |rho| and the
    integrals at rtol 1e-7 ~1e-7 |F0|/(2d) ~ 1e-4 eV/A**2 ~ 1e-6 |K|: 1e-4 |K|
    is a margin of ~10 over the largest (measured: 7e-6)."""
    atoms, _, j = bdt
    a = j.coordinates.index((0, 2))
    f = [j.forces[a]]
    kw = dict(bias=0.0, temperature=300.0, fermi_level=j.fermi_level)
    k = force_coefficients(j.junction, f, rtol=1e-7, **kw).K[0, 0]
    d = 0.005
    f0 = []
    for sign in (1, -1):
        p = atoms.get_positions()
        p[0, 2] += sign * d
        jd = Junction(j.hamiltonian_at(p), j.junction.leads)
        f0.append(force_coefficients(jd, f, rtol=1e-7, **kw).mean_force[0])
    kfd = -(f0[0] - f0[1]) / (2 * d)
    assert abs(kfd - k) < 1e-4 * abs(k)


def test_raw_basis_with_wide_band_leads_is_a_named_error(bdt):
    """The raw (H, S) pair with the wide-band leads on the outer gold:
    with a moving overlap the mean force carries Tr[rho_E dS/dX], and with
    wide-band leads (A ~ Gamma/E^2 far from the spectrum) rho_E diverges
    logarithmically (theory page, theory-overlap-forces), so
    force_coefficients must refuse by name rather than return a number; the
    Löwdin-orthogonalised junction above is the xTB route.  (The identity
    K = -dF0/dX with a moving overlap is tested on finite-band leads in
    tests/test_overlap_kernel.py.)"""
    atoms, _, j = bdt
    from currentforces import finite_difference_couplings

    source = XTBSource(atoms.numbers, orthogonal=False)
    c = finite_difference_couplings(source, atoms.get_positions(), [0], axes="z")
    junction = Junction(c.hamiltonian, j.junction.leads, overlap=c.overlap)
    with pytest.raises(OverlapError, match="wide-band"):
        force_coefficients(
            junction, c.forces, overlap_derivatives=c.overlap_derivatives, temperature=300.0, fermi_level=j.fermi_level
        )


def test_transmission_near_the_fermi_level_is_stationary_in_gamma(bdt):
    """The documented choice of the wide-band broadening (module docstring
    of currentforces.adapters.xtb): the geometric mean of T(E) over
    E_F +- 0.25 eV is largest near the default 0.3 eV and within 25 % of it
    over 0.2..0.5 eV, while 0.1 eV and 2 eV change it by more than a
    factor 1.5 (the measured factors are 1.7 and 6.5): the range is a
    property of this junction, and the test fails if it is not."""
    _, _, j = bdt
    e = j.fermi_level + np.linspace(-0.25, 0.25, 26)

    def mean_t(g):
        return np.exp(np.log(j.with_gamma(g).transmission(e)).mean())

    t0 = mean_t(DEFAULT_GAMMA)
    for g in (0.2, 0.5):
        assert 0.75 * t0 < mean_t(g) <= t0
    for g in (0.1, 2.0):
        assert mean_t(g) < t0 / 1.5


def test_calculator_hessian_equals_ase_vibrations(bdt, tmp_path):
    """bare_force_constants with tblite's ASE calculator against ASE's own
    Vibrations on the same (unrelaxed, hence the warning) structure, one
    central difference at h = 0.01 A each (check=False, nfree=2): the same
    force calls, but each SCC restarts from whatever density the calculator
    holds, so they agree to the SCC convergence, ~1e-6 eV/A in the forces,
    over 2h: 1e-4 eV/A**2 against entries of ~10 eV/A**2."""
    atoms, _, _ = bdt
    work = atoms.copy()
    work.calc = xtb_calculator(accuracy=1e-4)
    with pytest.warns(NotRelaxedWarning):
        fc = bare_force_constants(work, indices=PARA, check=False)
    work = atoms.copy()
    work.calc = xtb_calculator(accuracy=1e-4)
    vib = Vibrations(work, indices=PARA, name=str(tmp_path / "vib"), nfree=2, delta=0.01)
    vib.run()
    vib.read()
    assert np.abs(fc.hessian).max() > 1.0
    assert np.abs(fc.hessian - vib.H).max() < 1e-4


def test_bad_input_is_named():
    with pytest.raises(InputError, match="method"):
        XTBSource([6, 1], method="GFN3")
    atoms, _ = gold_benzenedithiol()
    with pytest.raises(InputError, match="contacts"):
        xtb_junction(atoms, contacts=([12], [12, 13]))
    with pytest.raises(InputError, match="overlap"):
        lowdin(np.eye(2), -np.eye(2))


# --------------------------------------------------------------------------
# the command-line path: [junction] model = "xtb"
# --------------------------------------------------------------------------
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def xtb_config(**junction):
    from currentforces.config import validate_config

    base = {
        "preset": "atoms",
        "model": "xtb",
        "device": os.path.join(EXAMPLES, "au4-bdt-au4.xyz"),
        "movable": [0, 3],  # the para carbons: the CI run stays small
        "axes": "z",
    }
    return validate_config(
        {
            "junction": {**base, **junction},
            "electrons": {"rtol": 1e-6},
            "bias": {"values": [0.0, 0.3]},
            "transmission": {"emin": -1.0, "emax": 1.0, "num": 11},
            "modes": {"runaway": False},
            "output": {"figures": False},
        }
    )


def test_xtb_keys_are_checked_naming_the_key():
    from currentforces.config import ConfigError, config_to_json, validate_config

    with pytest.raises(ConfigError, match="junction.model"):
        validate_config({"junction": {"preset": "gold_chain", "model": "xtb"}})
    with pytest.raises(ConfigError, match="junction.vibrations"):
        validate_config({"junction": {"preset": "gold_chain", "vibrations": "calculator"}})
    with pytest.raises(ConfigError, match="junction.left"):
        xtb_config(left="left.xyz")
    with pytest.raises(ConfigError, match="junction.method"):
        xtb_config(method="GFN0-xTB")
    # 'auto' vibrations: the calculator for xTB, the springs for tight binding;
    # the xTB keys are stored only for an xTB run (earlier files resume)
    assert xtb_config().junction.vibrations == "calculator"
    assert validate_config({}).junction.vibrations == "springs"
    assert '"method"' in config_to_json(xtb_config()) and '"method"' not in config_to_json(validate_config({}))


@pytest.mark.slow
def test_run_job_with_the_xtb_model(tmp_path):
    """The example geometry (relaxed with GFN2-xTB, gold held) through
    run_job: the zero-bias force constants are the calculator's (the
    NetCDF attribute says so) and equal bare_force_constants of tblite's
    ASE calculator on the same atoms (the same function, called here
    directly: 1e-6 of the largest entry, the SCC convergence over the step);
    the relaxed para carbons are mechanically stable (positive K^b
    eigenvalues, the structure's own potential); the Fermi level is
    tblite's; K and L are the finite-difference couplings' (shape)."""
    pytest.importorskip("xarray")
    pytest.importorskip("netCDF4")
    from currentforces.job import run_job

    ds = run_job(xtb_config(), tmp_path / "xtb.nc", log=None).dataset
    assert ds.attrs["vibrations"].startswith("spring_constants: finite differences")
    k = ds["spring_constants"].values
    assert np.allclose(k, k.T) and np.linalg.eigvalsh(k).min() > 0
    work = ase.io.read(os.path.join(EXAMPLES, "au4-bdt-au4.xyz"))
    work.calc = xtb_calculator(accuracy=1e-4)
    direct = bare_force_constants(work, indices=[0, 3]).select([(0, 2), (3, 2)])
    assert np.abs(direct - k).max() < 1e-6 * np.abs(k).max()
    assert ds["K"].shape == (2, 2, 2) and list(ds["mode_label"].values) == ["C0 z", "C3 z"]
