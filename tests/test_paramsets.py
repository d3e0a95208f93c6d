"""Named parameter sets and posterior draws: keyed by seed, explicit values win."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import sim
from sim import paramsets
from sim.config import compose, validate
from sim.core.errors import ConfigError
from sim.core.params import Params


@pytest.fixture
def sample(tmp_path, monkeypatch):
    """A small posterior sample in place of the shipped one."""
    df = pd.DataFrame({
        "raid_rate": [0.1, 0.2, 0.3, 0.4],
        "expansion_rate": [0.05, 0.06, 0.07, 0.08],
        "weight": [0.1, 0.2, 0.3, 0.4],
    })
    (tmp_path / "posterior.csv").write_text(df.to_csv(index=False))
    monkeypatch.setenv(paramsets.POSTERIOR_ENV, str(tmp_path / "posterior.csv"))
    paramsets.posterior_sample.cache_clear()
    yield df
    paramsets.posterior_sample.cache_clear()


def _spec(scenario="baseline", **over):
    return validate(compose(scenario, "teaching", {"steps": 12, **over}))


def test_handset_is_the_default_until_a_calibration_is_installed():
    handset = paramsets.paramset("handset")
    assert set(handset) == {f.name for f in dataclasses.fields(Params)}
    spec = _spec(paramset="handset")
    assert dataclasses.asdict(spec.params) == {**dataclasses.asdict(Params()), **handset}


def test_an_explicit_value_beats_the_parameter_set(monkeypatch):
    monkeypatch.setattr(paramsets, "paramset",
                        lambda name: {"raid_rate": 0.33, "expansion_rate": 0.11})
    spec = _spec(paramset="handset", raid_rate=0.5)
    assert spec.params.raid_rate == 0.5  # set explicitly
    assert spec.params.expansion_rate == 0.11  # from the set


def test_a_posterior_draw_is_keyed_by_the_seed(sample):
    a = _spec(seed=7, posterior=True)
    b = _spec("mekong_crackdown", seed=7, posterior=True)  # paired: the same particle
    i = a.resolved["posterior_draw"]["particle"]
    assert b.resolved["posterior_draw"]["particle"] == i
    assert a.params.raid_rate == sample["raid_rate"][i]
    assert a.params.expansion_rate == sample["expansion_rate"][i]
    assert a.resolved["params"]["raid_rate"] == sample["raid_rate"][i]
    # the draw follows the weights: over many seeds the heaviest particle is the commonest
    picks = [paramsets.draw_particle(s)[0] for s in range(4000)]
    share = np.bincount(picks, minlength=4) / 4000
    assert share == pytest.approx(sample["weight"].to_numpy(), abs=0.03)


def test_a_posterior_draw_keeps_explicit_values_and_says_so(sample):
    spec = _spec(seed=3, posterior=True, raid_rate=0.9)
    assert spec.params.raid_rate == 0.9
    assert spec.resolved["posterior_draw"]["explicit"] == ["raid_rate"]


def test_posterior_without_a_shipped_sample_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv(paramsets.POSTERIOR_ENV, str(tmp_path / "none.csv"))
    paramsets.posterior_sample.cache_clear()
    try:
        with pytest.raises(ConfigError, match="posterior = true needs a posterior sample"):
            _spec(posterior=True)
    finally:
        paramsets.posterior_sample.cache_clear()


def test_weighted_median(sample):
    # the weighted CDF at the particles' midpoints: 0.05, 0.2, 0.45, 0.8; the median lies
    # 0.05 / 0.35 of the way from the third particle to the fourth
    med = paramsets.posterior_median()
    assert med["raid_rate"] == pytest.approx(0.3 + 0.1 / 7)
    assert med["expansion_rate"] == pytest.approx(0.07 + 0.01 / 7)


def test_a_run_with_a_posterior_draw_records_it(sample):
    res = sim.run("baseline", world="teaching", seed=5, steps=6, posterior=True)
    assert res.config["posterior"] is True
    assert res.config["posterior_draw"]["sample"]
    again = sim.run("baseline", world="teaching", seed=5, steps=6, posterior=True)
    assert again.summary["run_id"] == res.summary["run_id"]
    assert again.timeseries.equals(res.timeseries)


def test_a_sweep_draws_one_particle_per_seed_shared_by_its_scenarios(sample, tmp_path):
    import json
    import subprocess
    import sys

    import yaml

    out = tmp_path / "sweep"
    subprocess.run(
        [sys.executable, "-m", "sim", "--multirun", "scenario=baseline,mekong_crackdown",
         "world=teaching", "steps=6", "replicates=4", "posterior=true",
         f"hydra.sweep.dir={out}", "hydra/launcher=basic"],
        check=True, capture_output=True, cwd=tmp_path,
    )
    by_seed: dict[int, set[int]] = {}
    for cfg_file in out.glob("runs/*/resolved_config.yaml"):
        cfg = yaml.safe_load(cfg_file.read_text())
        by_seed.setdefault(cfg["seed"], set()).add(cfg["posterior_draw"]["particle"])
        summary = json.loads((cfg_file.parent / "summary.json").read_text())
        assert summary["run_id"]
    assert len(by_seed) == 4 and all(len(p) == 1 for p in by_seed.values())


def test_a_study_with_posterior_but_no_sample_stops_in_one_line(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, paramsets.POSTERIOR_ENV: str(tmp_path / "none.csv")}
    out = subprocess.run([sys.executable, "-m", "sim", "study", "displacement", "--quick",
                          "--posterior", "--results-dir", str(tmp_path)],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "posterior" in out.stderr
    assert not any(tmp_path.iterdir())  # nothing run or written
