"""Sweep throughput: runs per minute with 1 and 2 joblib workers on the default world.

    python benchmarks/bench_sweep.py [--runs 200] [--workers 1 2] [--keep DIR]

Each measurement is a real ``scamsim --multirun`` in a fresh sweep folder
(process start-up, every run's results contract and the final aggregate
included). Parallel efficiency = T(1) / (k * T(k)).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIOS = "baseline,mekong_crackdown"


def sweep_seconds(runs: int, workers: int, folder: Path) -> float:
    """Wall time of one sweep of ``runs`` world runs with ``workers`` joblib workers."""
    replicates = max(1, runs // 2)
    cmd = [
        sys.executable, "-m", "sim", "--multirun", f"scenario={SCENARIOS}", "world=world",
        f"replicates={replicates}", "hydra/launcher=joblib", f"hydra.launcher.n_jobs={workers}",
        f"hydra.sweep.dir={folder}",
    ]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    done = len(list(folder.glob("runs/*/summary.json")))
    if done != 2 * replicates:
        raise RuntimeError(f"expected {2 * replicates} runs, found {done}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for w in args.workers:
            secs = sweep_seconds(args.runs, w, Path(tmp) / f"w{w}")
            results[w] = secs
            print(f"{w} worker(s): {args.runs} runs in {secs:.1f} s = "
                  f"{60 * args.runs / secs:.0f} runs/min")
    base = results.get(1)
    out = {"runs": args.runs, "seconds": results}
    if base:
        for w, secs in results.items():
            if w > 1:
                eff = base / (w * secs)
                out[f"efficiency_{w}"] = eff
                print(f"parallel efficiency with {w} workers: {100 * eff:.0f}%")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
