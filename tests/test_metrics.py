"""Tests for sim.core.metrics: hand-computed cases, edge cases and properties."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sim.core.metrics import (
    active_jurisdictions,
    counts_by_region,
    displacement_summary,
    evenness,
    ever_active_new,
    global_local_change,
    hhi,
    new_jurisdictions,
    period_mean,
    recovery_time,
    relative_change,
    shannon_entropy,
    shares,
    total_net_effect,
    wdq,
)

# Any warning (e.g. RuntimeWarning: divide by zero) fails the test.
pytestmark = pytest.mark.filterwarnings("error")

LN2 = math.log(2.0)
LN3 = math.log(3.0)

# Step 0 is the baseline; columns are jurisdictions.
#   t0: [1, 0, 0, 2]  active {0, 3}
#   t1: [1, 3, 0, 0]  active {0, 1}     new vs t0: {1}    -> 1
#   t2: [0, 1, 4, 0]  active {1, 2}     new vs t0: {1, 2} -> 2
#   t3: [0, 0, 0, 0]  active {}                           -> 0
SPREAD = [
    [1.0, 0.0, 0.0, 2.0],
    [1.0, 3.0, 0.0, 0.0],
    [0.0, 1.0, 4.0, 0.0],
    [0.0, 0.0, 0.0, 0.0],
]


# ---------------------------------------------------------------------------
# Spread
# ---------------------------------------------------------------------------


def test_active_jurisdictions_2d_and_1d():
    np.testing.assert_array_equal(active_jurisdictions(SPREAD), [2, 2, 2, 0])
    assert active_jurisdictions(np.array(SPREAD)).dtype.kind == "i"
    # 1-D: two entries > 0
    assert active_jurisdictions([0.0, 2.5, 0.0, 1.0]) == 2
    assert isinstance(active_jurisdictions([0.0, 2.5, 0.0, 1.0]), int)
    assert active_jurisdictions([0.0, 0.0]) == 0


def test_new_jurisdictions_hand_case():
    np.testing.assert_array_equal(new_jurisdictions(SPREAD), [0, 1, 2, 0])


def test_new_jurisdictions_single_step():
    np.testing.assert_array_equal(new_jurisdictions([1.0, 0.0, 3.0]), [0])


def test_ever_active_new_hand_case():
    # col 0 active at t0 -> not new; col 1 first active t1 -> new;
    # col 2 first active t2 -> new; col 3 active at t0 -> not new.
    np.testing.assert_array_equal(ever_active_new(SPREAD), [False, True, True, False])
    assert ever_active_new(SPREAD).dtype == bool


def test_counts_by_region_includes_empty_regions():
    mask = [True, False, True, True, False]
    regions = ["A", "B", "A", "C", "D"]
    counts = counts_by_region(mask, regions)
    assert counts == {"A": 2, "B": 0, "C": 1, "D": 0}
    assert list(counts) == ["A", "B", "C", "D"]
    assert all(type(v) is int for v in counts.values())


def test_counts_by_region_with_ever_active_new():
    regions = ("SEA", "SEA", "Africa", "SEA")
    assert counts_by_region(ever_active_new(SPREAD), regions) == {"SEA": 1, "Africa": 1}


def test_counts_by_region_length_mismatch():
    with pytest.raises(ValueError):
        counts_by_region([True, False], ["A"])


# ---------------------------------------------------------------------------
# Concentration
# ---------------------------------------------------------------------------


def test_shares_hand_case_and_zero_row():
    # [2, 1, 1] / 4 = [0.5, 0.25, 0.25]; an all-zero row stays all zero.
    np.testing.assert_allclose(shares([2, 1, 1]), [0.5, 0.25, 0.25])
    out = shares([[2.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(out, [[0.5, 0.25, 0.25], [0.0, 0.0, 0.0]])
    assert not np.isnan(out).any()


def test_concentration_hand_case():
    # shares [0.5, 0.25, 0.25]
    # HHI = 0.25 + 0.0625 + 0.0625 = 0.375
    # H   = -(0.5 ln 0.5 + 2 * 0.25 ln 0.25) = 0.5 ln 2 + ln 2 = 1.5 ln 2 = 1.039721
    # J   = H / ln 3 = 1.039721 / 1.098612 = 0.946395
    a = [2.0, 1.0, 1.0]
    assert hhi(a) == pytest.approx(0.375)
    assert shannon_entropy(a) == pytest.approx(1.5 * LN2)
    assert shannon_entropy(a) == pytest.approx(1.0397208, abs=1e-7)
    assert evenness(a) == pytest.approx(1.5 * LN2 / LN3)
    assert evenness(a) == pytest.approx(0.9463946, abs=1e-7)


def test_concentration_two_jurisdictions():
    # shares [0.75, 0.25]
    # HHI = 0.5625 + 0.0625 = 0.625
    # H   = 0.75 * 0.287682 + 0.25 * 1.386294 = 0.215762 + 0.346574 = 0.562335
    # J   = 0.562335 / ln 2 = 0.811278
    a = [0.0, 3.0, 1.0]
    assert hhi(a) == pytest.approx(0.625)
    assert shannon_entropy(a) == pytest.approx(0.5623351, abs=1e-7)
    assert evenness(a) == pytest.approx(0.8112781, abs=1e-7)


def test_concentration_uniform():
    # 4 equal shares: HHI = 4 * 1/16 = 0.25, H = ln 4, J = 1
    a = [1.0, 1.0, 0.0, 1.0, 1.0]
    assert hhi(a) == pytest.approx(0.25)
    assert shannon_entropy(a) == pytest.approx(math.log(4.0))
    assert evenness(a) == pytest.approx(1.0)


def test_concentration_single_active_jurisdiction():
    # all in one place: HHI = 1, H = 0, J = 0 by convention (k = 1)
    a = [0.0, 5.0, 0.0]
    assert hhi(a) == 1.0
    assert shannon_entropy(a) == 0.0
    assert math.copysign(1.0, shannon_entropy(a)) == 1.0  # not -0.0
    assert evenness(a) == 0.0


def test_concentration_all_zero_rows_are_nan():
    assert math.isnan(hhi([0.0, 0.0, 0.0]))
    assert math.isnan(shannon_entropy([0.0, 0.0, 0.0]))
    assert math.isnan(evenness([0.0, 0.0, 0.0]))


def test_concentration_2d_rowwise():
    a = [[2.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 5.0, 0.0]]
    np.testing.assert_allclose(hhi(a), [0.375, np.nan, 1.0])
    np.testing.assert_allclose(shannon_entropy(a), [1.5 * LN2, np.nan, 0.0])
    np.testing.assert_allclose(evenness(a), [1.5 * LN2 / LN3, np.nan, 0.0])


# ---------------------------------------------------------------------------
# Displacement: WDQ and total net effect
# ---------------------------------------------------------------------------


def test_wdq_and_tne_with_control_hand_case():
    # Rb=100, Ra=60, Db=50, Da=70, Cb=200, Ca=220
    # numerator   Da/Ca - Db/Cb = 70/220 - 50/200 = 7/22 - 1/4 = 3/44  = 0.0681818
    # denominator Ra/Ca - Rb/Cb = 60/220 - 100/200 = 3/11 - 1/2 = -5/22 = -0.2272727
    # WDQ = (3/44) / (-5/22) = -3/10 = -0.3  (displacement)
    # TNE: Ca/Cb = 1.1 -> [100*1.1 - 60] + [50*1.1 - 70] = 50 - 15 = 35
    assert wdq(100, 60, 50, 70, 200, 220) == pytest.approx(-0.3)
    assert total_net_effect(100, 60, 50, 70, 200, 220) == pytest.approx(35.0)


def test_wdq_and_tne_without_control():
    # displacement: (50 - 40) / (80 - 100) = 10 / -20 = -0.5; TNE = 20 + (40 - 50) = 10
    assert wdq(100, 80, 40, 50) == pytest.approx(-0.5)
    assert total_net_effect(100, 80, 40, 50) == pytest.approx(10.0)
    # diffusion of benefits: (30 - 40) / (80 - 100) = +0.5; TNE = 20 + 10 = 30
    assert wdq(100, 80, 40, 30) == pytest.approx(0.5)
    assert total_net_effect(100, 80, 40, 30) == pytest.approx(30.0)


def test_wdq_undefined_when_target_unchanged():
    # C = 1: Ra - Rb = 0
    assert math.isnan(wdq(100, 100, 40, 50))
    # with control: 110/220 - 100/200 = 0.5 - 0.5 = 0
    assert math.isnan(wdq(100, 110, 40, 50, 200, 220))


def test_wdq_and_tne_zero_control_are_nan():
    assert math.isnan(wdq(100, 80, 40, 50, 0.0, 10.0))
    assert math.isnan(wdq(100, 80, 40, 50, 10.0, 0.0))
    assert math.isnan(total_net_effect(100, 80, 40, 50, 0.0, 10.0))


# ---------------------------------------------------------------------------
# Time-series comparisons
# ---------------------------------------------------------------------------


def test_period_mean_clipping():
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert period_mean(x, 1, 2) == pytest.approx(2.5)  # [2, 3]
    assert period_mean(x, -2, 4) == pytest.approx(1.5)  # [0, 2) -> [1, 2]
    assert period_mean(x, 3, 10) == pytest.approx(4.5)  # [4, 5]
    assert math.isnan(period_mean(x, 5, 3))  # past the end
    assert math.isnan(period_mean(x, 2, 0))  # zero length
    assert math.isnan(period_mean(x, -5, 3))  # entirely before the start


def test_period_mean_rejects_2d():
    with pytest.raises(ValueError):
        period_mean([[1.0, 2.0]], 0, 1)


def test_relative_change():
    assert relative_change(100, 80) == pytest.approx(-0.2)
    assert relative_change(50, 75) == pytest.approx(0.5)
    assert math.isnan(relative_change(0, 5))


def test_global_local_change_hand_case():
    # t0=3, window=2, lag=1: before = [1, 3), after = [4, 6)
    # local : before (10+10)/2 = 10, after (4+4)/2 = 4   -> change -0.6
    # global: before (20+20)/2 = 20, after (22+24)/2 = 23 -> change +0.15
    local = [10, 10, 10, 8, 4, 4, 4]
    glob = [20, 20, 20, 20, 22, 24, 20]
    out = global_local_change(glob, local, t0=3, window=2, lag=1)
    assert set(out) == {
        "local_before",
        "local_after",
        "local_change",
        "global_before",
        "global_after",
        "global_change",
    }
    assert out["local_before"] == pytest.approx(10.0)
    assert out["local_after"] == pytest.approx(4.0)
    assert out["local_change"] == pytest.approx(-0.6)
    assert out["global_before"] == pytest.approx(20.0)
    assert out["global_after"] == pytest.approx(23.0)
    assert out["global_change"] == pytest.approx(0.15)


def test_global_local_change_defaults():
    # window=12, lag=12, t0=12: before = steps 0..11 (value 5), after = 24..35 (value 2)
    local = [5.0] * 12 + [9.0] * 12 + [2.0] * 12
    glob = [50.0] * 12 + [0.0] * 12 + [60.0] * 12
    out = global_local_change(glob, local, t0=12)
    assert out["local_change"] == pytest.approx(-0.6)  # (2 - 5) / 5
    assert out["global_change"] == pytest.approx(0.2)  # (60 - 50) / 50


def test_recovery_time_example():
    # pre level = 10; falls at 12 (8), back to >= 10 at index 15 -> 15 - 12 = 3
    series = [10.0] * 12 + [8.0, 6.0, 9.0, 10.0, 11.0]
    assert recovery_time(series, 12) == 3.0


def test_recovery_time_late_fall():
    # pre level 10; 10 at t0 (no fall), falls at 13, back at 14 -> 14 - 12 = 2
    series = [10.0] * 12 + [10.0, 9.0, 10.0]
    assert recovery_time(series, 12) == 2.0


def test_recovery_time_never_falls():
    series = [10.0] * 12 + [10.0, 11.0, 12.0]
    assert recovery_time(series, 12) == 0.0


def test_recovery_time_never_recovers_is_nan():
    series = [10.0] * 12 + [8.0, 9.0, 9.5]
    assert math.isnan(recovery_time(series, 12))


def test_recovery_time_short_pre_window():
    # t0=2 < window: pre level = mean([4, 6]) = 5; falls at 2 (4), back at 3 (5) -> 1
    assert recovery_time([4.0, 6.0, 4.0, 5.0], 2) == 1.0
    # empty pre window -> level undefined -> NaN
    assert math.isnan(recovery_time([4.0, 6.0, 4.0], 0))


# ---------------------------------------------------------------------------
# displacement_summary
# ---------------------------------------------------------------------------

# columns: 0 = target R, 1-2 = displacement area D, 3 = control C
BEFORE = [[110.0, 10.0, 30.0, 190.0], [90.0, 30.0, 30.0, 210.0]]
AFTER = [[50.0, 35.0, 40.0, 220.0], [70.0, 25.0, 40.0, 220.0]]
# Means: Rb = 100, Db = (40 + 60)/2 = 50, Cb = 200; Ra = 60, Da = (75 + 65)/2 = 70, Ca = 220
# -> same numbers as the WDQ hand case: WDQ = -0.3, TNE = 35


def test_displacement_summary_hand_case():
    activity = BEFORE + AFTER
    out = displacement_summary(activity, targets=[0], t0=2, control=[3], window=2, lag=0)
    expected = {
        "r_before": 100.0,
        "r_after": 60.0,
        "d_before": 50.0,
        "d_after": 70.0,
        "c_before": 200.0,
        "c_after": 220.0,
        "wdq": -0.3,
        "total_net_effect": 35.0,
    }
    assert set(out) == set(expected)
    for key, value in expected.items():
        assert out[key] == pytest.approx(value), key


def test_displacement_summary_lag_and_bool_masks():
    # two transition steps (junk values) skipped by lag=2
    junk = [[999.0, 999.0, 999.0, 999.0]] * 2
    activity = np.array(BEFORE + junk + AFTER)
    out = displacement_summary(
        activity,
        targets=np.array([True, False, False, False]),
        t0=2,
        control=np.array([False, False, False, True]),
        window=2,
        lag=2,
    )
    assert out["wdq"] == pytest.approx(-0.3)
    assert out["total_net_effect"] == pytest.approx(35.0)


def test_displacement_summary_without_control():
    # C = 1; D = columns 1, 2, 3: Db = 50 + 200 = 250, Da = 70 + 220 = 290
    # WDQ = (290 - 250) / (60 - 100) = -1; TNE = (100 - 60) + (250 - 290) = 0
    out = displacement_summary(BEFORE + AFTER, targets=[0], t0=2, window=2, lag=0)
    assert out["c_before"] == 1.0 and out["c_after"] == 1.0
    assert out["d_before"] == pytest.approx(250.0)
    assert out["d_after"] == pytest.approx(290.0)
    assert out["wdq"] == pytest.approx(-1.0)
    assert out["total_net_effect"] == pytest.approx(0.0)


def test_displacement_summary_shrinks_windows():
    # t0=1 < window=2: before = row 0 only; after = [1, 3) = rows 1, 2
    out = displacement_summary(BEFORE + AFTER, targets=[0], t0=1, control=[3], window=2, lag=0)
    assert out["r_before"] == pytest.approx(110.0)
    assert out["d_before"] == pytest.approx(40.0)
    assert out["c_before"] == pytest.approx(190.0)
    assert out["r_after"] == pytest.approx((90.0 + 50.0) / 2)
    assert out["d_after"] == pytest.approx((60.0 + 75.0) / 2)
    assert out["c_after"] == pytest.approx((210.0 + 220.0) / 2)


def test_displacement_summary_no_after_data_is_nan():
    out = displacement_summary(BEFORE + AFTER, targets=[0], t0=3, control=[3], window=2, lag=2)
    assert out["r_before"] == pytest.approx((90.0 + 50.0) / 2)
    assert math.isnan(out["r_after"])
    assert math.isnan(out["wdq"])
    assert math.isnan(out["total_net_effect"])


def test_displacement_summary_rejects_bad_groups():
    with pytest.raises(ValueError):
        displacement_summary(BEFORE + AFTER, targets=[0, 3], t0=2, control=[3], window=2)
    with pytest.raises(ValueError):
        displacement_summary(BEFORE + AFTER, targets=[0], t0=2, control=[], window=2)
    with pytest.raises(ValueError):
        displacement_summary(BEFORE + AFTER, targets=[True, False], t0=2, window=2)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

values = st.one_of(
    st.just(0.0),
    st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_subnormal=False),
)
rows = st.lists(values, min_size=1, max_size=20)
counts = st.integers(min_value=0, max_value=10**6).map(float)


@given(rows)
def test_prop_hhi_bounds(row):
    k = active_jurisdictions(row)
    assume(k >= 1)
    h = hhi(row)
    assert 1.0 / k - 1e-12 <= h <= 1.0 + 1e-12


@given(rows)
def test_prop_evenness_in_unit_interval(row):
    j = evenness(row)
    if active_jurisdictions(row) == 0:
        assert math.isnan(j)
    else:
        assert -1e-12 <= j <= 1.0 + 1e-12


@given(st.lists(rows.filter(lambda r: len(r) == 5), min_size=1, max_size=6))
def test_prop_shares_sum_to_one_rowwise(table):
    s = shares(table)
    totals = np.asarray(table).sum(axis=1)
    assert s.shape == (len(table), 5)
    assert (s >= 0).all()
    np.testing.assert_allclose(s.sum(axis=1)[totals > 0], 1.0, rtol=1e-12)
    np.testing.assert_array_equal(s[totals == 0], 0.0)


@given(rows, st.floats(min_value=1e-3, max_value=1e3))
def test_prop_concentration_scale_invariant(row, factor):
    assume(active_jurisdictions(row) >= 1)
    scaled = [factor * v for v in row]
    assert hhi(scaled) == pytest.approx(hhi(row), rel=1e-9, abs=1e-12)
    assert shannon_entropy(scaled) == pytest.approx(shannon_entropy(row), rel=1e-9, abs=1e-9)


@given(
    counts,
    st.integers(1, 10**6).map(float),
    counts,
    st.integers(1, 10**6).map(float),
    counts.filter(lambda c: c > 0),
)
def test_prop_wdq_negative_when_r_falls_and_d_rises(ra, drop, db, rise, c):
    # Built so that R falls (rb > ra) and D rises (da > db): no filtering needed.
    rb, da = ra + drop, db + rise
    assert wdq(rb, ra, db, da, c, c) < 0


@given(counts, counts, counts, counts, counts.filter(lambda c: c > 0))
def test_prop_tne_with_constant_control(rb, ra, db, da, c):
    # TNE = R-drop minus D-rise when Ca == Cb
    expected = (rb - ra) - (da - db)
    assert total_net_effect(rb, ra, db, da, c, c) == pytest.approx(expected, abs=1e-6)


@given(
    counts,
    counts,
    counts,
    counts,
    counts.filter(lambda c: c > 0),
    counts.filter(lambda c: c > 0),
    st.floats(min_value=1e-2, max_value=1e2),
)
def test_prop_wdq_tne_invariant_to_control_scale(rb, ra, db, da, cb, ca, k):
    w1, w2 = wdq(rb, ra, db, da, cb, ca), wdq(rb, ra, db, da, k * cb, k * ca)
    if math.isnan(w1) or abs(ra / ca - rb / cb) < 1e-9:
        return
    assert w2 == pytest.approx(w1, rel=1e-6, abs=1e-9)
    t1 = total_net_effect(rb, ra, db, da, cb, ca)
    t2 = total_net_effect(rb, ra, db, da, k * cb, k * ca)
    assert t2 == pytest.approx(t1, rel=1e-9, abs=1e-3)


@given(
    st.lists(st.floats(min_value=0.0, max_value=1e6), min_size=1, max_size=40),
    st.integers(min_value=0, max_value=45),
    st.integers(min_value=1, max_value=15),
)
def test_prop_recovery_time_nonnegative_or_nan(series, t0, window):
    r = recovery_time(series, t0, window)
    assert math.isnan(r) or (r >= 1.0 or r == 0.0)
    if not math.isnan(r) and r > 0:
        assert t0 + r <= len(series) - 1


@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=30),
    st.integers(min_value=-35, max_value=35),
    st.integers(min_value=0, max_value=35),
)
def test_prop_period_mean_within_range(series, start, length):
    m = period_mean(series, start, length)
    lo, hi = max(start, 0), min(start + length, len(series))
    if hi <= lo:
        assert math.isnan(m)
    else:
        window = series[lo:hi]
        assert min(window) - 1e-6 <= m <= max(window) + 1e-6


# ---------------------------------------------------------------------------
# Displacement against a control run; moved vs removed
# ---------------------------------------------------------------------------


def _two_runs():
    # Columns: R (target), D1, D2. Steps 0-1 before (t0 = 2, window 2, lag 0), 2-3 after.
    treated = np.array([[100, 150, 50], [100, 150, 50], [40, 200, 90], [40, 200, 90]], float)
    control = np.array([[100, 150, 50], [100, 150, 50], [110, 170, 60], [110, 170, 60]], float)
    return treated, control


def test_displacement_vs_control_hand_case():
    from sim.core.metrics import displacement_vs_control

    a, c = _two_runs()
    out = displacement_vs_control(a, c, [0], t0=2, window=2, lag=0)
    # ΔR = (40-100) - (110-100) = -70; ΔD = (290-200) - (230-200) = 60
    assert out["delta_r"] == -70 and out["delta_d"] == 60
    assert out["wdq"] == pytest.approx(-6 / 7)
    assert out["total_net_effect"] == pytest.approx(10.0)
    # With a buffer of D2 only: ΔD = (90-50) - (60-50) = 30 -> WDQ = -3/7
    buf = displacement_vs_control(a, c, [0], t0=2, buffer=[2], window=2, lag=0)
    assert buf["wdq"] == pytest.approx(-3 / 7)


def test_displacement_vs_control_removes_a_shared_trend():
    from sim.core.metrics import displacement_vs_control

    # Both runs grow everywhere by the same trend; the treated run is identical: no effect.
    a = np.array([[10, 10], [10, 10], [20, 30], [20, 30]], float)
    out = displacement_vs_control(a, a.copy(), [0], t0=2, window=2, lag=0)
    assert math.isnan(out["wdq"]) and out["total_net_effect"] == 0
    # Without the control the same trend would read as "displacement" (WDQ = 2).
    assert displacement_summary(a, [0], t0=2, window=2, lag=0)["wdq"] == pytest.approx(2.0)


def test_displacement_vs_control_rejects_mismatched_shapes():
    from sim.core.metrics import displacement_vs_control

    with pytest.raises(ValueError):
        displacement_vs_control(np.zeros((4, 3)), np.zeros((4, 2)), [0], t0=2)


def test_moved_removed_hand_cases():
    from sim.core.metrics import moved_removed

    assert moved_removed(-70, 60) == pytest.approx({"moved_share": 6 / 7, "removed_share": 1 / 7})
    assert moved_removed(-70, -10) == {"moved_share": 0.0, "removed_share": 1.0}  # diffusion
    assert moved_removed(-70, 100) == {"moved_share": 1.0, "removed_share": 0.0}  # capped
    out = moved_removed(10, 5)  # the targets did not lose: undefined
    assert math.isnan(out["moved_share"]) and math.isnan(out["removed_share"])
