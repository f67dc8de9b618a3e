r"""One run: a configured junction, a bias sweep, mode analysis, runaway
search and an optional Langevin trajectory, into one NetCDF file.

The physics is all elsewhere; this module only strings it together:

* junction and force operators: :mod:`currentforces.models.presets`;
* coefficients at each bias: :func:`currentforces.force_coefficients`;
* modes and the runaway threshold: :mod:`currentforces.dynamics.modes`
  with the bare springs of the preset plus the *current-induced* parts
  K(V) - K(0) and the full L(V) (:ref:`theory-kernel-split`: the springs
  stand for the zero-bias dynamical matrix, so K_eq must not be counted
  twice);
* trajectory: :class:`currentforces.dynamics.LangevinDynamics` with the
  same K, L, the current-induced mean force and the force noise of
  :func:`currentforces.noise_spectrum`, and optionally a phonon bath on
  the boundary atoms (:class:`currentforces.dynamics.PhononBath`).

Checkpoints: after every bias the output file is rewritten (atomically)
with the biases done so far and ``status = "partial"``.  Running the same
configuration again reuses the stored biases and continues; the finished
file equals that of an uninterrupted run (the computation is deterministic
and no time stamps are stored).

Resuming is keyed on contents, not names: the file stores a digest of
every input that changes the numbers (:func:`input_digests`: the canonical
configuration, the bytes of every structure file it reads, the package
version) and a SHA-256 checksum of the stored values of every bias
(:func:`record_checksum`).  A run whose inputs differ, or whose stored
values fail their checksum, is refused (:class:`~currentforces.errors.ResumeError`)
unless ``overwrite``.  One run at a time writes a file: :func:`run_job`
holds a :class:`~currentforces.outfile.OutputLock` on it from start to end.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__
from .config import as_run_config, config_to_json
from .errors import InputError, IntegrationError, ResumeError

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Mapping

    import xarray as xr

    from .config import ElectronsConfig, JunctionConfig, RunConfig
    from .forces import FermiSeaPart
    from .models.presets import Preset

__all__ = [
    "JobResult",
    "build_junction",
    "build_system",
    "coefficients_at",
    "input_digests",
    "record_checksum",
    "run_job",
]

_PER_BIAS = ("mean_force", "mean_force_current", "K", "L", "K_current", "L_current", "current", "K_error", "L_error")


class JobResult:
    """What :func:`run_job` returns: the ``dataset`` and the output ``path``."""

    def __init__(self, dataset: xr.Dataset, path: Path, resumed: bool) -> None:
        self.dataset = dataset
        self.path = path
        self.resumed = resumed


def build_system(cfg: RunConfig | Mapping[str, Any]) -> tuple[Preset, float]:
    """The junction of a run configuration and the Fermi level to use.

    Parameters
    ----------
    cfg : RunConfig
        From :func:`~currentforces.config.load_config` (a nested dict is
        checked first); only ``cfg.junction`` and
        ``cfg.electrons.fermi_level`` are read.

    Returns
    -------
    preset : Preset
        :class:`~currentforces.models.presets.Preset`.
    fermi_level : float
        eV: ``electrons.fermi_level``, or the preset's own for ``"auto"``.
    """
    cfg = as_run_config(cfg)
    preset = build_junction(cfg.junction)
    ef = cfg.electrons.fermi_level
    return preset, (preset.fermi_level if ef == "auto" else float(ef))


def build_junction(junction: JunctionConfig) -> Preset:
    """The :class:`~currentforces.models.presets.Preset` of a ``[junction]``
    section (:class:`~currentforces.config.JunctionConfig`).

    A key left at ``"auto"`` is not passed on, so that the builder's own
    default applies, the same as from Python.
    """
    from .models.presets import build_preset, junction_from_atoms

    j = junction
    movable = None if j.movable is None else list(j.movable)
    axes: dict[str, Any] = {} if j.axes == "auto" else {"axes": j.axes}
    try:
        if j.model == "xtb":
            from .adapters.xtb import xtb_preset

            contacts = (
                "auto" if j.left_contact is None and j.right_contact is None else (j.left_contact, j.right_contact)
            )
            return xtb_preset(
                j.device,
                contacts=contacts,
                movable=movable,
                method=j.method,
                gamma=None if j.gamma == "auto" else j.gamma,
                vibrations=j.vibrations,
                spring_constant=None if j.spring_constant == "auto" else j.spring_constant,
                **axes,
            )
        if j.preset == "atoms":
            return junction_from_atoms(
                j.device,
                j.left,
                j.right,
                model=j.model,
                movable=movable,
                **axes,
                spring_constant=None if j.spring_constant == "auto" else j.spring_constant,
            )
        kwargs = {k: getattr(j, k) for k in ("bond", "lead_bond", "spring_constant") if getattr(j, k) != "auto"}
        if movable is not None:
            kwargs["movable"] = movable
        return build_preset(j.preset, n_atoms=j.n_atoms, buffer=j.buffer, **axes, **kwargs)
    except InputError as exc:
        raise InputError(f"junction: {exc}") from None


def fermi_sea_of(preset, fermi_level, electrons):
    """The bias-independent Fermi-sea part shared by every bias of a job
    (:func:`currentforces.fermi_sea_part`)."""
    from .config import ElectronsConfig
    from .forces import fermi_sea_part

    e = electrons if isinstance(electrons, ElectronsConfig) else as_run_config(electrons).electrons
    return fermi_sea_part(
        preset.system.junction, preset.system.forces, fermi_level=fermi_level, temperature=e.temperature, rtol=e.rtol
    )


class _LazyFermiSea:
    """The job's Fermi-sea part, computed on first use (a resumed job whose
    biases are all on file needs none)."""

    def __init__(self, preset, fermi_level, electrons):
        self._args = (preset, fermi_level, electrons)
        self._part = None

    def __call__(self):
        if self._part is None:
            self._part = fermi_sea_of(*self._args)
        return self._part


def coefficients_at(
    preset: Preset,
    fermi_level: float,
    electrons: ElectronsConfig | RunConfig | Mapping[str, Any] | RunConfig | Mapping[str, Any],
    bias: float,
    fermi_sea: FermiSeaPart | Callable[[], FermiSeaPart] | None = None,
) -> dict[str, Any]:
    """Force coefficients and current at one bias.

    Parameters
    ----------
    preset : Preset
        The junction (:func:`build_system`).
    fermi_level : float
        eV.
    electrons : ElectronsConfig
        The ``[electrons]`` section (temperature, spin, rtol); a whole
        run configuration is accepted too.
    bias : float
        V.
    fermi_sea : FermiSeaPart or callable, optional
        The bias-independent Fermi-sea part (:func:`fermi_sea_of`), or a
        callable returning it, reused across the biases of a job.

    Returns
    -------
    dict
        The arrays of one bias (``mean_force``, ``K``, ``L``, their
        current-induced parts, ``current`` and the integration errors).
    """
    from . import force_coefficients
    from .config import ElectronsConfig

    e = electrons if isinstance(electrons, ElectronsConfig) else as_run_config(electrons).electrons
    kw: dict[str, Any] = dict(temperature=e.temperature, fermi_level=fermi_level, spin=e.spin)
    try:
        sea = fermi_sea() if callable(fermi_sea) else fermi_sea
        c = force_coefficients(
            preset.system.junction, preset.system.forces, bias=bias, rtol=e.rtol, fermi_sea=sea, **kw
        )
        current = preset.system.junction.current(bias, rtol=max(e.rtol, 1e-10), **kw) if bias != 0 else 0.0
    except IntegrationError as exc:  # say at which bias
        raise IntegrationError(f"at bias {bias:g} V: {exc}", exc.error, exc.tolerance) from None
    return {
        "mean_force": np.asarray(c.mean_force, dtype=float),
        "mean_force_current": np.asarray(c.mean_force_current, dtype=float),
        "K": np.asarray(c.K, dtype=float),
        "L": np.asarray(c.L, dtype=float),
        "K_current": np.asarray(c.K_current, dtype=float),
        "L_current": np.asarray(c.L_current, dtype=float),
        "current": float(current),
        "K_error": float(c.error.get("K", np.nan)),
        "L_error": float(c.error.get("L", np.nan)),
    }


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def input_digests(cfg: RunConfig | Mapping[str, Any]) -> dict[str, str]:
    """Digests of every input that changes the numbers of a run.

    Parameters
    ----------
    cfg : RunConfig
        A validated configuration (a nested dict is checked first).

    Returns
    -------
    dict
        ``"currentforces_version"``: the package version (kept as text, so
        that a mismatch can be named); ``"config"``: SHA-256 of the canonical
        configuration (:func:`~currentforces.config.config_to_json`); one
        entry per file the configuration reads
        (:func:`~currentforces.config.input_files`, e.g.
        ``"junction.device"``): SHA-256 of its bytes; ``"input_sha256"``:
        SHA-256 of the canonical JSON of all the others.

    Raises
    ------
    InputError
        A referenced file cannot be read (the message names its key).
    """
    cfg = as_run_config(cfg)
    parts = {"currentforces_version": __version__, "config": _sha256(config_to_json(cfg).encode())}
    for key, name in cfg.junction.input_files.items():
        try:
            parts[key] = _sha256(Path(name).read_bytes())
        except OSError as exc:
            raise InputError(f"{key}: cannot read {name!r} ({exc.strerror})") from None
    parts["input_sha256"] = _sha256(json.dumps(parts, sort_keys=True).encode())
    return parts


def record_checksum(bias: float, record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the stored values of one bias: the bias (V) and the
    arrays of every per-bias variable, as little-endian float64 in a fixed
    order.  Stored in the output file and verified before a resume reuses
    the values."""
    h = hashlib.sha256(np.float64(bias).astype("<f8").tobytes())
    for k in _PER_BIAS:
        h.update(np.ascontiguousarray(record[k], dtype="<f8").tobytes())
    return h.hexdigest()


