"""The run settings, declared once (like :class:`~sim.core.params.Params`).

A setting says how a run is done rather than how the world works: its seed,
horizon and start month (which the model needs), and what the command line
does around it (plot, replicates, where results go). The Hydra schema, the
defaults of ``sim.run``, the validator, the app and the EMA wrapper all take
theirs from :class:`Settings`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Who reads a setting: the model itself, the validator when it sets the parameters, or
# only the tooling around a run.
MODEL, PARAMS, RUN, SWEEP = "model", "params", "run", "sweep"


def _s(default: Any, doc: str, scope: str, lo: Any = None, hi: Any = None,
       kind: str = "") -> Any:
    meta = {"range": (lo, hi) if lo is not None else None, "doc": doc, "scope": scope,
            "kind": kind or type(default).__name__}
    return field(default=default, metadata=meta)


@dataclass
class Settings:
    """How a run is done: seed, horizon, calendar, outputs and sweep bookkeeping."""

    seed: int = _s(1, "random seed of the run; in a sweep, the base seed of the replicates",
                   MODEL, 0, 2**32 - 1)
    steps: int = _s(120, "months simulated", MODEL, 1, 1200)
    start: str = _s("2023-01", "calendar month of step 0 (YYYY-MM)", MODEL, kind="month")
    record_events: bool = _s(True, "keep the event log (relocations, raids, …)", MODEL)
    paramset: str = _s(
        "default", "named parameter set the parameters default to: default (sim/core/params.py)"
        " or handset (version 2's hand-set values); values set explicitly win", PARAMS,
        kind="choice:default|handset")
    posterior: bool = _s(
        False, "draw the calibrated parameters from the shipped posterior sample, one "
        "particle per seed (replicates=N gives N parameter-seed pairs); values set explicitly "
        "win", PARAMS)
    plot: bool = _s(True, "draw the run's figures next to its results (single runs)", RUN)
    # Hydra resolves the environment variable; sim.run does the same (sim.resources).
    results_dir: str = _s(
        "${oc.env:SCAMSIM_RESULTS_DIR,results}",
        "root folder of all outputs, relative to the current directory "
        "($SCAMSIM_RESULTS_DIR if set, else ./results)", RUN, kind="path")
    replicates: int = _s(1, "multirun: runs per condition, seeds derived from `seed`", SWEEP,
                         1, 100_000)
    sweep_name: str = _s("sweep", "multirun: results go to <results_dir>/sweeps/<sweep_name>",
                         SWEEP, kind="name")
    # A sweep folder holding runs of other model code: refuse (default), or keep them
    # apart in the aggregate (the code version becomes a condition); never mixed.
    other_versions: str = _s("refuse", "multirun: runs of other model code in the sweep folder: "
                             "refuse, or keep_apart (code_version becomes a condition)",
                             SWEEP, kind="choice:refuse|keep_apart")


SETTINGS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(Settings)}
SETTING_NAMES: tuple[str, ...] = tuple(SETTINGS)
DEFAULTS: dict[str, Any] = {name: f.default for name, f in SETTINGS.items()}
# Settings the model reads (the rest never change a run's numbers).
MODEL_SETTINGS: tuple[str, ...] = tuple(
    n for n, f in SETTINGS.items() if f.metadata["scope"] == MODEL
)


def setting_info() -> list[dict[str, Any]]:
    """Name, default, range, kind, scope and doc of every setting (for docs and help)."""
    out = []
    for name, f in SETTINGS.items():
        lo, hi = f.metadata["range"] or (None, None)
        out.append({"name": name, "default": f.default, "min": lo, "max": hi,
                    "kind": f.metadata["kind"], "scope": f.metadata["scope"],
                    "doc": f.metadata["doc"]})
    return out
