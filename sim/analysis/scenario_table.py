"""The README's scenario table: every scenario over seeds, paired with the same-seed baseline.

    scamsim table [--seeds 20] [--world world] [--scenarios a,b] [--out table.csv]
                  [--paramset handset] [--posterior]

Each scenario run of a seed is compared with the baseline run of the same seed
as its control (common random numbers): WDQ, the removed / moved shares and the
global change are measured against it. The before/after WDQ without a control
is shown too. Means with Student-t 95% intervals over seeds; runs are in memory,
only ``--out`` writes (the tidy per-run table, atomically). ``--paramset handset``
gives the table of the hand-set parameters; ``--posterior`` draws each seed's
calibrated parameters from the posterior (the same particle for a seed's baseline
and scenarios), so the intervals carry parameter uncertainty as well as chance.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.config import compose, options, validate
from sim.core.errors import ConfigError
from sim.identity import replicate_seeds
from sim.results import atomic_write_text
from sim.runner import run

# Columns of the table: (summary key, header, scale, digits).
COLUMNS: tuple[tuple[str, str, float, int], ...] = (
    ("wdq", "WDQ vs baseline", 1.0, 2),
    ("wdq_no_control", "WDQ, no control", 1.0, 2),
    ("removed_share", "removed share", 1.0, 2),
    ("global_change_vs_control", "global change vs baseline", 1.0, 2),
    ("recovery_months", "recovery (months)", 1.0, 0),
    ("new_jurisdictions_end", "new countries at end", 1.0, 1),
    ("workers_end", "workers at end (k)", 1e3, 0),
    ("victim_losses_esea_per_year_usd", "ESEA losses (bn US$/yr)", 1e9, 1),
)


def mean_ci(values: Sequence[float | None]) -> tuple[float, float, float, int]:
    """Mean and Student-t 95% interval of the finite values, and how many there were."""
    x = np.array([np.nan if v is None else v for v in values], float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return (float(x.mean()) if len(x) else math.nan, math.nan, math.nan, len(x))
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return float(x.mean()), float(x.mean()) - half, float(x.mean()) + half, len(x)


def fmt(values: Sequence[float | None], scale: float = 1.0, digits: int = 2) -> str:
    """'mean [low, high]' of a column, or '–' when it is undefined."""
    m, lo, hi, n = mean_ci([None if v is None else v / scale for v in values])
    if n == 0:
        return "–"
    def num(x: float) -> str:
        text = f"{x:.{digits}f}"
        return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0"

    if n == 1 or not math.isfinite(lo):
        return num(m)
    return f"{num(m)} [{num(lo)}, {num(hi)}]"


def collect(scenarios: Sequence[str], seeds: Sequence[int], world: str,
            **settings: Any) -> pd.DataFrame:
    """One row per scenario × seed with every column's summary value (``settings``:
    e.g. ``paramset="handset"`` or ``posterior=True``, for every run)."""
    rows = []
    for seed in seeds:
        control = run("baseline", world=world, seed=seed, record_events=False, **settings)
        for name in scenarios:
            res = control if name == "baseline" else run(
                name, world=world, seed=seed, control=control, record_events=False,
                **settings)
            s = res.summary
            rows.append({"scenario": name, "seed": seed, **{k: s.get(k) for k, *_ in COLUMNS}})
    return pd.DataFrame(rows)


def markdown(df: pd.DataFrame) -> str:
    """The Markdown table of :func:`collect`'s frame, one row per scenario."""
    head = "| scenario | " + " | ".join(h for _, h, _, _ in COLUMNS) + " |"
    lines = [head, "|---|" + "---|" * len(COLUMNS)]
    for name, sub in df.groupby("scenario", sort=False):
        cells = [fmt(sub[k].tolist(), scale, digits) for k, _, scale, digits in COLUMNS]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table (and write the per-run rows with ``--out``)."""
    ap = argparse.ArgumentParser(prog="scamsim table", description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20, help="replicates (default %(default)s)")
    ap.add_argument("--seed", type=int, default=1, help="base seed of the replicates")
    ap.add_argument("--world", default="world")
    ap.add_argument("--scenarios", default="", help="comma-separated (default: all)")
    ap.add_argument("--out", type=Path, default=None, help="CSV of every run's values")
    ap.add_argument("--paramset", default="default", help="parameter set (default, handset)")
    ap.add_argument("--posterior", action="store_true",
                    help="draw each seed's calibrated parameters from the posterior")
    args = ap.parse_args(argv)
    known = options("scenario")
    chosen = [s for s in args.scenarios.split(",") if s] or known
    unknown = sorted(set(chosen) - set(known))
    if unknown or args.seeds < 1:
        what = f"unknown scenarios {unknown}" if unknown else "--seeds must be at least 1"
        print(f"error: {what}; scenarios: {', '.join(known)}", file=sys.stderr)
        return 2
    if "baseline" in chosen:
        chosen = ["baseline"] + [s for s in chosen if s != "baseline"]
    settings = {"paramset": args.paramset, "posterior": args.posterior}
    try:  # a bad set or a missing sample: one line, before anything runs
        validate(compose("baseline", args.world, dict(settings)))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    df = collect(chosen, replicate_seeds(args.seed, args.seeds), args.world, **settings)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.out, df.to_csv(index=False, lineterminator="\n"))
    params = ("parameters drawn from the posterior (intervals: parameters and chance)"
              if args.posterior else f"parameter set {args.paramset} (intervals: chance)")
    print(f"{args.seeds} seeds on the {args.world} world, {params}; control = the same-seed "
          "baseline run; mean [95% t-interval]")
    print(markdown(df))
    return 0
