"""Global sensitivity analysis of the Mekong crackdown: Morris screening, then Sobol indices.

    scamsim sensitivity [--world world] [--morris-trajectories 20]
        [--sobol-n 64] [--sobol-top 0] [--replicates 2] [--jobs -1]
        [--out results/sensitivity] [--quick] [--replot]

Writes to ``--out``: ``morris.csv`` and ``sobol.csv`` (tidy indices with confidence
intervals), ``morris.png`` and ``sobol.png`` (one panel per output),
``morris_runs.csv`` and ``sobol_runs.csv`` (every design point and its outputs) and
``info.json`` (settings, sample sizes, seed noise, durations, versions).

Sobol runs on all factors by default (``--sobol-top 0``); ``--sobol-top K`` keeps
only the K factors ranked highest by Morris (mean of mu_star scaled by its maximum
per output) and fixes the others at their defaults. ``--quick`` is a tiny sample on
the teaching world for a first look (under a minute); ``--replot`` only redraws the
figures from the files of an earlier run. See docs/sensitivity.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from joblib import effective_n_jobs

from sim.analysis import sensitivity as sa
from sim.core.params import Params
from sim.resources import results_root
from sim.results import atomic_write_text, package_version
from sim.viz import figures, style

# (normal, --quick) defaults; an option given on the command line wins over both.
DEFAULTS: dict[str, tuple[Any, Any]] = {
    "world": ("world", "teaching"),
    "morris_trajectories": (20, 4),
    "sobol_n": (64, 8),
    "replicates": (2, 1),
    "noise_seeds": (10, 4),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options, with the --quick defaults filled in."""
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--world", help="world table: world (default) or teaching")
    ap.add_argument("--scenario", default=sa.SCENARIO, help="scenario (default %(default)s)")
    ap.add_argument("--morris-trajectories", type=int, help="Morris trajectories r (default 20)")
    ap.add_argument("--morris-levels", type=int, default=4, help="Morris grid levels (default 4)")
    ap.add_argument("--sobol-n", type=int, help="Sobol base sample N, a power of 2 (default 64)")
    ap.add_argument("--sobol-top", type=int, default=0,
                    help="Sobol on the K factors ranked highest by Morris (default 0 = all)")
    ap.add_argument("--replicates", type=int, help="seeds per design point (default 2)")
    ap.add_argument("--noise-seeds", type=int,
                    help="seeds at the defaults to measure seed noise (default 10)")
    ap.add_argument("--steps", type=int, help="months simulated (default: the configured 120)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the SALib samplers and bootstrap")
    ap.add_argument("--seed-base", type=int, default=1, help="first model seed of the replicates")
    ap.add_argument("--jobs", type=int, default=-1, help="parallel workers (default -1 = all)")
    ap.add_argument("--out", default=None,
                    help="output folder (default: <results root>/sensitivity)")
    ap.add_argument("--quick", action="store_true",
                    help="tiny sample on the teaching world for a first look")
    ap.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    ap.add_argument("--replot", action="store_true",
                    help="only redraw the figures from the files already in --out")
    args = ap.parse_args(argv)
    for name, (normal, quick) in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else normal)
    if args.sobol_n < 2 or args.sobol_n & (args.sobol_n - 1):
        ap.error(f"--sobol-n must be a power of 2 (got {args.sobol_n})")
    if args.replicates < 1 or args.morris_trajectories < 2:
        ap.error("--replicates must be >= 1 and --morris-trajectories >= 2")
    return args


def salib_version() -> str:
    """Installed SALib version."""
    try:
        return metadata.version("SALib")
    except metadata.PackageNotFoundError:
        return "unknown"