def _flat(cfg):
    return {f"{sec}.{key}": v for sec, body in cfg.items() for key, v in body.items()}


def _what_changed(stored, digests, stored_config_json, cfg):
    """Human-readable list of the inputs whose digests differ."""
    out = []
    for key in sorted(set(stored) | set(digests)):
        if key == "input_sha256" or stored.get(key) == digests.get(key):
            continue
        if key == "currentforces_version":
            out.append(f"currentforces version {stored.get(key)} -> {digests.get(key)}")
        elif key == "config":
            try:
                old = _flat(json.loads(stored_config_json))
            except (TypeError, ValueError):
                old = {}
            new = _flat(json.loads(config_to_json(cfg)))
            keys = [k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
            out.append(
                "configuration ("
                + ", ".join(f"{k}: {old.get(k, '-')!r} -> {new.get(k, '-')!r}" for k in keys[:5])
                + (", ..." if len(keys) > 5 else "")
                + ")"
            )
        elif key in digests and key in stored:
            out.append(f"contents of {key} file {cfg.junction.input_files[key]!r}")
        else:
            out.append(f"{key} file " + ("added" if key in digests else "removed"))
    return out


def _records_from_file(path, cfg, digests):
    """Per-bias records stored in an earlier (partial or complete) run of
    the same inputs; {} if none.  A file of other inputs (configuration,
    structure-file contents, package version), a file written without
    digests, or stored values that fail their checksum is an error (never
    resumed nor overwritten silently)."""
    from .io import read_dataset

    if not Path(path).exists():
        return {}
    again = "; pass --overwrite to start afresh, or choose another output file"
    try:
        ds = read_dataset(path)
    except InputError as exc:
        raise ResumeError(f"output.file: {exc}{again}") from None
    a = ds.attrs
    try:
        stored = json.loads(a["input_sha256_parts"])
        sums = json.loads(a["record_sha256"])
    except (KeyError, TypeError, ValueError):
        raise ResumeError(
            f"output.file: {str(path)!r} exists but carries no input digests or checksums "
            f"(not written by this version of currentforces run){again}"
        ) from None
    if stored.get("input_sha256") != digests["input_sha256"]:
        changed = _what_changed(stored, digests, a.get("config_json"), cfg)
        raise ResumeError(
            f"output.file: {str(path)!r} holds a run computed from other inputs; changed: "
            f"{'; '.join(changed) or 'input digest'}{again}"
        )
    bias = ds["bias"].values if "bias" in ds.coords else []
    if len(sums) != len(bias):
        raise ResumeError(
            f"output.file: {str(path)!r} has {len(bias)} biases but {len(sums)} checksums: the file is damaged{again}"
        )
    out = {}
    for i, v in enumerate(bias):
        rec = {k: (ds[k].values[i] if ds[k].ndim > 1 else float(ds[k].values[i])) for k in _PER_BIAS}
        if record_checksum(float(v), rec) != sums[i]:
            raise ResumeError(
                f"output.file: {str(path)!r}: the stored values at bias {float(v):g} V do not "
                f"match their checksum: the file is corrupted{again}"
            )
        out[float(v)] = rec
    return out


def _stamp(ds, records, digests):
    """Store the input digests and the per-bias checksums in ``ds.attrs``."""
    bias = ds["bias"].values if "bias" in ds.coords else []
    ds.attrs["input_sha256"] = digests["input_sha256"]
    ds.attrs["input_sha256_parts"] = json.dumps(digests, sort_keys=True)
    ds.attrs["record_sha256"] = json.dumps([record_checksum(float(b), records[float(b)]) for b in bias])
    return ds


def _dataset(preset, fermi_level, cfg, records, biases, status, extra=None):
    """The results of the biases done so far as an ``xarray.Dataset``; the
    attributes record ``cfg`` (its canonical JSON) and its electrons."""
    import xarray as xr

    s = preset.system
    done = [b for b in biases if b in records]
    m = len(s.forces)
    data = {}
    for k in _PER_BIAS:
        arr = np.array([records[b][k] for b in done], dtype=float)
        if k in ("mean_force", "mean_force_current"):
            data[k] = (("bias", "mode"), arr.reshape(len(done), m))
        elif k in ("K", "L", "K_current", "L_current"):
            data[k] = (("bias", "mode", "mode2"), arr.reshape(len(done), m, m))
        else:
            data[k] = (("bias",), arr)
    data["masses"] = (("mode",), np.asarray(s.masses, dtype=float))
    data["spring_constants"] = (("mode", "mode2"), np.asarray(preset.spring_constants, dtype=float))
    data.update(_structure_variables(preset))
    coords = {
        "bias": ("bias", np.array(done, dtype=float)),
        "mode": ("mode", np.arange(m)),
        "mode2": ("mode2", np.arange(m)),
        "mode_label": ("mode", np.array(s.labels, dtype=object)),
    }
    ds = xr.Dataset(data, coords=coords)
    if "bias" in ds.coords:
        k, lm = ds["K"], ds["L"]
        kt = k.values.swapaxes(-1, -2)
        lt = lm.values.swapaxes(-1, -2)
        ds["renormalization"] = (("bias", "mode", "mode2"), 0.5 * (k.values + kt))
        ds["nonconservative"] = (("bias", "mode", "mode2"), 0.5 * (k.values - kt))
        ds["friction"] = (("bias", "mode", "mode2"), 0.5 * (lm.values + lt))
        ds["berry"] = (("bias", "mode", "mode2"), 0.5 * (lm.values - lt))
    if extra:
        for k, v in extra.items():
            ds[k] = v
    ds.attrs.update(
        {
            "title": "currentforces run",
            "currentforces_version": __version__,
            "config_json": config_to_json(cfg),
            "status": status,
            "description": preset.description,
            "fermi_level_eV": float(fermi_level),
            "temperature_K": float(cfg.electrons.temperature),
            "spin": int(cfg.electrons.spin),
            "sign_convention": "F = F0 - K X + L V (seed eq 14); mu_0 = E_F + V/2, mu_1 = E_F - V/2",
            "bare_springs": "spring_constants stand for the zero-bias dynamical matrix; modes use "
            "spring_constants + K_current and L",
            "vibrations": {
                "springs": "spring_constants: central nearest-neighbour springs (a model)",
                "calculator": "spring_constants: finite differences of the structure's own ASE calculator forces",
            }[getattr(preset, "vibrations", "springs")],
        }
    )
    return ds


def _structure_variables(preset):
    """The device atoms, the coordinate map and the bare normal modes (mass-weighted
    eigenvectors of the springs, hbar*omega in eV) as dataset variables."""
    from .dynamics.observables import normal_modes
    from .io import atoms_variables

    s = preset.system
    hw, vectors = normal_modes(np.asarray(s.masses, dtype=float), np.asarray(preset.spring_constants, dtype=float))
    return {
        **atoms_variables(s.device, s.coordinates),
        "normal_mode_hbar_omega": (("normal_mode",), hw),
        "normal_mode_vectors": (("mode", "normal_mode"), vectors),
    }


def _progress(iterable, enabled, desc, total=None):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, unit="bias", leave=False)


