"""The version is written in one place, ``currentforces.__version__``; the
package metadata (pyproject.toml reads it from there) and
``currentforces --version`` agree with it."""

import ast
import importlib.metadata
import json
import os
import pathlib
import subprocess
import sys
import tomllib

import currentforces

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_pyproject_takes_the_version_from_the_package():
    """No second copy in pyproject.toml: setuptools reads the attribute."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in meta["project"]
    assert "version" in meta["project"]["dynamic"]
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "currentforces.__version__"}
    # setuptools reads the attribute from the source text without importing
    # the package (the build environment has no numpy): it must be a single
    # literal assignment, the one the package exports
    tree = ast.parse((ROOT / "src" / "currentforces" / "__init__.py").read_text())
    literals = [node.value.value for node in tree.body if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
                and isinstance(node.value, ast.Constant)]
    assert literals == [currentforces.__version__]


def _distribution_of_this_tree():
    """The installed distribution whose code is the package under test, or
    None (not installed, or installed from another checkout)."""
    try:
        dist = importlib.metadata.distribution("currentforces")
    except importlib.metadata.PackageNotFoundError:
        return None
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    if direct.get("dir_info", {}).get("editable"):  # pip install -e: the source folder it points at
        url = direct.get("url", "")
        return dist if url.startswith("file://") and pathlib.Path(url[7:]).resolve() == ROOT else None
    here = pathlib.Path(dist.locate_file("currentforces/__init__.py")).resolve()
    return dist if here == pathlib.Path(currentforces.__file__).resolve() else None


def test_installed_metadata_and_command_line_agree():
    """What `pip install` recorded, what `currentforces --version` prints and
    the package's own __version__ are the same string (``make test``
    installs this checkout first; elsewhere the test is skipped)."""
    import pytest

    dist = _distribution_of_this_tree()
    if dist is None:
        pytest.skip("currentforces is not installed from this checkout (pip install -e .)")
    assert importlib.metadata.version("currentforces") == dist.version == currentforces.__version__
    # the console script as the metadata declares it (what bin/currentforces runs)
    (script,) = [ep for ep in dist.entry_points if ep.group == "console_scripts" and ep.name == "currentforces"]
    code = ("import sys, importlib.metadata as m\n"
            f"ep = m.EntryPoint({script.name!r}, {script.value!r}, {script.group!r})\n"
            "sys.argv = ['currentforces', '--version']\nsys.exit(ep.load()())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"currentforces {dist.version}"
