"""The Mesa model: set-up, idioms, determinism and conservation invariants."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.config import compose, validate
from sim.core.agents import Compound, Syndicate
from sim.core.model import ScamModel
from sim.runner import build_model


def test_initial_presence_only_in_hubs():
    spec = validate(compose("baseline", "world"))
    model = build_model(spec)
    hosts = {model.world.iso3[j] for j in np.flatnonzero(model.compounds_by_jurisdiction())}
    assert hosts == {"MMR", "KHM", "LAO", "PHL"}
    workers = model.workers_by_jurisdiction()
    for code, expected in spec.world.initial_presence.items():
        # Compound sizes are rounded and floored at min_workforce: within 1%.
        assert workers[model.world.index[code]] == pytest.approx(expected, rel=0.01)


def test_mesa_idioms(crackdown_teaching):
    model: ScamModel = crackdown_teaching.model
    # Compounds are CellAgents on the cells of an integer-id Network.
    assert all(isinstance(node, int) for node in model.grid.G.nodes)
    compounds = model.agents_by_type[Compound]
    assert len(compounds) == model.n_compounds == len(model.compounds)
    for agent in compounds:
        assert agent.cell.coordinate == model.compounds.jurisdiction[agent.slot]
        assert agent in agent.cell.agents
        assert agent.owner.unique_id in {s.unique_id for s in model.agents_by_type[Syndicate]}
    assert len(model.agents_by_type[Syndicate]) == model.n_syndicates
    # Attribute-string reporters of the DataCollector.
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame.columns) == [
        "compounds", "workers", "syndicates", "active_jurisdictions", "rescued_total"
    ]
    assert len(frame) == model.horizon + 1
    assert frame["workers"].iloc[-1] == model.n_workers


def test_network_positions_are_the_map_not_random():
    a = build_model(validate(compose("baseline", "teaching", {"seed": 1})))
    b = build_model(validate(compose("baseline", "teaching", {"seed": 2})))
    pos_a = [c.position.tolist() for c in a.grid.all_cells]
    pos_b = [c.position.tolist() for c in b.grid.all_cells]
    assert pos_a == pos_b
    mmr = a.world.index["MMR"]
    assert pos_a[mmr] == pytest.approx([a.world.lon[mmr], a.world.lat[mmr]])


def test_same_seed_same_outputs_different_seed_differs(tmp_path):
    a = sim.run("mekong_crackdown", world="world", seed=11, out_dir=tmp_path / "a")
    b = sim.run("mekong_crackdown", world="world", seed=11, out_dir=tmp_path / "b")
    c = sim.run("mekong_crackdown", world="world", seed=12)
    for name in ("timeseries.csv", "timeseries.parquet", "events.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert a.events.equals(b.events)
    assert not a.timeseries.equals(c.timeseries)


def test_global_random_state_is_untouched():
    import random

    random.seed(123)
    np.random.seed(123)
    before = (random.random(), np.random.random())
    random.seed(123)
    np.random.seed(123)
    sim.run("whack_a_mole", world="teaching", seed=3, steps=36)
    assert (random.random(), np.random.random()) == before


def _check_accounting(model: ScamModel) -> None:
    wf, f = model.worker_flows, model.flows
    held = model.n_workers
    assert held == wf["initial"] + wf["recruited"] - wf["rescued"] - wf["released"]
    spent = (
        f["bribes"] + f["running_costs"] + f["laundering_losses"] + f["payouts"] + f["seized"]
        + f["spent_recruiting"] + f["spent_opening"] + f["spent_relocating"] + f["frozen"]
        + f["capital_of_dissolved"]
    )
    expected = f["initial_capital"] + f["revenue"] - spent
    assert model.total_capital() == pytest.approx(expected, rel=1e-9, abs=1.0)
    live = model.compounds.live()
    assert (model.compounds.workers[live] >= model.p.min_workforce).all()
    assert (model.syndicates.capital[model.syndicates.live()] >= 0).all()
    assert ((model.pressure >= 0) & (model.pressure <= 1)).all()
    for key in ("compounds", "workers", "raids", "rescued", "revenue_usd", "victim_losses_usd"):
        assert (model.rec[key] >= 0).all(), key
    # Victim losses are the revenue, redistributed over victim countries.
    assert model.rec["victim_losses_usd"].sum() == pytest.approx(model.rec["revenue_usd"].sum())
    assert model.rec["rescued"].sum() == wf["rescued"]
    # Labour: persons are conserved across pools, compounds and the returned stocks,
    # the nationality mix of every host adds up to its workforce, no pool is negative.
    lab = model.labour
    assert lab.total() == pytest.approx(lab.expected_total(), rel=1e-9, abs=1e-3)
    assert lab.comp.sum(axis=1) == pytest.approx(model.workers_by_jurisdiction(), abs=1e-6)
    assert (lab.pool >= -1e-9).all() and (lab.comp >= -1e-9).all()
    assert (lab.returned >= -1e-9).all()
    assert lab.by_source["rescued"].sum() == pytest.approx(wf["rescued"], rel=1e-9, abs=1e-6)
    assert lab.by_source["released"].sum() == pytest.approx(wf["released"], rel=1e-9, abs=1e-6)
    assert lab.by_source["recruited"].sum() == pytest.approx(wf["recruited"], rel=1e-9,
                                                             abs=1e-6)
    assert model.src_rec["workers"][-1].sum() == pytest.approx(held, abs=1e-6)


def test_accounting_on_every_scenario():
    for scenario in ("baseline", "mekong_crackdown", "whack_a_mole", "financial_squeeze",
                     "capacity_building", "global_coordination", "source_protection"):
        res = sim.run(scenario, world="teaching", seed=5, steps=72, keep_model=True)
        _check_accounting(res.model)


PARAM_STRATEGY = st.fixed_dictionaries(
    {
        "raid_rate": st.floats(0.0, 1.0),
        "relocation_rate": st.floats(0.0, 1.0),
        "relocation_carry": st.floats(0.0, 1.0),
        "attrition_rate": st.floats(0.0, 0.3),
        "seize_share": st.floats(0.0, 1.0),
        "payout_rate": st.floats(0.0, 1.0),
        "exit_utility": st.floats(-10.0, 20.0),
        "expansion_rate": st.floats(0.0, 1.0),
        "split_prob": st.floats(0.0, 1.0),
        "cost_per_worker_usd": st.floats(0.0, 20_000.0),
        "syndicates": st.integers(1, 80),
        "pool_share": st.floats(0.0, 1e-3),
        "pool_recovery_rate": st.floats(0.0, 0.5),
        "retraffic_rate": st.floats(0.0, 1.0),
        "raid_close_rate": st.floats(0.0, 10.0),
        "raid_budget": st.floats(0.0, 500.0),
        "political_gain": st.floats(0.0, 1.0),
        "detection_lag": st.integers(0, 24),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=PARAM_STRATEGY, seed=st.integers(0, 2**31))
def test_invariants_hold_for_any_parameters(params, seed):
    res = sim.run("source_protection", world="teaching", seed=seed, steps=40, keep_model=True,
                  **params)
    _check_accounting(res.model)


def test_params_dataclass_defaults_are_in_range():
    for f in dataclasses.fields(sim.Params):
        lo, hi = f.metadata["range"]
        assert lo <= f.default <= hi, f.name


def test_split_growing_the_syndicate_store_keeps_arrays_aligned():
    # Found by the property test: many splits grow the store past its first capacity.
    # Pinned to the hand-set values: the case needs many splits, not the calibrated model.
    res = sim.run("mekong_crackdown", world="teaching", seed=0, steps=40, keep_model=True,
                  paramset="handset", syndicates=16, split_prob=1.0, raid_rate=1.0,
                  relocation_carry=0.0, raid_budget=1e4, raid_close_rate=10.0,
                  attrition_rate=0.0, payout_rate=0.0, expansion_rate=0.0, exit_utility=0.0)
    assert len(res.model.syndicates.alive) > 64
    assert (res.events["kind"] == "split").sum() > 0
    _check_accounting(res.model)
