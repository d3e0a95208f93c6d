"""Labour pools: hand-computed pool levels, depletion costs, allocation and conservation."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.core import labour
from sim.core.params import Params


def test_pool_levels_hand_computed():
    lv = labour.pool_levels(
        np.array([1e6, 1e6, 2e6]), np.array([0.5, 1.0, 0.5]), np.array([0.0, 10_000.0, 30_000.0]),
        pool_share=1e-3, pool_income_ref_usd=10_000.0,
    )
    # 1e-3 * pop * internet / (1 + gdp_pc / 10,000): 500, 500, 250
    assert lv == pytest.approx([500.0, 500.0, 250.0])


def test_depletion_cost_multiplier():
    d = labour.depletion(np.array([100.0, 25.0, 0.0, 150.0]), np.full(4, 100.0), 1.5, 30.0)
    # full: 1; a quarter left: 4^1.5 = 8; empty: the cap; above level: 1
    assert d == pytest.approx([1.0, 8.0, 30.0, 1.0])


def test_allocate_shares_a_scarce_pool_pro_rata():
    # One source (0) reaching two hosts equally, 60 persons, demand 40 + 80.
    kernel = np.array([[0.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    fill, host_fill, z = labour.allocate(np.array([0.0, 40.0, 80.0]), np.array([60.0, 0, 0]),
                                         kernel)
    assert fill[0] == pytest.approx(0.5)  # asked 120, has 60
    assert host_fill[1:] == pytest.approx([0.5, 0.5])
    assert z == pytest.approx([0.0, 60.0, 60.0])


def _lab(n=3, pool=(100.0, 50.0, 0.0), friction=None, **kw):
    p = Params(**kw)
    dist = np.array([[0, 1000, 2000], [1000, 0, 1500], [2000, 1500, 0]], float)[:n, :n]
    world = SimpleNamespace(
        n=n, distance_km=dist,
        travel_friction=np.zeros((n, n)) if friction is None else friction,
        population=np.full(n, 1e6), internet_share=np.ones(n), gdp_per_capita_usd=np.zeros(n),
    )
    lab = labour.Labour(SimpleNamespace(p=p, world=world))
    lab.pool = np.array(pool, float)[:n]
    lab.level0 = lab.pool.copy() + 1e-9
    lab.level = lab.level0.copy()
    lab.flows["pool_initial"] = float(lab.pool.sum())
    return lab


def test_friction_raises_cost_and_cuts_reach():
    free = _lab()
    visa = _lab(friction=np.array([[0, 1.0, 1.0], [0, 0, 0], [0, 0, 0]], float))
    # Host 1 from sources 0 and 1: with a visa required from 0, source 0 counts less
    # and costs (1 + friction_cost_share) times more.
    assert visa.unit_cost()[1] > free.unit_cost()[1]
    assert visa.kernel[0, 1] == pytest.approx(free.kernel[0, 1] * np.exp(-1.5))
    assert visa.cost_kernel[0, 1] == pytest.approx(visa.kernel[0, 1] * 2.0)


def test_take_and_remove_conserve_persons_and_send_workers_home():
    lab = _lab()
    lab.seed_workforce(np.array([0.0, 30.0, 0.0]))
    start = lab.total()
    fill, _ = lab.offer(np.array([0.0, 40.0, 0.0]))
    lab.take(np.array([0.0, np.floor(40 * fill[1]), 0.0]))
    assert lab.pool.min() >= 0
    assert lab.comp.sum() == pytest.approx(30.0 + np.floor(40 * fill[1]))
    lab.remove(np.array([0.0, 10.0, 0.0]), "rescued")
    assert lab.returned.sum() == pytest.approx(10.0)
    assert lab.by_source["rescued"].sum() == pytest.approx(10.0)
    lab.move(1, 2, 5.0)
    assert lab.comp[2].sum() == pytest.approx(5.0)
    assert lab.total() == pytest.approx(start)


def test_pool_recovery_retrafficking_and_awareness_hand_case():
    lab = _lab(pool_recovery_rate=0.1, retraffic_rate=0.5)
    lab.level0 = np.array([200.0, 50.0, 0.0])
    lab.returned = np.array([20.0, 0.0, 0.0])
    lab.flows["initial_workforce"] = 20.0  # the returned persons came from compounds
    lab.end_month(np.ones(3))
    # 10 of 20 returned re-enter pool 0 (110), which then refills 10% of 90 -> 119
    assert lab.pool[0] == pytest.approx(119.0)
    assert lab.returned[0] == pytest.approx(10.0)
    lab.end_month(np.array([0.25, 1.0, 1.0]))  # a campaign leaves a quarter of the level
    assert lab.pool[0] == pytest.approx(50.0)  # capped at 0.25 * 200
    assert lab.flows["pool_protected"] > 0
    assert lab.total() == pytest.approx(lab.expected_total())


@settings(max_examples=60, deadline=None)
@given(
    demand=arrays(np.float64, 3, elements=st.floats(0, 1e4)),
    pool=arrays(np.float64, 3, elements=st.floats(0, 1e4)),
    frac=st.floats(0, 1),
)
def test_prop_pools_never_negative_and_persons_conserved(demand, pool, frac):
    lab = _lab(pool=tuple(pool))
    lab.seed_workforce(np.array([10.0, 20.0, 30.0]))
    start = lab.total()
    fill, _ = lab.offer(demand)
    lab.take(np.floor(demand * fill * frac))
    lab.remove(np.array([5.0, 50.0, 0.0]), "released")
    lab.end_month(np.ones(3))
    assert (lab.pool >= -1e-9).all() and (lab.comp >= -1e-9).all()
    assert lab.total() == pytest.approx(start + lab.flows["pool_regrowth"], rel=1e-9, abs=1e-6)
