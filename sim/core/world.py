"""The jurisdictions: the country table, distances, groups and the Mesa network.

The committed tables ``sim/data/world.csv`` (latest values), ``world_years.csv``
(indicators per calendar year) and ``world_travel_friction.csv`` (visa friction,
passport x destination) are built from public statistics by
``python -m sim.data.build_world`` (see docs/data.md). The attributes here are the
latest-year values; :meth:`World.derived_at` gives the indicators of any month.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from sim.core.choice import static_utility
from sim.core.errors import ConfigError
from sim.resources import data_path

EARTH_RADIUS_KM = 6371.0088
EAST_SE_ASIA = "East & South-East Asia"

# The derived attributes the model reads (each in [0, 1]); documented in docs/data.md.
DERIVED = (
    "regulatory_weakness",
    "enforcement_capacity",
    "criminal_ties",
    "protection",
    "operability",
)
# Further time-varying attributes (world_years.csv), for the labour and cooperation
# mechanisms: attribute name -> column.
VARYING = {
    "cooperation": "cooperation",
    "manager_entry": "manager_entry",
    "internet_share": "internet_share",
    "population": "population",
    "gdp_per_capita_usd": "gdp_per_capita_usd",
}
# The value of calendar year Y is taken to hold at mid-year (month Y-07).
_ANCHOR_MONTH = 7


@cache
def load_table(name: str = "world") -> pd.DataFrame:
    """The committed country table ``sim/data/<name>.csv`` (cached, do not mutate)."""
    path = data_path(f"{name}.csv")
    if not path.exists():
        raise ConfigError("world.table", f"= {name!r}: no table {path.name} in the package")
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _companion(table: str, suffix: str) -> pd.DataFrame:
    """A table built with ``table`` (``<table>_years``, ``<table>_travel_friction``)."""
    try:
        return load_table(f"{table}_{suffix}")
    except ConfigError as exc:
        raise ConfigError(
            "world.table",
            f"= {table!r}: no {table}_{suffix}.csv beside it; rebuild with "
            "python -m sim.data.build_world",
        ) from exc


def month_index(month: str) -> int:
    """Months since year 0 of a calendar month ``'YYYY-MM'`` (``'2023-01'`` -> 24276)."""
    if len(month) != 7 or month[4] != "-" or not (1 <= int(month[5:]) <= 12):
        raise ValueError(f"month must be 'YYYY-MM', got {month!r}")
    return int(month[:4]) * 12 + int(month[5:]) - 1


def great_circle_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Pairwise haversine distances (km) between points given in degrees."""
    phi = np.radians(np.asarray(lat, float))
    lam = np.radians(np.asarray(lon, float))
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    a = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    d = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    # Exact symmetry and a zero diagonal, whatever the rounding.
    d = 0.5 * (d + d.T)
    np.fill_diagonal(d, 0.0)
    return d


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@cache
def _friction_matrix(table: str, codes: tuple[str, ...]) -> np.ndarray:
    """Travel friction, row the traveller's nationality (source), column the destination."""
    friction = _companion(table, "travel_friction").set_index("passport")
    try:
        return _readonly(friction.loc[list(codes), list(codes)].to_numpy(float))
    except KeyError as exc:
        raise ConfigError("world.table", f"travel friction lacks {exc}") from exc


@cache
def _year_arrays(table: str, codes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, int]:
    years, cube, first = _year_cube(_companion(table, "years"), np.array(codes, dtype=str))
    return _readonly(years), _readonly(cube), first


