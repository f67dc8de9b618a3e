"""The documentation's tutorials run and print what they say they print.

Each ``docs/tutorials/*.rst`` is executed top to bottom in a fresh folder:

* ``.. code-block:: python`` blocks run in one namespace per tutorial; a
  ``.. code-block:: text`` block right after one is the exact output it
  prints (``...`` matches anything, as in doctest's ELLIPSIS);
* ``.. code-block:: toml`` (or any block) with ``:caption: NAME`` is written
  to the file NAME first;
* ``.. code-block:: console`` blocks hold ``$ currentforces ...`` commands,
  run through :func:`currentforces.cli.main`, each followed by its output.

A comment ``.. requires: xarray, ase`` skips a tutorial whose optional
dependencies are missing.  The expected outputs were produced by running the
tutorials; they are the physics the tutorials explain (closed forms they
compare with are stated in the text), so a change of a printed number is a
change of a result and must be looked at, not re-pasted.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import pathlib
import re
import shlex
import subprocess
import sys
import textwrap

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"
TUTORIALS = sorted((DOCS / "tutorials").glob("*.rst"))
TUTORIALS = [p for p in TUTORIALS if p.name != "index.rst"]

_DIRECTIVE = re.compile(r"^\.\. code-block:: *(\S+) *$")
_OPTION = re.compile(r"^ +:(\w[\w-]*):(.*)$")
_REQUIRES = re.compile(r"^\.\. requires: *(.*)$", re.M)


def code_blocks(text):
    """``(language, options, body)`` for every code-block directive, in order."""
    lines = text.splitlines()
    out = []
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        i += 1
        if not m:
            continue
        options = {}
        while i < len(lines) and _OPTION.match(lines[i]):
            key, value = _OPTION.match(lines[i]).groups()
            options[key] = value.strip()
            i += 1
        body = []
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
            body.append(lines[i])
            i += 1
        out.append((m.group(1), options, textwrap.dedent("\n".join(body)).strip("\n") + "\n"))
    return out


def _matches(expected, got):
    checker = doctest.OutputChecker()
    return checker.check_output(expected, got, doctest.ELLIPSIS)


def _console(body):
    """(command, expected output) pairs of a console block."""
    pairs = []
    for line in body.splitlines():
        if line.startswith("$ "):
            pairs.append([line[2:], []])
        elif pairs:
            pairs[-1][1].append(line)
        else:
            raise AssertionError(f"console block must start with '$ ': {line!r}")
    return [(cmd, "\n".join(out).strip("\n") + "\n" if any(s.strip() for s in out) else "") for cmd, out in pairs]


def run_tutorial(path):
    """Execute one tutorial in the current folder; return the number of checks."""
    from currentforces.cli import main

    text = path.read_text()
    blocks = code_blocks(text)
    namespace = {"__name__": "__tutorial__"}
    checks = 0
    last_output = None  # output of the last python block not yet compared
    for language, options, body in blocks:
        if "caption" in options and language != "python":
            pathlib.Path(options["caption"]).write_text(body)
        if language == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(body, str(path), "exec"), namespace)
            last_output = out.getvalue()
        elif language == "text":
            assert last_output is not None, f"{path.name}: a text block must follow the python block it shows"
            assert _matches(body, last_output), f"{path.name}: printed\n{last_output}\nbut the tutorial says\n{body}"
            last_output = None
            checks += 1
        elif language == "console":
            for command, expected in _console(body):
                argv = shlex.split(command)
                assert argv[0] == "currentforces", f"{path.name}: only currentforces commands run: {command!r}"
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    status = main(argv[1:])
                assert status == 0, f"{path.name}: {command!r} exited with {status}"
                if expected:
                    assert _matches(expected, out.getvalue()), (
                        f"{path.name}: {command!r} printed\n{out.getvalue()}\nbut the tutorial says\n{expected}"
                    )
                    checks += 1
    return checks


def test_there_are_tutorials():
    assert len(TUTORIALS) >= 2


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_and_prints_what_it_says(path, tmp_path):
    for line in _REQUIRES.findall(path.read_text()):
        for module in filter(None, (s.strip() for s in line.split(","))):
            pytest.importorskip(module)
    # a fresh interpreter per tutorial, as a reader would run it: numpy print
    # options and other global state set by one page never leak into the next
    env = dict(os.environ, MPLBACKEND="Agg")
    src = pathlib.Path(__file__).resolve().parents[1] / "src"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(pathlib.Path(__file__).resolve()), str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert int(proc.stdout.split()[-1]) > 0, f"{path.name} checks no output"


def test_parser_sees_blocks_and_outputs():
    # the parser itself, on a made-up page: a python block with its output, a
    # captioned file, a console command with its output; a wrong output fails
    page = textwrap.dedent("""\
        Title
        =====

        .. code-block:: python

           x = 2
           print(x + 1)

        prints

        .. code-block:: text

           3

        .. code-block:: toml
           :caption: a.toml

           key = 1

        .. code-block:: console

           $ currentforces --version
           currentforces ...
        """)
    blocks = code_blocks(page)
    assert [b[0] for b in blocks] == ["python", "text", "toml", "console"]
    assert blocks[0][2] == "x = 2\nprint(x + 1)\n"
    assert blocks[2][1] == {"caption": "a.toml"}
    assert _console(blocks[3][2]) == [("currentforces --version", "currentforces ...\n")]
    assert _matches("currentforces ...\n", "currentforces 9.9\n")
    assert not _matches("3\n", "4\n")


_LABEL = re.compile(r"^\.\. _([\w-]+):$", re.M)
_EQ_LABEL = re.compile(r"^ +:label: +([\w-]+)$", re.M)


def test_citation_map_points_at_existing_labels():
    # docs/citations.md maps every old citation in src/ to a label of the theory
    # page; a label that does not exist would be a dangling reference once the
    # docstrings use it
    theory = (DOCS / "theory.rst").read_text()
    labels = set(_LABEL.findall(theory)) | set(_EQ_LABEL.findall(theory))
    cited = re.findall(r"`(theory-[\w-]+|eq-[\w-]+)`", (DOCS / "citations.md").read_text())
    assert cited, "citations.md names no labels"
    missing = sorted(set(cited) - labels)
    assert not missing, f"citations.md names labels the theory page lacks: {missing}"


_CITED_LABEL = re.compile(r"(?<![\w-])((?:theory|eq)-[a-z0-9]+(?:-[a-z0-9]+)*)")


def test_sources_and_tests_cite_existing_labels():
    # docstrings, comments and tests name the theory page's labels (the source
    # of a formula or of a test's expected value); Sphinx checks only the
    # rendered docstrings, so a renamed label must not leave the others dangling
    theory = (DOCS / "theory.rst").read_text()
    labels = set(_LABEL.findall(theory)) | set(_EQ_LABEL.findall(theory))
    root = DOCS.parent
    dangling = [
        f"{path.relative_to(root)}: {label}"
        for folder in ("src", "tests")
        for path in sorted((root / folder).rglob("*.py"))
        for label in _CITED_LABEL.findall(path.read_text())
        if label not in labels
    ]
    assert not dangling, f"labels the theory page lacks: {dangling}"


if __name__ == "__main__":
    # run one tutorial in the current folder (used by the test above)
    print(run_tutorial(pathlib.Path(sys.argv[1])))
