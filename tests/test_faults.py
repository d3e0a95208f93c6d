"""Results that survive faults: broken run files, a failing aggregate, other code, bad names.

Sweeps run in-process through ``sim.cli.main`` (basic launcher, teaching world,
a few months) so each case takes about a second.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import sim
from sim.analysis import sweep as sweep_mod
from sim.analysis.sweep import AGGREGATE_FILES, aggregate
from sim.cli import main
from sim.core.errors import ConfigError
from sim.identity import CODE_VERSION_ENV, MANIFEST, verify_run
from sim.results import CONTRACT_FILES

ARGS = ["--multirun", "world=teaching", "steps=6", "seed=1,2", "plot=false",
        "hydra/launcher=basic"]


def _main(args: list[str], capsys) -> tuple[int, str]:
    """Exit code and stderr of ``scamsim ARGS``, run in this process."""
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def _errors(err: str) -> list[str]:
    """The lines of stderr that are not the progress bar."""
    return [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("sweep:")
            and "run/s" not in ln]


@pytest.fixture(autouse=True)
def _pinned_code_version(monkeypatch):
    # Other engineers edit sim/core concurrently: pin the code version for stable ids.
    monkeypatch.setenv(CODE_VERSION_ENV, "test-1")


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished two-run sweep, never modified (tests work on copies)."""
    root = tmp_path_factory.mktemp("finished") / "sweep"
    mp = pytest.MonkeyPatch()
    mp.setenv(CODE_VERSION_ENV, "test-1")
    try:
        with pytest.raises(SystemExit) as exc:
            main([*ARGS, f"hydra.sweep.dir={root}"])
        assert exc.value.code == 0
    finally:
        mp.undo()
    assert (root / "runs.parquet").exists()
    return root


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


