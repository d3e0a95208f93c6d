"""Sweeps and processes: two sweeps into one folder, and a sweep whose main process is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.identity import CODE_VERSION_ENV, verify_run

ENV = {**os.environ, CODE_VERSION_ENV: "test-processes", "PYTHONHASHSEED": "0"}


def _popen(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=cwd, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (psutil if installed, else /proc)."""
    try:
        import psutil

        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except ImportError:
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        out, todo = [], [pid]
        while todo:
            for c in children.get(todo.pop(), []):
                out.append(c)
                todo.append(c)
        return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_two_sweeps_into_one_folder_at_once(tmp_path):
    out = tmp_path / "sweep"
    args = ["--multirun", "world=teaching", "steps=12", "replicates=4", "plot=false",
            "hydra/launcher=basic", f"hydra.sweep.dir={out}"]
    procs = [_popen(args, tmp_path) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results
    for code, err in results:
        assert "Traceback" not in err, err
        if code == 2:
            lines = [ln for ln in err.splitlines() if ln.strip()]
            assert len(lines) == 1 and "in use by another sweep" in lines[0], err
    runs = sorted((out / "runs").iterdir())
    assert len(runs) == 4 and all(verify_run(d) is None for d in runs)
    assert json.loads((out / "sweep.json").read_text())["runs"] == 4
    assert not list(out.glob("runs/*/.*.tmp"))


def test_killing_the_main_process_ends_its_workers(tmp_path):
    out = tmp_path / "sweep"
    args = ["--multirun", "world=world", "replicates=40", "plot=false",
            "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={out}"]
    proc = _popen(args, tmp_path)
    workers: list[int] = []
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not list(out.glob("runs/*/manifest.json")):
            time.sleep(0.1)
        workers = _descendants(proc.pid)
        assert workers, "the sweep should have started its workers"
        proc.send_signal(signal.SIGKILL)  # the main process only, not its group
        proc.wait(timeout=30)
        deadline = time.time() + 10
        while time.time() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.2)
        left = [w for w in workers if _alive(w)]
        assert not left, f"workers still running after the main process was killed: {left}"
    finally:
        for w in workers:  # never leave ~300 MB processes behind, even if the test fails
            if _alive(w):
                os.kill(w, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()


@pytest.mark.slow
def test_a_killed_sweep_resumes_after_its_workers_are_gone(tmp_path):
    out = tmp_path / "sweep"
    args = ["--multirun", "world=teaching", "steps=60", "replicates=30", "plot=false",
            "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={out}"]
    proc = _popen(args, tmp_path)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("runs/*/manifest.json"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(3)
    again = _popen(args, tmp_path)
    assert again.wait(timeout=600) == 0, again.stderr.read()
    assert json.loads((out / "sweep.json").read_text())["runs"] == 30
