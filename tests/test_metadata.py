"""Project metadata: the version is written in one place,
``currentforces.__version__`` (pyproject.toml reads it from there, and
``currentforces --version`` and the installed metadata agree with it); the
citation file cites the software and the founding paper."""

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
    literals = [
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
        and isinstance(node.value, ast.Constant)
    ]
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
    code = (
        "import sys, importlib.metadata as m\n"
        f"ep = m.EntryPoint({script.name!r}, {script.value!r}, {script.group!r})\n"
        "sys.argv = ['currentforces', '--version']\nsys.exit(ep.load()())"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"currentforces {dist.version}"


def test_citation_file_cites_the_software_and_the_founding_paper():
    """CITATION.cff (schema 1.2.0; checked with ``cffconvert --validate``):
    the software's licence is the package's, it carries no version of its own
    (that would be a second copy), and it references the founding paper as
    published (Eur. J. Phys. 35, 065004 (2014), doi 10.1088/0143-0807/35/6/065004)."""
    import pytest

    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["license"] == meta["project"]["license"]
    assert "version" not in cff
    (paper,) = cff["references"]
    assert paper["title"] == "Current-induced forces: a simple derivation"
    assert [a["family-names"] for a in paper["authors"]] == ["Todorov", "Dundas", "Lü", "Brandbyge", "Hedegård"]
    assert (paper["journal"], paper["volume"], paper["start"], paper["year"]) == (
        "European Journal of Physics",
        35,
        "065004",
        2014,
    )
    assert paper["doi"] == "10.1088/0143-0807/35/6/065004"
