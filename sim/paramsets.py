"""Config layer: named parameter sets and draws from the shipped posterior sample.

``paramset=handset`` starts a run from the hand-set values of version 2
(``sim/data/paramsets/handset.yaml``) instead of the defaults of
``sim/core/params.py``. ``posterior=true`` replaces the calibrated parameters by one
particle of the shipped posterior sample (``sim/data/posterior.csv``, written by
``scamsim calibrate --install``), drawn with the particles' weights from a generator
keyed by the run's seed: the same seed gives the same particle in every scenario (paired
comparisons share it), and a sweep's replicates give as many (parameter, seed) pairs.

In both cases a parameter the scenario file or the user set to something other than its
default keeps that value: explicit values win.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.core.errors import ConfigError
from sim.core.params import PARAM_NAMES, Params
from sim.resources import data_path

POSTERIOR_FILE = "posterior.csv"
POSTERIOR_ENV = "SCAMSIM_POSTERIOR"
# Spawn key of the posterior draw: a stream of its own, apart from the model's streams.
POSTERIOR_STREAM = 0x706F7374  # "post"


def paramset(name: str) -> dict[str, Any]:
    """The values of a named parameter set (``default``: the code's defaults)."""
    if name == "default":
        return dataclasses.asdict(Params())
    return dict(_paramset_file(name))


@cache
def _paramset_file(name: str) -> dict[str, Any]:
    path = data_path(f"paramsets/{name}.yaml")
    if not path.is_file():
        raise ConfigError("paramset", f"= {name!r} is not shipped ({path.name} missing)")
    with path.open() as fh:
        values = yaml.safe_load(fh) or {}
    unknown = sorted(set(values) - set(PARAM_NAMES))
    if unknown:
        raise ConfigError("paramset", f"= {name!r} names unknown parameters {unknown}")
    return values


def posterior_path() -> Path:
    """The posterior sample used by ``posterior=true``: ``$SCAMSIM_POSTERIOR`` if set (a
    sample of one's own calibration), else the shipped ``sim/data/posterior.csv``."""
    own = os.environ.get(POSTERIOR_ENV)
    return Path(own) if own else data_path(POSTERIOR_FILE)


@cache
def posterior_sample() -> tuple[pd.DataFrame, str]:
    """The posterior sample (parameters and normalised weights) and its digest."""
    path = posterior_path()
    if not path.is_file():
        raise ConfigError("posterior", f"= true needs a posterior sample; {path} does not "
                          "exist (run `scamsim calibrate --install`, or set "
                          f"${POSTERIOR_ENV})")
    return read_sample(path), hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Quantile ``q`` of weighted values: the inverse of the weighted CDF through the
    midpoints of the sorted values' weights (non-finite values left out)."""
    v, w = np.asarray(values, float), np.asarray(weights, float)
    ok = np.isfinite(v)
    v, w = v[ok], w[ok]
    if not len(v) or w.sum() <= 0:
        return math.nan
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cdf, v))


def weighted_quantiles(sample: pd.DataFrame, q: float) -> dict[str, float]:
    """Weighted ``q``-quantile of every parameter of a sample."""
    w = sample["weight"].to_numpy(float)
    return {name: weighted_quantile(sample[name].to_numpy(float), w, q)
            for name in sample.columns if name != "weight"}


def weighted_medians(sample: pd.DataFrame) -> dict[str, float]:
    """Weighted median of every parameter of a sample."""
    return weighted_quantiles(sample, 0.5)


def posterior_median() -> dict[str, float]:
    """Weighted median of every calibrated parameter in the shipped sample."""
    return weighted_medians(posterior_sample()[0])


def read_sample(path: str | Path) -> pd.DataFrame:
    """A posterior sample file (parameter columns and weights, as the calibration writes
    it), checked, with its weights normalised."""
    df = pd.read_csv(path)
    unknown = sorted(set(df.columns) - set(PARAM_NAMES) - {"weight"})
    if "weight" not in df.columns or unknown or df.empty:
        raise ConfigError("posterior", f"{path} is malformed "
                          f"(needs a weight column and parameter columns; unknown: {unknown})")
    w = df["weight"].to_numpy(float)
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise ConfigError("posterior", f"{path} has invalid weights")
    return df.assign(weight=w / w.sum())


def draw_particle(seed: int, sample: pd.DataFrame | None = None) -> tuple[int, dict[str, float]]:
    """The particle of the sample (default: the shipped one) a run with this seed uses."""
    df = posterior_sample()[0] if sample is None else sample
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), POSTERIOR_STREAM]))
    i = int(rng.choice(len(df), p=df["weight"].to_numpy(float)))
    row = df.iloc[i]
    return i, {c: float(row[c]) for c in df.columns if c != "weight"}


def apply(params: dict[str, Any], *, paramset_name: str, posterior: bool,
          seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's parameters after its parameter set and posterior draw, and what to record.

    Only parameters still at their default are replaced (explicit values win).
    """
    defaults = dataclasses.asdict(Params())
    out = dict(params)
    record: dict[str, Any] = {}
    if paramset_name != "default":
        for name, value in paramset(paramset_name).items():
            if out.get(name) == defaults[name]:
                out[name] = value
    if posterior:
        index, values = draw_particle(seed)
        start = {**defaults, **(paramset(paramset_name) if paramset_name != "default" else {})}
        kept = [n for n in values if out.get(n) != start[n]]
        for name, value in values.items():
            if name not in kept:
                out[name] = value
        _, digest = posterior_sample()
        record = {"particle": index, "sample": digest, "explicit": kept}
    return out, record