def _dynamics_module():
    """The dynamics package if it is installed (hook for runs without it)."""
    try:
        from . import dynamics
    except ImportError:  # pragma: no cover - dynamics is part of the package on main
        return None
    return dynamics


def run_job(
    cfg: RunConfig | Mapping[str, Any],
    path: str | os.PathLike[str] | None = None,
    progress: bool = False,
    overwrite: bool = False,
    log: Callable[[str], object] = print,
) -> JobResult:
    """Run a validated configuration and write its NetCDF file.

    Parameters
    ----------
    cfg : RunConfig
        From :func:`currentforces.config.load_config` or
        :func:`~currentforces.config.validate_config` (a nested dict is
        checked by the latter first).
    path : str or Path, optional
        Output file (default ``cfg.output.file``).
    progress : bool
        Show tqdm progress bars.
    overwrite : bool
        Discard an existing output file instead of resuming from it.
    log : callable
        Where one-line status messages go (``print``; ``None`` for silence).

    Returns
    -------
    JobResult
    """
    from .outfile import OutputLock

    cfg = as_run_config(cfg)
    if path is None:
        path = cfg.output.file
    with OutputLock(path) as lock:  # checks the folder before any work; one writer per file
        return _run_locked(cfg, lock.path, progress, overwrite, log)


