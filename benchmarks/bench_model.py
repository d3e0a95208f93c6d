"""Benchmark: one default world run, and the model's cost per compound-step next to
Mesa's own BoltzmannWealth example cost per agent-step at the same agent count.

    python benchmarks/bench_model.py [--repeats 10] [--json results/benchmarks/model.json]
    python benchmarks/bench_model.py --against OTHER_CHECKOUT [--rounds 2] [--repeats 15]

Without ``--against`` everything runs in this one process; figures are medians
over repeats. With ``--against``, another checkout of the project (e.g. ``git
worktree add ../v1 3b7c339``, the last commit of the v1 model) is benchmarked by
its own copy of this script, alternating with this checkout round by round (each
in a fresh process, on the same machine within minutes), and the ranges over the
rounds are printed side by side: the machine's speed changes from day to day, so
only versions measured together compare.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mesa
import numpy as np
from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

import sim
from sim.config import compose, validate
from sim.runner import build_model


def time_full_run(repeats: int) -> tuple[list[float], list[float], int]:
    """Wall and CPU time of ``sim.run('baseline', world='world')`` (120 steps, contract
    built). CPU time (``time.process_time``) is less sensitive to other load on the machine."""
    times, cpu = [], []
    for seed in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        res = sim.run("baseline", world="world", seed=seed)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return times, cpu, res.summary["compounds_end"]


def time_model_steps(repeats: int, steps: int = 120) -> tuple[list[float], float]:
    """Seconds per compound-step of the model's step() (set-up excluded)."""
    per, counts = [], []
    for seed in range(repeats):
        model = build_model(validate(compose("baseline", "world", {"seed": seed})))
        t0 = time.perf_counter()
        model.run_for(steps)
        elapsed = time.perf_counter() - t0
        compound_steps = model.rec["compounds"][1:].sum()
        counts.append(compound_steps / steps)
        per.append(elapsed / compound_steps)
    return per, statistics.mean(counts)  # compounds per month, averaged over the seeds


def time_boltzmann(n_agents: int, repeats: int, steps: int = 120) -> list[float]:
    """Seconds per agent-step of Mesa's BoltzmannWealth with ``n_agents`` agents."""
    side = int(np.ceil(np.sqrt(n_agents / 1.0)))
    per = []
    for seed in range(repeats):
        model = BoltzmannWealth(BoltzmannScenario(rng=seed, n=n_agents, width=side, height=side))
        t0 = time.perf_counter()
        model.run_for(steps)
        per.append((time.perf_counter() - t0) / (steps * n_agents))
    return per


ROOT = Path(__file__).resolve().parents[1]
COMPARED = (  # (key of the JSON, label, format) of the side-by-side table
    ("world_run_s_median", "one default world run (s)", "{:.3f}"),
    ("model_us_per_compound_step_median", "µs per compound-step", "{:.2f}"),
    ("mean_compounds", "compounds (mean)", "{:.0f}"),
    ("boltzmann_us_per_agent_step_median", "Boltzmann µs per agent-step", "{:.2f}"),
    ("ratio_ours_to_boltzmann", "ratio", "{:.2f}"),
)


def bench_checkout(root: Path, repeats: int) -> dict[str, float]:
    """Run ``root``'s own copy of this script in a fresh process on ``root``'s package."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "model.json"
        subprocess.run(
            [sys.executable, str(root / "benchmarks" / "bench_model.py"),
             "--repeats", str(repeats), "--json", str(out)],
            cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, check=True,
            stdout=subprocess.DEVNULL,
        )
        return json.loads(out.read_text())


def compare(other: Path, rounds: int, repeats: int) -> dict[str, list[dict[str, float]]]:
    """This checkout and ``other``, alternating for ``rounds`` rounds; printed side by side."""
    if not (other / "benchmarks" / "bench_model.py").is_file():
        raise SystemExit(f"--against: {other} has no benchmarks/bench_model.py "
                         "(give the root of a checkout of this project)")
    runs: dict[str, list[dict[str, float]]] = {"this": [], "other": []}
    for k in range(rounds):
        for name, root in (("other", other), ("this", ROOT)):
            runs[name].append(bench_checkout(root, repeats))
            print(f"round {k + 1}/{rounds}: {name} done", file=sys.stderr)
    print(f"| measure | {other.name} (against) | this checkout |")
    print("|---|---|---|")
    for key, label, fmt in COMPARED:
        cells = []
        for name in ("other", "this"):
            values = [r[key] for r in runs[name] if key in r]
            lo, hi = (fmt.format(min(values)), fmt.format(max(values))) if values else ("–",) * 2
            cells.append(lo if lo == hi else f"{lo}–{hi}")
        print(f"| {label} | {cells[0]} | {cells[1]} |")
    plural = "s" if rounds > 1 else ""
    print(f"({rounds} round{plural} of {repeats} repeats each, alternating; "
          "ranges over the rounds)")
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    ap.add_argument("--against", type=Path, default=None,
                    help="root of another checkout to benchmark alongside this one")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds with --against")
    args = ap.parse_args()
    for name in ("repeats", "rounds"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    if args.against is not None:
        runs = compare(args.against.resolve(), args.rounds, args.repeats)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(runs, indent=2) + "\n")
        return

    sim.run("baseline", world="teaching", seed=0, steps=12)  # warm caches and imports
    full, full_cpu, _ = time_full_run(args.repeats)
    ours, n = time_model_steps(args.repeats)
    n_agents = round(n)
    boltz = time_boltzmann(n_agents, args.repeats)
    med = statistics.median
    out = {
        "python": platform.python_version(),
        "mesa": mesa.__version__,
        "scamsim": sim.results.package_version(),
        "repeats": args.repeats,
        "world_run_s_median": med(full),
        "world_run_s_min": min(full),
        "world_run_s_max": max(full),
        "world_run_cpu_s_median": med(full_cpu),
        "mean_compounds": n,
        "model_us_per_compound_step_median": 1e6 * med(ours),
        "boltzmann_agents": n_agents,
        "boltzmann_us_per_agent_step_median": 1e6 * med(boltz),
        "ratio_ours_to_boltzmann": med(ours) / med(boltz),
    }
    print(f"default world run (baseline, 120 steps, results built): "
          f"median {out['world_run_s_median']:.3f} s "
          f"(min {out['world_run_s_min']:.3f}, max {out['world_run_s_max']:.3f}, "
          f"{args.repeats} runs; CPU median {out['world_run_cpu_s_median']:.3f} s)")
    print(f"scamsim step cost: {out['model_us_per_compound_step_median']:.2f} µs per "
          f"compound-step (mean {n:.0f} compounds)")
    print(f"Mesa BoltzmannWealth: {out['boltzmann_us_per_agent_step_median']:.2f} µs per "
          f"agent-step ({n_agents} agents)")
    print(f"ratio scamsim / Boltzmann: {out['ratio_ours_to_boltzmann']:.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
