"""The Hydra schema of scamsim's config, built from the one declaration of each part.

The settings come from :class:`sim.core.settings.Settings` and the parameters
from :class:`sim.core.params.Params`; ``world`` and ``scenario`` are free-form
here (their config groups fill them) and checked by :func:`sim.config.validate`.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from sim.core.params import Params
from sim.core.settings import Settings

SCHEMA_NAME = "scamsim_schema"


def _schema() -> type:
    hints = typing.get_type_hints(Settings)
    fields: list[tuple[str, Any, Any]] = [
        (f.name, hints[f.name], dataclasses.field(default=f.default))
        for f in dataclasses.fields(Settings)
    ]
    fields += [
        ("params", Params, dataclasses.field(default_factory=Params)),
        ("world", dict[str, Any], dataclasses.field(default_factory=dict)),
        ("scenario", dict[str, Any], dataclasses.field(default_factory=dict)),
    ]
    return dataclasses.make_dataclass("ScamsimConfig", fields)


ScamsimConfig = _schema()


def register() -> None:
    """Store the schema in Hydra's ConfigStore (``configs/config.yaml`` extends it)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=SCHEMA_NAME, node=ScamsimConfig)
