"""The SALib path on tiny samples of the teaching world (short horizon), and the CLI --quick."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import sensitivity as sa
from sim.core.params import Params, param_info

ROOT = Path(__file__).parents[1]
FAST = {"world": "teaching", "steps": 48, "progress": False}


def test_problem_bounds_match_factors():
    prob = sa.problem()
    assert prob["num_vars"] == len(sa.FACTORS)
    assert prob["names"] == [f.name for f in sa.FACTORS]
    assert prob["bounds"] == [[f.low, f.high] for f in sa.FACTORS]


def test_factors_lie_in_allowed_ranges_around_defaults():
    info = {p["name"]: p for p in param_info()}
    assert len({f.name for f in sa.FACTORS}) == len(sa.FACTORS)
    for f in sa.FACTORS:
        assert info[f.name]["min"] <= f.low < f.high <= info[f.name]["max"], f.name
        assert f.low <= getattr(Params(), f.name) <= f.high, f"{f.name}: default outside range"
        assert f.why, f"{f.name}: no justification"


def test_problem_subset_keeps_factor_order_and_rejects_unknown():
    assert sa.problem(["beta_risk", "raid_rate"])["names"] == ["raid_rate", "beta_risk"]
    with pytest.raises(ValueError, match="raid_rat"):
        sa.problem(["raid_rat"])


def test_evaluate_shape_and_independent_of_jobs():
    # Three factors keep it to 8 design rows (the joblib path is the same for any number).
    names = ["raid_rate", "exit_utility", "pool_share"]
    _, x = sa.morris_design(trajectories=2, seed=3, factors=names)
    y1 = sa.evaluate(x, replicates=2, n_jobs=1, names=names, **FAST)
    y2 = sa.evaluate(x, replicates=2, n_jobs=2, names=names, **FAST)
    assert y1.shape == (len(x), len(sa.OUTPUTS))
    np.testing.assert_array_equal(y1, y2)


def test_fill_undefined_uses_mean_of_defined_values():
    y = np.array([[1.0, 2.0, np.nan, 0.5], [3.0, 4.0, 1.0, 0.2], [5.0, 6.0, 3.0, 0.8]])
    with pytest.warns(RuntimeWarning, match="wdq"):
        filled, n = sa.fill_undefined(y)
    assert filled[0, 2] == 2.0
    assert n == {"new_jurisdictions_end": 0, "global_change_vs_control": 0, "wdq": 1,
                 "removed_share": 0}


def _check_tidy(df: pd.DataFrame, method: str, indices: set[str], n_factors: int) -> None:
    assert list(df.columns) == list(sa.INDEX_COLUMNS)
    assert set(df["method"]) == {method}
    assert set(df["output"]) == set(sa.OUTPUTS)
    assert set(df["index"]) == indices
    assert len(df) == len(sa.OUTPUTS) * n_factors * len(indices)
    assert np.isfinite(df["value"]).all()
    conf = df["conf"].dropna()
    assert len(conf) > 0 and np.isfinite(conf).all() and (conf >= 0).all()


@pytest.fixture(scope="module")
def morris_1job() -> pd.DataFrame:
    return sa.morris(trajectories=3, replicates=1, n_jobs=1, num_resamples=200, seed=5, **FAST)


def test_morris_indices(morris_1job):
    _check_tidy(morris_1job, "morris", {"mu_star", "mu", "sigma"}, len(sa.FACTORS))
    assert (morris_1job.loc[morris_1job["index"] == "mu_star", "conf"].notna()).all()
    assert (morris_1job.loc[morris_1job["index"] != "mu_star", "conf"].isna()).all()
    assert (morris_1job.loc[morris_1job["index"] == "mu_star", "value"] >= 0).all()
    assert morris_1job.attrs["runs"] == 3 * (len(sa.FACTORS) + 1)


def test_morris_same_numbers_for_any_jobs_and_repeat_call(morris_1job):
    again = sa.morris(trajectories=3, replicates=1, n_jobs=2, num_resamples=200, seed=5, **FAST)
    pd.testing.assert_frame_equal(morris_1job, again)


def test_sobol_indices_on_a_subset():
    factors = ["raid_rate", "risk_tolerance_mean", "exit_utility"]
    df = sa.sobol(n=8, replicates=1, n_jobs=2, num_resamples=200, factors=factors, **FAST)
    _check_tidy(df, "sobol", {"S1", "ST"}, len(factors))
    assert df.attrs["runs"] == 8 * (len(factors) + 2)
    again = sa.sobol(n=8, replicates=1, n_jobs=1, num_resamples=200, factors=factors, **FAST)
    pd.testing.assert_frame_equal(df, again)


def test_cli_quick_writes_tables_and_figures(tmp_path):
    out = tmp_path / "sa"
    cmd = [sys.executable, str(ROOT / "experiments" / "sensitivity.py"), "--quick",
           "--steps", "48", "--morris-trajectories", "2", "--sobol-n", "4", "--noise-seeds", "2",
           "--jobs", "2", "--no-progress", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert str(out) in proc.stdout and "Duration" in proc.stdout
    for name in ("morris.csv", "sobol.csv"):
        df = pd.read_csv(out / name)
        assert list(df.columns) == list(sa.INDEX_COLUMNS)
    for name in ("morris.png", "sobol.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob(".*.tmp")), "temporary files left behind"


def test_docs_factor_table_matches_factors():
    text = (ROOT / "docs" / "sensitivity.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("`") and "–" in cells[2]:
            lo, hi = (float(v) for v in cells[2].split("–"))
            rows[cells[0].strip("`")] = (lo, hi)
    assert rows == {f.name: (f.low, f.high) for f in sa.FACTORS}


def test_calibrated_factors_span_the_posteriors_central_interval(tmp_path, monkeypatch):
    # 30 particles of raid_budget 1..30 with equal weights: the weighted CDF at the i-th
    # value is (i - 0.5) / 30, so the 5% quantile is the 2nd value and the 95% one the
    # 29th; raid_rate is not in the sample and keeps its hand-set range.
    sample = tmp_path / "posterior.csv"
    pd.DataFrame({"raid_budget": np.arange(30, 0, -1.0), "weight": 1.0}).to_csv(sample,
                                                                               index=False)
    monkeypatch.setenv("SCAMSIM_POSTERIOR", str(sample))
    by_name = {f.name: f for f in sa.calibrated_factors(sa.HANDSET_FACTORS)}
    assert by_name["raid_budget"].low == pytest.approx(2.0)
    assert by_name["raid_budget"].high == pytest.approx(29.0)
    assert "calibrated" in by_name["raid_budget"].why
    hand = {f.name: f for f in sa.HANDSET_FACTORS}
    assert by_name["raid_rate"] == hand["raid_rate"]
    monkeypatch.setenv("SCAMSIM_POSTERIOR", str(tmp_path / "none.csv"))
    assert sa.calibrated_factors(sa.HANDSET_FACTORS) == sa.HANDSET_FACTORS


def test_calibrated_ranges_are_rounded_outward_to_three_figures():
    assert sa._round_sig(0.0611445, math.floor) == 0.0611
    assert sa._round_sig(0.18527, math.ceil) == 0.186
    assert sa._round_sig(1188442712.19, math.floor) == 1.18e9
    assert sa._round_sig(194.2, math.ceil) == 195.0
    assert sa._round_sig(0.7, math.floor) == 0.7 and sa._round_sig(29.000000000000004,
                                                                    math.ceil) == 29.0
