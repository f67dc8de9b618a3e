"""Run configuration: TOML files validated strictly against one schema,
parsed once into typed, frozen sections.

Every key has a type, a default and, where it matters, allowed values.
Unknown sections or keys are errors; every message names the key
(``junction.movable``, ``bias.values``, ...) and what is allowed.
:data:`SCHEMA` is the reference; :func:`describe_schema` prints it for
``currentforces config``.

:func:`load_config` and :func:`validate_config` return a :class:`RunConfig`:
one frozen dataclass per section (:class:`JunctionConfig`,
:class:`ElectronsConfig`, :class:`BiasConfig`, :class:`TransmissionConfig`,
:class:`ModesConfig`, :class:`DynamicsConfig`, :class:`OutputConfig`), each
checked when it is made, so that every stage of a run takes the section it
needs (``cfg.electrons.temperature``).  Code written for the nested dict of
earlier versions still reads it: ``cfg["electrons"]["temperature"]``, and a
configuration compares equal to that dict.

Example (``examples/gold_chain.toml``)::

    [junction]
    preset = "gold_chain"
    n_atoms = 4

    [electrons]
    temperature = 300.0

    [bias]
    values = [0.0, 0.5, 1.0]

    [output]
    file = "gold-chain.nc"
"""

from __future__ import annotations

import copy
import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

from .errors import ConfigError  # re-exported: its old home

__all__ = [
    "SCHEMA",
    "BiasConfig",
    "ConfigError",
    "DynamicsConfig",
    "ElectronsConfig",
    "JunctionConfig",
    "ModesConfig",
    "OutputConfig",
    "RunConfig",
    "TransmissionConfig",
    "as_run_config",
    "BATH_KEYS",
    "XTB_KEYS",
    "bias_values",
    "config_to_json",
    "default_config",
    "describe_schema",
    "input_files",
    "load_config",
    "validate_config",
]


@dataclass(frozen=True)
class Key:
    """One configuration key: type, default, allowed values and its meaning."""

    kind: str  # "float", "int", "str", "bool", "int_list", "float_list", "float_or_auto"
    default: object
    help: str
    choices: tuple = ()
    minimum: float | None = None
    exclusive_minimum: bool = False


PRESET_NAMES = ("gold_chain", "carbon_chain", "atoms")

_TYPE_NAMES = {
    "float": "a number",
    "int": "an integer",
    "str": "a string",
    "bool": "true or false",
    "int_list": "a list of integers",
    "float_list": "a list of numbers",
    "float_or_auto": 'a number or "auto"',
}


