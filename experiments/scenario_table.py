"""The README's scenario table: every scenario over several seeds, mean ± 95% CI.

    python experiments/scenario_table.py [--seeds 10] [--world world]

Prints a Markdown table (WDQ, global change, recovery, new countries, workers at
the end, ESEA losses). Runs are in memory; nothing is written.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats
from tqdm import tqdm

import sim
from sim.config import options


def mean_ci(values: list[float | None]) -> str:
    """'mean ± half-width' of a Student-t 95% interval, or '–' without data."""
    x = np.array([np.nan if v is None else v for v in values], float)
    x = x[~np.isnan(x)]
    if len(x) < 2:
        return "–"
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return f"{x.mean():.2f} ± {half:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--world", default="world")
    args = ap.parse_args()
    seeds = range(1, args.seeds + 1)
    rows = []
    with tqdm(total=len(options("scenario")) * args.seeds, unit="run") as bar:
        for scenario in options("scenario"):
            runs = []
            for seed in seeds:
                runs.append(sim.run(scenario, world=args.world, seed=seed).summary)
                bar.update(1)
            rows.append((scenario, runs))
    print("| scenario | WDQ | global change | recovery (months) | new countries at end "
          "| workers at end | ESEA losses (bn US$/yr) |")
    print("|---|---|---|---|---|---|---|")
    for scenario, runs in rows:
        new = np.mean([r["new_jurisdictions_end"] for r in runs])
        workers = np.mean([r["workers_end"] for r in runs]) / 1e3
        esea = np.mean([r["victim_losses_esea_per_year_usd"] for r in runs]) / 1e9
        print(f"| `{scenario}` | {mean_ci([r['wdq'] for r in runs])} | "
              f"{mean_ci([r['global_change'] for r in runs])} | "
              f"{mean_ci([r['recovery_months'] for r in runs])} | {new:.1f} | "
              f"{workers:.0f}k | {esea:.1f} |")


if __name__ == "__main__":
    main()
