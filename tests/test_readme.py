"""The README's example prints exactly what the README says it prints,
and the docstring examples run."""

import contextlib
import doctest
import io
import pathlib
import re

import currentforces.junction

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_output():
    text = README.read_text()
    code = re.search(r"## Example\s+```python\n(.*?)```", text, re.S).group(1)
    expected = re.search(r"prints\s+```\n(.*?)```", text, re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue() == expected


def test_docstring_examples():
    result = doctest.testmod(currentforces.junction)
    assert result.attempted > 0 and result.failed == 0
