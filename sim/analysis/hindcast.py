"""Hindcast: where the calibrated model puts compounds by the end of the record.

The ``history`` scenario (what states did, 2023-2025) is run with parameter-seed pairs
drawn from a posterior sample (each run's particle drawn by its seed, as
``posterior=true`` does). Every country without compounds at the start gets the share of
runs in which it hosted compounds at some month up to the end (``p_host``) and at the end
(``p_host_end``). The ranking is scored against the ledger of countries where compounds
were documented after 2023 (``sim/data/ledger_train.csv``):

* AUC: the probability that a ledger country ranks above a country not in the ledger
  (Mann-Whitney; the ledger is partial, so "not in the ledger" is unlabelled rather
  than negative, and the AUC is a lower bound of the ranking's quality);
* precision at 10 and 25: the share of the 10 (25) most likely new hosts that are in
  the ledger, beside the share a random ranking would give.

With the calibration's own posterior this is an in-sample check (the ledger entered the
calibration as a rank score). The out-of-time check uses a posterior calibrated on the
record up to a cut-off month (``scamsim calibrate --until 2024-06``): it scores only the
ledger countries documented after the cut-off (earlier ones are left out of the ranking)
and states, for every target of the record after the cut-off, whether its range meets
the posterior predictive interval (5th-95th percentile over the runs).

    scamsim hindcast [--posterior FILE] [--until YYYY-MM] [--draws 200] [--jobs N]

writes ``hosting.csv``, ``targets.csv``, ``hindcast.json`` and ``report.html``/``.md``
into ``<results root>/hindcast`` (``hindcast_until_<month>`` with ``--until``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.calibration import (
    CalibrationSettings,
    Problem,
    RunView,
    build_problem,
    interval_distance,
    load_ledger,
    load_targets,
    run_statistics,
)
from sim.analysis.report import Report
from sim.config import build_params
from sim.core.errors import ConfigError
from sim.core.timeline import month_index
from sim.paramsets import draw_particle, posterior_sample, read_sample
from sim.resources import results_root
from sim.results import atomic_write_text
from sim.runner import simulate

PRECISION_AT = (10, 25)
PREDICTIVE = (5.0, 95.0)  # percentiles of the posterior predictive interval


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Mann-Whitney AUC of the positives among all elements (ties count one half)."""
    pos, neg = score[positive], score[~positive]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def precision_at(score: np.ndarray, positive: np.ndarray, k: int) -> float:
    """Share of positives among the ``k`` highest scores (ties broken by order)."""
    top = np.argsort(-score, kind="stable")[:k]
    return float(positive[top].mean()) if len(top) else float("nan")


def _one(task: tuple[Problem, pd.DataFrame, int]) -> tuple[np.ndarray, np.ndarray, dict]:
    problem, sample, seed = task
    _, values = draw_particle(seed, sample)
    params = build_params({**dataclasses.asdict(problem.spec.params), **values})
    spec = dataclasses.replace(
        problem.spec, seed=seed, params=params,
        resolved={**problem.spec.resolved, "seed": seed, "params": dataclasses.asdict(params)},
    )
    result = simulate(spec, keep_model=True)
    view = RunView.from_result(result)
    comp = view.series["compounds"]
    ever = (comp[1:] > 0).any(axis=0)
    return ever, comp[-1] > 0, run_statistics(view, problem.rows, problem.ledger)


