"""Bayesian calibration of the model against the record: ABC-SMC with pyabc.

The behavioural and structural parameters (:data:`PRIORS`) are calibrated against the
targets of ``sim/data/targets.csv`` (built by ``sim/data/build_targets.py`` from the raw
targets folder) with likelihood-free approximate Bayesian computation by sequential Monte
Carlo (pyabc's :class:`~pyabc.ABCSMC`). The model runs in-process: the ``history``
scenario is composed and validated once (:func:`sim.config.compose`,
:func:`sim.config.validate`); each particle replaces the parameters of the validated spec
(:func:`dataclasses.replace`) and calls :func:`sim.runner.simulate`, for ``seeds`` seeds
drawn for that particle. Nothing is written per run.

Summary statistics (``STATISTICS``; one per row of targets.csv, column ``statistic``)
are computed from each run's time series, event log and summary, averaged over the
particle's seeds. Row ``s`` of the time series is the calendar month ``start + s``; row 0
is the initial state, so flows of a period run over rows ``max(first, 1) .. last``:

==========================  ====================================================
statistic                   value of a run
==========================  ====================================================
``victim_losses_per_year``  victim losses in ``area`` (victims' countries), per year
``revenue_per_year``        revenue of the compounds hosted in ``area``, per year
``profit_per_year``         revenue per year × the run's operating margin
                            (revenue − frozen − bribes − running − laundering)
``workers_mean``            mean workforce held in ``area`` over the months
``removed``                 workers rescued by raids (``rescued`` series) plus those
                            released when compounds closed (event log) in ``area``
``share_workers``           share of the workforce held in ``area``
``source_countries``        countries that supplied ≥ ``SOURCE_MIN_PERSONS`` workers
                            (held, rescued or released by the end of the run)
``ledger_auc``              rank score (Mann-Whitney AUC) of the ledger countries among
                            all countries without compounds at the start, each scored
                            by its months with compounds: one number, no per-country term
``ledger_by_date``          share of the ledger countries of the world hosting compounds
                            by their documented month + ``LEDGER_GRACE_MONTHS``
==========================  ====================================================

Distance: ``d = Σ_k w_k δ_k / Σ_k w_k`` with ``δ_k = 0`` inside ``[low, high]``, else the
distance to the band relative to its width, on a log scale for positive quantities that
span orders of magnitude (``scale = log``: ``δ = (log low − log x) / (log high − log low)``
below the band), linearly for shares and scores; ``bound = lower`` rows count only their
lower bound. ``w_k`` comes from the confidence of the source: high 1.0, medium 0.6,
low 0.3 (``sim.data.build_targets.CONFIDENCE_WEIGHT``). A statistic that is undefined in a
run (NaN) costs ``NAN_PENALTY``. Targets a world cannot express (a country absent from
it, fewer countries than a count target asks for, no ledger country) are left out and
listed in ``calibration.json``.

Reproducibility. Every model evaluation ``i`` of generation ``t`` is seeded on its own:
NumPy's global generator (which pyabc's priors and perturbation kernels draw from) and
Python's ``random`` are seeded from ``SeedSequence([seed, t + 1, i])`` before the
evaluation, in whichever worker process it runs, and the run seeds of the particle are
drawn from it. :func:`deterministic_sampler` evaluates in ordered batches and keeps the
first ``population`` accepted particles by evaluation index, as pyabc's own evaluation-
parallel samplers do to avoid a bias toward fast runs; so the posterior depends on the
seed only, not on the number of processes or their timing. (pyabc's own multicore
samplers reseed their workers from the operating system's entropy and are not
reproducible.)

Resuming. The pyabc database (``calibration.db``, SQLite) holds every finished
generation. The calibration always runs one generation per call of ``ABCSMC.run`` on a
fresh :class:`~pyabc.ABCSMC` loaded from the database (``abc.load(db, 1)``), so an
interrupted calibration run again with the same command continues after its last
finished generation and gives the same posterior as an uninterrupted one.
``calibration.json`` records the settings' fingerprint; a database made with other
settings, targets or priors is refused (use ``--fresh`` or another ``--out``).

Stopping (full mode): at most ``generations`` generations; earlier when epsilon is 0
(every particle inside every band), when it improved by less than ``min_improvement``
(relative) in ``patience`` successive generations, or when the simulation budget
``max_evaluations`` (particle evaluations, each ``seeds`` model runs) is used up
(checked between generations).

Cluster route. Evaluations are independent, so they can be spread over machines with
pyabc's distributed samplers, as the sweeps use Hydra's launchers: with Dask, start a
scheduler and workers on the cluster (``dask scheduler``; ``dask worker ADDRESS`` on each
node, e.g. from a SLURM job array) and pass ``--dask ADDRESS``
(:class:`pyabc.sampler.DaskDistributedSampler`); with Redis, start a Redis server and
``abc-redis-worker --host HOST --port PORT`` on each node, and pass ``--redis HOST:PORT``
(:class:`pyabc.sampler.RedisEvalParallelSampler`). scamsim must be installed on every
worker. Those samplers seed their workers themselves: results are valid but not
reproducible bit for bit, and resuming still works through the database.

Outputs (default ``<results root>/calibration``): ``calibration.db``, ``posterior.csv``
(parameters of the last generation on their natural scale, with weights),
``generations.csv`` (epsilon, acceptance rate, effective sample size, evaluations and
model runs per generation), ``predictive.csv`` (every target's statistic for every run of
the last generation's particles: the posterior predictive),
``targets.csv`` (the targets used) and ``calibration.json`` (settings, fingerprint, targets
left out, priors, why it stopped). ``--quick`` writes to ``<results root>/calibration_quick``.
``--install`` copies the posterior to the package file ``sim/data/posterior.csv``.

Usage::

    python experiments/calibrate.py --quick            # teaching world, a few minutes
    python experiments/calibrate.py                    # the shipped calibration (hours)
    python experiments/calibrate.py --params all       # every prior free
    python experiments/calibrate.py --install --report # ship the posterior, write the report
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.config import RunSpec, compose, validate
from sim.core.errors import ConfigError, LeverWarning
from sim.core.params import PARAM_NAMES, Params
from sim.core.timeline import month_index
from sim.core.world import EAST_SE_ASIA
from sim.resources import data_path, results_root
from sim.results import RunResult, atomic_write_text
from sim.runner import simulate

if TYPE_CHECKING:
    import pyabc

LOG, LINEAR = "log", "linear"
DB_NAME = "calibration.db"
META_NAME = "calibration.json"
NAN_PENALTY = 3.0  # distance of a target whose statistic is undefined in a run
LOG_FLOOR = 1e-3  # on a log scale, values below LOG_FLOOR × low count as LOG_FLOOR × low
SOURCE_MIN_PERSONS = 100.0  # a source country counts once it supplied this many workers
LEDGER_GRACE_MONTHS = 6  # a ledger country counts as found up to 6 months after its date
CLOSURE_EVENTS = ("closure", "abandoned")  # events whose size is workers released
VIEW_SERIES = ("workers", "compounds", "revenue_usd", "rescued", "victim_losses_usd")


class CalibrationError(ValueError):
    """A calibration cannot be set up or resumed as asked."""


# --- priors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prior:
    """A uniform prior on ``[low, high]``, on a log or linear scale, for one parameter."""

    name: str
    low: float
    high: float
    scale: str = LOG
    group: str = ""

    @property
    def key(self) -> str:
        """The parameter's name in pyabc (``log10_<name>`` on a log scale)."""
        return f"log10_{self.name}" if self.scale == LOG else self.name

    def bounds(self) -> tuple[float, float]:
        """Bounds of the uniform prior in pyabc's coordinates."""
        if self.scale == LOG:
            return math.log10(self.low), math.log10(self.high)
        return self.low, self.high

    def value(self, x: float) -> float:
        """The parameter's natural value from pyabc's coordinate."""
        return 10.0 ** float(x) if self.scale == LOG else float(x)


