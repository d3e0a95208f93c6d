"""Bad input: one clear line naming the key, and nothing run or written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.core.errors import ConfigError

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize(
    ("overrides", "key", "words"),
    [
        ({"raid_rat": 0.3}, "raid_rat", "not a setting"),
        ({"params.raid_rat": 0.3}, "params.raid_rat", "did you mean raid_rate"),
        ({"raid_rate": "abc"}, "params.raid_rate", "must be a number"),
        ({"raid_rate": 1.5}, "params.raid_rate", "allowed 0.0 to 1.0"),
        ({"syndicates": 2.5}, "params.syndicates", "must be an integer"),
        ({"steps": 0}, "steps", "allowed 1 to 1200"),
        ({"start": "2023/01"}, "start", "YYYY-MM"),
    ],
)
def test_api_errors_name_the_key(overrides, key, words):
    with pytest.raises(ConfigError) as err:
        sim.run("baseline", world="teaching", **overrides)
    assert err.value.key == key
    assert words in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_scenario_lists_the_allowed_ones():
    with pytest.raises(ConfigError, match="allowed: asean_coordinated, baseline"):
        sim.run("nope")


def test_api_writes_nothing_unless_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = sim.run("baseline", world="teaching", seed=1, steps=12)
    assert list(tmp_path.iterdir()) == []
    assert len(res.timeseries) == 13 * 13


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True,
        env=env, timeout=300,
    )


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("params.raid_rat=0.3", "config error: params.raid_rat is not a model parameter"),
        ("params.raid_rate=abc", "config error: params.raid_rate must be a number, got 'abc'"),
        ("params.raid_rate=1.5", "config error: params.raid_rate = 1.5 is out of range"),
        ("scenario=nope", "config error: scenario = 'nope' is not known; allowed:"),
        ("foo=1", "config error: foo is not a setting"),
        ("seed=1,x", "config error: seed must be an integer, got 'x'"),
    ],
)
def test_cli_errors_are_one_line_and_write_nothing(tmp_path, arg, expected):
    out = tmp_path / "run"
    proc = _cli(arg, "world=teaching", f"hydra.run.dir={out}", f"hydra.sweep.dir={out}",
                cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(expected)
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_cli_run_writes_the_contract(tmp_path):
    out = tmp_path / "run"
    proc = _cli("scenario=mekong_crackdown", "world=teaching", "seed=3", "steps=48",
                f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in ("timeseries.parquet", "timeseries.csv", "events.parquet", "summary.json",
                 "resolved_config.yaml", "activity_by_region.png", ".hydra/config.yaml"):
        assert (out / name).exists(), name
    assert not list(out.glob(".*.tmp"))
    api = sim.run("mekong_crackdown", world="teaching", seed=3, steps=48)
    csv = (out / "timeseries.csv").read_text()
    assert csv.splitlines()[0].startswith("step,date,iso3,region,compounds,workers")
    assert len(csv.splitlines()) == len(api.timeseries) + 1
    # The command line and the Python API compute the same run.
    import pandas as pd

    cli_ts = pd.read_parquet(out / "timeseries.parquet")
    assert (cli_ts["workers"].to_numpy() == api.timeseries["workers"].to_numpy()).all()


def test_cli_multirun_with_basic_launcher(tmp_path):
    out = tmp_path / "sweep"
    proc = _cli("--multirun", "seed=1,2", "scenario=baseline,whack_a_mole", "world=teaching",
                "steps=24", "plot=false", "hydra/launcher=basic", f"hydra.sweep.dir={out}",
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    runs = sorted(p.parent.name for p in out.glob("runs/*/summary.json"))
    assert len(runs) == 4, runs


def test_a_config_file_is_read_again_after_an_edit_and_callers_cannot_change_it(
    tmp_path, monkeypatch
):
    """Config files are parsed once per version: an edit (even within the same second,
    at the same size) is seen at the next load, and a mapping handed out is a copy."""
    from sim.config import load_group

    configs = tmp_path / "configs"
    (configs / "scenario").mkdir(parents=True)
    path = configs / "scenario" / "mine.yaml"
    path.write_text("scenario:\n  name: mine\n  description: one\n  events: []\n")
    monkeypatch.setenv("SCAMSIM_CONFIG_DIR", str(configs))
    first = load_group("scenario", "mine")
    assert first["scenario"]["description"] == "one"
    first["scenario"]["description"] = "changed by a caller"
    first["scenario"]["events"].append({"type": "nothing"})
    again = load_group("scenario", "mine")
    assert again == {"scenario": {"name": "mine", "description": "one", "events": []}}
    stat = path.stat()
    path.write_text("scenario:\n  name: mine\n  description: two\n  events: []\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # same size, 1 ns later
    assert load_group("scenario", "mine")["scenario"]["description"] == "two"
