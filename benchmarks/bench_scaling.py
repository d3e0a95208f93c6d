"""Benchmark: how the world model's cost per step and memory grow with the number of compounds.

    python benchmarks/bench_scaling.py [--sizes 1000 10000 30000] [--steps 24] [--repeats 5]
        [--large-repeats 3] [--json results/benchmarks/scaling.json]

Scaling: the baseline scenario on the full world table, with every hub's initial
workforce (``world.initial_presence``) multiplied by one factor so that the initial
compounds (workers / ``compound_size_mean`` per hub) reach the target count. The
parameters that fix the per-compound dynamics scale by the same factor:
``market_size_workers``, ``response_scale_workers``, ``pool_share`` (the labour
pools) and ``syndicates`` (capped at its upper bound, 10,000). The largest default
size, 30,000, keeps every hub below the 10 million workers a country may be given.

Time: set-up (building the model) is timed apart from the steps. The steps are
``steps`` calls of ``model.run_for(1)``, each timed; cost per step is their total
divided by ``steps`` (median over repeats, seeds 0, 1, ...). Compounds are the mean
over the timed steps of ``model.rec["compounds"]``. The log-log slope of cost per
step against compounds is fitted with ``numpy.polyfit``; linear growth is slope 1.

Memory: peak resident set size of a fresh Python process per size that imports the
package, builds one model (seed 0) and runs the same steps. On Linux the process's
own high-water mark (``VmHWM`` in ``/proc/self/status``) is read, reset after the
imports, because ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of a freshly started
process also counts the peak of the process that started it; elsewhere ``ru_maxrss``
is used. "model MB" is that peak minus the resident memory just before the model
was built (interpreter, numpy, Mesa, pandas). Not tracemalloc: RSS counts
everything, including Mesa's Python objects and allocator slack.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import mesa
import numpy as np

import sim
from sim.config import compose, validate
from sim.runner import build_model

SYNDICATES_MAX = 10_000  # upper bound of the ``syndicates`` parameter
LARGE = 20_000  # sizes from here on use --large-repeats


def scaled_config(target: int, seed: int, steps: int) -> tuple[dict[str, Any], float]:
    """The baseline world config scaled to about ``target`` initial compounds, and the factor."""
    cfg = compose("baseline", "world", {"seed": seed, "steps": steps})
    params = cfg["params"]
    presence = cfg["world"]["initial_presence"]
    size = params["compound_size_mean"]
    base = sum(max(1, round(w / size)) for w in presence.values())
    factor = target / base
    cfg["world"]["initial_presence"] = {c: round(w * factor) for c, w in presence.items()}
    params["market_size_workers"] = params["market_size_workers"] * factor
    params["response_scale_workers"] = params["response_scale_workers"] * factor
    # v2's labour is finite: the recruitable share of every source scales too, or a scaled
    # workforce would empty the pools in the first months and measure a collapse.
    params["pool_share"] = params["pool_share"] * factor
    params["syndicates"] = min(SYNDICATES_MAX, max(1, round(params["syndicates"] * factor)))
    return cfg, factor


def time_once(target: int, seed: int, steps: int) -> dict[str, Any]:
    """Set-up time and the time of each of ``steps`` steps of one model."""
    cfg, factor = scaled_config(target, seed, steps)
    spec = validate(cfg)
    gc.collect()
    t0 = time.perf_counter()
    model = build_model(spec)
    setup = time.perf_counter() - t0
    start_compounds = model.n_compounds
    step_times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        model.run_for(1)
        step_times.append(time.perf_counter() - t0)
    per_step_compounds = model.rec["compounds"][1 : steps + 1].sum(axis=1)
    out = {
        "factor": factor,
        "syndicates": spec.params.syndicates,
        "start_compounds": start_compounds,
        "mean_compounds": float(per_step_compounds.mean()),
        "setup_s": setup,
        "steps_s": float(sum(step_times)),
        "s_per_step": float(sum(step_times)) / steps,
        "median_step_s": statistics.median(step_times),
        "first_step_s": step_times[0],
        "us_per_compound_step": 1e6 * sum(step_times) / float(per_step_compounds.sum()),
    }
    del model
    gc.collect()
    return out


def time_size(target: int, steps: int, repeats: int) -> dict[str, Any]:
    """Medians over ``repeats`` models (seeds 0..repeats-1) of one size."""
    runs = [time_once(target, seed, steps) for seed in range(repeats)]
    med = statistics.median
    out: dict[str, Any] = {
        "target": target,
        "repeats": repeats,
        "factor": runs[0]["factor"],
        "syndicates": runs[0]["syndicates"],
        "start_compounds": runs[0]["start_compounds"],
    }
    for key in (
        "mean_compounds",
        "setup_s",
        "s_per_step",
        "median_step_s",
        "first_step_s",
        "us_per_compound_step",
    ):
        out[key] = med(r[key] for r in runs)
    out["s_per_step_min"] = min(r["s_per_step"] for r in runs)
    out["s_per_step_max"] = max(r["s_per_step"] for r in runs)
    return out


def _status_mb(field: str) -> float | None:
    """A ``Vm*`` field of ``/proc/self/status`` in MB (None where there is no procfs)."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return None


