"""Enforcement: pressure targets, adaptation and raids."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core import enforcement
from sim.core.streams import generator_draws


def test_target_pressure_hand_computed():
    t = enforcement.target_pressure(
        observed_workers=np.array([0.0, 5000.0, 1e9]),
        capacity=np.array([0.5, 0.5, 0.1]),
        protection=np.array([0.0, 0.5, 1.0]),
        shock=np.array([0.0, 0.0, 0.95]),
        baseline_pressure=0.02,
        capacity_pressure=0.1,
        response_gain=0.8,
        response_scale_workers=5000.0,
        protection_effect=0.8,
    )
    # 0: 0.02 + 0.05 + 0                               = 0.07
    # 1: 0.02 + 0.05 + 0.8*0.5*(1-0.4)*(1-e^-1)        = 0.07 + 0.24*0.632121 = 0.221709
    # 2: 0.02 + 0.01 + 0.8*0.1*0.2*1 + 0.95 = 0.996
    assert t == pytest.approx([0.07, 0.07 + 0.24 * (1 - np.exp(-1)), 0.996])


def test_target_pressure_is_capped_at_one():
    t = enforcement.target_pressure(
        np.array([1e9]), np.array([1.0]), np.array([0.0]), np.array([2.0]),
        baseline_pressure=0.5, capacity_pressure=0.5, response_gain=1.0,
        response_scale_workers=1.0, protection_effect=1.0,
    )
    assert t[0] == 1.0


def test_adapt_moves_part_way_both_directions():
    new = enforcement.adapt(np.array([0.0, 1.0]), np.array([1.0, 0.0]), 0.25)
    assert new == pytest.approx([0.25, 0.75])


def test_raid_budget_hand_computed():
    b = enforcement.raid_budget(np.array([0.0, 0.4]), raid_budget=50.0, raid_budget_floor=0.1)
    assert b == pytest.approx([5.0, 25.0])


def test_raid_probability_congestion_visibility_and_intel():
    p = enforcement.raid_probability(
        pressure=np.array([0.5, 0.5, 0.5, 0.5, 0.2]),
        budget=np.array([10.0, 10.0, 10.0, 10.0, 10.0]),
        seen=np.array([4.0, 200.0, 200.0, 200.0, 200.0]),
        visible=np.array([True, True, False, False, True]),
        anticipated=np.array([0.0, 0.0, 0.0, 0.3, 0.0]),
        raid_rate=0.25,
    )
    # 0: few compounds seen: per-compound cap 0.25 binds -> 0.5 * 0.25        = 0.125
    # 1: congested: 10 raids over 200 compounds -> 0.5 * 0.05                  = 0.025
    # 2: arrived within the detection lag: not seen                             = 0
    # 3: not seen, but shared intelligence reveals and anticipates it: 0.025+0.3 = 0.325
    # 4: 0.2 * 0.05                                                             = 0.01
    assert p == pytest.approx([0.125, 0.025, 0.0, 0.325, 0.01])


def test_more_compounds_dilute_the_budget():
    args = dict(pressure=np.full(2, 1.0), budget=np.full(2, 20.0), visible=np.ones(2, bool),
                anticipated=np.zeros(2), raid_rate=1.0)
    few = enforcement.raid_probability(seen=np.full(2, 40.0), **args)
    many = enforcement.raid_probability(seen=np.full(2, 400.0), **args)
    assert few == pytest.approx([0.5, 0.5]) and many == pytest.approx([0.05, 0.05])


def test_raids_protection_rescue_and_closure():
    rng = np.random.default_rng(0)
    n = 200_000
    out = enforcement.raid(
        workers=np.full(n, 100),
        p_raid=np.full(n, 0.2),
        protection=np.full(n, 0.5),
        pressure=np.full(n, 0.25),
        draws=generator_draws(rng),
        protection_effect=0.8,
        raid_shrink=0.4,
        raid_close_rate=1.0,
    )
    # success 1 - 0.5*0.8 = 0.6 of the raided
    assert out.raided.mean() == pytest.approx(0.2, abs=0.005)
    assert out.succeeded.mean() == pytest.approx(0.12, abs=0.005)
    assert (out.rescued[~out.succeeded] == 0).all()
    assert out.rescued[out.succeeded].mean() == pytest.approx(40, abs=0.3)
    # closure probability 1.0 * 0.4 * (1 + 0.25) = 0.5 of successful raids (on average)
    assert not out.closed[~out.succeeded].any()
    assert out.closed[out.succeeded].mean() == pytest.approx(0.5, abs=0.01)


def test_political_weights_exclude_the_host_itself():
    v = np.array([[0.5, 0.5, 0.0], [0.2, 0.2, 0.6], [0.0, 0.0, 1.0]])
    g = enforcement.political_weights(v, np.array([1.0, 0.5, 1.0]), np.array([1.0, 1.0, 0.5]))
    # host 0: 0.5*0.5*1 = 0.25; host 1: 0.2*1*1 + 0.6*1*0.5 = 0.5; host 2: only itself -> 0
    assert g == pytest.approx([0.25, 0.5, 0.0])


def test_political_reaction_is_a_switch_blunted_by_protection():
    r = enforcement.political_reaction(
        np.array([0.0, 1e9, 2e9, 1e10, 2e9]), np.array([0.0, 0.0, 0.0, 0.0, 1.0]),
        political_gain=0.4, political_scale_usd=2e9, political_steepness=2.0,
        protection_effect=0.5,
    )
    # x = S/scale: 0, 0.5, 1, 5; Hill x^2/(1+x^2): 0, 0.2, 0.5, 25/26; last: 0.5 * (1-0.5)
    assert r == pytest.approx([0.0, 0.08, 0.2, 0.4 * 25 / 26, 0.1])


def test_target_pressure_adds_the_political_reaction():
    base = dict(baseline_pressure=0.02, capacity_pressure=0.1, response_gain=0.0,
                response_scale_workers=1.0, protection_effect=0.5)
    t = enforcement.target_pressure(np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2),
                                    np.array([0.0, 0.3]), **base)
    assert t == pytest.approx([0.02, 0.32])