def _run_locked(cfg, path, progress, overwrite, log):
    from .io import write_dataset

    log = log or (lambda *a, **k: None)
    preset, ef = build_system(cfg)
    digests = input_digests(cfg)
    biases = [float(v) for v in cfg.bias.values]
    records = {} if overwrite else _records_from_file(path, cfg, digests)
    reused = [b for b in biases if b in records]
    if reused:
        log(f"resuming {path}: {len(reused)} of {len(biases)} biases already done")
    todo = [b for b in biases if b not in records]
    sea = _LazyFermiSea(preset, ef, cfg.electrons)
    for b in _progress(todo, progress, "coefficients", total=len(todo)):
        records[b] = coefficients_at(preset, ef, cfg.electrons, b, sea)
        write_dataset(_stamp(_dataset(preset, ef, cfg, records, biases, "partial"), records, digests), path)

    extra = _transmission(preset.system.junction, ef, cfg.transmission)
    dyn = _dynamics_module()
    if cfg.modes.enabled or cfg.modes.runaway or cfg.dynamics.enabled:
        if dyn is None:  # pragma: no cover - HOOK: runs without currentforces.dynamics skip this part
            log("currentforces.dynamics not available: mode analysis, runaway search and dynamics skipped")
        else:
            cache = {b: (records[b]["K_current"], records[b]["L"]) for b in biases}
            extra.update(
                _modes(
                    dyn, preset, cfg.modes, biases, cache, lambda v: coefficients_at(preset, ef, cfg.electrons, v, sea)
                )
            )
            if cfg.dynamics.enabled:
                _warn_beyond_runaway(cfg.dynamics.bias, extra.get("runaway_bias", ((), math.nan))[1], log)
                extra.update(_langevin(dyn, preset, ef, cfg.electrons, cfg.dynamics, progress))
    ds = _stamp(_dataset(preset, ef, cfg, records, biases, "complete", extra), records, digests)
    write_dataset(ds, path)
    if cfg.output.trajectory:
        from .io import write_trajectory

        write_trajectory(ds, cfg.output.trajectory)
        log(f"wrote {cfg.output.trajectory}")
    return JobResult(ds, path, bool(reused))


