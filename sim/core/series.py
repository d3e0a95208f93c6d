"""The recorded series, declared once: what the model records per month and jurisdiction.

Each :class:`Series` names a per-jurisdiction quantity, its dtype, unit and
meaning, how many decimals the time-series table keeps, and the model
attribute it is read from. The model's recorders, the columns of
``timeseries.parquet`` (and its CSV twin), their rounding, the figures' axis
labels and the table in docs/ODD.md are all derived from :data:`SERIES`, so
recording a new quantity is one entry here plus the attribute on the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.core.model import ScamModel


@dataclass(frozen=True)
class Series:
    """One quantity recorded every month for every jurisdiction."""

    name: str
    dtype: type
    unit: str
    doc: str
    source: str  # a ScamModel attribute or method returning one value per jurisdiction
    decimals: int | None = None  # rounding in the time-series table (None: exact)

    def read(self, model: ScamModel) -> np.ndarray:
        """This month's values from the model."""
        value = getattr(model, self.source)
        return value() if callable(value) else value


SERIES: tuple[Series, ...] = (
    Series("compounds", np.int64, "compounds", "compounds operating at the end of the month",
           "compounds_by_jurisdiction"),
    Series("workers", np.int64, "workers", "workers held in compounds at the end of the month",
           "workers_by_jurisdiction"),
    Series("revenue_usd", np.float64, "US$ per month",
           "revenue of the compounds hosted (money taken from victims)", "month_revenue", 2),
    Series("pressure", np.float64, "0–1", "enforcement pressure after this month's adaptation",
           "pressure", 6),
    Series("raids", np.int64, "raids per month", "raids carried out this month", "month_raids"),
    Series("rescued", np.int64, "workers per month", "workers rescued by raids this month",
           "month_rescued"),
    Series("victim_losses_usd", np.float64, "US$ per month",
           "losses of the victims living in the jurisdiction (wherever the compound is)",
           "month_losses", 2),
)
SERIES_NAMES: tuple[str, ...] = tuple(s.name for s in SERIES)
# Columns of the long time-series table that identify a row, before the series.
KEY_COLUMNS: tuple[str, ...] = ("step", "date", "iso3", "region")
TIMESERIES_COLUMNS: tuple[str, ...] = KEY_COLUMNS + SERIES_NAMES


def series(name: str) -> Series:
    """The declaration of one series by name."""
    for s in SERIES:
        if s.name == name:
            return s
    raise KeyError(f"no recorded series {name!r}; known: {', '.join(SERIES_NAMES)}")
