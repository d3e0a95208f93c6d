"""Build the committed calibration targets in ``sim/data`` from the raw targets folder.

The raw targets folder (not part of the project) holds ``facts.csv`` (public figures with a
range, a period, a place, a confidence and a source) and ``new_hosts_train.csv`` (the
partial ledger of countries where compounds were documented after 2023). Two tables are
written:

* ``targets.csv``: one row per calibration target: every fact, plus two ledger targets
  (a rank score and a share documented by date, never a per-country term). Each row says
  which statistic of a run it is compared with (``statistic``, ``area``, ``first`` ..
  ``last`` months), on which scale the distance is taken (``scale``), whether both bounds
  count (``bound``) and its weight (from the confidence, ``CONFIDENCE_WEIGHT``);
* ``ledger_train.csv``: the ledger itself (ISO3, month of the first documented case,
  confidence, source), read by the ledger statistics.

Usage::

    python -m sim.data.build_targets RAW_TARGETS_DIR [--out sim/data]

The statistics are implemented in :mod:`sim.analysis.calibration` (``STATISTICS``); a new
fact needs an entry in :data:`MAPPING` here, otherwise the build fails and says so.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

DEFAULT_OUT = Path(__file__).resolve().parent
FACTS, LEDGER = "facts.csv", "new_hosts_train.csv"
TARGETS_FILE, LEDGER_FILE = "targets.csv", "ledger_train.csv"

# Weight of a target in the distance by the confidence of its source (README of the raw
# targets folder: high = an official count, medium = a UN or government estimate,
# low = press reporting or a rough estimate).
CONFIDENCE_WEIGHT: dict[str, float] = {"high": 1.0, "medium": 0.6, "low": 0.3}

FACT_COLUMNS = ("id", "quantity", "low", "high", "unit", "period", "where", "kind",
                "confidence", "source")
LEDGER_COLUMNS = ("iso3", "country", "first_documented", "confidence", "source")
TARGET_COLUMNS = ("id", "quantity", "low", "high", "unit", "period", "where", "kind",
                  "confidence", "weight", "statistic", "area", "first", "last", "scale",
                  "bound", "note", "source")

# id -> how a run is compared with it: statistic, area (world, ESEA = East and South-East
# Asia, or an ISO3 code), first and last calendar month, distance scale, bounds, note.
MAPPING: dict[str, dict[str, str]] = {
    "esea_losses_2023": dict(
        statistic="victim_losses_per_year", area="ESEA", first="2023-01", last="2023-12",
        scale="log", bound="both", note="losses of victims living in East and South-East Asia"),
    "industry_profit": dict(
        statistic="profit_per_year", area="world", first="2023-01", last="2024-12",
        scale="log", bound="both",
        note="operating profit (revenue - frozen - bribes - running costs - laundering "
             "losses): the run's profit margin applied to 2023-2024 revenue"),
    "global_theft": dict(
        statistic="revenue_per_year", area="world", first="2023-01", last="2023-12",
        scale="log", bound="both",
        note="revenue of all compounds in 2023 (all syndicates start in the Mekong hubs)"),
    "workforce_mmr_2023": dict(
        statistic="workers_mean", area="MMR", first="2023-01", last="2023-12",
        scale="log", bound="both",
        note="mean workforce in 2023; the initial state comes from the same source, so "
             "this checks that 2023 neither collapses nor explodes"),
    "workforce_khm_2023": dict(
        statistic="workers_mean", area="KHM", first="2023-01", last="2023-12",
        scale="log", bound="both", note="as workforce_mmr_2023"),
    "shan_campaign_2023": dict(
        statistic="removed", area="MMR", first="2023-10", last="2024-04",
        scale="log", bound="both",
        note="workers rescued by raids plus those released when compounds closed"),
    "pogo_ban_2024": dict(
        statistic="removed", area="PHL", first="2024-07", last="2024-12",
        scale="log", bound="both", note="as shan_campaign_2023"),
    "myanmar_release_2025": dict(
        statistic="removed", area="MMR", first="2025-02", last="2025-04",
        scale="log", bound="both", note="as shan_campaign_2023"),
    "thai_cut_remaining_2025": dict(
        statistic="workers_mean", area="MMR", first="2025-03", last="2025-03",
        scale="log", bound="lower",
        note="the model has no sub-national places: Myanmar's whole workforce must be at "
             "least the border figure, so only the lower bound counts"),
    "cambodia_raids_2025": dict(
        statistic="removed", area="KHM", first="2025-07", last="2025-07",
        scale="log", bound="both", note="as shan_campaign_2023"),
    "kk_park_2025": dict(
        statistic="removed", area="MMR", first="2025-10", last="2025-11",
        scale="log", bound="both", note="as shan_campaign_2023"),
    "source_countries_2025": dict(
        statistic="source_countries", area="world", first="2023-01", last="2025-06",
        scale="linear", bound="both",
        note="countries that supplied at least SOURCE_MIN_PERSONS workers by the end of "
             "the run (the labour pools' nationality mix)"),
    "share_in_sea_2025": dict(
        statistic="share_workers", area="ESEA", first="2025-06", last="2025-06",
        scale="linear", bound="both", note="share of the workforce held in East and "
                                           "South-East Asian compounds"),
}

# The ledger as two aggregate targets (bands are modelling judgements, not data).
LEDGER_TARGETS: tuple[dict[str, object], ...] = (
    dict(id="ledger_rank", quantity="rank score (AUC) of the ledger countries among all "
         "countries without compounds at the start, by months with compounds", low=0.75,
         high=1.0, unit="score", period="2023-01 to 2025-12", where="ledger countries",
         kind="ledger", confidence="medium", statistic="ledger_auc", area="world",
         first="2023-01", last="2025-12", scale="linear", bound="both",
         note="band: clearly better than chance (0.5); the ledger is partial, so other "
              "countries are unlabelled, not negatives"),
    dict(id="ledger_by_date", quantity="share of ledger countries hosting compounds by "
         "their documented month (6 months' grace)", low=0.4, high=1.0, unit="share",
         period="2023-01 to 2025-12", where="ledger countries", kind="ledger",
         confidence="low", statistic="ledger_by_date", area="world", first="2023-01",
         last="2025-12", scale="linear", bound="both",
         note="band: a modelling judgement; the timing of first documentation is noisy"),
)


class TargetsError(ValueError):
    """The raw targets cannot be turned into the committed tables."""


def read_raw(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The raw facts and ledger from the raw targets folder."""
    folder = Path(folder)
    facts = pd.read_csv(folder / FACTS, dtype=str, keep_default_na=False)
    ledger = pd.read_csv(folder / LEDGER, dtype=str, keep_default_na=False)
    for name, table, cols in ((FACTS, facts, FACT_COLUMNS), (LEDGER, ledger, LEDGER_COLUMNS)):
        missing = [c for c in cols if c not in table.columns]
        if missing:
            raise TargetsError(f"{name} lacks the columns {', '.join(missing)}")
    return facts, ledger