# The calibrated parameters: (name, low, high, scale, group). Names are checked against
# sim/core/params.py when a calibration is set up. A first calibration of the screened
# eight with raid_budget up to 200, raid_shrink up to 0.8 and risk_tolerance_mean up to
# 0.2 piled 45%, 12% and 15% of the posterior weight into the top 5% of those ranges,
# and the particles nearest the bound took most of the weight (effective sample size
# 77 of 1,000 by generation 9): those bounds were set by hand, not by what is known, so
# they were widened to what the parameters can mean (a budget that no longer binds,
# raids that free nearly everyone, a tolerance of a 30% monthly raid risk).
PRIOR_TABLE: tuple[tuple[str, float, float, str, str], ...] = (
    ("recruit_rate", 0.02, 0.3, LOG, "recruitment and labour"),
    ("recruit_cost_usd", 500.0, 15_000.0, LOG, "recruitment and labour"),
    ("pool_share", 3e-5, 1e-3, LOG, "recruitment and labour"),
    ("recruit_distance_km", 800.0, 8_000.0, LOG, "recruitment and labour"),
    ("attrition_rate", 0.002, 0.05, LOG, "recruitment and labour"),
    ("expansion_rate", 0.02, 0.4, LOG, "expansion and exit"),
    ("setup_cost_usd", 5e5, 2e7, LOG, "expansion and exit"),
    ("exit_utility", -5.0, 15.0, LINEAR, "expansion and exit"),
    ("risk_tolerance_mean", 0.01, 0.3, LOG, "expansion and exit"),
    ("relocation_rate", 0.1, 0.9, LINEAR, "expansion and exit"),
    ("raid_rate", 0.05, 0.8, LOG, "raid outcomes"),
    ("raid_budget", 5.0, 2_000.0, LOG, "raid outcomes"),
    ("protection_effect", 0.3, 0.98, LINEAR, "raid outcomes"),
    ("raid_shrink", 0.05, 0.95, LINEAR, "raid outcomes"),
    ("raid_close_rate", 0.1, 5.0, LOG, "raid outcomes"),
    ("response_gain", 0.1, 3.0, LOG, "host reaction"),
    ("political_gain", 0.0, 1.0, LINEAR, "host reaction"),
    ("political_scale_usd", 1e9, 1e11, LOG, "host reaction"),
    ("beta_weakness", 1.0, 30.0, LOG, "location weights"),
    ("beta_operability", 0.2, 10.0, LOG, "location weights"),
    ("beta_ties", 0.3, 10.0, LOG, "location weights"),
    ("beta_pressure", 1.0, 30.0, LOG, "location weights"),
    ("beta_distance", 0.05, 2.0, LOG, "location weights"),
    ("beta_labour", 0.1, 5.0, LOG, "location weights"),
    ("beta_agglomeration", 0.0, 2.0, LINEAR, "location weights"),
    ("productivity_usd", 4_000.0, 30_000.0, LOG, "productivity and victims"),
    ("cost_per_worker_usd", 800.0, 6_000.0, LOG, "productivity and victims"),
    ("saturation", 0.0, 1.5, LINEAR, "productivity and victims"),
    ("victim_distance_km", 800.0, 10_000.0, LOG, "productivity and victims"),
)
PRIORS: tuple[Prior, ...] = tuple(Prior(*row) for row in PRIOR_TABLE)
# The default calibration frees these eight: with all the priors free the importance
# weights of ABC-SMC degenerate after one generation (effective sample size 2 of 1,000);
# these are the priors the first generation of that run moved furthest from the prior
# (weighted KS distance 0.06-0.25, the others 0.01-0.05: ``scamsim calibrate --screen``).
# ``--params all`` frees every prior.
SCREENED_PRIOR_NAMES: tuple[str, ...] = (
    "raid_budget", "productivity_usd", "raid_shrink", "political_scale_usd",
    "raid_close_rate", "risk_tolerance_mean", "protection_effect", "recruit_distance_km",
)
# --quick calibrates these only: with a few dozen particles, importance weights over all
# the priors degenerate (effective sample size of 2-3 out of 40).
QUICK_PRIOR_NAMES: tuple[str, ...] = (
    "productivity_usd", "victim_distance_km", "raid_rate", "raid_budget", "raid_shrink",
    "raid_close_rate", "protection_effect", "expansion_rate", "beta_weakness",
    "beta_distance",
)


def check_priors(priors: Sequence[Prior]) -> list[Prior]:
    """The priors, checked against the model's parameters (names, ranges, scales)."""
    fields = {f.name: f for f in dataclasses.fields(Params)}
    unknown = [p.name for p in priors if p.name not in PARAM_NAMES]
    if unknown:
        raise CalibrationError(
            f"prior on unknown parameter(s) {', '.join(unknown)}: they are not fields of "
            "sim.core.params.Params (renamed or removed?); fix PRIOR_TABLE in "
            "sim/analysis/calibration.py"
        )
    seen: set[str] = set()
    for p in priors:
        if p.name in seen:
            raise CalibrationError(f"two priors on {p.name}")
        seen.add(p.name)
        lo, hi = fields[p.name].metadata["range"]
        if p.scale not in (LOG, LINEAR):
            raise CalibrationError(f"prior on {p.name}: scale must be log or linear")
        if not (lo <= p.low < p.high <= hi):
            raise CalibrationError(
                f"prior on {p.name}: [{p.low:g}, {p.high:g}] must lie in the parameter's "
                f"range [{lo:g}, {hi:g}]"
            )
        if p.scale == LOG and p.low <= 0:
            raise CalibrationError(f"prior on {p.name}: a log-scale prior needs low > 0")
    return list(priors)


