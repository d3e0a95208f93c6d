"""Labour: where the trafficked workforce comes from, what it costs and where it goes home.

Every country is a source of people who can be lured or trafficked into compounds.
Its *recruitable pool* is a stock of persons, derived from public data (docs/ODD.md
§7.12):

    income_k = 1 / (1 + gdp_per_capita_k / pool_income_ref_usd)     # poorer: more lured
    level_k  = pool_share × population_k × internet_share_k × income_k

Recruitment takes people out of the pools; a pool refills toward its level at the
monthly rate ``pool_recovery_rate``. A host ``h`` draws from source ``k`` with weight

    K_kh = exp(−d_kh / recruit_distance_km − friction_recruit_weight × F_kh)
    a_kh = pool_k × K_kh / Σ_k' pool_k' × K_k'h          # who brokers reach

(``F`` the travel friction, source row × host column). The cost of one recruit from
``k`` into ``h``

    cost_kh = recruit_cost_usd × (1 + friction_cost_share × F_kh) × dep_k
    dep_k   = min((level_k / pool_k) ^ pool_cost_elasticity, pool_cost_cap)

rises as the pool depletes and with the friction. Where the model's demand exceeds a
pool, the pool is shared pro rata (``fill_k = min(1, pool_k / demand_k)``).

The nationality of the workforce is tracked per host as a mixture: ``comp[h, k]``
is the number (fractional) of workers from source ``k`` held in host ``h``; every
removal from a host (raids, closures, releases, moves) takes all nationalities in
proportion. Rescued and released workers go home to a ``returned`` stock of their
source country; each month a share ``retraffic_rate`` of it becomes recruitable
again (re-trafficking). Workers are conserved:

    Σ pool + Σ comp + Σ returned = initial pool + initial workforce + regrowth − protected

where ``regrowth`` is the net refill of the pools and ``protected`` what awareness
campaigns took out of them. All of this is vectorised over countries (matrix-vector
products with the static kernel ``K``); nothing loops over jurisdictions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def pool_levels(
    population: np.ndarray,
    internet_share: np.ndarray,
    gdp_per_capita_usd: np.ndarray,
    *,
    pool_share: float,
    pool_income_ref_usd: float,
) -> np.ndarray:
    """Long-run recruitable pool of every country (persons)."""
    income = 1.0 / (1.0 + np.asarray(gdp_per_capita_usd, float) / pool_income_ref_usd)
    return pool_share * np.asarray(population, float) * np.clip(internet_share, 0, 1) * income


def recruit_kernel(
    distance_km: np.ndarray,
    friction: np.ndarray,
    *,
    recruit_distance_km: float,
    friction_recruit_weight: float,
) -> np.ndarray:
    """Reach of brokers from source k (rows) into host h (columns)."""
    return np.exp(-distance_km / recruit_distance_km - friction_recruit_weight * friction)


def depletion(pool: np.ndarray, level: np.ndarray, elasticity: float, cap: float) -> np.ndarray:
    """Cost multiplier of a depleted pool: ``min((level / pool) ^ elasticity, cap)``, 1 if full."""
    if elasticity <= 0.0:
        return np.ones(len(pool))
    # Only depleted pools (level above pool) pay more: the ratio is floored at 1. It is
    # capped at the ratio whose power is the cap before the power is taken (no overflow;
    # cap >= 1, so full pools stay at 1). An empty pool costs the cap (a country with
    # neither level nor pool recruits nobody, so its multiplier never counts).
    ratio = np.divide(level, pool, out=np.full(len(pool), np.inf), where=pool > 0)
    np.maximum(ratio, 1.0, out=ratio)
    top = math.log(cap) / elasticity  # log of the ratio whose power is the cap
    if top < 700.0:  # else the power of every finite ratio stays below the cap
        np.minimum(ratio, math.exp(top), out=ratio)
    dep = ratio**elasticity
    return np.minimum(dep, cap, out=dep)


def allocate(
    demand: np.ndarray, pool: np.ndarray, kernel: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share the pools among the hosts' demands.

    Args:
        demand: (n,) workers each host wants this month.
        pool: (n,) persons recruitable in each source.
        kernel: (n, n) reach K (source × host).

    Returns:
        ``fill_k`` (share of the demand on source k that it can meet), ``host_fill_h``
        (share of host h's demand that can be met) and ``z_h`` (normaliser of a_kh).
    """
    z = pool @ kernel  # Σ_k pool_k K_kh
    with np.errstate(divide="ignore", invalid="ignore"):
        per_host = np.where(z > 0, demand / z, 0.0)
    asked = pool * (kernel @ per_host)  # demand on each source
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = np.where(asked > 0, np.minimum(1.0, pool / asked), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        host_fill = np.where(z > 0, ((pool * fill) @ kernel) / z, 0.0)
    return fill, np.clip(host_fill, 0.0, 1.0), z


class Labour:
    """The source pools, the nationality mix of every host and the workers who went home."""

    def __init__(self, model: Any) -> None:
        p, w = model.p, model.world
        n = w.n
        self.p = p
        self.n = n
        self.level0 = pool_levels(
            w.population, w.internet_share, w.gdp_per_capita_usd,
            pool_share=p.pool_share, pool_income_ref_usd=p.pool_income_ref_usd,
        )
        self.level = self.level0  # lowered while an awareness campaign acts (a new array)
        self.pool = self.level0.copy()
        self.comp = np.zeros((n, n))  # host × source
        self._touched = np.zeros(n, dtype=bool)  # hosts whose row of comp ever held anyone
        self.returned = np.zeros(n)
        self.distance_km = w.distance_km
        self.set_friction(np.asarray(w.travel_friction, float))
        # Cumulative flows by source country (persons).
        self.by_source = {k: np.zeros(n) for k in ("recruited", "rescued", "released")}
        self.flows = {"pool_initial": float(self.pool.sum()), "pool_regrowth": 0.0,
                      "pool_protected": 0.0, "retrafficked": 0.0}
        # This month's flows by source country, for the recorders.
        self.month = {k: np.zeros(n) for k in ("recruited", "rescued", "released")}
        self.host_fill = np.ones(n)
        self._fill: np.ndarray | None = None  # share of each pool given by the last offer

    # --- the pools (assigning one drops what was cached from it) -------------------------

    @property
    def pool(self) -> np.ndarray:
        """(n,) persons recruitable in each source now."""
        return self._pool

    @pool.setter
    def pool(self, value: np.ndarray) -> None:
        self._pool = value
        self._stale()

    @property
    def level(self) -> np.ndarray:
        """(n,) level each pool refills toward (lowered while an awareness campaign acts)."""
        return self._level

    @level.setter
    def level(self, value: np.ndarray) -> None:
        self._level = value
        self._stale()

    def _stale(self) -> None:
        """Forget what was computed from the pools, the levels or the kernels."""
        self._cost = None  # unit cost at the pools as they are
        self._z = None  # pool @ kernel
        self._dep = None  # depletion multipliers

    # --- what the recorders read (sim.core.series.SOURCE_SERIES) -------------------------

    def workers_by_source(self) -> np.ndarray:
        """Nationals of each country held in compounds anywhere."""
        # Rows of hosts that never held anyone are exactly zero: summing the others in
        # order gives the same sums as over all rows.
        rows = self._touched.nonzero()[0]
        return self.comp[rows].sum(axis=0) if len(rows) < self.n else self.comp.sum(axis=0)

    @property
    def recruited_month(self) -> np.ndarray:
        """This month's recruits by source country."""
        return self.month["recruited"]

    @property
    def rescued_month(self) -> np.ndarray:
        """This month's rescued workers by nationality."""
        return self.month["rescued"]

    @property
    def released_month(self) -> np.ndarray:
        """This month's released workers by nationality."""
        return self.month["released"]

    # --- static structure ----------------------------------------------------------------

    def set_friction(self, friction: np.ndarray) -> None:
        """(Re)build the reach kernel and the cost kernel from a travel-friction matrix."""
        p = self.p
        self.friction = friction
        self.kernel = recruit_kernel(
            self.distance_km, friction, recruit_distance_km=p.recruit_distance_km,
            friction_recruit_weight=p.friction_recruit_weight,
        )
        self.cost_kernel = self.kernel * (1.0 + p.friction_cost_share * friction)
        # Host × source copy: the rows of the hosts that recruit are contiguous in memory.
        self.kernel_by_host = np.ascontiguousarray(self.kernel.T)
        self._kernel_max = float(np.abs(self.kernel).max()) if self.kernel.size else 0.0
        self._stale()

    # --- monthly dynamics ---------------------------------------------------------------

    def begin_month(self) -> None:
        """Reset this month's flows."""
        for v in self.month.values():
            v[:] = 0.0

    def dep(self) -> np.ndarray:
        """Cost multiplier of every source's depletion."""
        if self._dep is None:
            p = self.p
            self._dep = depletion(self._pool, self._level, p.pool_cost_elasticity, p.pool_cost_cap)
        return self._dep

    def unit_cost(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Mean cost of one recruit into every host (US$), over the sources it reaches.

        Without ``weights`` (the pools as they are) the result is cached until a pool
        or the friction changes.
        """
        if weights is None:
            if self._cost is None:
                self._cost = self._unit_cost(self._pool, self._reach())
            return self._cost
        return self._unit_cost(weights)

    def _reach(self) -> np.ndarray:
        """``z_h = Σ_k pool_k K_kh`` at the pools as they are (cached)."""
        if self._z is None:
            self._z = self._pool @ self.kernel
        return self._z

    def _unit_cost(self, w: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        if z is None:
            z = w @ self.kernel
        num = (w * self.dep()) @ self.cost_kernel
        c = np.divide(num, z, out=np.full(len(z), np.inf), where=z > 0)
        return self.p.recruit_cost_usd * c

    def offer(self, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What the pools can deliver: (share of each host's demand met, cost per recruit)."""
        pool, kernel = self._pool, self.kernel
        z = self._reach()
        # As allocate(demand, pool, kernel), reusing Σ_k pool_k K_kh of the month.
        reached = z > 0
        per_host = np.divide(demand, z, out=np.zeros(len(z)), where=reached)
        # (K @ per_host)_k <= max|K| x Σ|per_host|: far below 1, no source is asked for more
        # than it holds, and every fill is exactly 1 (as computed below), so skip the product.
        if np.abs(per_host).sum() * self._kernel_max < 0.5:
            fill = None
        else:
            asked = pool * (kernel @ per_host)
            fill = np.divide(pool, asked, out=np.ones(len(pool)), where=asked > 0)
            np.minimum(fill, 1.0, out=fill)
        if fill is None or fill.min() == 1.0:
            # No pool is short: pool × fill is the pool itself, so is what it yields.
            self._fill = None
            host_fill = reached.astype(float)
            cost = self.unit_cost()
        else:
            self._fill = fill
            with np.errstate(divide="ignore", invalid="ignore"):
                host_fill = np.clip(np.where(z > 0, ((pool * fill) @ kernel) / z, 0.0), 0.0, 1.0)
            cost = self.unit_cost(pool * fill)
        self.host_fill = np.where(demand > 0, host_fill, self.host_fill)
        return host_fill, cost

    def take(self, got: np.ndarray) -> None:
        """Move ``got[h]`` recruits into each host from the sources, shared as by :meth:`offer`."""
        hosts = (got > 0).nonzero()[0]
        if len(hosts) == 0:
            return
        # What each source can give this month (the whole pool if none is short).
        avail = self._pool if self._fill is None else self._pool * self._fill
        k = self.kernel_by_host[hosts]  # (H hosts, n sources)
        z = k @ avail  # (H,)
        # takes_hk = a'_kh × got_h = K_kh avail_k × (got_h / z_h); its column sums by a product.
        per_recruit = got[hosts] / np.where(z > 0, z, 1.0)
        takes = k * per_recruit[:, None]
        takes *= avail[None, :]  # (H hosts, n sources)
        per_source = np.minimum(avail * (per_recruit @ k), self._pool)
        self._pool -= per_source
        self._stale()
        self.comp[hosts] += takes
        self._touched[hosts] = True
        self.by_source["recruited"] += per_source
        self.month["recruited"] += per_source

    def remove(self, per_host: np.ndarray, kind: str) -> None:
        """Workers leave their hosts (``kind`` rescued or released) and go home."""
        hosts = (per_host > 0).nonzero()[0]
        if len(hosts) == 0:
            return
        rows = self.comp[hosts]
        held = rows.sum(axis=1)
        frac = np.divide(per_host[hosts], held, out=np.zeros(len(held)), where=held > 0)
        np.minimum(frac, 1.0, out=frac)
        home = frac @ rows  # Σ_h frac_h comp[h, k]: who goes home, by nationality
        rows *= (1.0 - frac)[:, None]
        self.comp[hosts] = rows
        self.returned += home
        self.by_source[kind] += home
        self.month[kind] += home

    def remove_one(self, host: int, count: float, kind: str) -> None:
        """As :meth:`remove` for a single host (closures, relocation losses)."""
        if count <= 0:
            return
        row = self.comp[host]
        held = row.sum()
        if held <= 0:
            return
        out = row * min(count / held, 1.0)
        row -= out
        self.returned += out
        self.by_source[kind] += out
        self.month[kind] += out

    def move(self, src: int, dst: int, count: float) -> None:
        """Carry ``count`` workers from one host to another (their mix goes with them)."""
        row = self.comp[src]
        held = row.sum()
        if held <= 0 or count <= 0:
            return
        out = row * min(count / held, 1.0)
        row -= out
        self.comp[dst] += out
        self._touched[dst] = True

    def seed_workforce(self, per_host: np.ndarray) -> None:
        """Nationality mix of the initial workforce (the pools are not depleted by it)."""
        z = self.pool @ self.kernel
        share = self.pool[:, None] * self.kernel / np.where(z > 0, z, 1.0)[None, :]
        self.comp = (share * per_host[None, :]).T.copy()
        # Hosts that reach no pool at all: their initial workers are their own nationals.
        alone = np.flatnonzero(z <= 0)
        self.comp[alone, alone] = per_host[alone]
        self._touched = self.comp.any(axis=1)
        self.flows["initial_workforce"] = float(per_host.sum())

    def end_month(self, level_factor: np.ndarray) -> None:
        """Re-trafficking, awareness campaigns and the slow refill of the pools."""
        p = self.p
        back = p.retraffic_rate * self.returned
        self.returned -= back
        self.pool += back
        self.flows["retrafficked"] += float(back.sum())
        if level_factor.min() < 1.0 or self._level is not self.level0:
            self.level = self.level0 * level_factor
            excess = np.maximum(self.pool - self.level, 0.0) * (level_factor < 1.0)
            self.pool -= excess  # people reached by a campaign are no longer recruitable
            self.flows["pool_protected"] += float(excess.sum())
            if level_factor.min() >= 1.0:
                self.level = self.level0  # no campaign acts: the levels are the data's
        grow = p.pool_recovery_rate * np.maximum(self.level - self.pool, 0.0)
        self.pool += grow
        self.flows["pool_regrowth"] += float(grow.sum())
        self._stale()

    # --- accounting ---------------------------------------------------------------------

    def total(self) -> float:
        """Persons in pools, in compounds and at home after a compound."""
        return float(self.pool.sum() + self.comp.sum() + self.returned.sum())

    def expected_total(self) -> float:
        """What :meth:`total` must equal (conservation)."""
        f = self.flows
        return (f["pool_initial"] + f.get("initial_workforce", 0.0) + f["pool_regrowth"]
                - f["pool_protected"])


def victim_weight(world: Any) -> np.ndarray:
    """Weight of a victim country in pressing a host: its economic size in [0, 1].

    ``clip((log10 gdp − 8) / 5.5, 0, 1)``, the size term of enforcement capacity.
    """
    gdp = np.maximum(np.asarray(world.gdp, float), 1.0)
    return np.clip((np.log10(gdp) - 8.0) / 5.5, 0.0, 1.0)

