"""Destination choice: hand-computed utilities, softmax properties, draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.core import choice
from sim.core.params import Params


def _land(n=3):
    return choice.Landscape(
        static=np.array([1.0, 2.0, 0.5])[:n],
        ties=np.array([0.0, 0.5, 1.0])[:n],
        pressure=np.array([0.1, 0.0, 0.5])[:n],
        compounds=np.array([0.0, np.e - 1, 0.0])[:n],
        distance_km=np.array([[0, 1000, 2000], [1000, 0, 3000], [2000, 3000, 0]], float)[:n, :n],
    )


COEF = dict(
    beta_ties=2.0,
    beta_agglomeration=1.0,
    beta_pressure=4.0,
    beta_risk=10.0,
    beta_distance=1.0,
    tie_discount=0.5,
    exit_utility=0.25,
)


def test_utilities_hand_computed():
    risk = np.array([[0.0, 0.1, 0.0]])
    u = choice.utilities(_land(), np.array([0]), risk, np.array([1.0]), exclude_origin=False,
                         **COEF)
    # j=0: 1 + 0 + 0 - 0.4 - 0 - 0 = 0.6
    # j=1: 2 + 2*0.5 + log(e)=1 - 0 - 10*0.1 - 1*1*(1-0.25) = 2.25
    # j=2: 0.5 + 2*1 + 0 - 2 - 0 - 1*2*(1-0.5) = -0.5
    assert u[0] == pytest.approx([0.6, 2.25, -0.5, 0.25])
    p = choice.probabilities(u)
    e = np.exp([0.6, 2.25, -0.5, 0.25])
    assert p[0] == pytest.approx(e / e.sum())


def test_forced_movers_cannot_stay():
    u = choice.utilities(_land(), np.array([1, 2]), np.zeros((2, 3)), np.ones(2),
                         exclude_origin=True, **COEF)
    p = choice.probabilities(u)
    assert p[0, 1] == 0.0 and p[1, 2] == 0.0
    assert p.sum(axis=1) == pytest.approx([1.0, 1.0])


def test_static_utility_gates_weakness_by_operability():
    params = Params()
    weak = np.array([0.95, 0.7])
    oper = np.array([0.02, 0.5])  # a war zone vs a functioning state
    cap = np.array([0.02, 0.15])
    u = choice.static_utility(weak, oper, cap, params)
    assert u[1] > u[0]


@settings(max_examples=200, deadline=None)
@given(
    u=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 12)),
             elements=st.floats(-700, 700, allow_nan=False)),
)
def test_probabilities_sum_to_one(u):
    p = choice.probabilities(u)
    assert np.isfinite(p).all()
    assert (p >= 0).all()
    assert p.sum(axis=1) == pytest.approx(np.ones(u.shape[0]))


@settings(max_examples=50, deadline=None)
@given(mask=arrays(bool, 8), seed=st.integers(0, 2**31))
def test_excluded_options_never_drawn(mask, seed):
    u = np.zeros((20, 8))
    if mask.all():
        mask[0] = False
    u[:, mask] = -np.inf
    draws = choice.draw(choice.probabilities(u), np.random.default_rng(seed))
    assert not mask[draws].any()


def test_draw_frequencies_match_probabilities():
    p = np.tile([0.5, 0.3, 0.15, 0.05], (40_000, 1))
    draws = choice.draw(p, np.random.default_rng(0))
    freq = np.bincount(draws, minlength=4) / len(draws)
    # Binomial standard error at n=40,000 is at most 0.0025: allow 4 of them.
    assert freq == pytest.approx(p[0], abs=0.01)
