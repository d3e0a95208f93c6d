"""scamsim works installed from its wheel, from any directory, with no checkout around.

The wheel is built from the checkout and installed into a fresh virtual
environment outside it. To stay fast and offline, that environment takes the
third-party dependencies from the test environment's site-packages (added as a
plain path, so the checkout's editable install is not visible there) and
installs only scamsim itself, from the wheel, with ``--no-deps``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pandas as pd
import pytest

import sim

CHECKOUT = Path(sim.__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (CHECKOUT / "pyproject.toml").exists(),
                                reason="needs the source checkout to build the wheel")


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("install")
    dist = base / "dist"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SCAMSIM_RESULTS_DIR",
                                                            "SCAMSIM_CONFIG_DIR")}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", str(dist), str(CHECKOUT)], cwd=base, env=env)
    wheels = list(dist.glob("scamsim-*.whl"))
    assert len(wheels) == 1, wheels
    target = base / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     cwd=base, env=env).strip())
    # Dependencies from the test environment, as a plain path: .pth files there (the
    # editable install of the checkout) are not processed.
    (site / "scamsim_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheels[0])],
         cwd=base, env=env)
    work = base / "elsewhere"
    work.mkdir()
    return target, work, env


def test_wheel_ships_configs_and_data(installed):
    target, work, env = installed
    out = _run([str(target / "bin" / "python"), "-c",
                "import sim, sim.resources as r; print(sim.__file__); print(r.configs_dir()); "
                "print(r.data_path('world.csv').exists())"], cwd=work, env=env)
    module, configs, has_table = out.split()
    assert Path(module).is_relative_to(target), f"imported {module}, not the installed package"
    assert Path(configs).is_relative_to(target) and (Path(configs) / "scenario").is_dir()
    assert has_table == "True"


def test_api_runs_a_scenario(installed):
    target, work, env = installed
    code = ("import sim; r = sim.run('mekong_crackdown', world='teaching', seed=2, steps=30); "
            "h = sim.run('baseline', world='teaching', seed=2, steps=3, paramset='handset'); "
            "print(r.summary['workers_end'], r.summary['targets'], h.config['paramset'])")
    out = _run([str(target / "bin" / "python"), "-c", code], cwd=work, env=env)
    assert "['MMR']" in out and out.split()[-1] == "handset"  # the named set is shipped
    assert int(out.split()[0]) > 0


def test_command_line_run_and_multirun(installed):
    target, work, env = installed
    scamsim = str(target / "bin" / "scamsim")
    _run([scamsim, "world=teaching", "steps=24"], cwd=work, env=env)
    run = work / "results" / "runs" / "baseline" / "teaching" / "seed_1"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 24
    assert (run / "activity_by_region.png").stat().st_size > 10_000
    _run([scamsim, "--multirun", "world=teaching", "steps=24",
          "scenario=baseline,mekong_crackdown"], cwd=work, env=env)
    runs = pd.read_parquet(work / "results" / "sweeps" / "sweep" / "runs.parquet")
    assert sorted(runs["cfg.scenario"]) == ["baseline", "mekong_crackdown"]


def test_results_dir_from_the_environment(installed):
    target, work, env = installed
    elsewhere = work / "chosen-root"
    _run([str(target / "bin" / "scamsim"), "world=teaching", "steps=12", "plot=false"],
         cwd=work, env={**env, "SCAMSIM_RESULTS_DIR": str(elsewhere)})
    assert (elsewhere / "runs" / "baseline" / "teaching" / "seed_1" / "summary.json").exists()


def test_quick_study(installed):
    target, work, env = installed
    _run([str(target / "bin" / "scamsim"), "study", "displacement", "--quick", "--replicates",
          "2", "--jobs", "2"], cwd=work, env=env, timeout=600)
    study = work / "results" / "displacement"
    assert (study / "report.html").exists() and (study / "table.csv").exists()
    table = pd.read_csv(study / "table.csv")
    assert len(table) == 2  # baseline and the crackdown
