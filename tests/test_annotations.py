"""Type hints on the public signatures.

Every function, method and property that the modules below export (their
``__all__``, and so everything ``currentforces`` exports) states the type
of each parameter and of its result, so that a type checker (``mypy``, run
by ``make lint`` and CI) checks the calls made to them.  A new public name
without hints fails here; a module joins the list once its public names are
annotated (``integrate``'s ``fermi_sea_sum``, which returns one result or a
list of them, has typed overloads).
"""

from __future__ import annotations

import importlib
import inspect

import pytest

import currentforces

ANNOTATED = [
    "currentforces.junction",
    "currentforces.junctionset",
    "currentforces.kpoints",
    "currentforces.forces",
    "currentforces.noise",
    "currentforces.pairs",
    "currentforces.low_bias",
    "currentforces.couplings",
    "currentforces.vibrations",
    "currentforces.coupling",
    "currentforces.errors",
    "currentforces.leads.base",
    "currentforces.leads.chain",
    "currentforces.leads.wideband",
    "currentforces.leads.periodic",
    "currentforces.greens.base",
    "currentforces.greens.dense",
    "currentforces.greens.rgf",
    "currentforces.operators",
    "currentforces.boundstates",
    "currentforces.units",
    "currentforces.leads.decimation",
    "currentforces.leads.newton",
    "currentforces.greens.layers",
    "currentforces.models.molecule",
    "currentforces.models.chain",
    "currentforces.dynamics.langevin",
    "currentforces.dynamics.modes",
    "currentforces.dynamics.noise_generation",
    "currentforces.dynamics.observables",
    "currentforces.dynamics.splitting",
    "currentforces.dynamics.bath",
    "currentforces.parallel",
    "currentforces.report",
    "currentforces.plot",
    "currentforces.models.paper_figures",
    "currentforces.models.electron_gas",
    "currentforces.models.jellium.subbands",
    "currentforces.models.jellium.nonconservative",
    "currentforces.models.jellium.berry",
    "currentforces.adapters",
    "currentforces.adapters._selfenergy",
    "currentforces.adapters.kwant",
    "currentforces.adapters.xtb",
    "currentforces.models.tight_binding",
    "currentforces.config",
    "currentforces.io",
    "currentforces.outfile",
    "currentforces.cli",
    "currentforces.models.atomistic",
    "currentforces.models.presets",
    "currentforces.dynamics.ase_md",
    "currentforces.job",
    "currentforces.contour",
    "currentforces.fermi_rational",
    "currentforces.spectral",
    "currentforces.spectral_window",
    "currentforces.fermi_steps",
    "currentforces.resonances",
    "currentforces.overlap_kernel",
    "currentforces._checks",
    "currentforces._finite_differences",
    "currentforces.poles",
    "currentforces.mode_results",
    "currentforces.nonorthogonal",
    "currentforces.ehrenfest.models",
    "currentforces.ehrenfest.lorentzian",
    "currentforces.ehrenfest.trajectory",
    "currentforces.ehrenfest.propagator",
    "currentforces.ehrenfest.atoms",
    "currentforces.ehrenfest.compare",
    "currentforces.ase_calculator",
    "currentforces.adapters.sisl",
    "currentforces.integrate",
    "currentforces.boundwindow",
]


def _missing(func, skip_self):
    """Names of the parameters (and "return") of ``func`` without a hint."""
    sig = inspect.signature(func)
    params = list(sig.parameters.values())[1 if skip_self else 0 :]
    out = [p.name for p in params if p.annotation is inspect.Parameter.empty]
    if sig.return_annotation is inspect.Signature.empty:
        out.append("return")
    return out


def _public_callables(module):
    for name in getattr(module, "__all__", ()):
        obj = getattr(module, name)
        if inspect.isfunction(obj) and obj.__module__ == module.__name__:
            yield name, obj, False
        elif inspect.isclass(obj) and obj.__module__ == module.__name__:
            for attr, value in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if isinstance(value, property) and value.fget is not None and inspect.isfunction(value.fget):
                    yield f"{name}.{attr}", value.fget, True
                elif isinstance(value, (staticmethod, classmethod)):
                    yield f"{name}.{attr}", value.__func__, isinstance(value, classmethod)
                elif inspect.isfunction(value) and not getattr(value, "__dataclass_fields__", None):
                    if attr == "__init__" and "__create_fn__" in getattr(value, "__qualname__", ""):
                        continue  # written by @dataclass from the annotated fields
                    yield f"{name}.{attr}", value, True


@pytest.mark.parametrize("module_name", ANNOTATED)
def test_public_signatures_are_annotated(module_name):
    module = importlib.import_module(module_name)
    unannotated = {}
    for name, func, skip_self in _public_callables(module):
        missing = _missing(func, skip_self)
        if missing:
            unannotated[name] = missing
    assert unannotated == {}


def test_the_package_exports_are_covered():
    # everything the top level exports comes from an annotated module (the
    # subpackages and the version string aside)
    uncovered = [
        name
        for name in currentforces.__all__
        if name not in currentforces._SUBPACKAGES
        and name != "__version__"
        and getattr(currentforces, name).__module__ not in ANNOTATED
    ]
    assert uncovered == []
