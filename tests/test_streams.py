"""Common random numbers: keyed uniforms, binomial inversion, and paired scenarios."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config import compose, validate
from sim.core.streams import (
    BinomialTable,
    Stream,
    _window,
    _window_cdf,
    _window_cdf_products,
    binomial_inverse,
)
from sim.runner import build_model


def _stream(seed: int = 3) -> Stream:
    return Stream(np.random.SeedSequence(seed))


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.integers(0, 5000), min_size=1, max_size=40, unique=True),
    step=st.integers(0, 500),
    draw=st.integers(0, 9),
)
def test_an_agents_uniform_does_not_depend_on_the_others(ids, step, draw):
    s = _stream()
    together = s.uniform(step, draw, np.array(ids))
    alone = [s.uniform(step, draw, np.array([i]))[0] for i in ids]
    assert together.tolist() == alone
    assert ((together >= 0.0) & (together < 1.0)).all()


def test_months_draws_and_purposes_are_distinct_streams():
    ids = np.arange(2000)
    s, other = _stream(1), _stream(2)
    a = s.uniform(4, 0, ids)
    for b in (s.uniform(5, 0, ids), s.uniform(4, 1, ids), other.uniform(4, 0, ids)):
        assert not np.array_equal(a, b)
        # independent uniforms: correlation near 0, means near 1/2
        assert abs(np.corrcoef(a, b)[0, 1]) < 0.1
    assert abs(a.mean() - 0.5) < 0.03
    assert np.array_equal(a, _stream(1).uniform(4, 0, ids))  # same seed, same numbers


def test_binomial_inverse_matches_the_exact_cdf():
    n, p = 10, 0.3
    cdf = np.cumsum([comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)])
    # just below and above the CDF's steps at 0 and 3
    u = np.array([0.0, cdf[0] - 1e-9, cdf[0] + 1e-9, cdf[3] - 1e-9, cdf[3] + 1e-9, 1 - 1e-12])
    expected = [0, 0, 1, 3, 4, 10]
    assert binomial_inverse(u, np.full(len(u), n), p).tolist() == expected
    assert BinomialTable(p).inverse(u, np.full(len(u), n)).tolist() == expected


def test_binomial_edge_cases():
    u = np.array([0.1, 0.5, 0.9])
    n = np.array([0, 5, 7])
    assert binomial_inverse(u, n, 0.0).tolist() == [0, 0, 0]
    assert binomial_inverse(u, n, 1.0).tolist() == [0, 5, 7]
    assert BinomialTable(0.0).inverse(u, n).tolist() == [0, 0, 0]
    assert BinomialTable(1.0).inverse(u, n).tolist() == [0, 5, 7]
    assert binomial_inverse(u[:0], n[:0], 0.3).size == 0


@pytest.mark.parametrize("n, p", [(3, 0.5), (200, 0.01), (900, 0.3), (5000, 0.001)])
def test_binomial_draws_have_the_binomial_mean_and_variance(n, p):
    u = np.random.default_rng(7).random(40_000)
    sizes = np.full(len(u), n)
    for x in (binomial_inverse(u, sizes, p), BinomialTable(p).inverse(u, sizes)):
        assert x.min() >= 0 and x.max() <= n
        # 40,000 draws: the mean and variance are within ~0.5% and ~1% (standard errors)
        # at the largest n, a few times that at the smallest means
        assert x.mean() == pytest.approx(n * p, rel=0.02, abs=0.01)
        assert x.var() == pytest.approx(n * p * (1 - p), rel=0.03, abs=0.01)


def test_table_and_window_agree_and_the_table_grows():
    u = np.random.default_rng(1).random(3000)
    n = np.random.default_rng(2).integers(0, 2500, 3000)
    table = BinomialTable(0.02)
    small = table.inverse(u[:10], np.minimum(n[:10], 50))
    assert np.array_equal(small, binomial_inverse(u[:10], np.minimum(n[:10], 50), 0.02))
    assert np.array_equal(table.inverse(u, n), binomial_inverse(u, n, 0.02))


def test_window_products_agree_with_the_log_form_and_fall_back_where_they_overflow():
    n = np.array([0, 1, 7, 60, 900, 2500])
    for p in (0.001, 0.2, 0.637, 0.99):
        lo, hi = _window(n, p)
        width = int((hi - lo).max()) + 1
        fast, logs = _window_cdf_products(n, p, lo, width), _window_cdf(n, p, lo, width)
        assert np.allclose(fast, logs, rtol=0, atol=1e-12)
        assert (np.diff(fast, axis=1) >= 0).all() and (fast[:, -1] == 1.0).all()
    # From k = 0 the products reach C(2000, 1000) ≈ 10^600: the log form takes over.
    wide = _window_cdf_products(np.array([2000]), 0.5, np.array([0]), 2001)
    assert np.isfinite(wide).all()
    assert np.array_equal(wide, _window_cdf(np.array([2000]), 0.5, np.array([0]), 2001))


def test_table_keeps_only_what_a_key_can_pass_and_inverts_as_the_full_table():
    p = 0.01
    table = BinomialTable(p)
    n = np.arange(0, 600)
    us = (0.0, 2.0**-53, 0.3, 0.5, 0.999, 1.0 - 2.0**-53)  # with both ends of [0, 1)
    table.inverse(np.zeros(1), n[-1:])
    rows, first, flat = table._data
    # The full rectangular table (every row to the same width), searched as one array.
    every = np.arange(rows + 1)
    width = int(_window(every, p)[1].max()) + 1
    full = (_window_cdf(every, p, np.zeros(rows + 1, dtype=np.int64), width)
            + 2.0 * every[:, None]).reshape(-1)
    for u in us:
        key = 2.0 * n + u
        expected = np.minimum(np.searchsorted(full, key) - n * width, n)
        assert np.array_equal(table.inverse(np.full(len(n), u), n), expected), u
    for u in us[:-1]:  # away from 1, where the offset rows lose no precision that counts
        assert np.array_equal(table.inverse(np.full(len(n), u), n),
                              binomial_inverse(np.full(len(n), u), n, p)), u
    lengths = np.diff(np.append(first, len(flat)))
    assert len(flat) < full.size  # the rows are shorter than the full table's
    assert (flat < 2.0 * np.repeat(every, lengths) + 1.0).all()


@settings(max_examples=40, deadline=None)
@given(ids=st.lists(st.integers(0, 3000), min_size=1, max_size=50, unique=True),
       rows=st.lists(st.integers(0, 49), max_size=20), draw=st.integers(0, 3))
def test_a_months_draws_of_any_subset_are_the_subsets_own_uniforms(ids, rows, draw):
    ids = np.array(ids)
    rows = np.array([r for r in rows if r < len(ids)], dtype=np.int64)
    got = _stream(5).draws(7, ids)(draw, rows)
    assert got.tolist() == _stream(5).uniform(7, draw, ids[rows]).tolist()


def _crackdown(start: str) -> list[dict]:
    return [{"kind": "crackdown", "targets": ["MMR"], "start": start, "duration_months": 12,
             "intensity": 0.6, "protection_cut": 0.5}]


def _logged_model(events: list[dict] | None, seed: int = 4):
    cfg = compose("baseline", "world", {"seed": seed, "steps": 48})
    if events is not None:
        cfg["scenario"]["events"] = events
    model = build_model(validate(cfg))
    for s in (model.stream_raids, model.stream_move, model.stream_recruit):
        s.log = []
    model.run_for(48)
    return model


def _draws(model) -> dict[tuple[str, int, int, int], float]:
    out = {}
    for name in ("raids", "move", "recruit"):
        for step, draw, ids, u in getattr(model, f"stream_{name}").log:
            out.update({(name, step, draw, int(i)): float(x) for i, x in zip(ids, u, strict=True)})
    return out


def test_paired_scenarios_share_every_draw_of_the_agents_they_share():
    base = _logged_model(None)
    lever = _logged_model(_crackdown("2025-01"))  # month 24 of a run from 2023-01
    t = 24
    # Identical up to the month before the lever acts ...
    for name in ("workers", "compounds", "raids", "rescued"):
        assert np.array_equal(base.rec[name][:t], lever.rec[name][:t]), name
    # ... and then they differ (the lever does something) ...
    assert not np.array_equal(base.rec["workers"][t:], lever.rec["workers"][t:])
    # ... but every draw both runs made for the same agent, month and purpose is the same.
    a, b = _draws(base), _draws(lever)
    shared = a.keys() & b.keys()
    later = [k for k in shared if k[1] >= t]
    assert len(later) > 1000
    assert all(a[k] == b[k] for k in shared)


def test_a_draw_does_not_depend_on_the_draws_before_it():
    ids = np.array([4, 17, 900])
    fresh = _stream().uniform(9, 2, ids)
    s = _stream()
    s.uniform(12, 0, np.arange(50))  # ahead of it
    s.uniform(9, 5, ids)
    s.uniform(3, 1, ids)  # behind it
    assert np.array_equal(s.uniform(9, 2, ids), fresh)
    assert np.array_equal(s.uniform(9, 2, ids), fresh)  # twice in a row


@pytest.mark.parametrize("p", [0.002, 0.01, 0.3, 0.637])
def test_table_grown_in_blocks_equals_the_table_built_at_once_at_full_width(p):
    """Rows are computed in blocks, each as wide as its own rows' windows, and added
    as the largest size grows: the entries are bit for bit those of every row computed
    at the width of the largest one."""
    table = BinomialTable(p)
    for n_max in (10, 300, 1000):  # 64 rows, then 300 (+ one block), then 1000
        table.inverse(np.zeros(1), np.array([n_max]))
    rows, first, flat = table._data
    assert rows == 1000
    every = np.arange(rows + 1)
    width = int(_window(every, p)[1].max()) + 1
    full = _window_cdf(every, p, np.zeros(rows + 1, dtype=np.int64), width) + 2.0 * every[:, None]
    keep = full < (2.0 * every + 1.0)[:, None]
    assert np.array_equal(flat, full[keep])
    assert np.array_equal(first, np.concatenate([[0], np.cumsum(keep.sum(axis=1))[:-1]]))