def _transmission(junction, fermi_level, transmission):
    """T(E) on the grid of the ``[transmission]`` section (bias independent
    in this non-self-consistent model)."""
    t = transmission
    energies = fermi_level + np.linspace(t.emin, t.emax, t.num)
    return {"transmission": (("energy",), junction.transmission(energies)), "energy": ("energy", energies)}


def _modes(dyn, preset, modes, biases, cache, coefficients_at_bias):
    """Mode analysis at every bias and the runaway search of the ``[modes]``
    section; ``cache`` maps bias -> (K_current, L) and gains the biases the
    search computes through ``coefficients_at_bias``."""
    s = preset.system
    masses = np.asarray(s.masses, dtype=float)
    springs = preset.spring_constants
    out = {}
    if modes.enabled:
        lam = np.array([dyn.analyze_modes(masses, springs, cache[b][0], cache[b][1]).eigenvalues for b in biases])
        out["growth_rate"] = (("bias", "eigenmode"), lam.real)
        out["mode_energy"] = (("bias", "eigenmode"), lam.imag * _hbar())
    if modes.runaway:

        def coefficients(v):
            if v not in cache:
                c = coefficients_at_bias(v)
                cache[v] = (c["K_current"], c["L"])
            return cache[v]

        vmax = max(biases, key=abs) if modes.bias_max == "auto" else modes.bias_max
        if vmax == 0:
            out["runaway_bias"] = ((), math.nan)
        else:
            r = dyn.runaway_threshold(
                coefficients, masses, springs, vmax, n_scan=modes.n_scan, tolerance=modes.tolerance
            )
            out["runaway_bias"] = ((), math.nan if r.bias is None else float(r.bias))
            out["runaway_bias_lower"] = ((), math.nan if r.bracket[0] is None else float(r.bracket[0]))
            out["runaway_bias_upper"] = ((), math.nan if r.bracket[1] is None else float(r.bracket[1]))
            out["runaway_character"] = ((), str(r.character))
    return out


