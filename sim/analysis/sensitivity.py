"""Global sensitivity analysis of the Mekong crackdown outcomes with SALib.

Which of the uncertain behavioural and enforcement parameters drive how far the
industry spreads, whether it shrinks and how much of it is displaced after the
2025 Myanmar crackdown? Two methods are wrapped:

- **Morris** elementary effects (screening): ``mu_star`` (mean absolute effect,
  with a bootstrap confidence interval) ranks the factors, ``sigma`` flags
  non-linearity and interactions;
- **Sobol** variance decomposition (Saltelli sampling): first-order ``S1`` and
  total ``ST`` indices with bootstrap confidence intervals.

Every design point is run for ``replicates`` seeds ``seed_base, seed_base + 1, …``
and the outputs are averaged. The same seeds are used at every design point
(common random numbers), so differences between points come from the parameters
rather than from seed luck. Runs are farmed out with joblib; each run is fully
determined by its parameters and seed, so the results do not depend on ``n_jobs``.

Plots live in ``experiments/sensitivity.py``; this module does not import
matplotlib. See ``docs/sensitivity.md``.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.core.params import Params, param_info
from sim.runner import run

SCENARIO = "mekong_crackdown"


@dataclass(frozen=True)
class Factor:
    """An uncertain parameter of :class:`sim.params.Params` and its range in the analysis."""

    name: str
    low: float
    high: float
    why: str


# Ranges of the hand-set model (docs/ODD.md §10), wide enough to cover what the record
# cannot pin down, narrow enough that the baseline patterns (a stable industry in the
# Mekong hubs before 2025) still hold. The parameters a shipped calibration estimated
# span its posterior instead (calibrated_factors).
HANDSET_FACTORS: tuple[Factor, ...] = (
    Factor(
        "raid_rate", 0.10, 0.45,
        "default 0.25; raid effort per unit of pressure is not observed: from a weak "
        "effort to almost twice the hand-set one",
    ),
    Factor(
        "risk_tolerance_mean", 0.03, 0.12,
        "default 0.06; half to twice the risk syndicates accept; below 0.03 the resting "
        "raid risk in the Philippines (~0.03) would already drive them out",
    ),
    Factor(
        "relocation_rate", 0.2, 0.7,
        "default 0.4; how fast compounds leave a risky place: from about 5 to 1.5 months",
    ),
    Factor(
        "relocation_carry", 0.3, 0.9,
        "default 0.6; share of the workforce moved along: reports of mass releases "
        "and of whole compounds being trucked across borders",
    ),
    Factor(
        "expansion_rate", 0.1, 0.3,
        "default 0.1 (hand-set); the pace of the post-2023 spread is not pinned down: up to "
        "three times as fast",
    ),
    Factor(
        "beta_distance", 0.1, 1.0,
        "default 0.35; from near indifference to distance to a strong preference for "
        "neighbours (utility −10 at 10,000 km)",
    ),
    Factor(
        "beta_risk", 10.0, 60.0,
        "default 30; a third to twice the weight of learned raid risk in the choice",
    ),
    Factor(
        "beta_agglomeration", 0.0, 1.0,
        "default 0.4; from no pull of existing hubs to one 2.5 times as strong",
    ),
    Factor(
        "exit_utility", 2.0, 8.0,
        "default 5; destination utilities before distance and agglomeration span about "
        "0–6.5 (Laos, Cambodia highest): from giving up being rare (2) to it beating "
        "every single destination (8)",
    ),
    Factor(
        "intel_boost", 0.0, 6.0,
        "default 3; from no use of the task force's shared intelligence to twice the "
        "hand-set effect on new arrivals (acts only on arrivals in CHN, MMR, THA)",
    ),
    # --- structural parameters: recruitment, expansion, exit, raid outcomes, host reaction
    Factor(
        "pool_share", 0.5e-4, 4e-4,
        "default 1.5e-4; the recruitable share of the online, income-weighted population is "
        "not observed: from a third to almost three times (labour scarce to plentiful)",
    ),
    Factor(
        "pool_recovery_rate", 0.01, 0.08,
        "default 0.03; a depleted pool refills in about 8 years (0.01) to about a year (0.08)",
    ),
    Factor(
        "pool_cost_elasticity", 0.5, 3.0,
        "default 1.5; from recruitment costs barely reacting to depletion to steeply rising",
    ),
    Factor(
        "payback_months", 2.0, 8.0,
        "default 4; how fast a recruit or a new site must pay for itself (impatience, risk)",
    ),
    Factor(
        "beta_labour", 0.0, 3.0,
        "default 1; from labour costs ignored in the choice of a destination to a strong "
        "pull toward cheap labour (and toward giving up where it is dear everywhere)",
    ),
    Factor(
        "raid_shrink", 0.2, 0.7,
        "default 0.4; share of a compound freed by a successful raid; reports range from "
        "token releases to whole compounds emptied",
    ),
    Factor(
        "raid_close_rate", 0.0, 2.5,
        "default 1; from raids that never shut a compound to closure of most raided ones",
    ),
    Factor(
        "raid_budget", 20.0, 150.0,
        "default 60; raids a month per unit of capacity are not published: a third to 2.5 "
        "times (Myanmar's 2025 rescues bracket the default)",
    ),
    Factor(
        "political_gain", 0.0, 0.8,
        "default 0.4; from hosts that ignore foreign pressure to hosts that crack down hard",
    ),
    Factor(
        "political_scale_usd", 3e9, 3e10,
        "default 8e9; accumulated weighted foreign losses at which a host reacts halfway",
    ),
)

POSTERIOR_INTERVAL = (0.05, 0.95)  # the posterior's central 90% interval


def calibrated_factors(factors: Sequence[Factor]) -> tuple[Factor, ...]:
    """``factors`` with every parameter of the posterior sample (``posterior=true``'s:
    shipped, or ``$SCAMSIM_POSTERIOR``) spanning the sample's central 90% interval: what
    the record leaves open, around the calibrated defaults. Unchanged without a sample."""
    from sim.paramsets import posterior_path, read_sample, weighted_quantiles

    path = posterior_path()
    if not path.is_file():
        return tuple(factors)
    sample = read_sample(path)
    low, high = (weighted_quantiles(sample, q) for q in POSTERIOR_INTERVAL)
    mid = weighted_quantiles(sample, 0.5)
    out = []
    for f in factors:
        if f.name in low and low[f.name] < high[f.name]:
            f = Factor(f.name, _round_sig(low[f.name], math.floor),
                       _round_sig(high[f.name], math.ceil),
                       f"calibrated (posterior median {mid[f.name]:.3g}): the posterior's "
                       f"central 90% interval; hand-set range [{f.low:g}, {f.high:g}]")
        out.append(f)
    return tuple(out)


def _round_sig(x: float, direction: Callable[[float], float], digits: int = 3) -> float:
    """``x`` to ``digits`` significant figures, rounded outward by ``direction`` (floor
    for a lower end, ceil for an upper one): a range that reads well and loses nothing."""
    if x == 0 or not math.isfinite(x):
        return x
    scale = 10.0 ** (math.floor(math.log10(abs(x))) - digits + 1)
    # round(…, 6) first: 0.7 / 0.001 is 699.999…, which must not floor to 699
    return float(f"{direction(round(x / scale, 6)) * scale:.{digits}g}")


FACTORS: tuple[Factor, ...] = calibrated_factors(HANDSET_FACTORS)

# Summary keys analysed (sim.run(...).summary), in column order of every result array.
# Each design point runs the baseline with the same parameters and seed first, as the
# control of the displacement metrics (common random numbers).
OUTPUTS: tuple[str, ...] = ("new_jurisdictions_end", "global_change_vs_control", "wdq",
                            "removed_share")
OUTPUT_LABELS: dict[str, str] = {
    "new_jurisdictions_end": "spread: new host countries at the end",
    "global_change_vs_control": "global workforce change vs the baseline (12–24 months)",
    "wdq": "weighted displacement quotient (WDQ, vs the baseline)",
    "removed_share": "share of the targets' loss removed, not moved",
}
INDEX_COLUMNS: tuple[str, ...] = ("method", "output", "parameter", "index", "value", "conf")

_INFO = {p["name"]: p for p in param_info()}


def factor_names(factors: Sequence[str] | None = None) -> list[str]:
    """Names of the factors analysed: all of FACTORS, or a checked subset in FACTORS order."""
    names = [f.name for f in FACTORS]
    if factors is None:
        return names
    unknown = sorted(set(factors) - set(names))
    if unknown:
        raise ValueError(f"not in sim.sensitivity.FACTORS: {unknown}; known: {names}")
    return [n for n in names if n in set(factors)]


def problem(factors: Sequence[str] | None = None) -> dict[str, Any]:
    """The SALib problem dict (``num_vars``, ``names``, ``bounds``) of the factors.

    Raises:
        ValueError: a factor range outside the range allowed in ``sim/params.py``.
    """
    names = factor_names(factors)
    by_name = {f.name: f for f in FACTORS}
    bounds = []
    for name in names:
        f = by_name[name]
        lo, hi = _INFO[name]["min"], _INFO[name]["max"]
        if not lo <= f.low < f.high <= hi:
            raise ValueError(f"factor {name}: [{f.low}, {f.high}] not inside [{lo}, {hi}]")
        bounds.append([float(f.low), float(f.high)])
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def replicate_seeds(seed_base: int, replicates: int) -> list[int]:
    """Seeds of the replicates, the same at every design point: seed_base, seed_base + 1, …"""
    if replicates < 1:
        raise ValueError("replicates must be at least 1")
    return [seed_base + r for r in range(replicates)]


def _overrides(names: Sequence[str], row: np.ndarray) -> dict[str, float | int]:
    """Parameter overrides for one design row; integer parameters are rounded."""
    out: dict[str, float | int] = {}
    for name, value in zip(names, row, strict=True):
        is_int = isinstance(_INFO[name]["default"], int)
        out[name] = round(float(value)) if is_int else float(value)
    return out


def simulate_outputs(
    overrides: dict[str, float | int],
    scenario: str,
    world: str,
    seed: int,
    steps: int | None,
) -> tuple[float, ...]:
    """One model run, against its same-seed baseline, reduced to OUTPUTS (undefined: NaN)."""
    settings: dict[str, Any] = {"record_events": False}  # events are not needed; ~25% faster
    if steps is not None:
        settings["steps"] = steps
    control = run("baseline", world=world, seed=seed, **settings, **overrides)
    summary = run(scenario, world=world, seed=seed, control=control, **settings,
                  **overrides).summary
    return tuple(math.nan if summary[k] is None else float(summary[k]) for k in OUTPUTS)


def evaluate(
    x: np.ndarray,
    scenario: str = SCENARIO,
    world: str = "world",
    seed_base: int = 1,
    replicates: int = 2,
    n_jobs: int = 1,
    *,
    names: Sequence[str] | None = None,
    steps: int | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Run the model at every row of a design and average the outputs over replicates.

    Args:
        x: design, shape (N, k), columns in the order of ``names``.
        scenario, world: what to run (see ``sim.run``).
        seed_base: first replicate seed; replicate ``r`` uses ``seed_base + r`` at every row.
        replicates: seeds per design row.
        n_jobs: joblib workers (-1 = all cores); results do not depend on it.
        names: parameter names of the columns (default: all FACTORS).
        steps: model horizon in months (default: the configured 120).
        progress: show a tqdm progress bar.

    Returns:
        (N, len(OUTPUTS)) mean outputs; NaN where a metric was undefined in every replicate.
    """
    from joblib import Parallel, delayed
    from tqdm import tqdm

    names = factor_names() if names is None else list(names)
    x = np.atleast_2d(np.asarray(x, dtype=float))
    if x.shape[1] != len(names):
        raise ValueError(f"x has {x.shape[1]} columns for {len(names)} names")
    seeds = replicate_seeds(seed_base, replicates)
    rows = [_overrides(names, row) for row in x]
    tasks = [(i, s) for i in range(len(rows)) for s in seeds]
    jobs = (delayed(simulate_outputs)(rows[i], scenario, world, s, steps) for i, s in tasks)
    # Ordered generator: results come back in task order whatever the worker count.
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    out = np.empty((len(tasks), len(OUTPUTS)))
    with tqdm(total=len(tasks), unit="run", desc=f"{scenario}/{world}", disable=not progress,
              leave=False) as bar:
        for t, values in enumerate(parallel(jobs)):
            out[t] = values
            bar.update(1)
    runs = out.reshape(len(rows), replicates, len(OUTPUTS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows stay NaN
        return np.nanmean(runs, axis=1)


def fill_undefined(y: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Replace NaN outputs by the mean of that output's defined values.

    SALib cannot analyse NaN. An undefined WDQ (the crackdown did not change the
    target's workforce) is rare; the fill keeps the design balanced and the count
    is reported so the reader can judge it.

    Returns:
        the filled copy and the number of filled rows per output.
    """
    y = np.array(y, dtype=float, copy=True)
    filled: dict[str, int] = {}
    for j, name in enumerate(OUTPUTS):
        bad = ~np.isfinite(y[:, j])
        filled[name] = int(bad.sum())
        if bad.all():
            raise ValueError(f"output {name} is undefined at every design point")
        if bad.any():
            y[bad, j] = y[~bad, j].mean()
            warnings.warn(
                f"{name}: {bad.sum()} of {len(y)} design points undefined, set to the mean",
                RuntimeWarning,
                stacklevel=2,
            )
    return y, filled


def _tidy(rows: list[tuple[str, str, str, str, float, float]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(INDEX_COLUMNS))
    df["value"] = df["value"].astype(float)
    df["conf"] = df["conf"].astype(float)
    return df


# --- Morris --------------------------------------------------------------------------------


def morris_design(
    trajectories: int = 20,
    num_levels: int = 4,
    seed: int = 1,
    factors: Sequence[str] | None = None,
) -> tuple[dict[str, Any], np.ndarray]:
    """SALib problem and Morris design: ``trajectories × (k + 1)`` rows."""
    from SALib.sample import morris as morris_sample

    prob = problem(factors)
    x = morris_sample.sample(prob, trajectories, num_levels=num_levels, seed=seed)
    return prob, x


def morris_indices(
    prob: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    num_levels: int = 4,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    seed: int = 1,
) -> pd.DataFrame:
    """Tidy Morris indices: ``mu_star`` (with its bootstrap CI half-width), ``mu``, ``sigma``.

    ``conf`` is NaN for ``mu`` and ``sigma``: SALib gives no interval for them.
    """
    from SALib.analyze import morris as morris_analyze

    y, _ = fill_undefined(y)
    rows = []
    for j, out in enumerate(OUTPUTS):
        res = morris_analyze.analyze(
            prob, x, y[:, j], num_resamples=num_resamples, conf_level=conf_level,
            num_levels=num_levels, seed=seed,
        )
        for i, name in enumerate(prob["names"]):
            rows.append(("morris", out, name, "mu_star", res["mu_star"][i],
                         res["mu_star_conf"][i]))
            rows.append(("morris", out, name, "mu", res["mu"][i], math.nan))
            rows.append(("morris", out, name, "sigma", res["sigma"][i], math.nan))
    return _tidy(rows)


def morris(
    scenario: str = SCENARIO,
    world: str = "world",
    trajectories: int = 20,
    num_levels: int = 4,
    replicates: int = 2,
    n_jobs: int = 1,
    seed: int = 1,
    seed_base: int = 1,
    *,
    factors: Sequence[str] | None = None,
    steps: int | None = None,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    progress: bool = True,
) -> pd.DataFrame:
    """Morris screening of FACTORS on OUTPUTS; same arguments give the same numbers.

    ``seed`` drives the SALib sampler and bootstrap, ``seed_base`` the model runs.
    ``df.attrs`` records the sample size, runs and wall time.
    """
    t0 = time.perf_counter()
    prob, x = morris_design(trajectories, num_levels, seed, factors)
    y = evaluate(x, scenario, world, seed_base, replicates, n_jobs, names=prob["names"],
                 steps=steps, progress=progress)
    df = morris_indices(prob, x, y, num_levels, conf_level, num_resamples, seed)
    df.attrs.update(_meta(scenario, world, len(x), replicates, time.perf_counter() - t0))
    df.attrs["trajectories"] = trajectories
    return df


# --- Sobol ---------------------------------------------------------------------------------


def sobol_design(
    n: int = 64, seed: int = 1, factors: Sequence[str] | None = None
) -> tuple[dict[str, Any], np.ndarray]:
    """SALib problem and Saltelli design without second-order terms: ``n × (k + 2)`` rows.

    ``n`` should be a power of two (Sobol' sequence balance).
    """
    from SALib.sample import sobol as sobol_sample

    prob = problem(factors)
    x = sobol_sample.sample(prob, n, calc_second_order=False, scramble=True, seed=seed)
    return prob, x


def sobol_indices(
    prob: dict[str, Any],
    y: np.ndarray,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    seed: int = 1,
) -> pd.DataFrame:
    """Tidy first-order (``S1``) and total (``ST``) Sobol indices with bootstrap CI half-widths.

    Small samples can give slightly negative S1 estimates (sampling error around 0).
    """
    from SALib.analyze import sobol as sobol_analyze

    y, _ = fill_undefined(y)
    rows = []
    for j, out in enumerate(OUTPUTS):
        if np.ptp(y[:, j]) == 0:
            warnings.warn(f"{out} is constant over the sample: Sobol indices are undefined",
                          RuntimeWarning, stacklevel=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 for a constant output
            res = sobol_analyze.analyze(
                prob, y[:, j], calc_second_order=False, num_resamples=num_resamples,
                conf_level=conf_level, seed=seed,
            )
        for i, name in enumerate(prob["names"]):
            rows.append(("sobol", out, name, "S1", res["S1"][i], res["S1_conf"][i]))
            rows.append(("sobol", out, name, "ST", res["ST"][i], res["ST_conf"][i]))
    return _tidy(rows)


def sobol(
    scenario: str = SCENARIO,
    world: str = "world",
    n: int = 64,
    replicates: int = 2,
    n_jobs: int = 1,
    seed: int = 1,
    seed_base: int = 1,
    *,
    factors: Sequence[str] | None = None,
    steps: int | None = None,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    progress: bool = True,
) -> pd.DataFrame:
    """Sobol indices of FACTORS (or a subset; the others stay at their defaults) on OUTPUTS.

    ``seed`` drives the scrambled Sobol' sequence and bootstrap, ``seed_base`` the model runs.
    """
    t0 = time.perf_counter()
    prob, x = sobol_design(n, seed, factors)
    y = evaluate(x, scenario, world, seed_base, replicates, n_jobs, names=prob["names"],
                 steps=steps, progress=progress)
    df = sobol_indices(prob, y, conf_level, num_resamples, seed)
    df.attrs.update(_meta(scenario, world, len(x), replicates, time.perf_counter() - t0))
    df.attrs["n"] = n
    return df


# --- helpers -------------------------------------------------------------------------------


def seed_noise(
    scenario: str = SCENARIO,
    world: str = "world",
    seeds: int = 10,
    seed_base: int = 1,
    n_jobs: int = 1,
    *,
    steps: int | None = None,
) -> pd.DataFrame:
    """Mean and standard deviation of OUTPUTS over seeds at the default parameters.

    Compare ``sd**2 / replicates`` with the variance of an output over a design to
    see how much of that variance is seed noise rather than parameter effect.
    """
    from joblib import Parallel, delayed

    defaults = {f.name: getattr(Params(), f.name) for f in FACTORS}
    runs = np.asarray(
        Parallel(n_jobs=n_jobs)(
            delayed(simulate_outputs)(defaults, scenario, world, s, steps)
            for s in replicate_seeds(seed_base, seeds)
        ),
        dtype=float,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an output undefined in every seed
        return pd.DataFrame(
            {"output": list(OUTPUTS), "mean": np.nanmean(runs, axis=0),
             "sd": np.nanstd(runs, axis=0, ddof=1), "seeds": seeds}
        )


def _meta(scenario: str, world: str, rows: int, replicates: int, wall: float) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "world": world,
        "design_rows": rows,
        "replicates": replicates,
        "runs": rows * replicates,
        "wall_time_s": round(wall, 2),
    }


def top_factors(df: pd.DataFrame, output: str, index: str, k: int = 3) -> pd.DataFrame:
    """The ``k`` factors with the largest ``index`` for ``output``, largest first."""
    sel = df[(df["output"] == output) & (df["index"] == index)]
    return sel.sort_values("value", ascending=False).head(k).reset_index(drop=True)
