"""Sweeps: replicate seeding, run identity, aggregation, launchers, resume, errors."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.sweep import aggregate, bootstrap_ci
from sim.cli import precheck
from sim.config import compose, validate
from sim.identity import replicate_seeds, run_dir_name, run_id

SWEEP = ["scenario=baseline,whack_a_mole", "world=teaching", "replicates=3", "steps=36"]


def _cli(*args: str, cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, **kw)


def test_replicate_seeds_are_deterministic_and_distinct():
    a = replicate_seeds(7, 20)
    assert a == replicate_seeds(7, 20)
    assert a[0] == 7 and len(set(a)) == 20
    assert replicate_seeds(8, 20)[1:] != a[1:]
    assert replicate_seeds(7, 5) == a[:5]  # more replicates extend, never reshuffle
    assert all(0 <= s < 2**32 for s in a)


def test_run_id_tracks_what_changes_results():
    base = validate(compose("baseline", "teaching", {"seed": 1})).resolved
    same = validate(compose("baseline", "teaching", {"seed": 1, "plot": True})).resolved
    other_seed = validate(compose("baseline", "teaching", {"seed": 2})).resolved
    other_param = validate(compose("baseline", "teaching", {"seed": 1, "raid_rate": 0.3})).resolved
    assert run_id(base) == run_id(same)
    assert len({run_id(base), run_id(other_seed), run_id(other_param)}) == 3
    assert run_dir_name(base).startswith("baseline-teaching-s1-")


def test_bootstrap_ci_hand_checks():
    mean, lo, hi = bootstrap_ci(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert mean == 3.0 and 1.0 <= lo < 3.0 < hi <= 5.0
    assert bootstrap_ci(np.array([2.0, 2.0, 2.0])) == (2.0, 2.0, 2.0)
    m, lo, hi = bootstrap_ci(np.array([4.0]))
    assert m == 4.0 and np.isnan(lo) and np.isnan(hi)
    assert np.isnan(bootstrap_ci(np.array([np.nan]))[0])


@pytest.fixture(scope="module")
def api_sweep(tmp_path_factory):
    """A small sweep written through the Python API (no Hydra record of overrides)."""
    root = tmp_path_factory.mktemp("api_sweep")
    for scenario in ("baseline", "whack_a_mole"):
        for seed in replicate_seeds(3, 4):
            res = sim.run(scenario, world="teaching", seed=seed, steps=36)
            res.write(root / "runs" / run_dir_name(res.config))
    aggregate(root)
    return root


def test_aggregate_tables(api_sweep):
    runs = pd.read_parquet(api_sweep / "runs.parquet")
    assert len(runs) == 8 and runs["run_id"].is_unique
    assert {"condition", "cfg.seed", "cfg.scenario", "cfg.params.raid_rate", "workers_end",
            "hhi_end", "wdq"} <= set(runs.columns)
    assert set(runs["condition"]) == {"scenario=baseline", "scenario=whack_a_mole"}
    ts = pd.read_parquet(api_sweep / "timeseries.parquet")
    assert len(ts) == 8 * 13 * 37
    assert set(ts["run_id"]) == set(runs["run_id"])
    summary = pd.read_csv(api_sweep / "summary.csv")
    assert list(summary["runs"]) == [4, 4]
    for _, row in summary.iterrows():
        group = runs[runs["condition"] == row["condition"]]
        assert row["workers_end_mean"] == pytest.approx(group["workers_end"].mean())
        assert row["workers_end_ci_low"] <= row["workers_end_mean"] <= row["workers_end_ci_high"]
    record = json.loads((api_sweep / "sweep.json").read_text())
    assert record["runs"] == 8 and record["conditions"] == 2


def test_aggregate_command(api_sweep, tmp_path):
    proc = _cli("aggregate", str(api_sweep), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "8 runs, 2 condition(s)" in proc.stdout
    empty = _cli("aggregate", str(tmp_path), cwd=tmp_path)
    assert empty.returncode == 2 and "no finished runs" in empty.stderr


def test_sweep_with_replicates_on_the_command_line(tmp_path):
    out = tmp_path / "sweep"
    proc = _cli("--multirun", *SWEEP, "hydra/launcher=basic", f"hydra.sweep.dir={out}",
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "6/6" in proc.stderr  # the progress bar reached the total
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 6
    for _, group in runs.groupby("condition"):
        assert sorted(group["cfg.seed"]) == sorted(replicate_seeds(1, 3))
    for d in (out / "runs").iterdir():
        summary = json.loads((d / "summary.json").read_text())
        assert d.name.endswith(summary["run_id"])


def test_same_aggregate_whatever_the_launcher(tmp_path):
    outs = {}
    for name, extra in (
        ("basic", ["hydra/launcher=basic"]),
        ("joblib2", ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]),
        ("local", []),  # the default: joblib on all cores, batches of four
        ("submitit", ["hydra/launcher=submitit_local"]),
    ):
        out = tmp_path / name
        proc = _cli("--multirun", *SWEEP, *extra, f"hydra.sweep.dir={out}", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        outs[name] = out
    for f in ("runs.parquet", "summary.csv", "timeseries.parquet"):
        ref = (outs["basic"] / f).read_bytes()
        for name in ("joblib2", "local", "submitit"):
            assert (outs[name] / f).read_bytes() == ref, (name, f)


def test_ray_launcher_when_installed(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_ray_launcher")
    out = tmp_path / "ray"
    proc = _cli("--multirun", *SWEEP, "hydra/launcher=ray", f"hydra.sweep.dir={out}",
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_parquet(out / "runs.parquet")) == 6


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("launcher", "sig"),
    [("basic", signal.SIGKILL), ("local", signal.SIGINT)],
    ids=["killed", "ctrl-c"],
)
def test_interrupted_sweep_resumes_without_redoing_finished_runs(tmp_path, launcher, sig):
    out = tmp_path / "sweep"
    args = ["--multirun", "scenario=baseline,mekong_crackdown,whack_a_mole", "world=world",
            "replicates=4", f"hydra/launcher={launcher}", f"hydra.sweep.dir={out}"]
    # A test runner started in the background inherits an ignored SIGINT (and Python
    # keeps it ignored); give the sweep the default disposition a terminal gives it.
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_default_sigint)
    deadline = time.time() + 300
    while time.time() < deadline and len(list(out.glob("runs/*/manifest.json"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, sig)  # the whole process group, as a terminal's Ctrl-C does
    if sig == signal.SIGINT:
        # On a cold start a first Ctrl-C has been seen lost while the launcher's worker
        # pool was busy; press it again until the sweep stops, as a user would.
        for _ in range(200):
            try:
                proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "run the same command again to resume" in err
    finished = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/manifest.json")}
    assert 3 <= len(finished) < 12, "the sweep should have been stopped midway"
    assert not (out / "runs.parquet").exists()
    # Every result file present is complete; only hidden temporaries may be partial.
    for d in (out / "runs").iterdir():
        for f in d.glob("*.parquet"):
            pd.read_parquet(f)
        if (d / "summary.json").exists():
            json.loads((d / "summary.json").read_text())
    proc2 = _cli(*args, cwd=tmp_path)
    assert proc2.returncode == 0, proc2.stderr
    for p, mtime in finished.items():
        assert p.stat().st_mtime_ns == mtime, f"{p.parent.name} was redone"
    assert len(list(out.glob("runs/*/manifest.json"))) == 12
    assert not list(out.glob("runs/*/.*.tmp"))
    # The resumed sweep equals an uninterrupted one.
    fresh = tmp_path / "fresh"
    args_fresh = [a if not a.startswith("hydra.sweep.dir") else f"hydra.sweep.dir={fresh}"
                  for a in args]
    assert _cli(*args_fresh, cwd=tmp_path).returncode == 0
    for f in ("runs.parquet", "summary.csv", "timeseries.parquet"):
        assert (out / f).read_bytes() == (fresh / f).read_bytes(), f


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["replicates=0"], "config error: replicates = 0 is out of range"),
        (["replicates=2,3"], "config error: replicates cannot be swept"),
        (["seed=1,2", "replicates=3"], "config error: seed cannot be swept together"),
        (["scenario=glob(nope*)"], "config error: scenario sweep has no values"),
        (["params.raid_rate=0.1,2.0"], "config error: params.raid_rate = 2.0 is out of range"),
        (["seed=range(a)"], "config error: command line cannot be parsed"),
        (["sweep=nope"], "config error: sweep = 'nope' is not known"),
        (["params.raid_rat=range(1,3)"], "config error: params.raid_rat is not a model parameter"),
    ],
)
def test_malformed_sweeps_fail_in_one_line_and_run_nothing(tmp_path, args, expected):
    out = tmp_path / "sweep"
    proc = _cli("--multirun", *args, "world=teaching", f"hydra.sweep.dir={out}", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), proc.stderr
    assert not out.exists()


def test_sweep_files_count_their_runs():
    plan = precheck(["--multirun", "sweep=coordination"])
    assert plan.runs == 3 * 20 and plan.replicates == 20
    assert plan.sweep_dir is not None and plan.sweep_dir.name == "coordination"
    plan = precheck(["--multirun", "sweep=raid_rate_by_exit", "replicates=2"])
    assert plan.runs == 3 * 3 * 2


def test_ready_slurm_launcher_config_composes():
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from sim.cli import _register_schema
    from sim.resources import configs_dir

    GlobalHydra.instance().clear()
    _register_schema()
    with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
        overrides = ["hydra/launcher=slurm", "hydra.launcher.partition=short"]
        cfg = compose("config", overrides=overrides, return_hydra_config=True)
    GlobalHydra.instance().clear()
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert launcher.partition == "short" and launcher.cpus_per_task == 1
    assert launcher.array_parallelism == 256


def test_aggregate_measures_each_run_against_its_seeds_baseline(tmp_path):
    # The sweep's baseline run of a seed is the control of that seed's other runs: the
    # aggregate gives the numbers sim.run(..., control="baseline") gives, and a run with
    # no baseline of its seed keeps its before/after values.
    seeds = replicate_seeds(5, 3)
    for seed in seeds:
        for scenario in ("baseline", "mekong_crackdown"):
            res = sim.run(scenario, world="teaching", seed=seed, steps=60)
            res.write(tmp_path / "runs" / run_dir_name(res.config))
    lone = sim.run("mekong_crackdown", world="teaching", seed=99, steps=60)
    lone.write(tmp_path / "runs" / run_dir_name(lone.config))
    aggregate(tmp_path)
    runs = pd.read_parquet(tmp_path / "runs.parquet").set_index("cfg.seed")
    crack = runs[runs["cfg.scenario"] == "mekong_crackdown"]
    keys = ("wdq", "total_net_effect", "wdq_buffer", "moved_share", "removed_share",
            "global_change_vs_control")
    for seed in seeds:
        paired = sim.run("mekong_crackdown", world="teaching", seed=seed, steps=60,
                         control="baseline").summary
        row = crack.loc[seed]
        assert row["displacement_control"] == "control run"
        assert row["control_run_id"] == runs[(runs.index == seed)
                                             & (runs["cfg.scenario"] == "baseline")
                                             ]["run_id"].item()
        for k in keys:
            assert row[k] == pytest.approx(paired[k], nan_ok=True), k
        assert np.isfinite(row["wdq"])
    alone = crack.loc[99]
    assert alone["displacement_control"] == "none"
    assert alone["wdq"] == pytest.approx(lone.summary["wdq_no_control"], nan_ok=True)
    summary = pd.read_csv(tmp_path / "summary.csv")
    row = summary[summary["scenario"] == "mekong_crackdown"].iloc[0]
    assert row["wdq_mean"] == pytest.approx(crack["wdq"].mean())


def test_an_aggregate_of_another_format_is_rebuilt(api_sweep):
    from sim.analysis import sweep as sw

    assert aggregate(api_sweep)["rebuilt"] is False  # same runs, same format: kept
    stamp = sw.aggregate_dir(api_sweep) / sw.INPUTS_STAMP
    version, _, rest = stamp.read_text().strip().split(" ", 2)
    stamp.write_text(f"{version} format-1 {rest}\n")  # as an older aggregator wrote it
    assert aggregate(api_sweep)["rebuilt"] is True
    assert aggregate(api_sweep)["rebuilt"] is False
