"""The README's example prints exactly what the README says it prints,
and the docstring examples run."""

import contextlib
import doctest
import io
import pathlib
import re

import currentforces.junction

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_examples_print_what_they_say():
    text = README.read_text()
    pairs = re.findall(r"```python\n(.*?)```\s*prints\s*```\n(.*?)```", text, re.S)
    assert len(pairs) >= 2
    for code, expected in pairs:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})
        assert out.getvalue() == expected


def test_docstring_examples():
    result = doctest.testmod(currentforces.junction)
    assert result.attempted > 0 and result.failed == 0
