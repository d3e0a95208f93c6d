"""Policy levers: each writes the policy state it promises, when it promises."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.config import compose, validate
from sim.core.errors import ConfigError
from sim.core.interventions import REGISTRY, build_intervention
from sim.runner import build_model


def _model(events, world="teaching", **overrides):
    cfg = compose("baseline", world, overrides)
    cfg["scenario"]["events"] = events
    return build_model(validate(cfg))


def _advance_to(model, month):
    from sim.core.timeline import month_index

    model.run_for(month_index(model.start, month))


def test_crackdown_shock_is_timed_in_calendar_months():
    m = _model([{"kind": "crackdown", "targets": ["MMR"], "start": "2024-03",
                 "duration_months": 2, "intensity": 0.5, "protection_cut": 0.4}])
    mmr = m.world.index["MMR"]
    _advance_to(m, "2024-02")  # steps 1..13 done; 2024-03 is step 14
    assert m.policy.shock[mmr] == 0
    m.run_for(1)
    assert m.policy.shock[mmr] == 0.5 and m.policy.protection_cut[mmr] == 0.4
    m.run_for(1)
    assert m.policy.shock[mmr] == 0.5
    m.run_for(1)
    assert m.policy.shock[mmr] == 0 and m.policy.protection_cut[mmr] == 0


def test_split_effort_divides_intensity():
    m = _model([{"kind": "crackdown", "targets": ["mekong_hubs"], "start": "2023-02",
                 "intensity": 0.9, "split_effort": True}])
    m.run_for(1)
    idx = [m.world.index[c] for c in ("MMR", "KHM", "LAO")]
    assert m.policy.shock[idx] == pytest.approx([0.3, 0.3, 0.3])


def test_infrastructure_cutoff_and_cooperation():
    m = _model([
        {"kind": "infrastructure_cutoff", "targets": ["MMR"], "start": "2023-02",
         "severity": 0.5},
        {"kind": "cooperation", "targets": ["mekong_task_force"], "start": "2023-02",
         "pressure_uplift": 0.1},
    ])
    m.run_for(1)
    w = m.world
    assert m.policy.infrastructure[w.index["MMR"]] == 0.5
    assert m.policy.infrastructure[w.index["KHM"]] == 1.0
    members = {w.iso3[i] for i in np.flatnonzero(m.policy.intel)}
    assert members == {"CHN", "MMR", "THA"}
    assert m.policy.shock[w.index["THA"]] == pytest.approx(0.1)


def test_capacity_building_ramps_and_persists():
    m = _model([{"kind": "capacity_building", "targets": ["THA"], "start": "2023-02",
                 "duration_months": 4, "capacity_gain": 0.4, "regulation_gain": 0.2,
                 "ramp_months": 4}])
    tha = m.world.index["THA"]
    m.run_for(2)
    assert m.policy.capacity_gain[tha] == pytest.approx(0.2)
    m.run_for(10)  # well after it ended: the capacity stays
    assert m.policy.capacity_gain[tha] == pytest.approx(0.4)
    assert m.policy.weakness_cut[tha] == pytest.approx(0.2)
    assert m.capacity()[tha] == pytest.approx(min(1, m.world.enforcement_capacity[tha] + 0.4))


def test_vulnerable_selector_excludes_hubs_and_uses_data():
    m = _model([], world="world")
    picked = m.world.resolve(["vulnerable:10"], m.p)
    assert len(picked) == 10
    assert not set(m.world.iso3[picked]) & {"MMR", "KHM", "LAO", "PHL"}
    score = m.world.attractiveness(m.p)
    others = np.setdiff1d(np.arange(m.world.n), picked)
    hubs = [m.world.index[c] for c in ("MMR", "KHM", "LAO", "PHL")]
    others = np.setdiff1d(others, hubs)
    assert score[picked].min() >= score[others].max()


def test_financial_squeeze_takes_capital_and_revenue():
    base = sim.run("baseline", world="teaching", seed=2, steps=48, keep_model=True).model
    sq = sim.run("financial_squeeze", world="teaching", seed=2, steps=48, keep_model=True).model
    assert sq.flows["seized"] > base.flows["seized"]
    assert sq.flows["frozen"] > 0 and base.flows["frozen"] == 0
    assert sq.n_workers < base.n_workers


def test_follow_the_activity_targets_the_largest_host():
    res = sim.run("whack_a_mole", world="world", seed=3, keep_model=True)
    iv = res.model.interventions[0]
    assert len(iv.current) == 8  # yearly from 2025-02 to 2032-02
    assert res.model.world.iso3[iv.current[0]] in {"MMR", "KHM"}
    starts = res.events[res.events["kind"] == "intervention:crackdown"]
    assert len(starts) == 8


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"kind": "carpet_bombing"}, "kind"),
        ({"kind": "crackdown", "targets": ["MMR"], "intensty": 0.5}, "intensty"),
        ({"kind": "crackdown", "targets": ["MMR"], "intensity": 11}, "intensity"),
        ({"kind": "crackdown", "targets": ["MMR"], "start": "May 2025"}, "start"),
        ({"kind": "crackdown", "targets": ["Atlantis"]}, "targets"),
        ({"kind": "cooperation", "intel_sharing": "yes"}, "intel_sharing"),
    ],
)
def test_bad_events_are_refused_with_the_key(spec, key):
    key = f"scenario.events[0].{key}"
    with pytest.raises(ConfigError) as err:
        sim.run("baseline", world="teaching", events=[spec])
    assert err.value.key == key
    assert "\n" not in str(err.value)


def test_every_lever_builds_from_defaults():
    for kind in REGISTRY:
        iv = build_intervention({"kind": kind}, "x")
        assert iv.kind == kind


def test_a_validated_spec_can_be_run_twice_with_the_same_result():
    from sim.runner import simulate

    spec = validate(compose("whack_a_mole", "teaching", {"seed": 4, "steps": 60}))
    first, second = simulate(spec), simulate(spec)
    assert first.timeseries.equals(second.timeseries)
    assert first.events.equals(second.events)


def test_levers_that_started_before_the_run_are_reported():
    res = sim.run("mekong_crackdown", world="teaching", seed=1, start="2025-06", steps=12)
    assert res.summary["intervention_date"] == "2025-02"
    assert res.summary["intervention_step"] == -4
    assert res.summary["wdq"] is None


def test_targeted_squeeze_outside_the_world_squeezes_nobody():
    ev = [{"kind": "financial_squeeze", "targets": ["USA"], "start": "2023-02",
           "seizure_rate": 0.5, "revenue_frozen": 0.5, "laundering_increase": 0.5}]
    sq = sim.run("baseline", world="teaching", seed=2, steps=24, events=ev, keep_model=True)
    base = sim.run("baseline", world="teaching", seed=2, steps=24, keep_model=True)
    assert sq.model.flows["frozen"] == 0
    assert sq.timeseries.equals(base.timeseries)


def test_a_lever_added_and_removed_mid_run_acts_only_while_it_is_there():
    """A run without levers keeps its policy state as reset; one added later (as the
    teaching app does) acts from its start, and once taken away the state is reset."""
    model = build_model(validate(compose("baseline", "teaching", {"seed": 2, "steps": 12})))
    model.run_for(2)
    assert not model.policy.shock.any()
    lever = build_intervention({"kind": "crackdown", "targets": ["MMR"], "start": "2023-04",
                                "duration_months": 6, "intensity": 0.4}, "test")
    lever.bind(model)
    model.interventions.append(lever)
    model.run_for(2)  # steps 3 and 4: 2023-04 (its first month) and 2023-05
    mmr = model.world.index["MMR"]
    assert model.policy.shock[mmr] == pytest.approx(0.4)
    assert model.policy.shock.sum() == pytest.approx(0.4)
    assert model.policy.protection_cut[mmr] == pytest.approx(0.5)
    model.interventions.clear()
    model.run_for(1)
    assert not model.policy.shock.any() and not model.policy.protection_cut.any()
