"""Any value for any key runs or is refused in one line (exit 2): never a traceback.

Property tests drive the pre-check and the validator in-process (teaching world,
a few months); a few real command lines check the exit code and stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.cli import precheck
from sim.config import SCENARIO_KEYS, TOP_LEVEL, WORLD_KEYS, compose, validate
from sim.core.errors import ConfigError, LeverWarning
from sim.core.interventions import REGISTRY
from sim.core.params import PARAM_NAMES
from sim.runner import simulate

KEYS = [*TOP_LEVEL, *(f"params.{n}" for n in PARAM_NAMES[:12]), "params.syndicates",
        "params.detection_lag", *(f"world.{k}" for k in WORLD_KEYS),
        *(f"scenario.{k}" for k in SCENARIO_KEYS), "scenario", "world", "sweep", "foo",
        "hydra.launcher.n_jobs"]
SPECIAL = ["null", "true", "false", "[]", "{}", "[MMR]", "[MMR,XXX]", "{MMR:5000}", "{MMR:-1}",
           "{MMR:1e400}", "{1:2}", "2023-01", "0000-01", "9999-12", "'abc'", "../x", "a/b",
           "${nope}", "${seed}", "[1,2]", "{a:[1]}", "[{kind:crackdown}]", "inf", "-inf", "nan",
           "1e400", "''", "teaching", "baseline", "0", "-1", "99999999999999999999999"]
VALUES = st.one_of(
    st.sampled_from(SPECIAL),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet="abcXYZ019 .-_:/[]{},'$", max_size=12),
)


def _one_line(err: ConfigError) -> None:
    text = str(err)
    assert text.startswith("config error: ") and "\n" not in text and len(text) < 600, text


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow,
                                                   HealthCheck.function_scoped_fixture])
@given(overrides=st.lists(st.tuples(st.sampled_from(KEYS), VALUES), min_size=1, max_size=3))
def test_any_override_is_accepted_or_refused_in_one_line(overrides, tmp_path):
    args = ["world=teaching", "steps=3", f"hydra.run.dir={tmp_path}/run",
            f"hydra.sweep.dir={tmp_path}/sweep"]
    args += [f"{k}={v}" for k, v in overrides]
    for mode in ([], ["--multirun"]):
        try:
            precheck([*mode, *args])
        except ConfigError as err:
            _one_line(err)
    assert not (tmp_path / "run").exists() and not (tmp_path / "sweep").exists()


MONTHS = st.one_of(st.sampled_from(["2023-01", "2023-02", "2022-06", "2030-01", "0000-01",
                                    "2023-13", "2023-1", "x"]),
                   st.integers(0, 10**6))
TARGETS = st.one_of(
    st.lists(st.sampled_from(["MMR", "KHM", "USA", "asean", "all", "hubs", "region:Africa",
                              "region:Nowhere", "vulnerable:3", "vulnerable:x", "ZZZ", ""]),
             max_size=3),
    st.sampled_from(["MMR", None, 3, {"a": 1}]),
)
NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 300),
                    st.booleans(), st.none(), st.text(max_size=3))
FIELDS = sorted({f for cls in REGISTRY.values() for f in cls.__dataclass_fields__}
                | {"nope"})
EVENT = st.fixed_dictionaries(
    {"kind": st.sampled_from([*REGISTRY, "nope"])},
    optional={"start": MONTHS, "targets": TARGETS, "duration_months": NUMBERS,
              "hosts": TARGETS,
              **{f: NUMBERS for f in FIELDS if f not in ("start", "targets", "hosts", "kind")}},
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.one_of(st.lists(EVENT, max_size=3), st.sampled_from([None, 1, "x", [1]])))
def test_any_event_list_runs_or_is_refused_in_one_line(events):
    cfg = compose("baseline", "teaching", {"steps": 3, "seed": 1})
    cfg["scenario"]["events"] = events
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LeverWarning)
        try:
            spec = validate(cfg)
        except ConfigError as err:
            _one_line(err)
            return
    result = simulate(spec)  # accepted: it must run
    assert len(result.timeseries) == 4 * 13
    # The record holds every field of every lever and validates again as it is.
    for record, iv in zip(spec.resolved["scenario"]["events"], spec.interventions, strict=True):
        assert set(record) == {"kind"} | {f for f in iv.__dataclass_fields__
                                          if iv.__dataclass_fields__[f].init}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LeverWarning)
        again = validate({**cfg, "scenario": spec.resolved["scenario"]})
    assert again.resolved == spec.resolved


@pytest.mark.parametrize(
    ("events", "key", "words"),
    [
        ([{"kind": "crackdown", "targets": ["MMR"], "intensity": 5}], "intensity", "caps at 1"),
        ([{"kind": "crackdown", "targets": []}], "targets", "is empty"),
        ([{"kind": "crackdown", "targets": ["MMR"], "start": "2020-01"}], "start",
         "can never act"),
        ([{"kind": "crackdown", "targets": ["region:Mars"]}], "targets",
         "unknown region 'Mars'; known: Africa, "),
    ],
)
def test_levers_that_cannot_act_are_refused(events, key, words):
    with pytest.raises(ConfigError) as err:
        sim.run("baseline", world="teaching", steps=3, events=events)
    assert err.value.key == f"scenario.events[0].{key}"
    assert words in str(err.value) and "np.str_" not in str(err.value)


def test_levers_that_act_only_in_part_are_warned_about():
    with pytest.warns(LeverWarning, match="after the run ends"):
        sim.run("mekong_crackdown", world="teaching", steps=3)
    with pytest.warns(LeverWarning, match="not in world 'teaching'"):
        sim.run("baseline", world="teaching", steps=3,
                events=[{"kind": "crackdown", "targets": ["MMR", "USA"], "start": "2023-02"}])


def test_the_record_fills_in_every_default():
    res = sim.run("baseline", world="teaching", steps=3,
                  events=[{"kind": "crackdown", "targets": ["MMR"]}])
    (event,) = res.config["scenario"]["events"]
    assert event["start"] == "2025-01" and event["duration_months"] == 12
    assert event["intensity"] == 0.6 and event["split_effort"] is False
    assert res.config["world"]["groups"]["asean"]
    assert set(res.config["world"]) == set(WORLD_KEYS)


def _cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["seed=inf"], "config error: seed must be an integer, got inf"),
        (["params.detection_lag=nan"], "config error: params.detection_lag must be an integer"),
        (["start=0000-01"], "config error: start must be a month YYYY-MM"),
        (["start=9999-12"], "config error: steps = 120 from start=9999-12 runs past 9999-12"),
        (["world.groups=null"], "config error: world.groups must map group names"),
        (["world.initial_presence=null"], "config error: world.initial_presence must map"),
        (["world.jurisdictions=[N,o]"], "config error: world.jurisdictions has unknown ISO3"),
        (["params.raid_rate=1e300"], "config error: params.raid_rate = 1e+300 is out of range"),
        (["hydra.run.dir=${nope}"], "config error: hydra.run.dir cannot be resolved"),
        (["hydra.run.dir=/etc/hostname"], "config error: hydra.run.dir = /etc/hostname is an "
                                          "existing file"),
        (["--multirun", "hydra.launcher.n_jobs=0"],
         "config error: hydra.launcher.n_jobs = 0 is not allowed"),
        (["app", "--port", "99999"], "error: --port = 99999 is out of range"),
    ],
)
def test_cli_refusals_are_one_line_exit_2(tmp_path, args, expected):
    extra = [] if args[0] == "app" else ["world=teaching"]
    proc = _cli(*args, *extra, cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith(expected), lines[0]
    assert list(tmp_path.iterdir()) == []


def test_cli_short_runs_and_dict_overrides_work(tmp_path):
    out = tmp_path / "run"
    proc = _cli("world=teaching", "steps=6", "plot=false", "world.initial_presence={MMR:5000}",
                "world.jurisdictions=null", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "n/a (under a year)" in proc.stdout
    import yaml

    config = yaml.safe_load((out / "resolved_config.yaml").read_text())
    # Hydra merges a dict override into the world's own presence.
    assert config["world"]["initial_presence"]["MMR"] == 5000
    assert config["world"]["jurisdictions"] is None
