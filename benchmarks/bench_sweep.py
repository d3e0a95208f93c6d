"""Sweep throughput: runs per minute with 1 and 2 workers (the default `local` joblib
launcher) on the default world.

    python benchmarks/bench_sweep.py [--runs 200] [--workers 1 2] [--json PATH]

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


def sweep_seconds(runs: int, workers: int, folder: Path) -> tuple[float, float]:
    """Wall time of one sweep of ``runs`` world runs with ``workers`` joblib workers, and
    its steady-state time (first to last finished run, start-up and aggregate excluded)."""
    replicates = max(1, runs // 2)
    cmd = [
        sys.executable, "-m", "sim", "--multirun", f"scenario={SCENARIOS}", "world=world",
        f"replicates={replicates}", "hydra/launcher=local", f"hydra.launcher.n_jobs={workers}",
        f"hydra.sweep.dir={folder}",
    ]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    stamps = sorted(p.stat().st_mtime for p in folder.glob("runs/*/summary.json"))
    if len(stamps) != 2 * replicates:
        raise RuntimeError(f"expected {2 * replicates} runs, found {len(stamps)}")
    # n finished runs span n - 1 intervals; scale to n runs.
    steady = (stamps[-1] - stamps[0]) * len(stamps) / (len(stamps) - 1)
    return elapsed, steady


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    total, steady = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for w in args.workers:
            total[w], steady[w] = sweep_seconds(args.runs, w, Path(tmp) / f"w{w}")
            print(f"{w} worker(s): {args.runs} runs in {total[w]:.1f} s end to end = "
                  f"{60 * args.runs / total[w]:.0f} runs/min; steady state "
                  f"{60 * args.runs / steady[w]:.0f} runs/min")
    out = {"runs": args.runs, "seconds_total": total, "seconds_steady": steady}
    if 1 in total:
        for w in total:
            if w > 1:
                out[f"efficiency_total_{w}"] = total[1] / (w * total[w])
                out[f"efficiency_steady_{w}"] = steady[1] / (w * steady[w])
                print(f"parallel efficiency with {w} workers: steady state "
                      f"{100 * out[f'efficiency_steady_{w}']:.0f}%, end to end "
                      f"{100 * out[f'efficiency_total_{w}']:.0f}%")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
