"""Sphinx configuration of the currentforces documentation.

Build with ``make docs`` (``sphinx-build -W -b html docs docs/_build/html``):
warnings are errors.  Needs the ``docs`` extra (sphinx, numpydoc).
"""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import currentforces  # noqa: E402

project = "currentforces"
author = "currentforces developers"
copyright = "currentforces developers"
release = currentforces.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
]

# citations.md maps old citations in docstrings to labels of the theory page;
# it is a note for developers, not a page of the site (and .md is not a
# source suffix here anyway).
exclude_patterns = ["_build", "citations.md"]

# Every equation of the theory page is numbered and can be cited as
# :eq:`label`; sections carry :ref: labels.
# Equation numbers are per page; a reference renders as "eq. (n)" so that it
# is not mistaken for a "seed eq. (n)" of the paper.
math_number_all = False
math_eqref_format = "eq. ({number})"
numfig = False

# Short-hands for the theory page (rendered by MathJax in the browser).
mathjax3_config = {
    "tex": {
        "macros": {
            "Tr": r"\operatorname{Tr}",
            "Re": r"\operatorname{Re}",
            "Im": r"\operatorname{Im}",
            "sym": r"\mathrm{sym}",
            "asym": r"\mathrm{asym}",
            "d": r"\mathrm{d}",
        }
    }
}

# autodoc: document what a module's __all__ lists, in source order.
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # types are stated in the numpydoc sections

# numpydoc: no autosummary tables of class members (they would need generated
# stub pages); members are documented in place by autodoc.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_theme_options = {
    "description": "Current-induced forces on atoms in nanoscale conductors",
    "fixed_sidebar": True,
}
html_static_path: list[str] = []
