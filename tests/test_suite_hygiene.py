"""The test suite's own habits: shared helpers come from helper modules
(conftest.py is pytest's, not a module to import), every marker the
configuration declares is applied somewhere, the physics tests run on both
Green's-function backends, and their tolerances are named."""

import ast
import pathlib
import re
import tomllib

TESTS = pathlib.Path(__file__).resolve().parent
ROOT = TESTS.parent
MODULES = sorted(TESTS.rglob("*.py"))


def _imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def test_no_module_imports_conftest():
    """`from conftest import ...` picks whichever conftest.py comes first on
    sys.path (tests/dynamics may get one); helpers live in modules such as
    forcehelpers.py and junctionhelpers.py."""
    offenders = [
        f"{p.relative_to(TESTS)} imports {m}"
        for p in MODULES
        for m in _imported_modules(p)
        if m.split(".")[0] == "conftest"
    ]
    assert offenders == []


def test_declared_markers_are_applied():
    """A marker nobody applies selects nothing (`pytest -m "not slow"` would
    silently run the long checks)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    declared = [m.split(":")[0].strip() for m in config["markers"]]
    assert "slow" in declared
    text = "\n".join(p.read_text(encoding="utf-8") for p in MODULES if p.name != pathlib.Path(__file__).name)
    unused = [m for m in declared if not re.search(rf"\bmark\.{m}\b", text)]
    assert unused == []


# modules whose physics tests all take the `solver` fixture (dense and RGF)
BACKEND_MODULES = [
    "test_junction.py",
    "test_forces.py",
    "test_noise.py",
    "test_low_bias.py",
    "test_zero_force_operators.py",
    "test_overlap.py",
    "test_overlap_forces.py",
    "test_overlap_kernel.py",
]
# the tests there that stay on one backend, and why
ONE_BACKEND = {
    "test_overlap_forces.py::test_bias_window_contour_with_overlap_agrees_with_the_real_axis": (
        "the contour exists on the dense backend only; it is compared with the RGF real axis"
    ),
    "test_overlap.py::test_identity_overlap_reproduces_the_orthogonal_junction": (
        "property-based: hypothesis draws the backend with the device"
    ),
    "test_overlap.py::test_overlap_is_the_third_positional_argument": (
        "checks the argument order of Junction, naming the solvers itself"
    ),
    "test_low_bias.py::test_block_tridiagonal_backend_gives_the_same_numbers": (
        "builds both backends itself and compares them"
    ),
    "test_low_bias.py::test_docstring_example": "runs the module's doctest",
    "test_low_bias.py::test_thermal_rules_accept_a_slope_that_is_rounding_noise": (
        "tests the thermal rules on a model integrand, without a junction"
    ),
    "test_zero_force_operators.py::test_straight_gold_chain_with_xyz_axes_is_stable_at_zero_bias": (
        "the CLI case on the preset's dense junction; the backends are compared in the test above it"
    ),
}
# modules whose tolerances go through conftest.TOL or a named constant
TOLERANCE_MODULES = BACKEND_MODULES
_CLOSE = {"allclose", "isclose", "assert_allclose", "approx"}


def _test_functions(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]


def test_physics_tests_run_on_both_backends():
    """Every test of the junction, force, noise and low-bias modules takes
    the `solver` fixture, or is listed in ONE_BACKEND with its reason."""
    missing = [
        f"{name}::{fn.name}"
        for name in BACKEND_MODULES
        for fn in _test_functions(TESTS / name)
        if "solver" not in [a.arg for a in fn.args.args] and f"{name}::{fn.name}" not in ONE_BACKEND
    ]
    stale = [
        key
        for key in ONE_BACKEND
        if key.split("::")[1] not in [fn.name for fn in _test_functions(TESTS / key.split("::")[0])]
    ]
    assert missing == [] and stale == []


def _literal_tolerance(node):
    """A number in (0, 1) in a tolerance expression that is not scaled from tol[...]."""

    def factors(n):
        if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Mult, ast.Add)):
            return factors(n.left) + factors(n.right)
        return [n]

    uses_tol = any(isinstance(n, ast.Subscript) and getattr(n.value, "id", "") == "tol" for n in ast.walk(node))
    return not uses_tol and any(
        isinstance(f, ast.Constant) and isinstance(f.value, float) and 0 < f.value < 1 for f in factors(node)
    )


def test_tolerances_are_named():
    """In TOLERANCE_MODULES an assertion's tolerance is tol[...] (conftest.TOL,
    with its reason there) or a named constant derived in a comment, never a
    bare number: a bare 1e-9 says neither where it comes from nor whether it
    may move."""
    offenders = []
    for name in TOLERANCE_MODULES:
        tree = ast.parse((TESTS / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in _CLOSE:
                offenders += [
                    f"{name}:{node.lineno}"
                    for kw in node.keywords
                    if kw.arg in ("atol", "rtol", "rel", "abs") and _literal_tolerance(kw.value)
                ]
            elif isinstance(node, ast.Assert):
                offenders += [
                    f"{name}:{node.lineno}"
                    for cmp in ast.walk(node.test)
                    if isinstance(cmp, ast.Compare)
                    and all(isinstance(o, (ast.Lt, ast.LtE)) for o in cmp.ops)
                    and any(_literal_tolerance(c) for c in cmp.comparators)
                ]
    assert offenders == []
