"""EMA Workbench interoperability: scamsim as a ``ReplicatorModel`` for exploratory modelling.

Optional extra (``pip install scamsim[ema]``)::

    from ema_workbench import SequentialEvaluator
    from sim.analysis.ema import make_model

    model = make_model(world="teaching", replications=5, steps=60)
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=50)

The uncertainties are the factors of :mod:`sim.analysis.sensitivity` (same names and
ranges); each experiment is run once per replication seed, with the baseline run of
the same seed and parameters as the control of its displacement outcomes, and every
outcome is the mean over the replications (``nan`` where a metric is undefined in all of
them). See docs/sensitivity.md, "Scenario discovery with EMA Workbench".
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.analysis.sensitivity import FACTORS, SCENARIO
from sim.core.params import PARAM_NAMES, param_info
from sim.core.settings import DEFAULTS
from sim.runner import run

if TYPE_CHECKING:
    from ema_workbench import ReplicatorModel

# Summary keys returned as EMA outcomes.
# The displacement outcomes are measured against the same-seed baseline run, as in the
# sensitivity analysis (common random numbers).
OUTCOMES: tuple[str, ...] = ("wdq", "global_change_vs_control", "new_jurisdictions_end",
                             "workers_end")
INSTALL_HINT = 'EMA Workbench is not installed: pip install "scamsim[ema]"'


def _import_ema() -> Any:
    """The ema_workbench module, or an ImportError saying how to install the extra."""
    try:
        with warnings.catch_warnings():
            # Optional parallel back-ends the workbench cannot find (ipyparallel) warn on import.
            warnings.simplefilter("ignore", UserWarning)
            import ema_workbench
    except ImportError as err:  # the optional extra is missing
        raise ImportError(INSTALL_HINT) from err
    return ema_workbench


def replication_seeds(replications: int, seed_base: int = 1) -> list[dict[str, int]]:
    """Replications as EMA expects them: ``[{"seed": seed_base}, {"seed": seed_base + 1}, …]``."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    return [{"seed": seed_base + r} for r in range(replications)]


def run_experiment(
    scenario: str = SCENARIO,
    world: str = "world",
    steps: int = DEFAULTS["steps"],
    seed: int = DEFAULTS["seed"],
    **params: float,
) -> dict[str, float]:
    """One replication of one experiment: ``sim.run`` with the sampled parameters.

    EMA passes the uncertainties and the replication's ``seed`` as keyword
    arguments; ``scenario``, ``world`` and ``steps`` are bound by :func:`make_model`.
    """
    unknown = sorted(set(params) - set(PARAM_NAMES))
    if unknown:
        raise TypeError(f"not model parameters: {unknown}")
    ints = {p["name"] for p in param_info() if p["type"] == "int"}
    overrides = {k: (round(v) if k in ints else float(v)) for k, v in params.items()}
    control = run("baseline", world=world, seed=int(seed), steps=steps, record_events=False,
                  **overrides)
    summary = run(scenario, world=world, seed=int(seed), steps=steps, record_events=False,
                  control=control, **overrides).summary
    return {k: math.nan if summary[k] is None else float(summary[k]) for k in OUTCOMES}


def replication_mean(values: Sequence[float]) -> float:
    """Mean over replications ignoring undefined (NaN) ones; NaN if none is defined."""
    x = np.asarray(values, dtype=float)
    if not np.isfinite(x).any():
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(x))


def make_model(
    scenario: str = SCENARIO,
    world: str = "world",
    replications: int = 10,
    steps: int = DEFAULTS["steps"],
    *,
    seed_base: int = DEFAULTS["seed"],
    name: str = "scamsim",
) -> ReplicatorModel:
    """An EMA Workbench ``ReplicatorModel`` of a scamsim scenario.

    Args:
        scenario, world, steps: what every experiment runs (see ``sim.run``).
        replications: seeds per experiment, ``seed_base, seed_base + 1, …`` (deterministic).
        seed_base: first replication seed.
        name: EMA model name (letters, digits and underscores).

    Returns:
        a model with ``uncertainties`` (RealParameter/IntegerParameter on the
        :data:`sim.sensitivity.FACTORS` ranges), ``outcomes`` (ScalarOutcome per
        key of :data:`OUTCOMES`, averaged over replications) and ``replications``.

    Raises:
        ImportError: ema_workbench is not installed.
    """
    ema = _import_ema()
    # A partial of a module-level function pickles, so multiprocessing evaluators work.
    function = functools.partial(run_experiment, scenario, world, steps)
    model = ema.ReplicatorModel(name, function=function)
    info = {p["name"]: p for p in param_info()}
    uncertainties = []
    for f in FACTORS:
        if info[f.name]["type"] == "int":
            uncertainties.append(ema.IntegerParameter(f.name, int(f.low), int(f.high)))
        else:
            uncertainties.append(ema.RealParameter(f.name, float(f.low), float(f.high)))
    model.uncertainties = uncertainties
    model.outcomes = [ema.ScalarOutcome(k, function=replication_mean) for k in OUTCOMES]
    model.replications = replication_seeds(replications, seed_base)
    return model
