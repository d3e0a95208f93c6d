"""Hydra's basic sweeper without composing every job twice in the launching process.

The basic sweeper composes each job's config before launching the batch, to
catch errors early; the launcher composes it again where the job runs. The
``scamsim`` command has already validated every value of the sweep before Hydra
starts, and every job validates its own config, so the first pass only adds a
serial cost (tens of milliseconds a job) that caps parallel efficiency.
"""

# No `from __future__ import annotations`: Hydra executes plugin modules without
# registering them in sys.modules, and dataclasses then cannot resolve string types.
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore


@dataclass
class ScamsimSweeperConf:
    """Same settings as Hydra's basic sweeper."""

    _target_: str = "hydra_plugins.scamsim_sweeper.scamsim_sweeper.ScamsimSweeper"
    max_batch_size: Optional[int] = None  # noqa: UP045 (OmegaConf needs typing.Optional)
    params: Optional[dict[str, str]] = None  # noqa: UP045


ConfigStore.instance().store(
    group="hydra/sweeper", name="scamsim", node=ScamsimSweeperConf, provider="scamsim"
)


class ScamsimSweeper(BasicSweeper):
    """Cartesian-product sweeps (Hydra grammar) without the duplicate composition pass."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Skipped: the sweep was validated before launch and each job validates itself."""
        return None
