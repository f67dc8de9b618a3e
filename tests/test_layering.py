"""The layout: lower layers never import higher ones; source text is clean."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "currentforces"

# Modules of the package root that the dynamics may use: validation, errors,
# units, the generic quadrature/occupation helpers and the atomic file write
# (none of them imports anything of the package but these).
DYNAMICS_MAY_IMPORT = {"_checks", "errors", "units", "integrate", "outfile"}


def _imports(tree, package_parts):
    """(target, lineno, inside_function) for every import of this package in ``tree``.

    ``target`` is the first name below ``currentforces`` ("" for the root
    itself), resolved from relative imports with ``package_parts``.
    """
    out = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package_parts[: len(package_parts) - child.level + 1]
                else:
                    base = []
                mod = base + (child.module.split(".") if child.module else [])
                if mod[:1] == ["currentforces"]:
                    if len(mod) > 1:
                        out.append((mod[1], child.lineno, in_function))
                    else:  # from currentforces import a, b
                        out.extend((alias.name, child.lineno, in_function) for alias in child.names)
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    parts = alias.name.split(".")
                    if parts[0] == "currentforces":
                        out.append((parts[1] if len(parts) > 1 else "", child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return out


DYNAMICS_MODULES = sorted((SRC / "dynamics").glob("*.py"))


@pytest.mark.parametrize("path", DYNAMICS_MODULES, ids=lambda p: p.name)
def test_dynamics_does_not_import_the_electronic_engine(path):
    """The dynamics works on given K, L, F0 and S(omega): it must not import the
    package root (which re-exports the engine), forces, noise, junction, leads,
    greens or anything else above it.  currentforces.coupling builds dynamics from
    a junction; the only reference to it is the deprecated-alias shim, on use."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for target, line, in_function in _imports(tree, ["currentforces", "dynamics"]):
        if target == "dynamics" or target in DYNAMICS_MAY_IMPORT:
            continue
        if path.name == "_moved.py" and target == "coupling" and in_function:
            continue
        pytest.fail(f"{path.name}:{line} imports currentforces.{target or '(root)'}")


@pytest.mark.parametrize("name", sorted(DYNAMICS_MAY_IMPORT))
def test_what_the_dynamics_may_import_stays_at_the_bottom(name):
    """The modules the dynamics may use import nothing of the package beyond each
    other, so through them the dynamics reaches nothing above it either."""
    tree = ast.parse((SRC / f"{name}.py").read_text(encoding="utf-8"))
    for target, line, _ in _imports(tree, ["currentforces"]):
        assert target in DYNAMICS_MAY_IMPORT, f"{name}.py:{line} imports currentforces.{target}"


def test_the_layering_check_sees_root_imports():
    """The check itself: the imports the dynamics used to have are caught."""
    for text in (
        "from .. import force_coefficients",
        "def f():\n    from .. import noise_spectrum",
        "from ..forces import force_coefficients",
        "import currentforces.noise",
    ):
        found = _imports(ast.parse(text), ["currentforces", "dynamics"])
        assert found and found[0][0] not in DYNAMICS_MAY_IMPORT | {"dynamics"}


PAIRS_MAY_IMPORT = {"_checks", "errors", "units", "integrate", "operators"}
"""The lead-pair kernel (pairs.py) sits below forces.py and noise.py, which
pass it their Green's-function blocks: it imports only these."""


def test_pair_kernel_sits_below_forces_and_noise():
    tree = ast.parse((SRC / "pairs.py").read_text(encoding="utf-8"))
    for target, line, _ in _imports(tree, ["currentforces"]):
        assert target in PAIRS_MAY_IMPORT, f"pairs.py:{line} imports currentforces.{target}"


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_no_control_characters_in_source_or_docstrings(path):
    r"""A control character in a source file or in a docstring's value is a typo:
    "\frac" in a non-raw docstring is a form feed followed by "rac" (the bug in
    greens/rgf.py), "\b" a backspace."""
    text = path.read_text(encoding="utf-8")
    m = CONTROL.search(text)
    assert m is None, f"byte {m.group()!r} at line {text.count(chr(10), 0, m.start()) + 1}"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                bad = CONTROL.search(doc)
                where = getattr(node, "name", "module")
                assert bad is None, f'docstring of {where} holds {bad.group()!r} (make it raw: r""")'


def test_only_the_root_and_the_cli_import_the_ehrenfest_package():
    """currentforces.ehrenfest sits on top (it uses junction, leads, forces, noise and
    dynamics): no module below it imports it; the package root and the CLI may."""
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "ehrenfest" or str(rel) in ("__init__.py", "cli.py"):
            continue
        parts = ["currentforces", *rel.parts[:-1]]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for target, line, _ in _imports(tree, parts):
            assert target != "ehrenfest", f"{rel}:{line} imports currentforces.ehrenfest"
