"""The run configuration parsed once into typed, frozen sections: the
stored configuration and the resume digest stay byte-identical to the
nested-dict version, the sections check themselves, and the dict reading
of earlier versions still works."""

import dataclasses
import hashlib
import json

import pytest

from currentforces import job
from currentforces.config import (
    SCHEMA,
    BiasConfig,
    ConfigError,
    ElectronsConfig,
    JunctionConfig,
    RunConfig,
    as_run_config,
    config_to_json,
    default_config,
    load_config,
    validate_config,
)

# Every key set, numbers written as TOML integers where the schema wants
# floats (stored as floats), a negative movable index (stored normalised).
FULL = """
[junction]
preset = "carbon_chain"
n_atoms = 3
bond = 1
lead_bond = 1.3
buffer = 2
movable = [-3, 2]
axes = "xz"
spring_constant = 45

[electrons]
temperature = 77
fermi_level = -9
spin = 1
rtol = 1e-6

[bias]
values = [0, 0.5, -1]

[transmission]
emin = -2
emax = 3.5
num = 7

[modes]
enabled = false
runaway = true
bias_max = 2
n_scan = 5
tolerance = 0.01

[dynamics]
enabled = true
bias = 1
timestep = 0.5
steps = 10
record_every = 2
seed = 3
noise = false
hbar_omega_max = 0.2
n_omega = 5

[output]
file = "out/run.nc"
figures = false
"""

MINIMAL = '[junction]\npreset = "gold_chain"\n'

ATOMS = '[junction]\npreset = "atoms"\ndevice = "dev.xyz"\nleft = "sub/left.xyz"\nright = "right.xyz"\naxes = "z"\n'

# Expected values: computed on main at 3e11113, BEFORE the configuration
# became typed sections (config_to_json of the validated nested dict and
# job.input_digests of it, currentforces 0.1.0).  Files written by that
# version must keep resuming, so these may never change for the same TOML.
MAIN_JSON = {
    "full": '{"bias": {"values": [0.0, 0.5, -1.0]}, "dynamics": {"bias": 1.0, "enabled": true, '
    '"hbar_omega_max": 0.2, "n_omega": 5, "noise": false, "record_every": 2, "seed": 3, "steps": 10, '
    '"timestep": 0.5}, "electrons": {"fermi_level": -9.0, "rtol": 1e-06, "spin": 1, "temperature": 77.0}, '
    '"junction": {"axes": "xz", "bond": 1.0, "buffer": 2, "device": "", "lead_bond": 1.3, "left": "", '
    '"model": "carbon_sp", "movable": [4, 2], "n_atoms": 3, "preset": "carbon_chain", "right": "", '
    '"spring_constant": 45.0}, "modes": {"bias_max": 2.0, "enabled": false, "n_scan": 5, "runaway": true, '
    '"tolerance": 0.01}, "output": {"figures": false, "file": "out/run.nc"}, '
    '"transmission": {"emax": 3.5, "emin": -2.0, "num": 7}}',
    "minimal": '{"bias": {"values": [0.0, 0.25, 0.5, 0.75, 1.0]}, "dynamics": {"bias": 0.5, "enabled": false, '
    '"hbar_omega_max": 0.1, "n_omega": 21, "noise": true, "record_every": 10, "seed": 1, '
    '"steps": 2000, "timestep": 2.0}, "electrons": {"fermi_level": "auto", "rtol": 1e-07, "spin": 2, '
    '"temperature": 300.0}, "junction": {"axes": "auto", "bond": "auto", "buffer": 1, "device": "", '
    '"lead_bond": "auto", "left": "", "model": "gold_s", "movable": null, "n_atoms": 4, '
    '"preset": "gold_chain", "right": "", "spring_constant": "auto"}, "modes": {"bias_max": "auto", '
    '"enabled": true, "n_scan": 11, "runaway": true, "tolerance": 0.001}, "output": {"figures": true, '
    '"file": "currentforces-run.nc"}, "transmission": {"emax": 4.0, "emin": -4.0, "num": 201}}',
    # {DIR}: the folder of the TOML file (structure paths are stored absolute)
    "atoms": '{"bias": {"values": [0.0, 0.25, 0.5, 0.75, 1.0]}, "dynamics": {"bias": 0.5, "enabled": false, '
    '"hbar_omega_max": 0.1, "n_omega": 21, "noise": true, "record_every": 10, "seed": 1, '
    '"steps": 2000, "timestep": 2.0}, "electrons": {"fermi_level": "auto", "rtol": 1e-07, "spin": 2, '
    '"temperature": 300.0}, "junction": {"axes": "z", "bond": "auto", "buffer": 1, '
    '"device": "{DIR}/dev.xyz", "lead_bond": "auto", "left": "{DIR}/sub/left.xyz", "model": "auto", '
    '"movable": null, "n_atoms": 4, "preset": "atoms", "right": "{DIR}/right.xyz", '
    '"spring_constant": "auto"}, "modes": {"bias_max": "auto", "enabled": true, "n_scan": 11, '
    '"runaway": true, "tolerance": 0.001}, "output": {"figures": true, "file": "currentforces-run.nc"}, '
    '"transmission": {"emax": 4.0, "emin": -4.0, "num": 201}}',
}
MAIN_DIGESTS = {  # job.input_digests on main (same commit), version 0.1.0
    "full": {
        "config": "b8d5323b52171335f9d0fc64abda0788c6951bf1ea1e51713552c21e258d169d",
        "currentforces_version": "0.1.0",
        "input_sha256": "c91c1828ee039a2de9e674643487651d911d00625e15cce317a28381783aa611",
    },
    "minimal": {
        "config": "f2f631910e8a50085f16cf2522a1967722e27aba0f353dde0f2a82491d675997",
        "currentforces_version": "0.1.0",
        "input_sha256": "7cd736c0798427366f1d47c3f08128ee9079fb33204eca07a8a60ada95f5fdb3",
    },
}
MAIN_FILE_DIGESTS = {  # SHA-256 of the structure-file bytes written below, on main
    "junction.device": "1132eb263804ce265ee53773a6284a08cf4dc3285997fa6d475c316394347656",
    "junction.left": "cf163e8ea74cdc1d0802343e4ba32bc775466214ec7f733ecad70e1568d6eee5",
    "junction.right": "59337ea1d07ed85329ef4391145b58d1fbda4018a144b4a046d4a9678ff888aa",
}


