"""The model benchmark's side-by-side comparison (benchmarks/bench_model.py --against)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_model.py"


@pytest.fixture()
def bench():
    spec = importlib.util.spec_from_file_location("bench_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compare_alternates_and_prints_ranges(bench, tmp_path, monkeypatch, capsys):
    other = tmp_path / "v1"
    (other / "benchmarks").mkdir(parents=True)
    (other / "benchmarks" / "bench_model.py").write_text("")
    calls = []
    results = {
        other: iter([{"world_run_s_median": 0.105, "ratio_ours_to_boltzmann": 0.47},
                     {"world_run_s_median": 0.108, "ratio_ours_to_boltzmann": 0.47}]),
        bench.ROOT: iter([{"world_run_s_median": 0.171, "ratio_ours_to_boltzmann": 0.731},
                          {"world_run_s_median": 0.181, "ratio_ours_to_boltzmann": 0.76}]),
    }

    def fake(root, repeats):
        calls.append((root, repeats))
        return next(results[root])

    monkeypatch.setattr(bench, "bench_checkout", fake)
    runs = bench.compare(other, rounds=2, repeats=3)
    # The other checkout first in every round, then this one, each with the repeats asked.
    assert calls == [(other, 3), (bench.ROOT, 3), (other, 3), (bench.ROOT, 3)]
    assert [r["world_run_s_median"] for r in runs["this"]] == [0.171, 0.181]
    out = capsys.readouterr().out
    assert "| one default world run (s) | 0.105–0.108 | 0.171–0.181 |" in out
    assert "| ratio | 0.47 | 0.73–0.76 |" in out  # one value when the rounds agree
    assert "| compounds (mean) | – | – |" in out  # a key neither version reported


def test_compare_refuses_a_directory_that_is_no_checkout(bench, tmp_path):
    with pytest.raises(SystemExit, match=r"has no benchmarks/bench_model\.py"):
        bench.compare(tmp_path, rounds=1, repeats=1)


@pytest.mark.parametrize("argv", [["--rounds", "0"], ["--repeats", "0"]])
def test_counts_below_one_are_refused_before_anything_runs(bench, monkeypatch, capsys, argv):
    monkeypatch.setattr(bench, "compare", lambda *a: pytest.fail("ran despite bad input"))
    monkeypatch.setattr(bench.sys, "argv", ["bench_model.py", "--against", ".", *argv])
    with pytest.raises(SystemExit) as exit_info:
        bench.main()
    assert exit_info.value.code == 2
    assert f"{argv[0]} must be at least 1, got 0" in capsys.readouterr().err
