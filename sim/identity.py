"""Run identity: the hash that names a run, its folder name and replicate seeds.

A run is identified by a hash of its resolved configuration (every parameter,
the world, the events, the seed). Sweeps name each run's directory from it, so
running the same sweep again finds finished runs and skips them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.settings import MODEL_SETTINGS, SETTING_NAMES

# Settings the model does not read (plot, results_dir, sweep bookkeeping) do not
# change a run's numbers, so they do not enter its identity.
NOT_IDENTITY = tuple(n for n in SETTING_NAMES if n not in MODEL_SETTINGS)


def run_id(resolved: Mapping[str, Any]) -> str:
    """Stable hash of a resolved run configuration (hex, 16 characters)."""
    data = {k: v for k, v in resolved.items() if k not in NOT_IDENTITY}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_dir_name(resolved: Mapping[str, Any]) -> str:
    """Readable directory name of a run: scenario, world, seed and the run id."""
    world = (resolved.get("world") or {}).get("name", "world")
    scenario = (resolved.get("scenario") or {}).get("name", "custom")
    return f"{scenario}-{world}-s{resolved['seed']}-{run_id(resolved)}"


def replicate_seeds(base_seed: int, replicates: int) -> list[int]:
    """``replicates`` seeds derived deterministically from ``base_seed``.

    Uses NumPy's SeedSequence spawning, designed to give independent streams;
    replicate 0 keeps the base seed so a one-replicate sweep equals a single run.
    """
    if replicates < 1:
        raise ValueError("replicates must be at least 1")
    children = np.random.SeedSequence(base_seed).spawn(replicates - 1)
    return [int(base_seed)] + [int(c.generate_state(1, np.uint32)[0]) for c in children]


def is_finished(directory: str | os.PathLike, expected_id: str | None = None) -> bool:
    """Whether a run directory holds a complete run (summary.json is written last)."""
    d = Path(directory)
    summary = d / "summary.json"
    if not summary.exists():
        return False
    if expected_id is None:
        return True
    try:
        return json.loads(summary.read_text()).get("run_id") == expected_id
    except (OSError, ValueError):
        return False


def remove_partial_files(directory: str | os.PathLike) -> None:
    """Delete temporary files an interrupted write left behind."""
    for tmp in Path(directory).glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