def _load(tmp_path, name):
    text = {"full": FULL, "minimal": MINIMAL, "atoms": ATOMS}[name]
    (tmp_path / "sub").mkdir(exist_ok=True)
    for f, data in (("dev.xyz", b"device bytes\n"), ("sub/left.xyz", b"left bytes\n"), ("right.xyz", b"right bytes\n")):
        (tmp_path / f).write_bytes(data)
    (tmp_path / f"{name}.toml").write_text(text)
    return load_config(tmp_path / f"{name}.toml")


@pytest.mark.parametrize("name", ["full", "minimal", "atoms"])
def test_stored_configuration_is_byte_identical_to_main(tmp_path, name):
    cfg = _load(tmp_path, name)
    assert config_to_json(cfg) == MAIN_JSON[name].replace("{DIR}", str(tmp_path))


@pytest.mark.parametrize("name", ["full", "minimal"])
def test_resume_digest_is_the_one_main_computed(tmp_path, monkeypatch, name):
    """A file written on main from this TOML resumes: its digests match."""
    monkeypatch.setattr(job, "__version__", "0.1.0")  # the version the digests were computed with
    assert job.input_digests(_load(tmp_path, name)) == MAIN_DIGESTS[name]


def test_resume_digest_of_structure_files_is_the_one_main_computed(tmp_path, monkeypatch):
    monkeypatch.setattr(job, "__version__", "0.1.0")
    digests = job.input_digests(_load(tmp_path, "atoms"))
    for key, value in MAIN_FILE_DIGESTS.items():
        assert digests[key] == value
    # the configuration digest is that of the stored text (checked above)
    stored = MAIN_JSON["atoms"].replace("{DIR}", str(tmp_path))
    assert digests["config"] == hashlib.sha256(stored.encode()).hexdigest()


@pytest.mark.parametrize("name", ["full", "minimal", "atoms"])
def test_stored_configuration_parses_back_to_itself(tmp_path, name):
    """What a file stores (config_json) validates to the same configuration
    and the same text, so a resume compares like with like."""
    cfg = _load(tmp_path, name)
    again = validate_config(json.loads(config_to_json(cfg)))
    assert again == cfg
    assert config_to_json(again) == config_to_json(cfg)
    assert as_run_config(cfg) is cfg
    assert as_run_config(json.loads(config_to_json(cfg))) == cfg


