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
from functools import cache
from operator import attrgetter
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
    source: str  # a ScamModel attribute or method (dotted path) giving one value per country
    decimals: int | None = None  # rounding in the time-series table (None: exact)

    def read(self, model: ScamModel) -> np.ndarray:
        """This month's values from the model (``source`` may be a dotted path)."""
        value = _getter(self.source)(model)
        return value() if callable(value) else value  # type: ignore[no-any-return]


@cache
def _getter(source: str) -> attrgetter:
    """The attribute getter of a dotted path (built once: it is read every month)."""
    return attrgetter(source)


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
KEY_COLUMNS: tuple[str, ...] = ("step", "date", "iso3", "region")
TIMESERIES_COLUMNS: tuple[str, ...] = KEY_COLUMNS + SERIES_NAMES

# Recorded per source country (the workers' nationality) and month, for the long
# table workforce_by_source.parquet. Nationality mixes are tracked per host as
# fractions, so these are persons with decimals.
SOURCE_SERIES: tuple[Series, ...] = (
    Series("workers", np.float64, "persons", "nationals held in compounds anywhere",
           "labour.workers_by_source", 2),
    Series("recruited", np.float64, "persons per month", "nationals recruited this month",
           "labour.recruited_month", 2),
    Series("rescued", np.float64, "persons per month", "nationals rescued and sent home",
           "labour.rescued_month", 2),
    Series("released", np.float64, "persons per month",
           "nationals released or escaped and sent home", "labour.released_month", 2),
    Series("pool", np.float64, "persons", "recruitable persons left in the country",
           "labour.pool", 2),
    Series("returned", np.float64, "persons",
           "persons back home after a compound, not yet recruitable again", "labour.returned", 2),
)
SOURCE_COLUMNS: tuple[str, ...] = KEY_COLUMNS + tuple(s.name for s in SOURCE_SERIES)


@dataclass(frozen=True)
class ModelSeries:
    """One model-level quantity recorded every month by Mesa's DataCollector."""

    name: str
    source: str  # a ScamModel attribute (Mesa's attribute-string reporter)
    doc: str


# The DataCollector's model reporters (``model.datacollector``), for Mesa users.
MODEL_SERIES: tuple[ModelSeries, ...] = (
    ModelSeries("compounds", "n_compounds", "compounds in operation"),
    ModelSeries("workers", "n_workers", "workers held in compounds"),
    ModelSeries("syndicates", "n_syndicates", "syndicates alive"),
    ModelSeries("active_jurisdictions", "n_active", "jurisdictions hosting a compound"),
    ModelSeries("rescued_total", "n_rescued", "workers rescued since the start"),
)


def series(name: str) -> Series:
    """The declaration of one series by name."""
    for s in SERIES:
        if s.name == name:
            return s
    raise KeyError(f"no recorded series {name!r}; known: {', '.join(SERIES_NAMES)}")
