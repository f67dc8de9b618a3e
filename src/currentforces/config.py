"""Run configuration: TOML files validated strictly against one schema.

Every key has a type, a default and, where it matters, allowed values.
Unknown sections or keys are errors; every message names the key
(``junction.movable``, ``bias.values``, ...) and what is allowed.
:data:`SCHEMA` is the reference; :func:`describe_schema` prints it for
``currentforces run --help-config``.

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
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

__all__ = ["ConfigError", "SCHEMA", "load_config", "validate_config", "default_config",
           "describe_schema", "config_to_json", "bias_values", "input_files"]


class ConfigError(InputError):
    """A configuration key is missing, unknown, of the wrong type or out of range."""

    def __init__(self, key, message):
        super().__init__(f"{key}: {message}")
        self.key = key


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

SCHEMA = {
    "junction": {
        "preset": Key("str", "gold_chain",
                      "built-in junction, or 'atoms' for your own structure files (device, left, right)",
                      choices=PRESET_NAMES),
        "device": Key("str", "", "preset = 'atoms': device structure file (any format ase.io.read reads; "
                                 "a relative path is relative to the folder of the TOML file)"),
        "left": Key("str", "", "preset = 'atoms': lead-0 cell next to the device, with its period as cell vector"),
        "right": Key("str", "", "preset = 'atoms': lead-1 cell next to the device"),
        "model": Key("str", "auto", "tight-binding parameter set ('auto': the preset's own, gold_s for "
                                    "gold_chain and carbon_sp for carbon_chain; for 'atoms', the one of "
                                    "the element of an all-Au or all-C structure)",
                     choices=("auto", "gold_s", "carbon_sp")),
        "n_atoms": Key("int", 4, "chain atoms in the device", minimum=1),
        "bond": Key("float_or_auto", "auto", "chain bond length, Angstrom ('auto': preset value)",
                    minimum=0.0, exclusive_minimum=True),
        "lead_bond": Key("float_or_auto", "auto", "electrode atom spacing, Angstrom ('auto': preset value)",
                         minimum=0.0, exclusive_minimum=True),
        "buffer": Key("int", 1, "electrode atoms kept in the device on each side", minimum=1),
        "movable": Key("int_list", None, "device atom indices that move, negative ones counted from the "
                                         "end (default: the chain atoms; for 'atoms', every atom that "
                                         "does not hop to a lead)"),
        "axes": Key("str", "auto", "moving Cartesian directions ('auto': 'xyz' for 'atoms', 'z' for the "
                                   "chain presets, whose central springs give no transverse stiffness)",
                    choices=("auto", "x", "y", "z", "xy", "xz", "yz", "xyz")),
        "spring_constant": Key("float_or_auto", "auto",
                               "nearest-neighbour spring k, eV/Angstrom^2 ('auto': preset value)", minimum=0.0),
    },
    "electrons": {
        "temperature": Key("float", 300.0, "electron temperature, K", minimum=0.0),
        "fermi_level": Key("float_or_auto", "auto", "Fermi level E_F, eV ('auto': from the electrode bands)"),
        "spin": Key("int", 2, "spin degeneracy g_s", choices=(1, 2)),
        "rtol": Key("float", 1e-7, "relative tolerance of the energy integrals", minimum=0.0,
                    exclusive_minimum=True),
    },
    "bias": {
        "values": Key("float_list", [0.0, 0.25, 0.5, 0.75, 1.0], "biases V, volt (non-empty list)"),
    },
    "transmission": {
        "emin": Key("float", -4.0, "lowest energy relative to E_F, eV"),
        "emax": Key("float", 4.0, "highest energy relative to E_F, eV"),
        "num": Key("int", 201, "number of energies", minimum=2),
    },
    "modes": {
        "enabled": Key("bool", True, "eigen-analysis of the current-driven dynamics at every bias"),
        "runaway": Key("bool", True, "search the runaway threshold (bisection in bias)"),
        "bias_max": Key("float_or_auto", "auto", "upper end of the runaway search, V ('auto': largest bias)"),
        "n_scan": Key("int", 11, "scan points of the runaway search", minimum=2),
        "tolerance": Key("float", 1e-3, "width of the final runaway bracket, V", minimum=0.0,
                         exclusive_minimum=True),
    },
    "dynamics": {
        "enabled": Key("bool", False, "run a Langevin trajectory (seed eq 14 plus noise)"),
        "bias": Key("float", 0.5, "bias of the trajectory, V"),
        "timestep": Key("float", 2.0, "time step, fs", minimum=0.0, exclusive_minimum=True),
        "steps": Key("int", 2000, "number of steps", minimum=1),
        "record_every": Key("int", 10, "recording stride, steps", minimum=1),
        "seed": Key("int", 1, "random seed (same seed: same trajectory)", minimum=0),
        "noise": Key("bool", True, "include the current-induced force noise"),
        "hbar_omega_max": Key("float", 0.1, "noise spectrum bandwidth, eV", minimum=0.0, exclusive_minimum=True),
        "n_omega": Key("int", 21, "frequencies at which the noise spectrum is tabulated", minimum=2),
        "phonon_bath": Key("bool", False, "couple the boundary atoms to the electrode phonons: Ohmic friction "
                                          "bath_friction with its quantum noise at bath_temperature, cut off at "
                                          "hbar_omega_max"),
        "bath_friction": Key("float", 0.01, "phonon-bath friction rate gamma, 1/fs (friction coefficient M gamma; "
                                            "0.01/fs is about sqrt(k/M), the acoustic impedance of a chain of gold "
                                            "atoms with k = 2 eV/A^2)", minimum=0.0, exclusive_minimum=True),
        "bath_temperature": Key("float_or_auto", "auto", "phonon-bath (electrode) temperature, K ('auto': "
                                                         "electrons.temperature)", minimum=0.0),
        "bath_atoms": Key("int_list", None, "device atoms coupled to the phonon bath, negative ones counted from "
                                            "the end (default: the movable atoms within hopping range of an atom "
                                            "that does not move)"),
    },
    "output": {
        "file": Key("str", "currentforces-run.nc", "NetCDF output file (relative to the working directory; --out overrides)"),
        "figures": Key("bool", True, "write PNG figures next to the output file"),
    },
}
"""section -> key -> :class:`Key`."""

_TYPE_NAMES = {"float": "a number", "int": "an integer", "str": "a string", "bool": "true or false",
               "int_list": "a list of integers", "float_list": "a list of numbers",
               "float_or_auto": "a number or \"auto\""}


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


def default_config():
    """The full default configuration (a nested dict)."""
    return {sec: {k: copy.deepcopy(spec.default) for k, spec in keys.items()} for sec, keys in SCHEMA.items()}


def validate_config(raw, base_dir=None):
    """Check a configuration dict and fill in defaults.

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
    dict
        A complete configuration (every key present).

    Raises
    ------
    ConfigError
        Naming the offending key.
    """
    if not isinstance(raw, dict):
        raise ConfigError("config", f"must be a table of sections, got {type(raw).__name__}")
    cfg = default_config()
    for sec, body in raw.items():
        if sec not in SCHEMA:
            raise ConfigError(sec, f"unknown section; allowed sections: {', '.join(SCHEMA)}")
        if not isinstance(body, dict):
            raise ConfigError(sec, f"must be a table ([{sec}]), got {body!r}")
        for key, value in body.items():
            full = f"{sec}.{key}"
            if key not in SCHEMA[sec]:
                raise ConfigError(full, f"unknown key; allowed keys in [{sec}]: {', '.join(SCHEMA[sec])}")
            cfg[sec][key] = _check_value(full, value, SCHEMA[sec][key])
    _cross_checks(cfg, base_dir)
    return cfg


def _cross_checks(cfg, base_dir=None):
    j = cfg["junction"]
    if j["preset"] == "atoms":
        for key in ("device", "left", "right"):
            if not j[key]:
                raise ConfigError(f"junction.{key}", "is required with preset = 'atoms' (a structure file)")
            if base_dir is not None and not Path(j[key]).is_absolute():
                j[key] = os.path.abspath(Path(base_dir) / j[key])
    else:
        from .models.presets import PRESET_MODELS

        own = PRESET_MODELS[j["preset"]]
        if j["model"] == "auto":
            j["model"] = own
        elif j["model"] != own:
            raise ConfigError("junction.model", f"preset {j['preset']!r} has its own parameter set {own!r}; "
                                                f"model chooses one only for preset = 'atoms' (got {j['model']!r})")
        if j["movable"] is not None:
            j["movable"] = _chain_movable(j["movable"], j["n_atoms"], j["buffer"])
    t = cfg["transmission"]
    if not t["emax"] > t["emin"]:
        raise ConfigError("transmission.emax", f"must be > transmission.emin = {t['emin']}, got {t['emax']}")
    if not cfg["output"]["file"].strip():
        raise ConfigError("output.file", "must not be empty; give a file name such as 'run.nc'")
    b = bias_values(cfg)
    if len(set(b)) != len(b):
        raise ConfigError("bias.values", f"repeated bias in {b}")


def _chain_movable(movable, n_atoms, buffer):
    """Movable atoms of a chain preset as non-negative device indices
    (negative ones count from the end of the device, as in Python)."""
    n_device = n_atoms + 2 * buffer
    lo, hi = buffer, buffer + n_atoms - 1
    out = []
    for i, a in enumerate(movable):
        if not -n_device <= a < n_device:
            raise ConfigError(f"junction.movable[{i}]",
                              f"atom index {a} is out of range: the device has {n_device} atoms "
                              f"(indices 0..{n_device - 1} or -{n_device}..-1; the chain atoms are {lo}..{hi})")
        b = a % n_device
        if not lo <= b <= hi:
            which = f"atom {a}" if a == b else f"atom {a} (device atom {b})"
            raise ConfigError(f"junction.movable[{i}]",
                              f"{which} is an electrode (buffer) atom that hops to a lead and cannot "
                              f"move; allowed: the chain atoms {lo}..{hi} (or {lo - n_device}..{hi - n_device})")
        out.append(b)
    if len(set(out)) != len(out):
        raise ConfigError("junction.movable", f"repeated atom index in {movable}")
    return out


def bias_values(cfg):
    """The bias list (V) of a validated configuration, as floats."""
    return [float(v) for v in cfg["bias"]["values"]]


def input_files(cfg):
    """The files a validated configuration reads, ``{key: path}``.

    These are the structure files of ``preset = "atoms"``
    (``junction.device``, ``junction.left``, ``junction.right``), as
    :func:`currentforces.job.build_system` opens them; the built-in
    presets and tight-binding models read no file.  Their contents enter the
    digest that decides whether an output file may be resumed.
    """
    j = cfg["junction"]
    if j["preset"] != "atoms":
        return {}
    return {f"junction.{k}": j[k] for k in ("device", "left", "right")}


def load_config(path):
    """Read and validate a TOML configuration file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict
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
        raise ConfigError("CONFIG", f"{str(path)!r} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line "
                                    f"{line}); TOML files must be UTF-8: save it as UTF-8") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("CONFIG", f"{path} is not valid TOML: {exc}") from None
    return validate_config(raw, base_dir=path.parent)


BATH_KEYS = ("phonon_bath", "bath_friction", "bath_temperature", "bath_atoms")
"""The [dynamics] keys of the phonon bath."""


def config_to_json(cfg):
    """Canonical JSON text of a configuration (sorted keys): stored in the
    output file and compared on resume.

    With ``dynamics.phonon_bath`` off the bath keys change no number and are
    left out, so that the text (and the resume digest) of a configuration
    without a bath is that of the versions before the bath existed."""
    data = {sec: dict(body) for sec, body in cfg.items()}
    dynamics = data.get("dynamics", {})
    if not dynamics.get("phonon_bath", False):
        for key in BATH_KEYS:
            dynamics.pop(key, None)
    return json.dumps(data, sort_keys=True)


def describe_schema():
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
