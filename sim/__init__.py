"""scamsim: agent-based model of scam-compound syndicates moving between jurisdictions.

Quick use from Python (no Hydra needed)::

    import sim
    res = sim.run(scenario="mekong_crackdown", world="world", seed=1)
    res.timeseries, res.events, res.summary

The public face is small: :func:`run`, :class:`ScamModel`, :class:`Params`,
:class:`ConfigError` and :class:`RunResult`. Names are imported on first use,
so ``import sim`` stays light (no Hydra, matplotlib, Solara or SciPy).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.core.errors import ConfigError
    from sim.core.model import ScamModel
    from sim.core.params import Params
    from sim.results import RunResult
    from sim.runner import run

_PUBLIC = {
    "run": "sim.runner",
    "ScamModel": "sim.core.model",
    "Params": "sim.core.params",
    "ConfigError": "sim.core.errors",
    "RunResult": "sim.results",
}

__all__ = ["ConfigError", "Params", "RunResult", "ScamModel", "run"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
