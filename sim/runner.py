"""Running the model from Python: ``sim.run(...)`` for notebooks, teaching and the CLI."""

from __future__ import annotations

import os
import time
from typing import Any

from sim.config import RunSpec, compose, validate
from sim.core.model import ScamModel
from sim.core.settings import DEFAULTS, MODEL_SETTINGS
from sim.identity import run_id
from sim.results import Recording, RunResult, summarize


def model_args(spec: RunSpec) -> dict[str, Any]:
    """Keyword arguments of ScamModel (or a subclass) for a validated run."""
    return {
        "world": spec.world,
        "params": spec.params,
        "interventions": spec.interventions,
        **{name: getattr(spec, name) for name in MODEL_SETTINGS if name != "seed"},
        "rng": spec.seed,
    }


def build_model(spec: RunSpec) -> ScamModel:
    """A fresh model for a validated run."""
    return ScamModel(**model_args(spec))


def simulate(
    spec: RunSpec, progress: bool = False, keep_model: bool = False, control: Any = None
) -> RunResult:
    """Run a validated spec to its horizon and collect the results contract.

    ``control``: the same-seed run without the intervention (a RunResult, a long
    time-series frame or a workers array), the counterfactual of the displacement
    metrics (see ``sim.results.summarize``).
    """
    t0 = time.perf_counter()
    model = build_model(spec)
    if progress:
        from tqdm import tqdm

        with tqdm(total=spec.steps, desc=f"{spec.scenario} seed {spec.seed}", unit="month",
                  leave=False) as bar:
            while model.running:
                model.run_for(1)
                bar.update(1)
    else:
        model.run_for(spec.steps)
    wall = time.perf_counter() - t0
    summary = {"run_id": run_id(spec.resolved), **summarize(model, spec, wall, control)}
    return RunResult(
        summary=summary,
        config=spec.resolved,
        model=model if keep_model else None,
        recording=Recording.of(model),
    )


def run(
    scenario: str = "baseline",
    world: str = "world",
    seed: int = DEFAULTS["seed"],
    *,
    out_dir: str | os.PathLike | None = None,
    events: list[dict[str, Any]] | None = None,
    progress: bool = False,
    keep_model: bool = False,
    control: Any = None,
    **overrides: Any,
) -> RunResult:
    """Run one scenario and return its results; write them only if ``out_dir`` is given.

    Args:
        scenario: a name from ``configs/scenario`` (``baseline``, ``mekong_crackdown``…).
        world: ``world`` (all countries) or ``teaching`` (13 jurisdictions).
        seed: random seed; the same seed and config give identical outputs.
        out_dir: directory to write the results contract into (nothing written if None).
        events: replace the scenario's interventions (list of config entries).
        progress: show a progress bar.
        keep_model: keep the finished Mesa model on ``result.model``.
        control: counterfactual of the displacement metrics: a scenario name (run with
            the same world, seed and overrides, e.g. ``"baseline"``), a RunResult, a
            long time-series frame or a workers array. None: before/after only.
        **overrides: parameters (``raid_rate=0.3``) or settings (``steps=60``).

    Raises:
        ConfigError: an unknown key or a value of the wrong type or out of range.
    """
    cfg = compose(scenario, world, {"seed": seed, **overrides})
    if events is not None:
        cfg["scenario"]["events"] = events
    spec = validate(cfg)
    if isinstance(control, str):
        control = run(control, world=world, seed=seed, keep_model=True, **overrides)
    result = simulate(spec, progress=progress, keep_model=keep_model, control=control)
    if out_dir is not None:
        result.write(out_dir)
    return result
