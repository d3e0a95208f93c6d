"""scamsim: agent-based model of scam-compound syndicates moving between jurisdictions.

Quick use from Python (no Hydra needed)::

    import sim
    res = sim.run(scenario="mekong_crackdown", world="world", seed=1)
    res.timeseries, res.events, res.summary
"""

from sim.errors import ConfigError
from sim.runner import run

__all__ = ["ConfigError", "run"]
