"""Benchmark: one default world run, and the model's cost per compound-step next to
Mesa's own BoltzmannWealth example cost per agent-step at the same agent count.

    python benchmarks/bench_model.py [--repeats 10] [--json results/benchmarks/model.json]

Everything runs in this one process; figures are medians over repeats.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()

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
