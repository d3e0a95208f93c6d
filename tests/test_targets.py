"""The committed calibration targets: built from their sources, sane ranges and weights."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.core.timeline import month_index
from sim.data import build_targets as bt
from sim.resources import configs_dir, data_path

CHECKOUT = Path(__file__).resolve().parents[1]
RAW = CHECKOUT.parent / "shared" / "data" / "targets"


@pytest.fixture(scope="module")
def targets() -> pd.DataFrame:
    return pd.read_csv(data_path(bt.TARGETS_FILE), keep_default_na=False)


@pytest.fixture(scope="module")
def ledger() -> pd.DataFrame:
    return pd.read_csv(data_path(bt.LEDGER_FILE), keep_default_na=False)


@pytest.mark.skipif(not (RAW / bt.FACTS).exists(), reason="the raw targets folder is absent")
def test_committed_tables_match_their_sources():
    built_targets, built_ledger = bt.build_tables(RAW)
    assert data_path(bt.TARGETS_FILE).read_text() == bt.csv_text(built_targets)
    assert data_path(bt.LEDGER_FILE).read_text() == bt.csv_text(built_ledger)


def test_columns_and_ids(targets, ledger):
    assert tuple(targets.columns) == bt.TARGET_COLUMNS
    assert tuple(ledger.columns) == bt.LEDGER_COLUMNS
    assert targets["id"].is_unique and ledger["iso3"].is_unique


def test_ranges_and_scales(targets):
    assert (targets["low"] < targets["high"]).all()
    assert set(targets["scale"]) <= {"log", "linear"}
    assert set(targets["bound"]) <= {"both", "lower"}
    assert (targets.loc[targets["scale"] == "log", "low"] > 0).all()
    shares = targets["unit"].isin(["share", "score"])
    assert ((targets.loc[shares, "low"] >= 0) & (targets.loc[shares, "high"] <= 1)).all()
    for first, last in zip(targets["first"], targets["last"], strict=True):
        assert 0 <= month_index("2023-01", first) <= month_index("2023-01", last) < 36


def test_weights_follow_confidence(targets):
    w = bt.CONFIDENCE_WEIGHT
    assert w["low"] < w["medium"] <= w["high"]
    assert (targets["weight"] == targets["confidence"].map(w)).all()
    assert (targets["weight"] > 0).all()


def test_every_statistic_is_implemented(targets):
    from sim.analysis.calibration import STATISTICS

    assert set(targets["statistic"]) <= set(STATISTICS)
    assert set(targets["area"]) <= {"world", "ESEA"} | {a for a in targets["area"] if len(a) == 3}


def test_ledger_enters_as_aggregate_scores_only(targets, ledger):
    ledger_rows = targets[targets["kind"] == "ledger"]
    assert set(ledger_rows["statistic"]) == {"ledger_auc", "ledger_by_date"}
    codes = set(ledger["iso3"])
    assert not codes & set(targets["area"]), "no target may be about one ledger country"


def test_history_scenario_describes_state_action_only(ledger):
    data = yaml.safe_load((configs_dir() / "scenario" / "history.yaml").read_text())
    events = data["scenario"]["events"]
    assert len(events) >= 7
    for e in events:
        assert "source:" in e["label"], e["label"]
        assert 0 <= month_index("2023-01", e["start"]) < 36
        assert not set(e.get("targets", [])) & set(ledger["iso3"]), "no lever on a ledger country"