def _number(key, value, spec, what=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(key, f"must be {what or _TYPE_NAMES[spec.kind]}, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ConfigError(key, f"must be finite, got {value!r}")
    if spec.minimum is not None:
        if v < spec.minimum or (spec.exclusive_minimum and v == spec.minimum):
            op = ">" if spec.exclusive_minimum else ">="
            raise ConfigError(key, f"must be {op} {spec.minimum:g}, got {value!r}")
    return v


def _check_value(key, value, spec):
    kind = spec.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(key, f"must be true or false, got {value!r}")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ConfigError(key, f"must be a string, got {value!r}")
        if spec.choices and value not in spec.choices:
            raise ConfigError(key, f"must be one of {', '.join(map(repr, spec.choices))}; got {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"must be an integer, got {value!r}")
        if spec.choices and value not in spec.choices:
            raise ConfigError(key, f"must be one of {', '.join(map(str, spec.choices))}; got {value!r}")
        _number(key, value, spec)
        return value
    if kind == "float":
        return _number(key, value, spec)
    if kind == "float_or_auto":
        if value == "auto":
            return value
        return _number(key, value, spec)
    if kind in ("int_list", "float_list"):
        if value is None and spec.default is None:
            return None
        if not isinstance(value, list):
            raise ConfigError(key, f"must be {_TYPE_NAMES[kind]}, got {value!r}")
        if not value:
            raise ConfigError(key, "must not be empty")
        out = []
        for i, item in enumerate(value):
            if kind == "int_list":
                if isinstance(item, bool) or not isinstance(item, int):
                    raise ConfigError(f"{key}[{i}]", f"must be an integer, got {item!r}")
                out.append(item)
            else:
                out.append(_number(f"{key}[{i}]", item, spec, what="a number"))
        return out
    raise AssertionError(kind)  # pragma: no cover


def _key(kind, default, help, **limits):
    """A section field whose :class:`Key` (type, default, meaning) sits in
    its metadata; a list default is stored as a tuple (sections are frozen)."""
    spec = Key(kind, default, help, **limits)
    return field(default=tuple(default) if isinstance(default, list) else default, metadata={"key": spec})


def _length_or_auto(help):
    """A field for a positive length in Angstrom, or "auto" (the preset's value)."""
    return _key("float_or_auto", "auto", help, minimum=0.0, exclusive_minimum=True)


def _plain(value):
    """``value`` as JSON-like plain data: sections become dicts, tuples lists."""
    if isinstance(value, _Section):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class _Section:
    """Base of :class:`RunConfig` and its sections: frozen dataclasses read
    by attribute (``cfg.bias.values``) or, as the nested dict of earlier
    versions, by key (``cfg["bias"]["values"]``, a list).  A section equals
    another section or a mapping with the same keys and values."""

    __slots__ = ()
    SECTION: ClassVar[str] = ""

    def __post_init__(self):
        for f in fields(self):
            spec = f.metadata.get("key")
            if spec is None:
                continue
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = list(value)
            value = _check_value(f"{self.SECTION}.{f.name}", value, spec)
            object.__setattr__(self, f.name, tuple(value) if isinstance(value, list) else value)
        self._cross_check()

    def _cross_check(self):
        """Checks that involve several keys of the section (none by default)."""

    def to_dict(self):
        """The section as plain data, ``{key: value}`` (lists, not tuples)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    def keys(self):
        """Key names, in schema order."""
        return [f.name for f in fields(self)]

    def items(self):
        """``(key, value)`` pairs, values as ``self[key]`` gives them."""
        return [(k, self[k]) for k in self.keys()]

    def get(self, key, default=None):
        """``self[key]``, or ``default`` for a key the section does not have."""
        return self[key] if key in self else default

    def __getitem__(self, key):
        if key not in self.keys():
            raise KeyError(key)
        value = getattr(self, key)
        return value if isinstance(value, _Section) else _plain(value)

    def __contains__(self, key):
        return key in self.keys()

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(fields(self))

    def __eq__(self, other):
        if isinstance(other, (_Section, Mapping)):
            return self.to_dict() == _plain(other)
        return NotImplemented

    def __hash__(self):
        return hash(tuple(getattr(self, f.name) for f in fields(self)))


@dataclass(frozen=True, eq=False)
class JunctionConfig(_Section):
    """``[junction]``: which junction to build and which coordinates move.

    Lengths in Angstrom, spring constants in eV/Angstrom^2; ``"auto"`` leaves
    the value to the builder (:func:`currentforces.models.presets.build_preset`
    or :func:`~currentforces.models.presets.junction_from_atoms`).  Made, the
    section holds the preset's own ``model`` (not ``"auto"``) and, for the
    chain presets, ``movable`` as non-negative device indices.
    """

    SECTION: ClassVar[str] = "junction"

    preset: str = _key(
        "str",
        "gold_chain",
        "built-in junction, or 'atoms' for your own structure files (device, left, right)",
        choices=PRESET_NAMES,
    )
    device: str = _key(
        "str",
        "",
        "preset = 'atoms': device structure file (any format ase.io.read reads; "
        "a relative path is relative to the folder of the TOML file)",
    )
    left: str = _key("str", "", "preset = 'atoms': lead-0 cell next to the device, with its period as cell vector")
    right: str = _key("str", "", "preset = 'atoms': lead-1 cell next to the device")
    model: str = _key(
        "str",
        "auto",
        "electronic structure: a tight-binding parameter set ('auto': the preset's own, gold_s for "
        "gold_chain and carbon_sp for carbon_chain; for 'atoms', the one of "
        "the element of an all-Au or all-C structure), or 'xtb' (preset = 'atoms', device only: "
        "a molecule between gold clusters with GFN-xTB and wide-band leads on the outer gold atoms)",
        choices=("auto", "gold_s", "carbon_sp", "xtb"),
    )
    method: str = _key("str", "GFN2-xTB", "model = 'xtb': the xTB parametrisation", choices=("GFN2-xTB", "GFN1-xTB"))
    gamma: float | Literal["auto"] = _key(
        "float_or_auto",
        "auto",
        "model = 'xtb': wide-band broadening of each contact orbital, eV ('auto': 0.3, where the "
        "transmission near E_F is least sensitive to it; currentforces.adapters.xtb)",
        minimum=0.0,
        exclusive_minimum=True,
    )
    left_contact: tuple[int, ...] | None = _key(
        "int_list",
        None,
        "model = 'xtb': atoms coupled to the left electrode (default: the outermost gold layer at low z)",
    )
    right_contact: tuple[int, ...] | None = _key(
        "int_list",
        None,
        "model = 'xtb': atoms coupled to the right electrode (default: the outermost gold layer at high z)",
    )
    vibrations: str = _key(
        "str",
        "auto",
        "zero-bias force constants: 'calculator' (finite differences of the forces of the model's ASE "
        "calculator, tblite's for model = 'xtb') or 'springs' (nearest-neighbour springs of "
        "spring_constant); 'auto': calculator for 'xtb', springs for the tight-binding models",
        choices=("auto", "calculator", "springs"),
    )
    n_atoms: int = _key("int", 4, "chain atoms in the device", minimum=1)
    bond: float | Literal["auto"] = _length_or_auto("chain bond length, Angstrom ('auto': preset value)")
    lead_bond: float | Literal["auto"] = _length_or_auto("electrode atom spacing, Angstrom ('auto': preset value)")
    buffer: int = _key("int", 1, "electrode atoms kept in the device on each side", minimum=1)
    movable: tuple[int, ...] | None = _key(
        "int_list",
        None,
        "device atom indices that move, negative ones counted from the "
        "end (default: the chain atoms; for 'atoms', every atom that "
        "does not hop to a lead)",
    )
    axes: str = _key(
        "str",
        "auto",
        "moving Cartesian directions ('auto': 'xyz' for 'atoms', 'z' for the "
        "chain presets, whose central springs give no transverse stiffness)",
        choices=("auto", "x", "y", "z", "xy", "xz", "yz", "xyz"),
    )
    spring_constant: float | Literal["auto"] = _key(
        "float_or_auto", "auto", "nearest-neighbour spring k, eV/Angstrom^2 ('auto': preset value)", minimum=0.0
    )

    def _cross_check(self):
        if self.vibrations == "auto":
            object.__setattr__(self, "vibrations", "calculator" if self.model == "xtb" else "springs")
        elif self.vibrations == "calculator" and self.model != "xtb":
            raise ConfigError(
                "junction.vibrations",
                f"'calculator' needs a model with an ASE calculator (model = 'xtb'); the tight-binding "
                f"model {self.model!r} has none: use 'springs'",
            )
        if self.model == "xtb":
            if self.preset != "atoms":
                raise ConfigError("junction.model", "'xtb' needs preset = 'atoms' and a device structure file")
            if not self.device:
                raise ConfigError("junction.device", "is required with model = 'xtb' (the extended molecule)")
            for key in ("left", "right"):
                if getattr(self, key):
                    raise ConfigError(
                        f"junction.{key}",
                        "is not used with model = 'xtb' (wide-band leads on left_contact and right_contact)",
                    )
            return
        if self.preset == "atoms":
            for key in ("device", "left", "right"):
                if not getattr(self, key):
                    raise ConfigError(f"junction.{key}", "is required with preset = 'atoms' (a structure file)")
            return
        from .models.presets import PRESET_MODELS

        own = PRESET_MODELS[self.preset]
        if self.model == "auto":
            object.__setattr__(self, "model", own)
        elif self.model != own:
            raise ConfigError(
                "junction.model",
                f"preset {self.preset!r} has its own parameter set {own!r}; "
                f"model chooses one only for preset = 'atoms' (got {self.model!r})",
            )
        if self.movable is not None:
            object.__setattr__(self, "movable", tuple(_chain_movable(list(self.movable), self.n_atoms, self.buffer)))

    def relative_to(self, base_dir: str | os.PathLike[str]) -> JunctionConfig:
        """This section with the structure files of ``preset = "atoms"``
        given by relative paths taken relative to ``base_dir`` (absolute)."""
        if self.preset != "atoms":
            return self
        moved = {
            k: os.path.abspath(Path(base_dir) / getattr(self, k))
            for k in ("device", "left", "right")
            if getattr(self, k) and not Path(getattr(self, k)).is_absolute()
        }
        return replace(self, **moved) if moved else self

    @property
    def input_files(self) -> dict[str, str]:
        """The structure files the section reads, ``{"junction.device": path, ...}``
        (empty for the built-in presets)."""
        if self.preset != "atoms":
            return {}
        return {f"junction.{k}": getattr(self, k) for k in ("device", "left", "right") if getattr(self, k)}


@dataclass(frozen=True, eq=False)
class ElectronsConfig(_Section):
    """``[electrons]``: the electron reservoirs and the energy integrals."""

    SECTION: ClassVar[str] = "electrons"

    temperature: float = _key("float", 300.0, "electron temperature, K", minimum=0.0)
    fermi_level: float | Literal["auto"] = _key(
        "float_or_auto", "auto", "Fermi level E_F, eV ('auto': from the electrode bands)"
    )
    spin: int = _key("int", 2, "spin degeneracy g_s", choices=(1, 2))
    rtol: float = _key("float", 1e-7, "relative tolerance of the energy integrals", minimum=0.0, exclusive_minimum=True)


@dataclass(frozen=True, eq=False)
class BiasConfig(_Section):
    """``[bias]``: the bias sweep, volt (distinct values, in the given order)."""

    SECTION: ClassVar[str] = "bias"

    values: tuple[float, ...] = _key("float_list", [0.0, 0.25, 0.5, 0.75, 1.0], "biases V, volt (non-empty list)")

    def _cross_check(self):
        if len(set(self.values)) != len(self.values):
            raise ConfigError("bias.values", f"repeated bias in {list(self.values)}")


@dataclass(frozen=True, eq=False)
class TransmissionConfig(_Section):
    """``[transmission]``: the energy grid of T(E), eV relative to E_F."""

    SECTION: ClassVar[str] = "transmission"

    emin: float = _key("float", -4.0, "lowest energy relative to E_F, eV")
    emax: float = _key("float", 4.0, "highest energy relative to E_F, eV")
    num: int = _key("int", 201, "number of energies", minimum=2)

    def _cross_check(self):
        if not self.emax > self.emin:
            raise ConfigError("transmission.emax", f"must be > transmission.emin = {self.emin}, got {self.emax}")


@dataclass(frozen=True, eq=False)
class ModesConfig(_Section):
    """``[modes]``: eigen-analysis of the current-driven dynamics and the
    runaway search (biases in volt)."""

    SECTION: ClassVar[str] = "modes"

    enabled: bool = _key("bool", True, "eigen-analysis of the current-driven dynamics at every bias")
    runaway: bool = _key("bool", True, "search the runaway threshold (bisection in bias)")
    bias_max: float | Literal["auto"] = _key(
        "float_or_auto", "auto", "upper end of the runaway search, V ('auto': largest bias)"
    )
    n_scan: int = _key("int", 11, "scan points of the runaway search", minimum=2)
    tolerance: float = _key("float", 1e-3, "width of the final runaway bracket, V", minimum=0.0, exclusive_minimum=True)


@dataclass(frozen=True, eq=False)
class DynamicsConfig(_Section):
    """``[dynamics]``: an optional Langevin trajectory (fs, V, eV)."""

    SECTION: ClassVar[str] = "dynamics"

    enabled: bool = _key("bool", False, "run a Langevin trajectory (seed eq 14 plus noise)")
    bias: float = _key("float", 0.5, "bias of the trajectory, V")
    timestep: float = _key("float", 2.0, "time step, fs", minimum=0.0, exclusive_minimum=True)
    steps: int = _key("int", 2000, "number of steps", minimum=1)
    record_every: int = _key("int", 10, "recording stride, steps", minimum=1)
    seed: int = _key("int", 1, "random seed (same seed: same trajectory)", minimum=0)
    noise: bool = _key("bool", True, "include the current-induced force noise")
    hbar_omega_max: float = _key("float", 0.1, "noise spectrum bandwidth, eV", minimum=0.0, exclusive_minimum=True)
    n_omega: int = _key("int", 21, "frequencies at which the noise spectrum is tabulated", minimum=2)
    phonon_bath: bool = _key(
        "bool",
        False,
        "couple the boundary atoms to the electrode phonons: Ohmic friction "
        "bath_friction with its quantum noise at bath_temperature, cut off at "
        "hbar_omega_max",
    )
    bath_friction: float = _key(
        "float",
        0.01,
        "phonon-bath friction rate gamma, 1/fs (friction coefficient "
        "M gamma; 0.01/fs is about sqrt(k/M), the acoustic impedance of "
        "a chain of gold atoms with k = 2 eV/A^2)",
        minimum=0.0,
        exclusive_minimum=True,
    )
    bath_temperature: float | Literal["auto"] = _key(
        "float_or_auto", "auto", "phonon-bath (electrode) temperature, K ('auto': electrons.temperature)", minimum=0.0
    )
    bath_atoms: tuple[int, ...] | None = _key(
        "int_list",
        None,
        "device atoms coupled to the phonon bath, negative ones counted "
        "from the end (default: the movable atoms within hopping range "
        "of an atom that does not move)",
    )


BATH_KEYS = ("phonon_bath", "bath_friction", "bath_temperature", "bath_atoms")
"""The [dynamics] keys of the phonon bath."""

XTB_KEYS = ("method", "gamma", "left_contact", "right_contact", "vibrations")
"""The [junction] keys of ``model = "xtb"`` (with a tight-binding model
``vibrations`` is always ``"springs"``)."""


@dataclass(frozen=True, eq=False)
class OutputConfig(_Section):
    """``[output]``: where the results go."""

    SECTION: ClassVar[str] = "output"

    file: str = _key(
        "str", "currentforces-run.nc", "NetCDF output file (relative to the working directory; --out overrides)"
    )
    figures: bool = _key("bool", True, "write PNG figures next to the output file")
    trajectory: str = _key(
        "str",
        "",
        "also write the [dynamics] trajectory for ase gui: an extended XYZ (.extxyz, .xyz) or ASE "
        "trajectory (.traj) file name ('' for none)",
    )

    def _cross_check(self):
        if not self.file.strip():
            raise ConfigError("output.file", "must not be empty; give a file name such as 'run.nc'")
        if self.trajectory and not self.trajectory.lower().endswith((".extxyz", ".xyz", ".traj")):
            raise ConfigError(
                "output.trajectory", f"must end in .extxyz, .xyz or .traj (or be ''), got {self.trajectory!r}"
            )


@dataclass(frozen=True, eq=False)
class RunConfig(_Section):
    """A complete, checked run configuration: one frozen section per TOML table.

    Made by :func:`load_config` or :func:`validate_config`; a section left
    out of the TOML file holds its defaults.  ``cfg["junction"]`` is the same
    object as ``cfg.junction``.
    """

    junction: JunctionConfig = field(default_factory=JunctionConfig)
    electrons: ElectronsConfig = field(default_factory=ElectronsConfig)
    bias: BiasConfig = field(default_factory=BiasConfig)
    transmission: TransmissionConfig = field(default_factory=TransmissionConfig)
    modes: ModesConfig = field(default_factory=ModesConfig)
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def __post_init__(self):
        for name, cls in SECTIONS.items():
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(name, f"must be of type {cls.__name__}, got {getattr(self, name)!r}")
        if self.output.trajectory and not self.dynamics.enabled:
            raise ConfigError(
                "output.trajectory",
                "there is no trajectory to write: set enabled = true in [dynamics] or remove the key",
            )


SECTIONS: dict[str, type] = {f.name: f.default_factory for f in fields(RunConfig)}  # type: ignore[misc]
"""Section name -> its dataclass, in schema order."""

SCHEMA = {name: {f.name: f.metadata["key"] for f in fields(cls)} for name, cls in SECTIONS.items()}
"""section -> key -> :class:`Key` (read from the section dataclasses)."""


def default_config() -> dict[str, dict[str, Any]]:
    """The full default configuration (a nested dict)."""
    return {sec: {k: copy.deepcopy(spec.default) for k, spec in keys.items()} for sec, keys in SCHEMA.items()}


def validate_config(raw: Mapping[str, Any], base_dir: str | os.PathLike[str] | None = None) -> RunConfig:
    """Check a configuration dict, fill in defaults and parse it into sections.

    Parameters
    ----------
    raw : dict
        ``{section: {key: value}}`` as read from TOML.
    base_dir : str or Path, optional
        Folder that relative structure-file paths (``junction.device``,
        ``left``, ``right``) are relative to: the folder of the TOML file
        (:func:`load_config` passes it).  Default: the working directory.

    Returns
    -------
    RunConfig
        A complete configuration (every key present); it also reads as the
        nested dict ``cfg["section"]["key"]``.

    Raises
    ------
    ConfigError
        Naming the offending key.
    """
    if isinstance(raw, _Section):
        raw = raw.to_dict()
    if not isinstance(raw, Mapping):
        raise ConfigError("config", f"must be a table of sections, got {type(raw).__name__}")
    bodies = {}
    for sec, body in raw.items():
        if sec not in SCHEMA:
            raise ConfigError(sec, f"unknown section; allowed sections: {', '.join(SCHEMA)}")
        if isinstance(body, _Section):
            body = body.to_dict()
        if not isinstance(body, Mapping):
            raise ConfigError(sec, f"must be a table ([{sec}]), got {body!r}")
        for key in body:
            if key not in SCHEMA[sec]:
                raise ConfigError(f"{sec}.{key}", f"unknown key; allowed keys in [{sec}]: {', '.join(SCHEMA[sec])}")
        bodies[sec] = body
    cfg = RunConfig(**{sec: cls(**bodies.get(sec, {})) for sec, cls in SECTIONS.items()})
    if base_dir is not None:
        cfg = replace(cfg, junction=cfg.junction.relative_to(base_dir))
    return cfg


def as_run_config(cfg: RunConfig | Mapping[str, Any]) -> RunConfig:
    """``cfg`` as a :class:`RunConfig`: itself if it is one, otherwise a
    nested dict checked by :func:`validate_config`."""
    return cfg if isinstance(cfg, RunConfig) else validate_config(cfg)


def _chain_movable(movable, n_atoms, buffer):
    """Movable atoms of a chain preset as non-negative device indices
    (negative ones count from the end of the device, as in Python)."""
    n_device = n_atoms + 2 * buffer
    lo, hi = buffer, buffer + n_atoms - 1
    out = []
    for i, a in enumerate(movable):
        if not -n_device <= a < n_device:
            raise ConfigError(
                f"junction.movable[{i}]",
                f"atom index {a} is out of range: the device has {n_device} atoms "
                f"(indices 0..{n_device - 1} or -{n_device}..-1; the chain atoms are {lo}..{hi})",
            )
        b = a % n_device
        if not lo <= b <= hi:
            which = f"atom {a}" if a == b else f"atom {a} (device atom {b})"
            raise ConfigError(
                f"junction.movable[{i}]",
                f"{which} is an electrode (buffer) atom that hops to a lead and cannot "
                f"move; allowed: the chain atoms {lo}..{hi} (or {lo - n_device}..{hi - n_device})",
            )
        out.append(b)
    if len(set(out)) != len(out):
        raise ConfigError("junction.movable", f"repeated atom index in {movable}")
    return out


def bias_values(cfg: RunConfig | Mapping[str, Any]) -> list[float]:
    """The bias list (V) of a configuration, as floats."""
    return [float(v) for v in as_run_config(cfg).bias.values]


def input_files(cfg: RunConfig | Mapping[str, Any]) -> dict[str, str]:
    """The files a configuration reads, ``{key: path}``.

    These are the structure files of ``preset = "atoms"``
    (``junction.device``, ``junction.left``, ``junction.right``), as
    :func:`currentforces.job.build_system` opens them; the built-in
    presets and tight-binding models read no file.  Their contents enter the
    digest that decides whether an output file may be resumed.
    """
    return as_run_config(cfg).junction.input_files


def load_config(path: str | os.PathLike[str]) -> RunConfig:
    """Read and validate a TOML configuration file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    RunConfig
        Validated configuration (:func:`validate_config`).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("CONFIG", f"file {str(path)!r} not found") from None
    except IsADirectoryError:
        raise ConfigError("CONFIG", f"{str(path)!r} is a directory; give the path of a TOML file") from None
    except OSError as exc:
        raise ConfigError("CONFIG", f"cannot read {str(path)!r} ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            "CONFIG",
            f"{str(path)!r} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line "
            f"{line}); TOML files must be UTF-8: save it as UTF-8",
        ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("CONFIG", f"{path} is not valid TOML: {exc}") from None
    return validate_config(raw, base_dir=path.parent)


def config_to_json(cfg: RunConfig | Mapping[str, Any]) -> str:
    """Canonical JSON text of a configuration (sorted keys): stored in the
    output file and compared on resume.  The same TOML gives the same text
    (and so the same resume digest) as the nested dict of earlier versions:
    with ``dynamics.phonon_bath`` off the bath keys change no number and are
    left out, as before the bath existed, and so are the xTB keys
    (:data:`XTB_KEYS`) of a tight-binding model."""
    data = _plain(cfg)
    dynamics = data.get("dynamics", {})
    if not dynamics.get("phonon_bath", False):
        for key in BATH_KEYS:
            dynamics.pop(key, None)
    junction = data.get("junction", {})
    if junction.get("model") != "xtb":
        for key in XTB_KEYS:
            junction.pop(key, None)
    if not data.get("output", {}).get("trajectory", ""):
        data.get("output", {}).pop("trajectory", None)  # no trajectory file: the text of earlier versions
    return json.dumps(data, sort_keys=True)


def describe_schema() -> str:
    """Human-readable list of every section, key, type, default and meaning."""
    lines = []
    for sec, keys in SCHEMA.items():
        lines.append(f"[{sec}]")
        for k, spec in keys.items():
            allowed = f"; one of {', '.join(map(repr, spec.choices))}" if spec.choices else ""
            lines.append(f"  {k:<16} {_TYPE_NAMES[spec.kind]}, default {spec.default!r}{allowed}")
            lines.append(f"  {'':<16} {spec.help}")
        lines.append("")
    return "\n".join(lines)