def run_draws(problem: Problem, sample: pd.DataFrame, draws: int,
              jobs: int | None = None) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Hosting indicators (runs × countries) and target statistics of ``draws`` runs."""
    tasks = [(problem, sample, seed) for seed in range(draws)]
    jobs = jobs or os.cpu_count() or 1
    if jobs > 1:
        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            out = pool.map(_one, tasks, chunksize=max(1, draws // (4 * jobs)))
    else:
        out = [_one(t) for t in tasks]
    ever = np.array([o[0] for o in out])
    end = np.array([o[1] for o in out])
    stats = pd.DataFrame([o[2] for o in out])
    return ever, end, stats


def hindcast(posterior: str | os.PathLike | None = None, *, until: str | None = None,
             draws: int = 200, jobs: int | None = None, world: str = "world",
             out: str | os.PathLike | None = None) -> Path:
    """Run the hindcast and write its tables and report; returns the output folder."""
    t0 = time.perf_counter()
    sample = posterior_sample()[0] if posterior is None else read_sample(posterior)
    settings = CalibrationSettings(world=world, seeds=1)
    targets = load_targets()
    ledger = load_ledger()
    problem = build_problem(settings, targets, ledger=ledger)
    ever, end, stats = run_draws(problem, sample, draws, jobs)
    w = problem.spec.world
    fresh = np.ones(w.n, bool)
    fresh[[w.index[c] for c in w.initial_presence]] = False
    in_ledger = np.isin(w.iso3, ledger["iso3"].to_numpy(str))
    documented = dict(zip(ledger["iso3"], ledger["first_documented"], strict=True))
    table = pd.DataFrame({
        "iso3": w.iso3, "name": w.names, "region": w.region,
        "p_host": ever.mean(axis=0), "p_host_end": end.mean(axis=0),
        "in_ledger": in_ledger, "documented": [documented.get(c, "") for c in w.iso3],
    })[fresh].sort_values("p_host", ascending=False, kind="stable").reset_index(drop=True)
    # Which ledger countries are scored: all (in sample), or those after the cut-off.
    scored = table["in_ledger"].to_numpy()
    keep = np.ones(len(table), bool)
    if until is not None:
        late = np.array([bool(d) and month_index(until, d) > 0 for d in table["documented"]])
        keep = ~(scored & ~late)  # earlier ledger entries: known, left out of the ranking
        scored = scored & late
    score = table["p_host"].to_numpy()[keep]
    positive = scored[keep]
    scores: dict[str, Any] = {
        "draws": draws, "world": world, "until": until,
        "posterior": str(posterior) if posterior else "shipped (sim/data/posterior.csv)",
        "ledger_countries_scored": sorted(table.loc[scored, "iso3"]),
        "countries_ranked": int(keep.sum()),
        "auc": auc(score, positive),
        **{f"precision_at_{k}": precision_at(score, positive, k) for k in PRECISION_AT},
        "precision_by_chance": float(positive.mean()) if len(positive) else float("nan"),
    }
    checks = _target_checks(problem, stats, until)
    scores["targets_checked"] = len(checks)
    scores["targets_hit"] = int(checks["hit"].sum()) if len(checks) else 0
    scores["seconds"] = round(time.perf_counter() - t0, 1)
    folder = Path(out) if out else results_root() / (
        "hindcast" if until is None else f"hindcast_until_{until}")
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "hosting.csv", table.to_csv(index=False))
    atomic_write_text(folder / "targets.csv", checks.to_csv(index=False))
    atomic_write_text(folder / "hindcast.json", json.dumps(scores, indent=2) + "\n")
    _report(table, checks, scores).write(folder)
    return folder


def _target_checks(problem: Problem, stats: pd.DataFrame, until: str | None) -> pd.DataFrame:
    """Each target's range beside the posterior predictive interval (after ``until`` only,
    if given)."""
    rows = []
    for t in problem.targets.to_dict("records"):
        if until is not None and month_index(until, t["first"]) <= 0:
            continue
        x = stats[t["id"]].to_numpy(float)
        x = x[np.isfinite(x)]
        if not len(x):
            continue
        lo, hi = np.percentile(x, PREDICTIVE)
        med = float(np.median(x))
        low = t["low"] if t["bound"] != "upper" else -np.inf
        high = t["high"] if t["bound"] != "lower" else np.inf
        rows.append({
            "id": t["id"], "quantity": t["quantity"], "low": t["low"], "high": t["high"],
            "bound": t["bound"], "predictive_median": med, "predictive_low": float(lo),
            "predictive_high": float(hi), "hit": bool(lo <= high and hi >= low),
            "median_distance": interval_distance(med, t["low"], t["high"], t["scale"],
                                                 t["bound"]),
        })
    return pd.DataFrame(rows)


def _report(table: pd.DataFrame, checks: pd.DataFrame, s: dict[str, Any]) -> Report:
    kind = ("out of time: calibrated on the record up to " + s["until"]
            if s["until"] else "in sample: the ledger entered the calibration")
    rep = Report(
        title="Hindcast: where the calibrated model puts new compounds",
        lead=f"The history scenario run {s['draws']} times with parameter-seed pairs drawn "
             f"from the posterior ({s['posterior']}); {kind}.",
    )
    sec = rep.section("Ranking against the ledger")
    sec.paragraphs.append(
        f"Ledger countries scored: {', '.join(s['ledger_countries_scored']) or 'none'} "
        f"among {s['countries_ranked']} countries ranked by their probability of hosting "
        f"compounds by the end. AUC {s['auc']:.2f} (0.5 is chance); precision at 10 "
        f"{s['precision_at_10']:.2f} and at 25 {s['precision_at_25']:.2f}, against "
        f"{s['precision_by_chance']:.3f} for a random ranking. The ledger is partial: "
        "countries outside it are unlabelled, not known to be free of compounds."
    )
    top = table.head(25).assign(p_host=lambda d: d["p_host"].round(3),
                                p_host_end=lambda d: d["p_host_end"].round(3))
    sec.tables.append((top, "The 25 countries most likely to host compounds by the end"))
    sec = rep.section("Targets")
    if len(checks):
        hit, n = int(checks["hit"].sum()), len(checks)
        sec.paragraphs.append(
            f"{hit} of {n} targets meet the posterior predictive interval "
            f"({PREDICTIVE[0]:.0f}th-{PREDICTIVE[1]:.0f}th percentile). Missed: "
            + (", ".join(checks.loc[~checks["hit"], "id"]) or "none") + ".")
        sec.tables.append((checks.round(3), "Each target's range beside the predictive "
                                            "interval"))
    else:
        sec.paragraphs.append("No target of the record falls after the cut-off.")
    return rep


def main(argv: list[str] | None = None) -> int:
    """``scamsim hindcast``."""
    ap = argparse.ArgumentParser(prog="scamsim hindcast", description=__doc__.splitlines()[0])
    ap.add_argument("--posterior", type=Path, default=None,
                    help="posterior sample (default: the shipped sim/data/posterior.csv)")
    ap.add_argument("--until", default=None, help="cut-off month of an out-of-time check")
    ap.add_argument("--draws", type=int, default=200, help="runs (parameter-seed pairs)")
    ap.add_argument("--world", default="world")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    try:
        if args.draws < 1:
            raise ConfigError("--draws", f"must be at least 1, got {args.draws}")
        if args.until is not None:
            from sim.core.errors import check_month

            check_month("--until", args.until)
        folder = hindcast(args.posterior, until=args.until, draws=args.draws, jobs=args.jobs,
                          world=args.world, out=args.out)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    print(json.dumps(json.loads((folder / "hindcast.json").read_text()), indent=2))
    print(f"report: {folder / 'report.html'}")
    return 0
