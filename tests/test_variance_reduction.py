"""What common random numbers save on a paired comparison: the arithmetic and the CLI."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from sim.analysis import variance_reduction as vr


def test_ratio_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = x + np.array([10.0, 10.5, 9.5, 10.0])  # a shift with little noise of its own
    # var(x) = var(y') ~ 1.67 each; var(y - x) = 1/6
    assert vr.ratio(x, y) == pytest.approx((np.var(x, ddof=1) + np.var(y, ddof=1)) / (1 / 6))


def test_independent_draws_give_a_ratio_near_one_and_shared_noise_a_large_one():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=4000), rng.normal(size=4000)
    assert vr.ratio(a, b) == pytest.approx(1.0, abs=0.1)  # nothing shared: no gain
    shared = rng.normal(size=4000)
    assert vr.ratio(shared + 0.1 * a, shared + 0.1 * b + 1.0) > 50  # mostly shared noise


def test_summary_is_reproducible_and_brackets_the_ratio():
    rng = np.random.default_rng(3)
    base = rng.normal(size=30)
    x, y = base + 0.3 * rng.normal(size=30), base + 0.3 * rng.normal(size=30) + 2
    one, two = vr.summarise(x, y), vr.summarise(x, y)
    assert one == two
    lo, hi = one["replicates_ratio_ci"]
    assert lo <= one["replicates_ratio"] <= hi
    assert one["ci_half_width_paired"] < one["ci_half_width_independent"]


def test_bad_input_is_one_line():
    out = subprocess.run([sys.executable, "-m", "sim", "crn", "--seeds", "2"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "--seeds" in out.stderr
    out = subprocess.run([sys.executable, "-m", "sim", "crn", "--metric", "nope",
                          "--world", "teaching", "--seeds", "3"], capture_output=True, text=True)
    assert out.returncode == 2 and "--metric" in out.stderr