def _warn_beyond_runaway(bias, threshold, log):
    """Log a warning when the trajectory's bias (V) is at or beyond the
    runaway threshold (V; NaN: none found) on the same side of zero."""
    if not math.isnan(threshold) and bias * threshold > 0 and abs(bias) >= abs(threshold):
        log(
            f"warning: dynamics.bias = {bias} V is beyond the runaway threshold {threshold:.4f} V; "
            "the trajectory grows exponentially"
        )


def _hbar():
    from .units import HBAR

    return HBAR


def _langevin(dyn, preset, ef, electrons, dynamics, progress):
    """The Langevin trajectory of the ``[dynamics]`` section."""
    d, e = dynamics, electrons
    masses = np.asarray(preset.system.masses, dtype=float)
    springs = preset.spring_constants
    c = coefficients_at(preset, ef, e, d.bias)
    spectrum = None
    if d.noise:
        from .coupling import spectrum_from_junction

        spectrum = spectrum_from_junction(
            preset.system.junction,
            preset.system.forces,
            d.hbar_omega_max,
            n_omega=d.n_omega,
            bias=d.bias,
            temperature=e.temperature,
            fermi_level=ef,
            spin=e.spin,
        )
    bath = _phonon_bath(dyn, preset, e, d) if d.phonon_bath else None
    md = dyn.LangevinDynamics(
        masses,
        springs,
        d.timestep,
        K=c["K_current"],
        L=c["L"],
        mean_force=c["mean_force_current"],
        spectrum=spectrum,
        seed=d.seed,
        bath=bath,
    )
    # the slowest relaxation at this bias (with the bath's friction when it
    # is on, md.L): with electronic friction as the only damping it can take
    # far longer than the trajectory (run summary)
    growth = dyn.analyze_modes(masses, springs, c["K_current"], md.L).max_growth_rate
    traj = md.run(d.steps, record_every=d.record_every, progress=progress)
    x = traj.positions[:, 0, :]
    v = traj.velocities[:, 0, :]
    from .units import AMU

    ksym = springs + 0.5 * (c["K_current"] + c["K_current"].T)
    kinetic = 0.5 * np.einsum("m,tm->t", masses * AMU, v * v)
    potential = 0.5 * np.einsum("ta,ab,tb->t", x, ksym, x)
    return {
        "time": ("time", np.asarray(traj.time, dtype=float)),
        "positions": (("time", "mode"), x),
        "velocities": (("time", "mode"), v),
        "kinetic_energy": (("time",), kinetic),
        "potential_energy": (("time",), potential),
        "dynamics_bias": ((), float(d.bias)),
        "dynamics_max_growth_rate": ((), float(growth)),
        **({} if bath is None else _bath_variables(bath, masses.size)),
    }