def test_sections_are_typed_and_frozen(tmp_path):
    cfg = _load(tmp_path, "full")
    assert isinstance(cfg, RunConfig) and isinstance(cfg.electrons, ElectronsConfig)
    # TOML integers for float keys are stored as floats (as the dict version did)
    assert cfg.electrons.temperature == 77.0 and isinstance(cfg.electrons.temperature, float)
    assert cfg.bias.values == (0.0, 0.5, -1.0) and all(isinstance(v, float) for v in cfg.bias.values)
    assert cfg.junction.movable == (4, 2)  # -3 counted from the end of the 3 + 2*2 device atoms
    assert cfg.junction.model == "carbon_sp"  # the preset's own
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.electrons.temperature = 10.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.bias = BiasConfig()
    # a changed copy is checked again
    warmer = dataclasses.replace(cfg.electrons, temperature=400)
    assert warmer.temperature == 400.0 and cfg.electrons.temperature == 77.0
    with pytest.raises(ConfigError, match=r"electrons.temperature: must be >= 0, got -1"):
        dataclasses.replace(cfg.electrons, temperature=-1)


def test_sections_check_themselves_naming_the_key():
    """A section made directly (not from TOML) is checked as strictly, with
    the same messages."""
    with pytest.raises(ConfigError, match=r"electrons.spin: must be one of 1, 2; got 3"):
        ElectronsConfig(spin=3)
    with pytest.raises(ConfigError, match=r"bias.values: repeated bias in \[0.0, 0.0\]"):
        BiasConfig(values=[0, 0.0])
    with pytest.raises(ConfigError, match=r"bias.values\[1\]: must be a number, got 'x'"):
        BiasConfig(values=[0.0, "x"])
    with pytest.raises(ConfigError, match="junction.model.*'carbon_chain' has its own parameter set"):
        JunctionConfig(preset="carbon_chain", model="gold_s")
    with pytest.raises(ConfigError, match="junction.device: is required with preset = 'atoms'"):
        JunctionConfig(preset="atoms")
    with pytest.raises(ConfigError, match="electrons: must be of type ElectronsConfig"):
        RunConfig(electrons={"temperature": 10.0})


def test_unknown_keys_and_sections_name_the_key():
    with pytest.raises(ConfigError, match=r"electrons.temprature: unknown key; allowed keys in \[electrons\]"):
        validate_config({"electrons": {"temprature": 10.0}})
    with pytest.raises(ConfigError, match="electron: unknown section"):
        validate_config({"electron": {}})
    with pytest.raises(ConfigError, match=r"bias: must be a table \(\[bias\]\)"):
        validate_config({"bias": [0.0]})


def test_dict_reading_of_earlier_versions(tmp_path):
    """cfg["section"]["key"] gives what the nested dict gave (lists, not
    tuples) and a configuration equals that dict."""
    cfg = _load(tmp_path, "full")
    plain = json.loads(MAIN_JSON["full"])
    # keys added since (the phonon bath) hold their defaults; the stored text
    # leaves them out while the bath is off (test above)
    plain["dynamics"].update(phonon_bath=False, bath_friction=0.01, bath_temperature="auto", bath_atoms=None)
    # and so do the xTB keys of a tight-binding model (vibrations: its springs)
    plain["junction"].update(
        method="GFN2-xTB", gamma="auto", left_contact=None, right_contact=None, vibrations="springs"
    )
    plain["output"].update(trajectory="")  # and the trajectory file name, left out while ''
    assert cfg == plain and plain == cfg
    assert cfg["bias"]["values"] == [0.0, 0.5, -1.0]
    assert cfg["junction"] is cfg.junction
    assert dict(cfg["electrons"]) == plain["electrons"]
    assert list(cfg) == list(SCHEMA) and set(cfg["modes"]) == set(SCHEMA["modes"])
    assert cfg.get("nope") is None and "output" in cfg
    with pytest.raises(KeyError):
        cfg["junction"]["nope"]
    assert cfg != {**plain, "output": {"figures": True, "file": "out/run.nc"}}


def test_defaults_are_the_schema_defaults():
    assert RunConfig().to_dict() == {
        **default_config(),
        # made, the section holds the preset's own model and the vibrations it implies
        "junction": {**default_config()["junction"], "model": "gold_s", "vibrations": "springs"},
    }
    assert validate_config({}) == RunConfig()
    assert hash(validate_config({})) == hash(RunConfig())


def test_stages_take_their_section():
    """build_junction takes the [junction] section alone and builds what
    build_system builds from the whole configuration."""
    pytest.importorskip("ase")
    cfg = validate_config({"junction": {"preset": "gold_chain", "n_atoms": 2, "movable": [-2]}})
    preset, ef = job.build_system(cfg)
    alone = job.build_junction(cfg.junction)
    assert alone.system.labels == preset.system.labels == ["Au2 z"]
    assert ef == preset.fermi_level  # fermi_level = "auto": the preset's own