def select_priors(names: Sequence[str] | None, priors: Sequence[Prior] = PRIORS) -> list[Prior]:
    """The priors on ``names`` (all if None); an unknown name is an error."""
    if not names:
        return list(priors)
    table = {p.name: p for p in priors}
    missing = [n for n in names if n not in table]
    if missing:
        raise CalibrationError(
            f"no prior for {', '.join(missing)}; priors exist for {', '.join(table)}"
        )
    return [table[n] for n in names]


def prior_names(given: str | None, quick: bool = False) -> list[str] | None:
    """The priors a command line calibrates: ``--params`` (``all``: None, every prior),
    else the quick or the screened set."""
    if given:
        return None if given.strip() == "all" else [n.strip() for n in given.split(",")]
    return list(QUICK_PRIOR_NAMES if quick else SCREENED_PRIOR_NAMES)


def prior_table(priors: Sequence[Prior] = PRIORS) -> pd.DataFrame:
    """The priors as a table (for reports and docs)."""
    return pd.DataFrame(
        [{"parameter": p.name, "group": p.group, "low": p.low, "high": p.high,
          "scale": p.scale, "default": getattr(Params(), p.name)} for p in priors]
    )


def to_params(base: Params, values: Mapping[str, float], priors: Sequence[Prior]) -> Params:
    """``base`` with the prior parameters set from pyabc's coordinates."""
    ints = {f.name for f in dataclasses.fields(Params) if isinstance(f.default, int)}
    new: dict[str, Any] = {}
    for p in priors:
        v = p.value(values[p.key])
        new[p.name] = round(v) if p.name in ints else v
    return dataclasses.replace(base, **new)


# --- targets and statistics ------------------------------------------------------------


