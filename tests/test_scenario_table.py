"""The README's scenario table (scamsim table): intervals, pairing, parameter sets."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sim.analysis import scenario_table as st


def test_mean_and_interval_hand_checked():
    # mean 2, sd 1, n 3: half-width t(0.975, 2) = 4.3027 × 1 / sqrt(3) = 2.4841
    mean, low, high, n = st.mean_ci([1.0, 2.0, 3.0, None])
    assert (mean, n) == (2.0, 3)
    assert math.isclose(high - mean, 2.4841, abs_tol=1e-4) and math.isclose(mean - low,
                                                                            2.4841, abs_tol=1e-4)
    assert st.fmt([1.0, 2.0, 3.0]) == "2.00 [-0.48, 4.48]"
    assert st.fmt([None, None]) == "–"


def test_rows_pair_each_scenario_with_its_seeds_baseline():
    # 60 months: the 24 after the 2025-02 crackdown (step 25) that removed_share needs
    df = st.collect(["baseline", "mekong_crackdown"], [1, 2], "teaching", steps=60)
    assert list(df["scenario"]) == ["baseline", "mekong_crackdown"] * 2
    assert df.loc[df["scenario"] == "baseline", "wdq"].isna().all()
    crack = df[df["scenario"] == "mekong_crackdown"]
    assert crack["removed_share"].astype(float).between(-1e-9, 1 + 1e-9).all()
    assert crack["wdq"].astype(float).notna().all()


def test_the_table_states_its_parameters_and_refuses_a_bad_set(capsys, tmp_path, monkeypatch):
    assert st.main(["--seeds", "2", "--world", "teaching", "--scenarios", "baseline",
                    "--paramset", "handset"]) == 0
    assert "parameter set handset (intervals: chance)" in capsys.readouterr().out
    assert st.main(["--seeds", "2", "--paramset", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "paramset" in err[0] and "handset" in err[0]
    sample = tmp_path / "posterior.csv"
    pd.DataFrame({"raid_budget": [30.0, 90.0], "weight": [0.5, 0.5]}).to_csv(sample,
                                                                             index=False)
    monkeypatch.setenv("SCAMSIM_POSTERIOR", str(sample))
    from sim import paramsets

    paramsets.posterior_sample.cache_clear()
    try:
        assert st.main(["--seeds", "2", "--world", "teaching", "--scenarios", "baseline",
                        "--posterior"]) == 0
    finally:
        paramsets.posterior_sample.cache_clear()
    assert "drawn from the posterior" in capsys.readouterr().out


@pytest.mark.parametrize("bad", [["--seeds", "0"], ["--scenarios", "nope"]])
def test_bad_arguments_get_one_line(bad, capsys):
    assert st.main(bad) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
