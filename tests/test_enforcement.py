"""Enforcement: pressure targets, adaptation and raids."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core import enforcement


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


def test_raids_rates_protection_and_rescue():
    rng = np.random.default_rng(0)
    n = 200_000
    out = enforcement.raid(
        workers=np.full(n, 100),
        pressure=np.full(n, 0.4),
        protection=np.full(n, 0.5),
        newly_arrived=np.zeros(n, bool),
        intel=np.zeros(n, bool),
        capacity=np.full(n, 0.5),
        rng=rng,
        raid_rate=0.5,
        protection_effect=0.8,
        raid_shrink=0.7,
        intel_boost=3.0,
    )
    # raid prob 0.5*0.4 = 0.2; success 1 - 0.5*0.8 = 0.6
    assert out.raided.mean() == pytest.approx(0.2, abs=0.005)
    assert out.succeeded.mean() == pytest.approx(0.12, abs=0.005)
    assert (out.rescued[~out.succeeded] == 0).all()
    assert out.rescued[out.succeeded].mean() == pytest.approx(70, abs=0.5)


def test_shared_intelligence_targets_new_arrivals_only():
    rng = np.random.default_rng(1)
    n = 100_000
    arrived = np.arange(n) % 2 == 0
    out = enforcement.raid(
        np.full(n, 100), np.full(n, 0.1), np.zeros(n), arrived, np.ones(n, bool),
        np.full(n, 0.2), rng, raid_rate=0.5, protection_effect=0.8, raid_shrink=0.7,
        intel_boost=3.0,
    )
    # new: 0.5*(0.1 + 3*0.2) = 0.35; settled: 0.05
    assert out.raided[arrived].mean() == pytest.approx(0.35, abs=0.01)
    assert out.raided[~arrived].mean() == pytest.approx(0.05, abs=0.01)
