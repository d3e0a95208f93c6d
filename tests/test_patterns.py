"""Pattern-oriented validation (MODEL.md §6) on the world table, over several seeds.

Each check is statistical: a 95% confidence interval over seeds (Student t) must
lie on the right side. The default run uses 8 seeds; ``pytest -m slow`` repeats
the checks with 30 seeds.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import sim

FAST_SEEDS = tuple(range(1, 9))
SLOW_SEEDS = tuple(range(101, 131))
FAR_REGIONS = {"Africa", "Pacific", "South America", "Middle East", "Europe"}
HUB_CRACKDOWN = {
    "kind": "crackdown", "targets": ["mekong_hubs"], "start": "2025-02",
    "duration_months": 12, "intensity": 0.6, "protection_cut": 0.6,
}
# Same raids; every state shares intelligence on arriving compounds (no extra raids).
GLOBAL_INTEL = {
    "kind": "cooperation", "targets": ["all"], "start": "2025-02", "duration_months": 36,
    "pressure_uplift": 0.0, "intel_sharing": True,
}


def ci95(values) -> tuple[float, float, float]:
    """Mean and 95% t-interval."""
    x = np.asarray(values, float)
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return x.mean(), x.mean() - half, x.mean() + half


def _runs(scenario, seeds, **kw):
    return [sim.run(scenario, world="world", seed=s, **kw) for s in seeds]


def check_crackdown_displaces_and_recovers(seeds):
    runs = _runs("mekong_crackdown", seeds)
    wdq = [r.summary["wdq"] for r in runs]
    mean, lo, hi = ci95(wdq)
    assert hi < 0, f"WDQ {mean:.2f} [{lo:.2f}, {hi:.2f}] should be < 0"
    assert ci95([r.summary["local_change"] for r in runs])[2] < -0.5  # Myanmar empties
    # The rest of the world gains what Myanmar loses (displacement, not disappearance).
    for r in runs:
        ts = r.timeseries
        rest = ts[ts["iso3"] != "MMR"].groupby("step")["workers"].sum()
        assert rest.loc[37:48].mean() > rest.loc[13:24].mean()
    # Global activity dips, then recovers to its pre-crackdown level within a few years.
    assert ci95([r.summary["global_change"] for r in runs])[2] < 0
    recovery = [r.summary["recovery_months"] for r in runs]
    recovered = [m for m in recovery if m is not None]
    assert len(recovered) >= 0.75 * len(runs), recovery
    assert np.median(recovered) <= 60, recovery
    return runs


def check_new_far_regions(runs):
    reached = []
    for r in runs:
        ev = r.events
        moves = ev[ev["kind"].isin(["relocation", "expansion"]) & (ev["step"] >= 25)]
        regions = set(
            r.timeseries.drop_duplicates("iso3").set_index("iso3").loc[moves["to"], "region"]
        )
        reached.append(len(regions & FAR_REGIONS))
    assert min(reached) >= 3, reached
    assert np.mean(reached) >= 4, reached


def check_coordination_displaces_less(seeds):
    uni = [sim.run("baseline", seed=s, events=[HUB_CRACKDOWN]).summary for s in seeds]
    coo = [sim.run("baseline", seed=s, events=[HUB_CRACKDOWN, GLOBAL_INTEL]).summary
           for s in seeds]
    diff = [c["wdq"] - u["wdq"] for u, c in zip(uni, coo, strict=True)]
    mean, lo, _ = ci95(diff)
    assert lo > 0, f"coordinated WDQ should be closer to 0: diff {mean:.3f}, lower {lo:.3f}"
    shrink = [c["global_change"] - u["global_change"] for u, c in zip(uni, coo, strict=True)]
    assert ci95(shrink)[2] < 0  # and the total shrinks more


def check_capacity_building_reduces_spread(seeds, crackdown_runs):
    cap = _runs("capacity_building", seeds)
    diff = [
        c.summary["new_jurisdictions_end"] - m.summary["new_jurisdictions_end"]
        for m, c in zip(crackdown_runs, cap, strict=True)
    ]
    mean, _, hi = ci95(diff)
    assert hi < 0, f"capacity building should reduce spread: diff {mean:.1f}, upper {hi:.1f}"


def check_baseline_magnitudes(seeds):
    for r in _runs("baseline", seeds):
        yearly = np.array(r.summary["victim_losses_esea_by_year_usd"]) / 1e9
        assert ((yearly >= 18) & (yearly <= 37)).all(), yearly
        workers = r.timeseries.groupby("step")["workers"].sum()
        assert workers.min() >= 100_000 and workers.max() < 1_000_000


def test_crackdown_displacement_recovery_and_reach():
    runs = check_crackdown_displaces_and_recovers(FAST_SEEDS)
    check_new_far_regions(runs)
    check_capacity_building_reduces_spread(FAST_SEEDS, runs)


def test_coordination_displaces_less_than_unilateral():
    check_coordination_displaces_less(FAST_SEEDS)


def test_baseline_losses_and_workforce_in_calibrated_range():
    check_baseline_magnitudes(FAST_SEEDS)


@pytest.mark.slow
def test_patterns_with_30_seeds():
    runs = check_crackdown_displaces_and_recovers(SLOW_SEEDS)
    check_new_far_regions(runs)
    check_capacity_building_reduces_spread(SLOW_SEEDS, runs)
    check_coordination_displaces_less(SLOW_SEEDS)
    check_baseline_magnitudes(SLOW_SEEDS)
