"""How much common random numbers narrow a paired comparison.

Scenario A and scenario B are run with the same seeds. With common random numbers
(sim.core.streams) the difference ``B_s − A_s`` of a metric cancels the chance both
runs share; without them, A and B would be independent draws and the difference of
the means would have variance ``(var A + var B) / N``. The ratio

    R = (var A + var B) / var(B − A)

is the number of replicates without common random numbers that give the confidence
interval of one replicate with them (a 95% interval's half-width scales as
``sqrt(variance / N)``). Its 95% interval comes from a bootstrap over seeds.

    scamsim crn [--a mekong_crackdown] [--b capacity_building] [--metric workers_end]
                [--seeds 40] [--world world] [--jobs N]

writes ``<results root>/crn/variance_reduction.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.errors import ConfigError
from sim.resources import results_root
from sim.results import atomic_write_text

BOOTSTRAP = 2000


def _metric(task: tuple[str, str, int, str]) -> float:
    from sim.runner import run

    scenario, world, seed, metric = task
    return float(run(scenario, world=world, seed=seed).summary[metric])


def measure(
    a: str = "mekong_crackdown",
    b: str = "capacity_building",
    metric: str = "workers_end",
    seeds: Sequence[int] = range(40),
    world: str = "world",
    jobs: int | None = None,
) -> dict[str, Any]:
    """Run A and B for every seed and compare the paired and unpaired variances."""
    seeds = [int(s) for s in seeds]
    if len(seeds) < 3:
        raise ConfigError("--seeds", f"needs at least 3 seeds, got {len(seeds)}")
    from sim.runner import run

    with warnings.catch_warnings():  # a 12-month probe: levers after it are expected
        warnings.simplefilter("ignore")
        probe = run(a, world=world, seed=seeds[0], steps=12).summary  # names checked first
    numeric = sorted(k for k, v in probe.items() if isinstance(v, int | float))
    if metric not in numeric:
        raise ConfigError("--metric", f"must be a numeric summary field: {', '.join(numeric)}")
    tasks = [(sc, world, s, metric) for sc in (a, b) for s in seeds]
    jobs = jobs or os.cpu_count() or 1
    if jobs > 1:
        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            values = pool.map(_metric, tasks)
    else:
        values = [_metric(t) for t in tasks]
    x = np.array(values[: len(seeds)])
    y = np.array(values[len(seeds):])
    return summarise(x, y, a=a, b=b, metric=metric, world=world, seeds=seeds)


def ratio(x: np.ndarray, y: np.ndarray) -> float:
    """Replicates without common random numbers per replicate with them."""
    paired = np.var(y - x, ddof=1)
    unpaired = np.var(x, ddof=1) + np.var(y, ddof=1)
    return float(unpaired / paired) if paired > 0 else float("inf")


def summarise(x: np.ndarray, y: np.ndarray, **info: Any) -> dict[str, Any]:
    """The variances, the ratio and its bootstrap interval (seeded: the same numbers give
    the same interval)."""
    n = len(x)
    rng = np.random.default_rng(0)
    boot = [ratio(x[i], y[i]) for i in rng.integers(0, n, size=(BOOTSTRAP, n))]
    d = y - x
    half = 1.96 * np.std(d, ddof=1) / np.sqrt(n)
    half_unpaired = 1.96 * np.sqrt((np.var(x, ddof=1) + np.var(y, ddof=1)) / n)
    return {
        **info,
        "seeds": list(info.get("seeds", range(n))),
        "replicates": n,
        "effect_mean": float(d.mean()),
        "ci_half_width_paired": float(half),
        "ci_half_width_independent": float(half_unpaired),
        "var_a": float(np.var(x, ddof=1)),
        "var_b": float(np.var(y, ddof=1)),
        "var_paired_difference": float(np.var(d, ddof=1)),
        "replicates_ratio": ratio(x, y),
        "replicates_ratio_ci": [float(np.percentile(boot, 2.5)),
                                float(np.percentile(boot, 97.5))],
    }


def markdown(res: dict[str, Any]) -> str:
    """A short report of a measurement."""
    lo, hi = res["replicates_ratio_ci"]
    return (
        f"# Common random numbers: variance reduction\n\n"
        f"Effect: `{res['metric']}` of `{res['b']}` minus `{res['a']}` "
        f"({res['world']} world, {res['replicates']} seeds, each pair run with the same "
        f"seed).\n\n"
        f"| | value |\n|---|---|\n"
        f"| mean effect | {res['effect_mean']:,.0f} |\n"
        f"| 95% CI half-width, paired (common random numbers) | "
        f"{res['ci_half_width_paired']:,.0f} |\n"
        f"| 95% CI half-width, independent runs | {res['ci_half_width_independent']:,.0f} |\n"
        f"| replicates without per replicate with common random numbers | "
        f"{res['replicates_ratio']:.1f} (95% bootstrap CI {lo:.1f}–{hi:.1f}) |\n\n"
        "Independent runs would need that many times the replicates for a confidence "
        "interval as narrow as the paired one.\n"
    )


def main(argv: list[str] | None = None) -> Path:
    """``scamsim crn``: measure and write the report."""
    ap = argparse.ArgumentParser(prog="scamsim crn", description=__doc__.splitlines()[0])
    ap.add_argument("--a", default="mekong_crackdown")
    ap.add_argument("--b", default="capacity_building")
    ap.add_argument("--metric", default="workers_end")
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--world", default="world")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    try:
        res = measure(args.a, args.b, args.metric, range(args.seeds), args.world, args.jobs)
    except ConfigError as err:
        print(err, file=sys.stderr)
        raise SystemExit(2) from None
    out = args.out or results_root() / "crn"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "variance_reduction.json", json.dumps(res, indent=2) + "\n")
    atomic_write_text(out / "variance_reduction.md", markdown(res))
    print(markdown(res))
    return out