def build_targets(facts: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """The targets table: every fact with its statistic, plus the ledger targets."""
    unknown = [i for i in facts["id"] if i not in MAPPING]
    if unknown:
        raise TargetsError(
            f"no statistic for the facts {', '.join(unknown)}: add them to MAPPING in "
            "sim/data/build_targets.py (and the statistic to sim/analysis/calibration.py)"
        )
    rows = []
    for fact in facts.to_dict("records"):
        conf = fact["confidence"]
        if conf not in CONFIDENCE_WEIGHT:
            raise TargetsError(f"{fact['id']}: confidence {conf!r} is not one of "
                               f"{', '.join(CONFIDENCE_WEIGHT)}")
        low, high = float(fact["low"]), float(fact["high"])
        if not low < high:
            raise TargetsError(f"{fact['id']}: low {low} is not below high {high}")
        rows.append({**{c: fact[c] for c in FACT_COLUMNS}, "low": low, "high": high,
                     "weight": CONFIDENCE_WEIGHT[conf], **MAPPING[fact["id"]]})
    if len(ledger):
        for extra in LEDGER_TARGETS:
            src = "; ".join(sorted(set(ledger["source"])))
            rows.append({**extra, "weight": CONFIDENCE_WEIGHT[str(extra["confidence"])],
                         "source": f"new_hosts_train.csv ({len(ledger)} countries): {src}"})
    table = pd.DataFrame(rows, columns=list(TARGET_COLUMNS))
    return table.astype({"low": float, "high": float, "weight": float})


def build_ledger(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger table: one row per country, sorted by ISO3."""
    out = ledger.loc[:, list(LEDGER_COLUMNS)].copy()
    bad = [d for d in out["first_documented"] if len(d) != 7 or d[4] != "-"]
    if bad:
        raise TargetsError(f"first_documented must be YYYY-MM, got {', '.join(bad)}")
    return out.sort_values("iso3").reset_index(drop=True)


def build_tables(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both committed tables from the raw targets folder."""
    facts, ledger = read_raw(folder)
    return build_targets(facts, ledger), build_ledger(ledger)


def csv_text(table: pd.DataFrame) -> str:
    """The table as committed (LF line ends, full float precision)."""
    return table.to_csv(index=False, lineterminator="\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.data.build_targets", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("raw", type=Path, help="the raw targets folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    try:
        targets, ledger = build_tables(args.raw)
    except (TargetsError, OSError) as exc:
        print(f"build_targets failed: {exc}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / TARGETS_FILE).write_text(csv_text(targets), encoding="utf-8", newline="")
    (args.out / LEDGER_FILE).write_text(csv_text(ledger), encoding="utf-8", newline="")
    print(f"{len(targets)} targets and {len(ledger)} ledger countries written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
