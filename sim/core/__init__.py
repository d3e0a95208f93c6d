"""The model core: world, parameters, agents, choice, enforcement, levers, model, metrics.

It imports nothing from the rest of scamsim and neither Hydra, matplotlib,
SciPy nor Solara, so a notebook can use it alone::

    from sim.core import ScamModel, World, Params
    model = ScamModel(World.from_config({"name": "teaching", ...}), Params(), rng=1)

Names are imported on first use (Mesa itself is only loaded with the model).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.core.errors import ConfigError
    from sim.core.interventions import Intervention
    from sim.core.model import ScamModel
    from sim.core.params import Params
    from sim.core.world import World

_PUBLIC = {
    "ScamModel": "sim.core.model",
    "Params": "sim.core.params",
    "World": "sim.core.world",
    "Intervention": "sim.core.interventions",
    "ConfigError": "sim.core.errors",
}

__all__ = ["ConfigError", "Intervention", "Params", "ScamModel", "World"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim.core' has no attribute {name!r}")