def _bath_variables(bath, n):
    """The phonon bath in the results: gamma per coordinate (1/fs, 0 off the bath) and its temperature (K)."""
    gamma = np.zeros(n)
    gamma[bath.dofs] = bath.friction
    return {"bath_friction": (("mode",), gamma), "bath_temperature": ((), float(bath.temperature))}


def _phonon_bath(dyn, preset, electrons, dynamics):
    """The phonon bath of the ``[dynamics]`` section (a :class:`~currentforces.config.DynamicsConfig`)
    on the coordinates of its ``bath_atoms`` (default: the preset's boundary
    atoms), quantum noise cut off at ``hbar_omega_max``; ``electrons`` (an
    :class:`~currentforces.config.ElectronsConfig`) gives the ``"auto"`` temperature."""
    from ._checks import check_atom_indices

    s = preset.system
    moving = sorted({a for a, _ in s.coordinates})
    if dynamics.bath_atoms is None:
        atoms = s.boundary_atoms()
        if not atoms:
            raise InputError(
                "dynamics.bath_atoms: no movable atom is within hopping range of an atom that does "
                "not move; name the atoms coupled to the phonon bath"
            )
    else:
        atoms = check_atom_indices("dynamics.bath_atoms", dynamics.bath_atoms, len(s.device), what="the device")
        still = [a for a in atoms if a not in moving]
        if still:
            raise InputError(
                f"dynamics.bath_atoms: atom(s) {still} do not move; the bath acts on moving atoms "
                f"({', '.join(map(str, moving))})"
            )
    dofs = [i for i, (a, _) in enumerate(s.coordinates) if a in atoms]
    t = dynamics.bath_temperature
    return dyn.PhononBath(
        dofs, dynamics.bath_friction, electrons.temperature if t == "auto" else t, cutoff=dynamics.hbar_omega_max
    )