def load_targets(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The calibration targets (``sim/data/targets.csv`` unless ``path``)."""
    table = pd.read_csv(path or data_path("targets.csv"), keep_default_na=False)
    return table.astype({"low": float, "high": float, "weight": float})


def load_ledger(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The training ledger of new host countries (``sim/data/ledger_train.csv``)."""
    return pd.read_csv(path or data_path("ledger_train.csv"), keep_default_na=False)


@dataclass
class RunView:
    """A run's series as (months × countries) arrays, with what the statistics need."""

    start: str
    iso3: np.ndarray
    region: np.ndarray
    series: dict[str, np.ndarray]  # incl. closed_workers: released by closures (event log)
    summary: dict[str, Any]
    labour: Any = None

    @classmethod
    def from_result(cls, result: RunResult) -> RunView:
        """Arrays from the run's recorders, or from its long time-series table (step-major,
        one row per country) if it was read from disk."""
        rec = result.recording
        if rec is not None:  # in-process: the recorded arrays and event tuples, no table
            series = {c: rec.rec[c].astype(float) for c in VIEW_SERIES}
            iso3, region = rec.world.iso3.astype(str), rec.world.region.astype(str)
            closures = [(e[0], e[3], e[5]) for e in rec.events if e[1] in CLOSURE_EVENTS]
        else:
            ts = result.timeseries
            steps = int(ts["step"].iloc[-1]) + 1
            n = len(ts) // steps
            series = {c: ts[c].to_numpy(float).reshape(steps, n) for c in VIEW_SERIES}
            iso3 = ts["iso3"].to_numpy()[:n].astype(str)
            region = ts["region"].to_numpy()[:n].astype(str)
            ev = result.events
            ev = ev[ev["kind"].isin(CLOSURE_EVENTS)]
            closures = list(zip(ev["step"], ev["from"], ev["size"], strict=True))
        # Workers released by closures, by month and host (from the event log).
        closed = np.zeros_like(series["workers"])
        if closures:
            index = {c: k for k, c in enumerate(iso3)}
            steps_, hosts, sizes = zip(*closures, strict=True)
            np.add.at(closed, (np.asarray(steps_, int), [index[h] for h in hosts]),
                      np.asarray(sizes, float))
        series["closed_workers"] = closed
        model = result.model
        return cls(
            start=str(result.summary["start"]),
            iso3=iso3,
            region=region,
            series=series,
            summary=result.summary,
            labour=getattr(model, "labour", None) if model is not None else None,
        )

    @property
    def months(self) -> int:
        """Rows of the series (steps + 1)."""
        return self.series["workers"].shape[0]

    def rows(self, first: str, last: str) -> slice:
        """Rows of the calendar months first..last (row 0, the initial state, excluded)."""
        a = max(month_index(self.start, first), 1)
        b = min(month_index(self.start, last), self.months - 1)
        return slice(a, max(b + 1, a))

    def mask(self, area: str) -> np.ndarray:
        """Countries of an area: ``world``, ``ESEA`` or an ISO3 code."""
        if area == "world":
            return np.ones(len(self.iso3), bool)
        if area == "ESEA":
            return self.region == EAST_SE_ASIA
        return self.iso3 == area


def _per_year(view: RunView, name: str, t: Mapping[str, Any]) -> float:
    r = view.rows(t["first"], t["last"])
    block = view.series[name][r][:, view.mask(t["area"])]
    n = block.shape[0]
    return float(block.sum()) * 12.0 / n if n else math.nan


def stat_victim_losses(view: RunView, t: Mapping[str, Any], ledger: pd.DataFrame) -> float:
    """Victim losses in the area's countries, per year."""
    return _per_year(view, "victim_losses_usd", t)


def stat_revenue(view: RunView, t: Mapping[str, Any], ledger: pd.DataFrame) -> float:
    """Revenue of the compounds hosted in the area, per year."""
    return _per_year(view, "revenue_usd", t)


def stat_profit(view: RunView, t: Mapping[str, Any], ledger: pd.DataFrame) -> float:
    """Revenue per year times the run's operating margin."""
    money = view.summary.get("accounting", {}).get("money_usd", {})
    revenue = float(money.get("revenue", 0.0))
    if revenue <= 0:
        return math.nan
    costs = sum(float(money.get(k, 0.0)) for k in
                ("frozen", "bribes", "running_costs", "laundering_losses"))
    return (revenue - costs) / revenue * _per_year(view, "revenue_usd", t)


def stat_workers_mean(view: RunView, t: Mapping[str, Any], ledger: pd.DataFrame) -> float:
    """Mean workforce held in the area over the months."""
    r = view.rows(t["first"], t["last"])
    block = view.series["workers"][r][:, view.mask(t["area"])]
    return float(block.sum(axis=1).mean()) if block.shape[0] else math.nan


def stat_removed(view: RunView, t: Mapping[str, Any], ledger: pd.DataFrame) -> float:
    """Workers rescued by raids plus those released by closures, in the area."""
    r = view.rows(t["first"], t["last"])
    mask = view.mask(t["area"])
    rescued = float(view.series["rescued"][r][:, mask].sum())
    return rescued + float(view.series["closed_workers"][r][:, mask].sum())


def stat_share_workers(view: RunView, t: Mapping[str, Any], ledger: pd.DataFrame) -> float:
    """Share of the workforce held in the area."""
    r = view.rows(t["first"], t["last"])
    w = view.series["workers"][r]
    total = w.sum()
    return float(w[:, view.mask(t["area"])].sum() / total) if total > 0 else math.nan


def stat_source_countries(view: RunView, t: Mapping[str, Any], ledger: pd.DataFrame) -> float:
    """Countries that supplied at least SOURCE_MIN_PERSONS workers."""
    lab = view.labour
    if lab is None or not hasattr(lab, "comp") or not hasattr(lab, "by_source"):
        return math.nan
    ever = lab.comp.sum(axis=0) + lab.by_source["rescued"] + lab.by_source["released"]
    return float(np.count_nonzero(ever >= SOURCE_MIN_PERSONS))


def _ledger_index(view: RunView, ledger: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    where = {c: i for i, c in enumerate(view.iso3)}
    idx = [(where[c], d) for c, d in zip(ledger["iso3"], ledger["first_documented"],
                                         strict=True) if c in where]
    return (np.array([i for i, _ in idx], int), np.array([d for _, d in idx], str))


def stat_ledger_auc(view: RunView, t: Mapping[str, Any], ledger: pd.DataFrame) -> float:
    """Mann-Whitney AUC of the ledger countries among all countries new to compounds."""
    comp = view.series["compounds"]
    r = view.rows(t["first"], t["last"])
    fresh = comp[0] <= 0
    score = (comp[r] > 0).sum(axis=0).astype(float)
    idx, _ = _ledger_index(view, ledger)
    pos = np.zeros(len(view.iso3), bool)
    pos[idx] = True
    pos &= fresh
    neg = fresh & ~pos
    if not pos.any() or not neg.any():
        return math.nan
    from scipy.stats import rankdata

    ranks = rankdata(score[fresh | pos])
    is_pos = pos[fresh | pos]
    n_pos, n_neg = int(is_pos.sum()), int((~is_pos).sum())
    u = ranks[is_pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def stat_ledger_by_date(view: RunView, t: Mapping[str, Any], ledger: pd.DataFrame) -> float:
    """Share of the ledger countries hosting compounds by their documented month."""
    comp = view.series["compounds"]
    idx, dates = _ledger_index(view, ledger)
    if not len(idx):
        return math.nan
    hits = []
    for j, d in zip(idx, dates, strict=True):
        last = min(month_index(view.start, d) + LEDGER_GRACE_MONTHS, view.months - 1)
        hits.append(bool((comp[1 : last + 1, j] > 0).any()) if last >= 1 else False)
    return float(np.mean(hits))


Statistic = Callable[[RunView, Mapping[str, Any], pd.DataFrame], float]
STATISTICS: dict[str, Statistic] = {
    "victim_losses_per_year": stat_victim_losses,
    "revenue_per_year": stat_revenue,
    "profit_per_year": stat_profit,
    "workers_mean": stat_workers_mean,
    "removed": stat_removed,
    "share_workers": stat_share_workers,
    "source_countries": stat_source_countries,
    "ledger_auc": stat_ledger_auc,
    "ledger_by_date": stat_ledger_by_date,
}
NEEDS_MODEL = ("source_countries",)


def applicable(targets: pd.DataFrame, iso3: Sequence[str],
               ledger: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """The targets a world can express, and why the others are left out."""
    codes = set(iso3)
    skipped: dict[str, str] = {}
    keep = []
    for row in targets.to_dict("records"):
        stat, area = row["statistic"], row["area"]
        if stat not in STATISTICS:
            raise CalibrationError(
                f"target {row['id']}: unknown statistic {stat!r}; known: {', '.join(STATISTICS)}"
            )
        if area not in ("world", "ESEA") and area not in codes:
            skipped[row["id"]] = f"{area} is not in this world"
        elif stat == "source_countries" and len(codes) < row["low"]:
            skipped[row["id"]] = f"the world has fewer than {row['low']:g} countries"
        elif stat.startswith("ledger") and not codes & set(ledger["iso3"]):
            skipped[row["id"]] = "no ledger country in this world"
        else:
            keep.append(row["id"])
    return targets[targets["id"].isin(keep)].reset_index(drop=True), skipped


def interval_distance(value: float, low: float, high: float, scale: str = LINEAR,
                      bound: str = "both") -> float:
    """0 inside [low, high], else the distance to the band relative to its width."""
    if value is None or not math.isfinite(value):
        return NAN_PENALTY
    if scale == LOG:
        v, lo, hi = math.log(max(value, LOG_FLOOR * low)), math.log(low), math.log(high)
    else:
        v, lo, hi = value, low, high
    width = hi - lo
    if v < lo:
        return (lo - v) / width
    if v > hi and bound == "both":
        return (v - hi) / width
    return 0.0


def run_statistics(view: RunView, rows: Sequence[Mapping[str, Any]],
                   ledger: pd.DataFrame) -> dict[str, float]:
    """Every target's statistic for one run (``rows``: the targets as records, made once
    by the caller, e.g. ``Problem.rows``: converting the table is most of the cost)."""
    return {row["id"]: float(STATISTICS[row["statistic"]](view, row, ledger)) for row in rows}


def run_key(target_id: str, run: int) -> str:
    """Key of a target's value in one run of a particle, in its summary statistics."""
    return f"{target_id}__run{run}"


@dataclass
class Problem:
    """The calibration problem: the validated spec, the targets, the priors, the seeds."""

    spec: RunSpec
    targets: pd.DataFrame
    ledger: pd.DataFrame
    priors: list[Prior]
    seeds: int = 1
    skipped: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rows = self.targets.to_dict("records")  # the targets as records, made once
        self._keep_model = bool(set(self.targets["statistic"]) & set(NEEDS_MODEL))
        self._weights = np.array([r["weight"] for r in self.rows], float)

    def run(self, params: Params, seed: int) -> dict[str, float]:
        """The statistics of one run of the spec with these parameters and seed."""
        spec = dataclasses.replace(
            self.spec, seed=int(seed), params=params,
            resolved={**self.spec.resolved, "seed": int(seed),
                      "params": dataclasses.asdict(params)},
        )
        result = simulate(spec, keep_model=self._keep_model)
        return run_statistics(RunView.from_result(result), self.rows, self.ledger)

    def model(self, parameter: Mapping[str, float]) -> dict[str, Any]:
        """pyabc's model: the statistics (mean over the particle's seeds) of a parameter."""
        params = to_params(self.spec.params, parameter, self.priors)
        seeds = np.random.randint(0, 2**31 - 1, size=self.seeds)
        runs = [self.run(params, s) for s in seeds]
        out: dict[str, Any] = {}
        for row in self.rows:
            values = np.array([r[row["id"]] for r in runs], float)
            finite = values[np.isfinite(values)]
            out[row["id"]] = float(finite.mean()) if len(finite) else math.nan
            out.update({run_key(row["id"], j): float(v) for j, v in enumerate(values)})
        return out

    def distances(self, stats: Mapping[str, Any]) -> np.ndarray:
        """Per-target interval distances of a particle's statistics."""
        return np.array([interval_distance(stats[r["id"]], r["low"], r["high"], r["scale"],
                                           r["bound"]) for r in self.rows])

    def distance(self, x: Mapping[str, Any], x0: Mapping[str, Any] | None = None) -> float:
        """pyabc's distance: the weighted mean of the interval distances."""
        return float(self.distances(x) @ self._weights / self._weights.sum())

    def observed(self) -> dict[str, float]:
        """The 'observed' statistics pyabc records: each band's midpoint."""
        return {r["id"]: 0.5 * (r["low"] + r["high"]) for r in self.rows}

    def prior(self) -> pyabc.Distribution:
        """pyabc's prior: independent uniforms in pyabc's coordinates."""
        import pyabc

        rvs = {}
        for p in self.priors:
            lo, hi = p.bounds()
            rvs[p.key] = pyabc.RV("uniform", lo, hi - lo)
        return pyabc.Distribution(**rvs)


# --- sampler ---------------------------------------------------------------------------

_JOB: Callable[[], Any] | None = None  # the generation's simulate_one, inherited by forks


def evaluation_seeds(seed: int, t: int, i: int) -> tuple[int, int]:
    """Seeds of NumPy's and Python's global generators for evaluation ``i`` of generation
    ``t`` (pyabc's calibration sample has t = -1)."""
    state = np.random.SeedSequence([int(seed), int(t) + 1, int(i)]).generate_state(2)
    return int(state[0]), int(state[1])


def _evaluate(task: tuple[int, int, int]) -> Any:
    seed, t, i = task
    np_seed, py_seed = evaluation_seeds(seed, t, i)
    np.random.seed(np_seed)
    random.seed(py_seed)
    assert _JOB is not None
    return _JOB()


def _map(tasks: list[tuple[int, int, int]], pool: Any, n_procs: int) -> Iterator[Any]:
    """The evaluations in task order, as they finish (the caller may stop early)."""
    if pool is None:
        return (_evaluate(task) for task in tasks)
    return pool.imap(_evaluate, tasks, chunksize=max(1, min(25, len(tasks) // (4 * n_procs))))


def sample_in_order(sampler: Any, n: int, simulate_one: Callable[[], Any], t: int,
                    max_eval: float, all_accepted: bool) -> Any:
    """Evaluate particles in index order (batches on a fork pool) until ``n`` are accepted."""
    global _JOB
    _JOB = simulate_one
    sample = sampler._create_empty_sample()
    accepted = i = 0
    pool = None
    if sampler.n_procs > 1:
        pool = multiprocessing.get_context("fork").Pool(sampler.n_procs)
    try:
        while accepted < n and i < max_eval:
            need = n - accepted
            size = need if all_accepted else math.ceil(1.2 * need / max(sampler.rate, 0.01))
            size = int(min(max(size, sampler.n_procs), 50 * n, max_eval - i))
            tasks = [(sampler.seed, t, k) for k in range(i, i + size)]
            for particle in _map(tasks, pool, sampler.n_procs):
                sample.append(particle)
                i += 1
                if particle.accepted:
                    accepted += 1
                    if accepted % max(1, n // 10) == 0 and sampler.progress is not None:
                        sampler.progress(f"  {accepted} of {n} accepted, {i} evaluations")
                    if accepted == n:
                        break
            if not all_accepted:
                sampler.rate = max(accepted / i, 1.0 / (i + 1))
    finally:
        _JOB = None
        if pool is not None:
            pool.terminate()
            pool.join()
    sampler.nr_evaluations_ = i
    if accepted < n:
        sample.ok = False
    return sample


def deterministic_sampler(seed: int, n_procs: int | None = None) -> Any:
    """A pyabc sampler on local processes whose result depends on ``seed`` only.

    Evaluations run in ordered batches, each seeded on its own (:func:`evaluation_seeds`);
    the first ``n`` accepted by index are kept, whatever the number of processes.
    """
    from pyabc.sampler import Sampler

    class DeterministicSampler(Sampler):
        """Ordered, individually seeded evaluations on a local fork pool."""

        def sample_until_n_accepted(self, n: int, simulate_one: Callable[[], Any], t: int,
                                    *, max_eval: float = np.inf, all_accepted: bool = False,
                                    ana_vars: Any = None) -> Any:
            return sample_in_order(self, n, simulate_one, t, max_eval, all_accepted)

    sampler = DeterministicSampler()
    sampler.seed = int(seed)
    sampler.n_procs = max(1, int(n_procs or os.cpu_count() or 1))
    sampler.rate = 0.5  # acceptance-rate guess that sizes the first batch
    sampler.progress = None  # a callable taking a line, told of every tenth accepted
    return sampler


# --- settings, running and outputs --------------------------------------------------------


@dataclass
class CalibrationSettings:
    """How a calibration is run (``quick()`` for the few-minutes version)."""

    world: str = "world"
    scenario: str = "history"
    start: str = "2023-01"
    steps: int = 36
    population: int = 1000
    generations: int = 25
    seeds: int = 2
    seed: int = 1
    alpha: float = 0.5  # epsilon of a generation: this quantile of the last distances
    min_improvement: float = 0.02  # stop when epsilon falls by less (relative) ...
    patience: int = 2  # ... in this many generations in a row
    # Simulation budget, in particle evaluations: 50,000 x 2 seeds = 10^5 model runs.
    max_evaluations: int = 50_000
    min_acceptance_rate: float = 0.0
    procs: int | None = None  # local processes (default: all cores)
    dask: str | None = None  # address of a Dask scheduler (cluster route)
    redis: str | None = None  # HOST:PORT of a Redis server (cluster route)

    @classmethod
    def quick(cls, **overrides: Any) -> CalibrationSettings:
        """Teaching world, 60 particles, 3 generations, one seed per particle."""
        base = dict(world="teaching", population=60, generations=3, seeds=1,
                    max_evaluations=5_000)
        return cls(**{**base, **overrides})

    def identity(self) -> dict[str, Any]:
        """What determines the posterior (not the stopping rules nor the processes)."""
        keep = ("world", "scenario", "start", "steps", "population", "seeds", "seed",
                "alpha")
        return {k: getattr(self, k) for k in keep}


def build_problem(settings: CalibrationSettings, targets: pd.DataFrame | None = None,
                  priors: Sequence[Prior] = PRIORS, ledger: pd.DataFrame | None = None
                  ) -> Problem:
    """Compose and validate the scenario once; keep the targets this world can express."""
    priors = check_priors(priors)
    cfg = compose(settings.scenario, settings.world,
                  {"start": settings.start, "steps": settings.steps, "seed": settings.seed,
                   "plot": False})
    spec = validate(cfg)
    targets = load_targets() if targets is None else targets
    ledger = load_ledger() if ledger is None else ledger
    kept, skipped = applicable(targets, list(spec.world.iso3), ledger)
    if kept.empty:
        raise CalibrationError("no target can be computed in this world")
    return Problem(spec, kept, ledger, priors, settings.seeds, skipped)


def fingerprint(settings: CalibrationSettings, problem: Problem) -> str:
    """Hash of everything that determines the posterior."""
    data = {
        "settings": settings.identity(),
        "targets": problem.targets.to_dict("records"),
        "ledger": problem.ledger.to_dict("records"),
        "priors": [dataclasses.asdict(p) for p in problem.priors],
        # The parameters the particles do not set: installing a posterior's medians as
        # the defaults leaves the calibration that produced it reproducible.
        "params": {k: v for k, v in problem.spec.resolved["params"].items()
                   if k not in {p.name for p in problem.priors}},
        "events": problem.spec.resolved["scenario"]["events"],
    }
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_sampler(settings: CalibrationSettings) -> Any:
    """The sampler: deterministic local processes, or a cluster route."""
    if settings.dask:
        from dask.distributed import Client
        from pyabc.sampler import DaskDistributedSampler

        return DaskDistributedSampler(dask_client=Client(settings.dask))
    if settings.redis:
        from pyabc.sampler import RedisEvalParallelSampler

        host, _, port = settings.redis.rpartition(":")
        return RedisEvalParallelSampler(host=host or "localhost", port=int(port or 6379))
    return deterministic_sampler(settings.seed, settings.procs)


def _abc(problem: Problem, settings: CalibrationSettings, sampler: Any) -> pyabc.ABCSMC:
    import pyabc

    return pyabc.ABCSMC(
        problem.model, problem.prior(), problem.distance,
        population_size=settings.population, sampler=sampler,
        eps=pyabc.QuantileEpsilon(alpha=settings.alpha),
    )


@dataclass
class CalibrationResult:
    """Where a calibration's outputs are and why it stopped."""

    out: Path
    generations: pd.DataFrame
    posterior: pd.DataFrame
    stop_reason: str


def _db_url(out: Path) -> str:
    return "sqlite:///" + str((out / DB_NAME).resolve())


def _stop_reason(settings: CalibrationSettings, gens: pd.DataFrame) -> str | None:
    if len(gens) >= settings.generations:
        return f"{settings.generations} generations done"
    if len(gens) and float(gens["epsilon"].iloc[-1]) <= 0.0:
        return "epsilon is 0: every accepted particle is inside every band"
    if len(gens) and int(gens["evaluations"].sum()) >= settings.max_evaluations:
        return f"simulation budget of {settings.max_evaluations} evaluations used"
    eps = gens["epsilon"].to_numpy(float)
    k = settings.patience
    if len(eps) > k:
        gains = 1.0 - eps[-k:] / eps[-k - 1 : -1]
        if np.all(gains < settings.min_improvement):
            return f"epsilon improved by less than {settings.min_improvement:.0%} " \
                   f"in {k} generations"
    return None


def generations_table(history: pyabc.History, seeds: int) -> pd.DataFrame:
    """Epsilon, acceptance rate, ESS, evaluations and runs of every finished generation."""
    from pyabc.weighted_statistics import effective_sample_size

    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].sort_values("t")
    rows = []
    for r in pops.to_dict("records"):
        _, w = history.get_distribution(m=0, t=int(r["t"]))
        n, evals = int(r["particles"]), int(r["samples"])
        rows.append({"generation": int(r["t"]), "epsilon": float(r["epsilon"]),
                     "particles": n, "evaluations": evals, "model_runs": evals * seeds,
                     "acceptance_rate": n / evals if evals else math.nan,
                     "ess": float(effective_sample_size(w)),
                     "wall_time_s": float(r.get("wall_time") or math.nan)})
    return pd.DataFrame(rows, columns=["generation", "epsilon", "particles", "evaluations",
                                       "model_runs", "acceptance_rate", "ess",
                                       "wall_time_s"])


def posterior_table(history: pyabc.History, priors: Sequence[Prior]) -> pd.DataFrame:
    """Parameters of the last generation on their natural scale, with normalised weights."""
    df, w = history.get_distribution(m=0)
    out = pd.DataFrame({p.name: [p.value(x) for x in df[p.key]] for p in priors})
    out["weight"] = np.asarray(w, float) / np.sum(w)
    return out


def predictive_table(history: pyabc.History, problem: Problem) -> pd.DataFrame:
    """Every target's statistic for every run of the last generation (long table)."""
    weights, stats = history.get_weighted_sum_stats()
    w = np.asarray(weights, float) / np.sum(weights)
    rows = []
    for k, (wk, s) in enumerate(zip(w, stats, strict=True)):
        for r in problem.targets.to_dict("records"):
            for j in range(problem.seeds):
                rows.append({"particle": k, "weight": wk, "target": r["id"], "run": j,
                             "value": float(s[run_key(r["id"], j)])})
    return pd.DataFrame(rows)


def calibrate(settings: CalibrationSettings, out: str | os.PathLike | None = None, *,
              targets: pd.DataFrame | None = None, priors: Sequence[Prior] = PRIORS,
              ledger: pd.DataFrame | None = None,
              fresh: bool = False, log: Callable[[str], None] | None = print,
              verbose: bool = False) -> CalibrationResult:
    """Run (or resume) a calibration into ``out`` and write its tables."""
    import logging

    import pyabc

    if not verbose:
        logging.getLogger("ABC").setLevel(logging.WARNING)
    out = Path(out) if out is not None else results_root() / "calibration"
    out.mkdir(parents=True, exist_ok=True)
    say = log or (lambda _msg: None)
    problem = build_problem(settings, targets, priors, ledger)
    fp = fingerprint(settings, problem)
    db, meta_path = out / DB_NAME, out / META_NAME
    if fresh:
        db.unlink(missing_ok=True)
    if db.exists():
        old = json.loads(meta_path.read_text()).get("fingerprint") if meta_path.exists() else None
        if old != fp:
            raise CalibrationError(
                f"{db} belongs to a calibration with other settings, targets or priors; "
                "use --fresh to start over or --out for another folder"
            )
    meta: dict[str, Any] = {
        "fingerprint": fp, "settings": dataclasses.asdict(settings),
        "targets": list(problem.targets["id"]), "skipped_targets": problem.skipped,
        "priors": [dataclasses.asdict(p) for p in problem.priors],
        "pyabc_version": pyabc.__version__, "status": "running",
    }
    atomic_write_text(meta_path, json.dumps(meta, indent=2) + "\n")
    if problem.skipped:
        say("targets left out: " + "; ".join(f"{k} ({v})" for k, v in problem.skipped.items()))
    np.random.seed(settings.seed)
    random.seed(settings.seed)
    sampler = make_sampler(settings)
    if hasattr(sampler, "progress"):
        sampler.progress = say
    gens = generations_table_empty()
    if db.exists():
        gens = generations_table(pyabc.History(_db_url(out)), settings.seeds)
        if len(gens):
            say(f"resuming after generation {int(gens['generation'].iloc[-1])}")
        else:  # interrupted before its first generation: nothing to keep
            db.unlink()
    reason = _stop_reason(settings, gens)
    try:
        while reason is None:
            t0 = time.perf_counter()
            abc = _abc(problem, settings, sampler)
            if len(gens):
                abc.load(_db_url(out), 1)
            else:
                abc.new(_db_url(out), problem.observed(),
                        meta_info={"scamsim_fingerprint": fp})
            before = len(gens)
            history = abc.run(max_nr_populations=1, minimum_epsilon=0.0,
                              min_acceptance_rate=settings.min_acceptance_rate)
            gens = generations_table(history, settings.seeds)
            if len(gens) == before:
                reason = "acceptance rate fell below min_acceptance_rate"
                break
            g = gens.iloc[-1]
            say(f"generation {int(g['generation'])}: epsilon {g['epsilon']:.4g}, acceptance "
                f"{g['acceptance_rate']:.3f}, ESS {g['ess']:.0f}, {int(g['evaluations'])} "
                f"evaluations, {time.perf_counter() - t0:.1f} s")
            reason = _stop_reason(settings, gens)
    finally:
        if hasattr(sampler, "shutdown"):  # a cluster route's client
            sampler.shutdown()
    history = pyabc.History(_db_url(out))
    posterior = posterior_table(history, problem.priors)
    atomic_write_text(out / "generations.csv", gens.to_csv(index=False))
    atomic_write_text(out / "posterior.csv", posterior.to_csv(index=False))
    atomic_write_text(out / "predictive.csv", predictive_table(history, problem).to_csv(
        index=False))
    atomic_write_text(out / "targets.csv", problem.targets.to_csv(index=False))
    meta.update(status="finished", stop_reason=reason, generations=len(gens))
    atomic_write_text(meta_path, json.dumps(meta, indent=2) + "\n")
    say(f"stopped: {reason}; outputs in {out}")
    return CalibrationResult(out, gens, posterior, reason)


def generations_table_empty() -> pd.DataFrame:
    """An empty generations table."""
    return pd.DataFrame(columns=["generation", "epsilon", "particles", "evaluations",
                                 "model_runs", "acceptance_rate", "ess", "wall_time_s"])


POSTERIOR_FILE = "posterior.csv"


def install_posterior(out: str | os.PathLike, dest: str | os.PathLike | None = None) -> Path:
    """Copy a calibration's posterior to the package file ``sim/data/posterior.csv``."""
    src = Path(out) / POSTERIOR_FILE
    if not src.exists():
        raise CalibrationError(f"no {POSTERIOR_FILE} in {out}: run the calibration first")
    target = Path(dest) if dest is not None else data_path(POSTERIOR_FILE)
    shutil.copyfile(src, target)
    return target


def load_posterior(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The shipped posterior (parameters and weights)."""
    path = Path(path) if path is not None else data_path(POSTERIOR_FILE)
    if not path.exists():
        raise CalibrationError(f"{path} does not exist: calibrate and --install first")
    return pd.read_csv(path)


def sample_posterior(n: int, seed: int = 1, path: str | os.PathLike | None = None
                     ) -> list[dict[str, float]]:
    """``n`` parameter sets drawn from the posterior by weight (for sweeps and studies)."""
    post = load_posterior(path)
    rng = np.random.default_rng(seed)
    w = post["weight"].to_numpy(float)
    idx = rng.choice(len(post), size=n, p=w / w.sum())
    cols = [c for c in post.columns if c != "weight"]
    return [{c: float(post.iloc[i][c]) for c in cols} for i in idx]


# --- command line ------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    d = CalibrationSettings()
    p = argparse.ArgumentParser(
        prog="scamsim calibrate",
        description="ABC-SMC calibration of scamsim against the record (pyabc).",
    )
    p.add_argument("--quick", action="store_true",
                   help="teaching world, 60 particles, 3 generations, 1 seed, the "
                        "QUICK_PRIOR_NAMES priors (a minute or two)")
    p.add_argument("--world", help=f"world config (default {d.world}; quick: teaching)")
    p.add_argument("--scenario", default=d.scenario, help="scenario replayed (history)")
    p.add_argument("--population", type=int, help=f"particles per generation ({d.population})")
    p.add_argument("--generations", type=int, help=f"most generations ({d.generations})")
    p.add_argument("--seeds", type=int, help=f"model runs per particle ({d.seeds})")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of the calibration")
    p.add_argument("--max-evaluations", type=int, help="simulation budget (particle evaluations)")
    p.add_argument("--min-improvement", type=float, help="relative epsilon gain to continue")
    p.add_argument("--params", help="comma-separated priors to calibrate, or 'all' (default: "
                   "the eight of SCREENED_PRIOR_NAMES; quick: QUICK_PRIOR_NAMES)")
    p.add_argument("--targets", type=Path, help="another targets table (CSV like targets.csv)")
    p.add_argument("--until", help="calibrate on the record up to this month (YYYY-MM) only: "
                   "the out-of-time check of scamsim hindcast --until")
    p.add_argument("--procs", type=int, help="local processes (default: all cores)")
    p.add_argument("--dask", help="address of a Dask scheduler (cluster route)")
    p.add_argument("--redis", help="HOST:PORT of a Redis server with abc-redis-worker's")
    p.add_argument("--out", type=Path, help="output folder (default <results>/calibration)")
    p.add_argument("--fresh", action="store_true", help="delete the database, start over")
    p.add_argument("--install", action="store_true",
                   help="copy the posterior to sim/data/posterior.csv")
    p.add_argument("--report", action="store_true", help="write the calibration report")
    p.add_argument("--set-defaults", action="store_true",
                   help="write the posterior medians as the defaults of sim/core/params.py "
                        "(a source checkout; the old values stay as paramset=handset)")
    p.add_argument("--priors", action="store_true", help="print the prior table and exit")
    p.add_argument("--screen", type=Path, metavar="FOLDER",
                   help="print how far a calibration's first generation moved each "
                        "parameter from its prior (KS distance) and exit")
    return p


def screening_table(out: str | os.PathLike, priors: Sequence[Prior] = PRIORS,
                    generation: int = 0) -> pd.DataFrame:
    """How much one generation has learnt about each parameter: the Kolmogorov-Smirnov
    distance of its weighted marginal from the uniform prior (in pyabc's coordinates),
    largest first. Used to screen the parameters worth calibrating (README): with many
    free parameters the importance weights of ABC-SMC degenerate."""
    import pyabc

    history = pyabc.History(_db_url(Path(out)))
    df, w = history.get_distribution(m=0, t=generation)
    w = np.asarray(w, float) / np.sum(w)
    rows = []
    for p in priors:
        if p.key not in df.columns:
            continue
        lo, hi = p.bounds()
        u = (df[p.key].to_numpy(float) - lo) / (hi - lo)
        order = np.argsort(u)
        cdf = np.cumsum(w[order])
        ks = float(np.max(np.maximum(np.abs(cdf - u[order]),
                                     np.abs(cdf - w[order] - u[order]))))
        rows.append({"parameter": p.name, "group": p.group, "ks_distance": ks})
    return (pd.DataFrame(rows).sort_values("ks_distance", ascending=False, kind="stable")
            .reset_index(drop=True))


DEFAULT_DIGITS = 3  # significant figures of the posterior medians written as defaults


def rounded_medians(posterior: pd.DataFrame, digits: int = DEFAULT_DIGITS) -> dict[str, float]:
    """Weighted median of every parameter of a posterior table, to ``digits`` figures."""
    from sim.paramsets import weighted_medians

    return {k: float(f"{v:.{digits}g}") for k, v in weighted_medians(posterior).items()}


def float_literal(value: float) -> str:
    """A float as params.py writes it: ``18_000.0``, ``3.79e9``, ``0.578``."""
    v = float(value)
    if v != 0 and (abs(v) >= 1e7 or abs(v) < 1e-4):
        # the shortest digits that read back as v
        text = np.format_float_scientific(v, unique=True, trim="-", exp_digits=1)
        return text.replace("e+", "e")
    if v == int(v) and abs(v) >= 1e3:
        return f"{int(v):_}.0"
    return repr(v)


def write_defaults(values: Mapping[str, float], params_file: str | os.PathLike) -> dict[str, Any]:
    """Write ``values`` as the defaults of their fields in ``sim/core/params.py`` (a source
    checkout); returns ``{name: (old, new)}``. Each field's first literal is replaced."""
    path = Path(params_file)
    text = path.read_text()
    changed: dict[str, Any] = {}
    for name, value in values.items():
        pattern = re.compile(rf"(\n    {re.escape(name)}: \w+ = _p\(\s*)([^,\s]+)(,)")
        m = pattern.search(text)
        if m is None:
            raise CalibrationError(f"{path} has no field {name} declared with _p(...)")
        literal = float_literal(value)
        changed[name] = (m.group(2), literal)
        text = text[: m.start(2)] + literal + text[m.end(2):]
    atomic_write_text(path, text)
    return changed


def set_defaults(out: str | os.PathLike, params_file: str | os.PathLike | None = None
                 ) -> dict[str, Any]:
    """Make a calibration's posterior medians the model's defaults (source checkout only)."""
    import sim.core.params as module

    path = Path(params_file or module.__file__)
    if params_file is None and not any((d / ".git").exists() for d in path.parents):
        raise CalibrationError(f"{path} is not in a source checkout; --set-defaults edits "
                               "sim/core/params.py of a clone")
    posterior = pd.read_csv(Path(out) / "posterior.csv")
    values = rounded_medians(posterior)
    changed = write_defaults(values, path)
    odd = path.parents[2] / "docs" / "ODD.md"
    if params_file is None and odd.is_file():
        write_odd_defaults(values, odd)
    return changed


def write_odd_defaults(values: Mapping[str, float], odd_file: str | os.PathLike) -> None:
    """Write ``values`` into the default column of docs/ODD.md's parameter table (section
    10), which must show the defaults exactly as the code has them."""
    path = Path(odd_file)
    text = path.read_text(encoding="utf-8")
    for name, value in values.items():
        pattern = re.compile(rf"(\n\| `{re.escape(name)}` \| )([^|]+?)( \|)")
        if pattern.search(text) is None:
            raise CalibrationError(f"{path} has no parameter row for {name}")
        literal = repr(float(value))
        text = pattern.sub(lambda m, lit=literal: m.group(1) + lit + m.group(3), text, 1)
    atomic_write_text(path, text)


def until(month: str, settings: CalibrationSettings, targets: pd.DataFrame,
          ledger: pd.DataFrame) -> tuple[CalibrationSettings, pd.DataFrame, pd.DataFrame]:
    """The calibration on the record up to ``month`` only (an out-of-time check): the run
    stops there, and only the targets that end by then and the ledger countries documented
    by then are kept."""
    from sim.core.errors import check_month

    check_month("--until", month)
    steps = month_index(settings.start, month)
    if not 1 <= steps <= settings.steps:
        raise CalibrationError(f"--until {month} must fall inside the replayed record "
                               f"({settings.start} + {settings.steps} months)")
    # The ledger's rank scores run over the whole record: they end at the cut-off instead.
    targets = targets.copy()
    is_ledger = targets["kind"] == "ledger"
    targets.loc[is_ledger, "last"] = month
    ends = targets["last"].map(lambda m: month_index(m, month) >= 0)
    by = ledger["first_documented"].map(lambda m: month_index(m, month) >= 0)
    return dataclasses.replace(settings, steps=steps), targets[ends], ledger[by]


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.priors:
        print(prior_table().to_string(index=False))
        return 0
    if args.screen:
        if not (args.screen / DB_NAME).is_file():
            print(f"calibrate: {args.screen / DB_NAME} does not exist", file=sys.stderr)
            return 2
        print(screening_table(args.screen).to_string(index=False))
        return 0
    given = {k: v for k, v in {
        "world": args.world, "scenario": args.scenario, "population": args.population,
        "generations": args.generations, "seeds": args.seeds, "seed": args.seed,
        "max_evaluations": args.max_evaluations, "min_improvement": args.min_improvement,
        "procs": args.procs, "dask": args.dask, "redis": args.redis,
    }.items() if v is not None}
    settings = (CalibrationSettings.quick(**given) if args.quick
                else CalibrationSettings(**given))
    name = "calibration_quick" if args.quick else "calibration"
    if args.until:
        name += f"_until_{args.until}"
    out = args.out or results_root() / name
    try:
        priors = select_priors(prior_names(args.params, args.quick))
        targets = load_targets(args.targets) if args.targets else load_targets()
        ledger = load_ledger()
        with warnings.catch_warnings():
            if args.until:
                settings, targets, ledger = until(args.until, settings, targets, ledger)
                # the events after the cut-off never act: that is the point of --until
                warnings.simplefilter("ignore", LeverWarning)
            result = calibrate(settings, out, targets=targets, priors=priors, ledger=ledger,
                               fresh=args.fresh)
    except (CalibrationError, ConfigError) as exc:
        print(f"calibrate: {exc}", file=sys.stderr)
        return 2
    if args.install:
        print(f"posterior installed as {install_posterior(result.out)}")
    if args.set_defaults:
        try:
            changed = set_defaults(result.out)
        except CalibrationError as exc:
            print(f"calibrate: {exc}", file=sys.stderr)
            return 2
        for name, (old, new) in changed.items():
            print(f"  {name}: {old} -> {new}")
    if args.report:
        from sim.analysis.calibration_report import calibration_report

        html, md = calibration_report(result.out)
        print(f"report: {html} and {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
