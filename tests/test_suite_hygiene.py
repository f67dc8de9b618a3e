"""The test suite's own habits: shared helpers come from helper modules
(conftest.py is pytest's, not a module to import), and every marker the
configuration declares is applied somewhere."""

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
    offenders = [f"{p.relative_to(TESTS)} imports {m}" for p in MODULES for m in _imported_modules(p)
                 if m.split(".")[0] == "conftest"]
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