def runs_frame(prob: dict[str, Any], x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Design points and their mean outputs, one row per point."""
    df = pd.DataFrame(x, columns=prob["names"])
    for j, out in enumerate(sa.OUTPUTS):
        df[out] = y[:, j]
    return df


def write_csv(path: Path, df: pd.DataFrame) -> None:
    """Write a CSV atomically (no half-written file if interrupted)."""
    atomic_write_text(path, df.to_csv(index=False, lineterminator="\n", float_format="%.6g"))


def save_figure(fig: plt.Figure, path: Path) -> None:
    """Write a figure as a PNG atomically and close it (sim.viz.style.save_png)."""
    style.save_png(fig, path)


def plot_morris(df: pd.DataFrame, caption: str) -> plt.Figure:
    """mu_star bars with CI error bars and sigma markers, one panel per output."""
    return figures.morris_bars(df, outputs=list(sa.OUTPUTS), output_labels=sa.OUTPUT_LABELS,
                               caption_line=caption)


def plot_sobol(df: pd.DataFrame, caption: str) -> plt.Figure:
    """S1 and ST bars with CI error bars, one panel per output (sim.figures.sobol_bars)."""
    return figures.sobol_bars(df, outputs=list(sa.OUTPUTS), output_labels=sa.OUTPUT_LABELS,
                              caption_line=caption)


def morris_ranking(df: pd.DataFrame) -> list[str]:
    """Factors ordered by mu_star scaled to its maximum per output, averaged over outputs."""
    ms = df[df["index"] == "mu_star"].pivot(index="parameter", columns="output", values="value")
    scaled = ms / ms.max().replace(0, 1)
    return list(scaled.mean(axis=1).sort_values(ascending=False).index)


def _seeds_text(info: dict[str, Any]) -> str:
    first, reps = info["seed_base"], info["replicates"]
    return f"seed {first}" if reps == 1 else f"seeds {first}–{first + reps - 1}"


def captions(info: dict[str, Any]) -> tuple[str, str]:
    """One caption line per figure: scenario, world, sample sizes, seeds and versions."""
    steps = f", {info['steps']} months" if info.get("steps") else ""
    head = f"scenario {info['scenario']}, world {info['world']}{steps}"
    tail = (f"{_seeds_text(info)} at every point; sampler seed {info['seed']}; "
            f"scamsim {info['version']}, SALib {info['salib_version']}")
    m, s = info["morris"], info["sobol"]
    k_all, k_s, reps = len(info["factors"]), len(s["factors"]), info["replicates"]
    per = "seed" if reps == 1 else "seeds"
    morris_text = (f"Morris: {m['trajectories']} trajectories × {k_all + 1} points × {reps} "
                   f"{per} = {m['runs']} runs, {m['levels']} levels")
    fixed = "" if k_s == k_all else f" (top {k_s} of Morris; others at defaults)"
    sobol_text = (f"Sobol/Saltelli: N = {s['n']} × ({k_s} + 2) × {reps} {per} "
                  f"= {s['runs']} runs{fixed}")
    return f"{head}; {morris_text}; {tail}", f"{head}; {sobol_text}; {tail}"


def fmt_duration(seconds: float) -> str:
    """'42 s' or '3.5 min'."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def print_top(df: pd.DataFrame, index: str, k: int = 3) -> None:
    """Print the k largest indices per output with their CIs."""
    for out in sa.OUTPUTS:
        top = sa.top_factors(df, out, index, k)
        items = ", ".join(f"{r.parameter} {r.value:.3g} ± {r.conf:.2g}" for r in top.itertuples())
        print(f"  {out:<22} {index}: {items}")


def replot(out: Path) -> int:
    """Redraw both figures from the tables and info.json of an earlier run."""
    info = json.loads((out / "info.json").read_text(encoding="utf-8"))
    morris_caption, sobol_caption = captions(info)
    save_figure(plot_morris(pd.read_csv(out / "morris.csv"), morris_caption), out / "morris.png")
    save_figure(plot_sobol(pd.read_csv(out / "sobol.csv"), sobol_caption), out / "sobol.png")
    print(f"Redrew morris.png and sobol.png in {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run Morris, then Sobol; write tables, figures and info; print where they went."""
    args = parse_args(argv)
    out = Path(args.out) if args.out else results_root() / "sensitivity"
    if args.replot:
        return replot(out)
    out.mkdir(parents=True, exist_ok=True)
    workers = effective_n_jobs(args.jobs)
    progress = not args.no_progress
    k_all = len(sa.FACTORS)
    t_start = time.perf_counter()

    # One warm-up and one timed run in this process calibrate the duration estimate
    # (the worker pool's start-up would distort a parallel pilot). It assumes free cores.
    defaults = {f.name: getattr(Params(), f.name) for f in sa.FACTORS}
    for _ in range(2):
        t0 = time.perf_counter()
        sa.simulate_outputs(defaults, args.scenario, args.world, args.seed_base, args.steps)
    per_run = time.perf_counter() - t0
    k_sobol = args.sobol_top if 0 < args.sobol_top < k_all else k_all
    n_noise = args.noise_seeds
    n_morris = args.morris_trajectories * (k_all + 1) * args.replicates
    n_sobol = args.sobol_n * (k_sobol + 2) * args.replicates
    estimate = (n_noise + n_morris + n_sobol) * per_run / workers
    print(f"{n_noise} seed-noise + {n_morris} Morris + {n_sobol} Sobol runs on {workers} "
          f"worker(s), {per_run:.2f} s per run: estimated {fmt_duration(estimate)} "
          f"(if the cores are free)", flush=True)
    noise = sa.seed_noise(args.scenario, args.world, n_noise, args.seed_base, args.jobs,
                          steps=args.steps)

    info: dict[str, Any] = {
        "scenario": args.scenario,
        "world": args.world,
        "steps": args.steps,
        "factors": [{"name": f.name, "low": f.low, "high": f.high} for f in sa.FACTORS],
        "outputs": list(sa.OUTPUTS),
        "replicates": args.replicates,
        "seed": args.seed,
        "seed_base": args.seed_base,
        "workers": workers,
        "version": package_version(),
        "salib_version": salib_version(),
    }

    # --- Morris screening ---
    t0 = time.perf_counter()
    prob, x = sa.morris_design(args.morris_trajectories, args.morris_levels, args.seed)
    y = sa.evaluate(x, args.scenario, args.world, args.seed_base, args.replicates, args.jobs,
                    names=prob["names"], steps=args.steps, progress=progress)
    y_filled, missing_m = sa.fill_undefined(y)
    mdf = sa.morris_indices(prob, x, y_filled, args.morris_levels, seed=args.seed)
    t_morris = time.perf_counter() - t0
    write_csv(out / "morris.csv", mdf)
    write_csv(out / "morris_runs.csv", runs_frame(prob, x, y))
    ranking = morris_ranking(mdf)
    info["morris"] = {"trajectories": args.morris_trajectories, "levels": args.morris_levels,
                      "runs": n_morris, "undefined": missing_m,
                      "wall_time_s": round(t_morris, 1), "ranking": ranking}
    print(f"Morris done in {fmt_duration(t_morris)}; ranking: {', '.join(ranking)}")
    print(f"Sobol: estimated {fmt_duration(t_morris * n_sobol / n_morris)} at the Morris pace",
          flush=True)

    # --- Sobol indices ---
    t0 = time.perf_counter()
    factors = ranking[:k_sobol] if k_sobol < k_all else None
    prob_s, xs = sa.sobol_design(args.sobol_n, args.seed, factors)
    ys = sa.evaluate(xs, args.scenario, args.world, args.seed_base, args.replicates, args.jobs,
                     names=prob_s["names"], steps=args.steps, progress=progress)
    ys_filled, missing_s = sa.fill_undefined(ys)
    sdf = sa.sobol_indices(prob_s, ys_filled, seed=args.seed)
    t_sobol = time.perf_counter() - t0
    write_csv(out / "sobol.csv", sdf)
    write_csv(out / "sobol_runs.csv", runs_frame(prob_s, xs, ys))
    info["sobol"] = {"n": args.sobol_n, "factors": prob_s["names"], "runs": n_sobol,
                     "undefined": missing_s, "wall_time_s": round(t_sobol, 1)}
    print(f"Sobol done in {fmt_duration(t_sobol)}", flush=True)

    # Seed noise relative to the spread over the Sobol sample: a large share means the
    # indices partly apportion noise (more replicates would help).
    var_y = np.nanvar(ys, axis=0, ddof=1)
    noise["noise_share"] = (noise["sd"] ** 2 / args.replicates) / var_y
    total = time.perf_counter() - t_start
    info.update({"seed_noise_at_defaults": noise.to_dict(orient="records"),
                 "estimated_s": round(estimate, 1), "wall_time_s": round(total, 1)})
    atomic_write_text(out / "info.json", json.dumps(info, indent=2) + "\n")
    morris_caption, sobol_caption = captions(info)
    save_figure(plot_morris(mdf, morris_caption), out / "morris.png")
    save_figure(plot_sobol(sdf, sobol_caption), out / "sobol.png")

    print("\nTop factors (index ± CI half-width):")
    print_top(mdf, "mu_star")
    print_top(sdf, "ST")
    print("Seed noise at the defaults (sd over seeds; share of the Sobol-sample variance):")
    for r in noise.itertuples():
        print(f"  {r.output:<22} mean {r.mean:.3g}, sd {r.sd:.3g}, share {r.noise_share:.1%}")
    print(f"\nWrote morris.csv, morris.png, sobol.csv, sobol.png, *_runs.csv, info.json to {out}")
    print(f"Duration: {fmt_duration(total)} (estimated {fmt_duration(estimate)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
