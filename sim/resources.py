"""Where the files shipped with scamsim live: its configs and its data.

In a wheel (or a non-editable install) the top-level ``configs/`` folder of
the source tree is installed as ``sim/configs`` (package data, see
``pyproject.toml``); in a source checkout it sits next to the package. The
world tables are always package data in ``sim/data``. ``SCAMSIM_CONFIG_DIR``
points the config groups elsewhere (a user's own scenarios).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"


@cache
def _shipped_configs() -> Path:
    inside = PACKAGE_DIR / "configs"
    if (inside / "config.yaml").is_file():
        return inside
    checkout = PACKAGE_DIR.parent / "configs"
    if (checkout / "config.yaml").is_file():
        return checkout
    raise FileNotFoundError(
        f"scamsim's configs are missing: neither {inside} nor {checkout} holds config.yaml"
    )


def configs_dir() -> Path:
    """The config folder: ``$SCAMSIM_CONFIG_DIR`` if set, else the shipped one."""
    override = os.environ.get("SCAMSIM_CONFIG_DIR")
    return Path(override).resolve() if override else _shipped_configs()


def data_path(name: str) -> Path:
    """A file of the package's data folder (``world.csv``, …)."""
    return DATA_DIR / name


RESULTS_ENV = "SCAMSIM_RESULTS_DIR"


def results_root(value: str | os.PathLike | None = None) -> Path:
    """Root folder of all outputs: ``value`` if given, else ``$SCAMSIM_RESULTS_DIR``, else
    ``./results`` of the current directory. The ``${oc.env:…}`` default of the setting
    ``results_dir`` means the same and is resolved here for callers without Hydra."""
    text = "" if value is None else str(value)
    if not text or text.startswith("${oc.env:" + RESULTS_ENV):
        text = os.environ.get(RESULTS_ENV) or "results"
    return Path(text)
