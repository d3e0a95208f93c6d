"""The hindcast: ranking scores by hand, the out-of-time split, and an end-to-end run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.analysis import hindcast
from sim.analysis.calibration import CalibrationSettings, load_ledger, load_targets, until


def test_auc_by_hand():
    score = np.array([0.9, 0.8, 0.5, 0.5, 0.1])
    positive = np.array([True, False, True, False, False])
    # positive 0.9 beats all 3 negatives; 0.5 beats 0.1, ties 0.5 (1/2), loses to 0.8
    assert hindcast.auc(score, positive) == pytest.approx((3 + 1.5) / 6)
    assert np.isnan(hindcast.auc(score, np.zeros(5, bool)))


def test_precision_at_k_by_hand():
    score = np.array([0.1, 0.9, 0.8, 0.7])
    positive = np.array([True, True, False, True])
    assert hindcast.precision_at(score, positive, 1) == 1.0
    assert hindcast.precision_at(score, positive, 2) == 0.5
    assert hindcast.precision_at(score, positive, 3) == pytest.approx(2 / 3)


def test_out_of_time_split_keeps_only_the_record_before_the_cut_off():
    settings, targets, ledger = until("2024-06", CalibrationSettings(), load_targets(),
                                      load_ledger())
    assert settings.steps == 17  # 2023-01 .. 2024-06
    assert (targets["last"] <= "2024-06").all()
    assert {"ledger_rank", "ledger_by_date"} <= set(targets["id"])  # scored up to the cut
    assert (ledger["first_documented"] <= "2024-06").all()
    assert len(ledger) < len(load_ledger())


def test_hindcast_end_to_end(tmp_path):
    sample = tmp_path / "posterior.csv"
    sample.write_text("raid_rate,expansion_rate,weight\n0.2,0.1,0.7\n0.3,0.15,0.3\n")
    folder = hindcast.hindcast(sample, until="2024-06", draws=2, jobs=1, out=tmp_path / "h")
    scores = json.loads((folder / "hindcast.json").read_text())
    assert scores["ledger_countries_scored"] == ["NGA", "TLS"]  # documented after 2024-06
    assert scores["countries_ranked"] == 189 - 3  # the earlier ledger countries left out
    assert 0.0 <= scores["auc"] <= 1.0
    assert (folder / "report.html").is_file() and (folder / "hosting.csv").is_file()
    # only targets whose period starts after the cut-off are checked
    checked = (folder / "targets.csv").read_text()
    assert "kk_park_2025" in checked and "workforce_mmr_2023" not in checked