def _reset_peak() -> bool:
    """Reset this process's peak RSS (Linux ``clear_refs`` 5); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _getrusage_mb() -> float:
    """``ru_maxrss`` of this process in MB (KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _peak_mb() -> tuple[float, str]:
    """Peak RSS of this process and how it was read.

    On Linux ``ru_maxrss`` of a freshly started process also counts the peak of the
    process that started it (the kernel carries it over at exec), so the process's
    own high-water mark ``VmHWM`` is read instead; elsewhere ``ru_maxrss``.
    """
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm, "VmHWM"
    return _getrusage_mb(), "ru_maxrss"


def child_memory(target: int, steps: int) -> dict[str, Any]:
    """In a fresh process: resident memory before, and its peak while building and running."""
    cfg, _ = scaled_config(target, 0, steps)
    spec = validate(cfg)
    gc.collect()
    import_peak, how = _peak_mb()
    rss_now = _status_mb("VmRSS")
    reset = _reset_peak()
    before = rss_now if (reset and rss_now is not None) else import_peak
    model = build_model(spec)
    setup_peak, _ = _peak_mb()
    model.run_for(steps)
    peak, _ = _peak_mb()
    return {
        "method": how + (" (reset after imports)" if reset else ""),
        "import_peak_mb": import_peak,
        "before_model_mb": before,
        "setup_peak_mb": setup_peak,
        "peak_mb": peak,
        "ru_maxrss_mb": _getrusage_mb(),
        "compounds_end": model.n_compounds,
    }


def peak_memory(target: int, steps: int) -> dict[str, Any]:
    """Run :func:`child_memory` in a fresh interpreter and read back its figures."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(target),
           "--steps", str(steps)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    mem = json.loads(done.stdout.strip().splitlines()[-1])
    mem["model_mb"] = mem["peak_mb"] - mem["before_model_mb"]
    mem["kb_per_compound"] = 1024 * mem["model_mb"] / max(mem["compounds_end"], 1)
    return mem


def slope(x: list[float], y: list[float]) -> float:
    """Slope of log(y) against log(x) (least squares, ``numpy.polyfit``)."""
    if len(x) < 2 or min(y) <= 0:
        return math.nan
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def print_table(rows: list[dict[str, Any]]) -> None:
    """The measured sizes, one line each."""
    head = (
        f"{'target':>8} {'compounds':>10} {'synd':>6} {'setup s':>8} {'s/step':>8} "
        f"{'med step':>9} {'1st step':>9} {'µs/c-step':>10} {'peak MB':>8} {'model MB':>9} "
        f"{'KB/comp':>8}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        m = r["memory"]
        mem = (
            f"{m['peak_mb']:>8.0f} {m['model_mb']:>9.0f} {m['kb_per_compound']:>8.2f}"
            if m
            else f"{'-':>8} {'-':>9} {'-':>8}"
        )
        print(
            f"{r['target']:>8} {r['mean_compounds']:>10.0f} {r['syndicates']:>6} "
            f"{r['setup_s']:>8.3f} {r['s_per_step']:>8.4f} {r['median_step_s']:>9.4f} "
            f"{r['first_step_s']:>9.4f} {r['us_per_compound_step']:>10.2f} {mem}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 30_000],
                    help="target numbers of initial compounds")
    ap.add_argument("--steps", type=int, default=24, help="timed steps per model")
    ap.add_argument("--repeats", type=int, default=5, help=f"models per size below {LARGE}")
    ap.add_argument("--large-repeats", type=int, default=3,
                    help=f"models per size of {LARGE} compounds or more")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child is not None:
        print(json.dumps(child_memory(args.child, args.steps)))
        return

    t_start = time.perf_counter()
    time_once(min(args.sizes), 0, 2)  # warm imports and caches
    rows = []
    for target in sorted(args.sizes):
        repeats = args.large_repeats if target >= LARGE else args.repeats
        row = time_size(target, args.steps, repeats)
        row["memory"] = None if args.no_memory else peak_memory(target, args.steps)
        rows.append(row)
        print(f"  measured {target} compounds ({repeats} repeats)", file=sys.stderr, flush=True)

    n = [r["mean_compounds"] for r in rows]
    fits = {
        "s_per_step": slope(n, [r["s_per_step"] for r in rows]),
        "median_step_s": slope(n, [r["median_step_s"] for r in rows]),
        "setup_s": slope(n, [r["setup_s"] for r in rows]),
        "peak_model_mb": (
            None if args.no_memory else slope(n, [r["memory"]["model_mb"] for r in rows])
        ),
    }
    # Slope between consecutive sizes: a fit over all sizes can hide upward curvature.
    local = [
        {
            "from": a["target"],
            "to": b["target"],
            "s_per_step": slope([a["mean_compounds"], b["mean_compounds"]],
                                [a["s_per_step"], b["s_per_step"]]),
            "median_step_s": slope([a["mean_compounds"], b["mean_compounds"]],
                                   [a["median_step_s"], b["median_step_s"]]),
        }
        for a, b in itertools.pairwise(rows)
    ]
    wall = time.perf_counter() - t_start

    print(f"baseline scenario, world table, {args.steps} timed steps per model; "
          f"medians over repeats")
    print_table(rows)
    print()
    print("log-log slope vs compounds (1 = linear):")
    print(f"  cost per step (mean of all steps) {fits['s_per_step']:.3f}")
    print(f"  median step                       {fits['median_step_s']:.3f}")
    print(f"  set-up                            {fits['setup_s']:.3f}")
    if not args.no_memory:
        print(f"  peak memory of the model          {fits['peak_model_mb']:.3f}")
    for seg in local:
        print(f"  {seg['from']:>7} -> {seg['to']:<7} cost per step {seg['s_per_step']:.3f}, "
              f"median step {seg['median_step_s']:.3f}")
    verdict = "OK" if fits["s_per_step"] <= 1.1 else "SUPERLINEAR"
    print(f"cost per step grows no faster than linearly (slope <= 1.1): {verdict}")
    if not args.no_memory:
        print(f"memory: peak RSS of a fresh process per size, read as "
              f"{rows[0]['memory']['method']}; 'model MB' is that peak minus the resident "
              f"memory just before the model was built")
    print(f"benchmark wall time {wall:.0f} s")

    if args.json:
        out = {
            "python": platform.python_version(),
            "mesa": mesa.__version__,
            "numpy": np.__version__,
            "scamsim": sim.results.package_version(),
            "cpus": os.cpu_count(),
            "scenario": "baseline",
            "world": "world",
            "steps": args.steps,
            "memory_method": None if args.no_memory else rows[0]["memory"]["method"],
            "sizes": rows,
            "slopes": fits,
            "local_slopes": local,
            "wall_s": wall,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
