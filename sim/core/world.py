"""The jurisdictions: the country table, distances, groups and the Mesa network.

The committed table ``sim/data/world.csv`` is built from public statistics by
``python -m sim.data.build_world`` (see docs/ODD.md, "Input data"). Everything
here is static for a run; the dynamic state lives in the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from sim.core.choice import static_utility
from sim.core.errors import ConfigError
from sim.resources import data_path

EARTH_RADIUS_KM = 6371.0088
EAST_SE_ASIA = "East & South-East Asia"

# The derived attributes the model reads (each in [0, 1]); documented in docs/ODD.md.
DERIVED = (
    "regulatory_weakness",
    "enforcement_capacity",
    "criminal_ties",
    "protection",
    "operability",
)


@cache
def load_table(name: str = "world") -> pd.DataFrame:
    """The committed country table ``sim/data/<name>.csv`` (cached, do not mutate)."""
    path = data_path(f"{name}.csv")
    if not path.exists():
        raise ConfigError("world.table", f"= {name!r}: no table {path.name} in the package")
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


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


@dataclass
class World:
    """Static attributes of the jurisdictions of one run, as aligned NumPy arrays."""

    name: str
    table: pd.DataFrame
    initial_presence: dict[str, int]
    groups: dict[str, list[str]] = field(default_factory=dict)

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
        self.index = {code: i for i, code in enumerate(self.iso3)}
        self.distance_km = great_circle_km(self.lat, self.lon)
        self.regions = sorted(set(self.region))

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
        return cls(str(spec.get("name", "world")), table, presence, groups)

    # --- derived structures ------------------------------------------------------------

    def victim_shares(self, distance_scale_km: float) -> np.ndarray:
        """Row-stochastic matrix: share of losses from compounds in j borne by victims in k.

        Victims are reached online anywhere; targeting favours rich markets (GDP) and
        nearby ones (language, time zone), decaying with distance.
        """
        w = self.gdp[None, :] * np.exp(-self.distance_km / distance_scale_km)
        return w / w.sum(axis=1, keepdims=True)

    def graph(self, k_nearest: int = 3) -> nx.Graph:
        """Integer-node graph joining each jurisdiction to its nearest neighbours."""
        g = nx.Graph()
        for i in range(self.n):
            g.add_node(i, iso3=self.iso3[i], name=self.names[i], region=self.region[i])
        order = np.argsort(self.distance_km, axis=1, kind="stable")
        for i in range(self.n):
            for j in order[i, 1 : k_nearest + 1]:
                g.add_edge(i, int(j), distance_km=float(self.distance_km[i, j]))
        return g

    def positions(self) -> dict[int, tuple[float, float]]:
        """Map positions (lon, lat) by node id, so layouts never use a random draw."""
        return {i: (float(self.lon[i]), float(self.lat[i])) for i in range(self.n)}

    def attractiveness(self, params: Any) -> np.ndarray:
        """Static part of the destination utility (data only, no model state)."""
        return static_utility(
            self.regulatory_weakness, self.operability, self.enforcement_capacity, params
        ) + params.beta_ties * self.criminal_ties

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