def _year_cube(years: pd.DataFrame, iso3: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(years,), (years, attributes, n) values of the per-year table, and the first anchor."""
    index = {code: i for i, code in enumerate(iso3)}
    sub = years[years["iso3"].isin(index)]
    year_list = sorted(set(sub["year"]))
    if year_list != list(range(year_list[0], year_list[-1] + 1)):
        raise ConfigError(
            "world.table", f"years of the per-year table not consecutive: {year_list}"
        )
    columns = [*DERIVED, *VARYING.values()]
    cube = np.empty((len(year_list), len(columns), len(iso3)))
    for k, year in enumerate(year_list):
        rows = sub[sub["year"] == year].set_index("iso3").reindex(iso3)
        if rows[columns].isna().any().any():
            raise ConfigError("world.table", f"per-year table incomplete in {year}")
        cube[k] = rows[columns].to_numpy(float).T
    return np.array(year_list), cube, year_list[0] * 12 + _ANCHOR_MONTH - 1


@cache
def _distances(lat: bytes, lon: bytes) -> np.ndarray:
    return _readonly(great_circle_km(np.frombuffer(lat), np.frombuffer(lon)))


@lru_cache(maxsize=64)  # a calibration varies the scale per particle
def _victim_shares(gdp: bytes, lat: bytes, lon: bytes, distance_scale_km: float) -> np.ndarray:
    w = np.frombuffer(gdp)[None, :] * np.exp(-_distances(lat, lon) / distance_scale_km)
    return _readonly(w / w.sum(axis=1, keepdims=True))


@lru_cache(maxsize=16)
def _graph(
    codes: tuple[str, ...], names: tuple[str, ...], regions: tuple[str, ...],
    lat: bytes, lon: bytes, k_nearest: int,
) -> nx.Graph:
    """Integer-node graph joining each jurisdiction to its ``k_nearest`` nearest others."""
    g = nx.Graph()
    g.add_nodes_from(
        (i, {"iso3": code, "name": name, "region": region})
        for i, (code, name, region) in enumerate(zip(codes, names, regions, strict=True))
    )
    order = _nearest(lat, lon)
    d = _distances(lat, lon)
    g.add_edges_from(
        (i, j, {"distance_km": float(d[i, j])})
        for i in range(len(codes))
        for j in order[i, 1 : k_nearest + 1].tolist()
    )
    return nx.freeze(g)  # shared by every model of these jurisdictions: edits would leak


@cache
def _nearest(lat: bytes, lon: bytes) -> np.ndarray:
    """Every jurisdiction's others by increasing distance (itself first)."""
    return _readonly(np.argsort(_distances(lat, lon), axis=1, kind="stable"))


@dataclass
class World:
    """Static attributes of the jurisdictions of one run, as aligned NumPy arrays."""

    name: str
    table: pd.DataFrame
    initial_presence: dict[str, int]
    groups: dict[str, list[str]] = field(default_factory=dict)
    source_table: str = "world"

    def __post_init__(self) -> None:
        t = self.table.reset_index(drop=True)
        self.table = t
        self.n = len(t)
        self.iso3 = t["iso3"].to_numpy(dtype=str)
        self.names = t["name"].to_numpy(dtype=str)
        self.region = t["region"].to_numpy(dtype=str)
        self.lat = t["lat"].to_numpy(float)
        self.lon = t["lon"].to_numpy(float)
        self.gdp = t["gdp_usd"].to_numpy(float)
        for col in DERIVED:
            setattr(self, col, t[col].to_numpy(float))
        self.population = t["population"].to_numpy(float)  # persons
        self.internet_share = t["internet_share"].to_numpy(float)  # 0-1
        self.gdp_per_capita_usd = t["gdp_per_capita_usd"].to_numpy(float)
        self.cooperation = t["cooperation"].to_numpy(float)  # 0-1
        self.manager_entry = t["manager_entry"].to_numpy(float)  # 0-1
        self.index = {code: i for i, code in enumerate(self.iso3)}
        # The companion tables depend only on the table name and the jurisdictions: their
        # arrays are computed once per process (read-only, shared by the worlds built alike).
        codes = tuple(self.iso3.tolist())
        self.travel_friction = _friction_matrix(self.source_table, codes)
        self.years, self._year_cube, self._first_anchor = _year_arrays(self.source_table, codes)
        self._year_columns = [*DERIVED, *VARYING.values()]
        self.distance_km = _distances(self.lat.tobytes(), self.lon.tobytes())
        self.regions = sorted(set(self.region))

    def anchor_position(self, month: str) -> float:
        """Where a month sits between the yearly anchors (0 = first year's mid-year),
        clamped to the years of data: months at the same position have the same values."""
        pos = (month_index(month) - self._first_anchor) / 12.0
        return min(max(pos, 0.0), float(len(self.years) - 1))

    def _blend(self, month: str) -> np.ndarray:
        """(attributes, n) values of a month, linear between mid-year anchors."""
        pos = self.anchor_position(month)
        last = len(self.years) - 1
        if pos <= 0.0:
            return self._year_cube[0].copy()
        if pos >= last:
            return self._year_cube[last].copy()
        k = int(pos)
        w = pos - k
        return (1.0 - w) * self._year_cube[k] + w * self._year_cube[k + 1]

    def derived_at(self, month: str) -> dict[str, np.ndarray]:
        """The DERIVED indicators of calendar month ``'YYYY-MM'`` (fresh arrays).

        Yearly values (world_years.csv) sit at mid-year and are interpolated linearly
        by month; before the first and after the last year they are held constant.
        """
        values = self._blend(month)
        return {name: values[k] for k, name in enumerate(DERIVED)}

    def varying_at(self, month: str) -> dict[str, np.ndarray]:
        """DERIVED plus the VARYING attributes of a month, interpolated the same way."""
        values = self._blend(month)
        return {name: values[k] for k, name in enumerate([*DERIVED, *VARYING])}

    # --- construction ------------------------------------------------------------------

    @classmethod
    def from_config(cls, spec: Mapping[str, Any]) -> World:
        """Build a world from its config (``configs/world/*.yaml``)."""
        full = load_table(spec.get("table", "world"))
        known = set(full["iso3"])
        subset = spec.get("jurisdictions")
        if subset:
            bad = [c for c in subset if c not in known]
            if bad:
                raise ConfigError("world.jurisdictions", f"has unknown ISO3 codes {bad}")
            table = full[full["iso3"].isin(subset)]
        else:
            table = full
        presence = {str(k): int(v) for k, v in dict(spec.get("initial_presence", {})).items()}
        in_world = set(table["iso3"])
        bad = [c for c in presence if c not in in_world]
        if bad:
            raise ConfigError("world.initial_presence", f"names jurisdictions not in it: {bad}")
        if not presence or min(presence.values()) <= 0:
            raise ConfigError("world.initial_presence", "needs at least one positive workforce")
        groups = {str(k): [str(c) for c in v] for k, v in dict(spec.get("groups", {})).items()}
        for g, members in groups.items():
            bad = [c for c in members if c not in known]
            if bad:
                raise ConfigError(f"world.groups.{g}", f"has unknown ISO3 codes {bad}")
        name = str(spec.get("name", "world"))
        return cls(name, table, presence, groups, str(spec.get("table", "world")))

    # --- derived structures ------------------------------------------------------------

    def victim_shares(self, distance_scale_km: float) -> np.ndarray:
        """Row-stochastic matrix: share of losses from compounds in j borne by victims in k.

        Victims are reached online anywhere; targeting favours rich markets (GDP) and
        nearby ones (language, time zone), decaying with distance. Computed once per
        process for the same jurisdictions and scale (read-only).
        """
        return _victim_shares(
            self.gdp.tobytes(), self.lat.tobytes(), self.lon.tobytes(), float(distance_scale_km)
        )

    def graph(self, k_nearest: int = 3) -> nx.Graph:
        """Integer-node graph joining each jurisdiction to its nearest neighbours.

        Built once per process for the same jurisdictions and shared by the models of
        their runs (their Mesa networks read it), so it is frozen: adding or removing a
        node or edge raises an error instead of changing every other model's network.
        """
        return _graph(
            tuple(self.iso3.tolist()), tuple(self.names.tolist()), tuple(self.region.tolist()),
            self.lat.tobytes(), self.lon.tobytes(), k_nearest,
        )

    def positions(self) -> dict[int, tuple[float, float]]:
        """Map positions (lon, lat) by node id, so layouts never use a random draw."""
        return {i: (float(self.lon[i]), float(self.lat[i])) for i in range(self.n)}

    def attractiveness(self, params: Any) -> np.ndarray:
        """Static part of the destination utility (data only, no model state)."""
        return (
            static_utility(
                self.regulatory_weakness, self.operability, self.enforcement_capacity, params
            )
            + params.beta_ties * self.criminal_ties
        )

    def resolve(self, specs: Iterable[str], params: Any = None) -> np.ndarray:
        """Indices of the jurisdictions named by ISO3 codes, groups or selectors.

        Selectors: ``all``, ``hubs`` (initial presence), ``region:<name>``,
        ``vulnerable:<N>`` (the N most attractive destinations by the static
        utility, hubs excluded). Codes absent from a reduced world are skipped.
        """
        picked: list[int] = []
        for spec in specs:
            picked.extend(self._resolve_one(str(spec), params))
        return np.array(sorted(set(picked)), dtype=np.int64)

    def _resolve_one(self, spec: str, params: Any) -> Sequence[int]:
        if spec == "all":
            return range(self.n)
        if spec == "hubs":
            return [self.index[c] for c in self.initial_presence]
        if spec.startswith("region:"):
            name = spec.split(":", 1)[1]
            if name not in self.regions:
                raise ConfigError("targets", f"unknown region {name!r}; known: {self.regions}")
            return [i for i in range(self.n) if self.region[i] == name]
        if spec.startswith("vulnerable:"):
            text = spec.split(":", 1)[1]
            if not text.isdigit():
                raise ConfigError("targets", f"{spec!r}: N in 'vulnerable:N' must be a count")
            k = int(text)
            if params is None:
                from sim.core.params import Params

                params = Params()
            score = self.attractiveness(params)
            hubs = {self.index[c] for c in self.initial_presence}
            order = [int(i) for i in np.argsort(-score, kind="stable") if int(i) not in hubs]
            return order[:k]
        if spec in self.groups:
            return [self.index[c] for c in self.groups[spec] if c in self.index]
        if spec in self.index:
            return [self.index[spec]]
        if spec in set(load_table("world")["iso3"]):
            return []  # a real country outside this reduced world
        raise ConfigError("targets", f"unknown jurisdiction or group {spec!r}")