@pytest.mark.parametrize("damage", ["truncate", "delete"])
@pytest.mark.parametrize("name", CONTRACT_FILES)
def test_a_broken_run_file_is_redone_on_resume(finished, tmp_path, capsys, name, damage):
    root = _copy(finished, tmp_path / "sweep")
    run = sorted((root / "runs").iterdir())[0]
    before = (run / name).read_bytes()
    if damage == "truncate":
        (run / name).write_bytes(before[: len(before) // 2])
    else:
        (run / name).unlink()
    assert verify_run(run) is not None
    code, err = _main([*ARGS, f"hydra.sweep.dir={root}"], capsys)
    assert code == 0, err
    redone = [ln for ln in err.splitlines() if ln.startswith("sweep: redoing")]
    assert len(redone) == 1 and run.name in redone[0] and name in redone[0], err
    assert verify_run(run) is None
    if name == "summary.json":  # the wall time differs; every number is the same
        old, new = json.loads(before), json.loads((run / name).read_text())
        old.pop("wall_time_s"), new.pop("wall_time_s")
        assert old == new
    else:
        assert (run / name).read_bytes() == before
    for f in ("runs.parquet", "timeseries.parquet", "summary.csv"):
        assert (root / f).read_bytes() == (finished / f).read_bytes(), f


def test_aggregate_plot_and_report_name_the_broken_run(finished, tmp_path, capsys):
    root = _copy(finished, tmp_path / "sweep")
    run = sorted((root / "runs").iterdir())[1]
    (run / "events.parquet").write_bytes(b"PAR1")
    code, err = _main(["aggregate", str(root)], capsys)
    assert code == 2
    assert len(_errors(err)) == 1 and run.name in err and "events.parquet" in err, err
    for command in ("plot", "report"):
        code, err = _main([command, str(run)], capsys)
        assert code == 2 and len(_errors(err)) == 1, err
        assert "events.parquet" in err and str(run) in err
    other = sorted((root / "runs").iterdir())[0]
    (other / "timeseries.parquet").unlink()
    code, err = _main(["plot", str(other)], capsys)
    assert code == 2 and len(_errors(err)) == 1 and "timeseries.parquet" in err, err


@pytest.mark.parametrize("writer", ["summary_table", "_write_timeseries", "_install"])
def test_a_failed_aggregate_leaves_the_previous_one_whole(finished, tmp_path, monkeypatch,
                                                          writer):
    root = _copy(finished, tmp_path / "sweep")
    before = {f: (root / f).read_bytes() for f in AGGREGATE_FILES}
    current = sweep_mod.aggregate_dir(root)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(sweep_mod, writer, boom)
    with pytest.raises(OSError, match="disk full"):
        aggregate(root, force=True)
    assert {f: (root / f).read_bytes() for f in AGGREGATE_FILES} == before
    assert sweep_mod.aggregate_dir(root) == current
    leftovers = [p.name for p in (root / ".aggregate").iterdir()]
    assert sorted(leftovers) == sorted(["current", current.name])


def test_readers_see_one_generation(finished, tmp_path):
    root = _copy(finished, tmp_path / "sweep")
    for f in AGGREGATE_FILES:
        assert (root / f).is_symlink()
        assert (root / f).resolve().parent == sweep_mod.aggregate_dir(root).resolve()
    first = sweep_mod.aggregate_dir(root)
    aggregate(root, force=True)
    assert sweep_mod.aggregate_dir(root) != first and not first.exists()
    assert (root / "runs.parquet").read_bytes() == (finished / "runs.parquet").read_bytes()


def test_runs_of_other_code_are_refused_or_kept_apart(finished, tmp_path, capsys, monkeypatch):
    root = _copy(finished, tmp_path / "sweep")
    monkeypatch.setenv(CODE_VERSION_ENV, "test-2")
    before = sorted(p.name for p in (root / "runs").iterdir())
    code, err = _main([*ARGS, f"hydra.sweep.dir={root}"], capsys)
    assert code == 2 and len(_errors(err)) == 1, err
    assert "other_versions" in err and "test-1" in err and "test-2" in err
    assert sorted(p.name for p in (root / "runs").iterdir()) == before  # nothing run
    code, err = _main([*ARGS, "other_versions=keep_apart", f"hydra.sweep.dir={root}"], capsys)
    assert code == 0, err
    record = json.loads((root / "sweep.json").read_text())
    assert record["runs"] == 4 and record["conditions"] == 2
    assert record["code_versions"] == ["test-1", "test-2"]
    assert "code_version" in record["condition_columns"]


def test_an_unrelated_sweep_into_the_same_folder_is_refused(finished, tmp_path, capsys):
    root = _copy(finished, tmp_path / "sweep")
    args = [a if a != "steps=6" else "steps=7" for a in ARGS]
    code, err = _main([*args, f"hydra.sweep.dir={root}"], capsys)
    assert code == 2 and len(_errors(err)) == 1 and "sweep_name=" in err, err
    assert len(list((root / "runs").iterdir())) == 2
    # New conditions of the same design (more seeds) are welcome.
    more = [a if a != "seed=1,2" else "seed=1,2,3" for a in ARGS]
    code, err = _main([*more, f"hydra.sweep.dir={root}"], capsys)
    assert code == 0, err
    assert json.loads((root / "sweep.json").read_text())["runs"] == 3


@pytest.mark.parametrize(
    "override",
    ["sweep_name=../../x", "scenario.name=../../../x", "world.name=../..",
     "sweep_name=a/b", "scenario=../world/teaching"],
)
def test_names_never_leave_the_results_folder(tmp_path, capsys, monkeypatch, override):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for mode in ([], ["--multirun"]):
        code, err = _main([*mode, "world=teaching", "steps=2", "plot=false", override], capsys)
        assert code == 2 and len(_errors(err)) == 1 and err.startswith("config error:"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert list(work.iterdir()) == []


def test_a_scenario_file_with_an_escaping_name_is_refused(tmp_path, capsys, monkeypatch):
    configs = tmp_path / "configs"
    shutil.copytree(Path(sim.__file__).parents[1] / "configs", configs)
    (configs / "scenario" / "evil.yaml").write_text(
        "# @package _global_\nscenario:\n  name: ../../../evil\n  events: []\n")
    (configs / "scenario" / "empty.yaml").write_text("")
    monkeypatch.setenv("SCAMSIM_CONFIG_DIR", str(configs))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for scenario, words in (("evil", "scenario.name"), ("empty", "has no scenario.name")):
        code, err = _main([f"scenario={scenario}", "world=teaching", "steps=2"], capsys)
        assert code == 2 and len(_errors(err)) == 1 and words in err, err
    assert list(work.iterdir()) == []
    with pytest.raises(ConfigError, match="not a valid name"):
        sim.run(scenario="../world/teaching")
    with pytest.raises(ConfigError, match=r"scenario\.name"):
        sim.run(scenario="evil", world="teaching", steps=2)


def test_a_single_run_replaces_a_previous_one_without_stale_files(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "activity_by_region.png").write_bytes(b"old figure")
    (out / "summary.json").write_text("{}")
    code, err = _main(["world=teaching", "steps=3", "plot=false", f"hydra.run.dir={out}"],
                      capsys)
    assert code == 0, err
    assert "replacing the previous run" in err
    assert not (out / "activity_by_region.png").exists()
    assert verify_run(out) is None and (out / MANIFEST).exists()
