"""Enforcement agencies as a vectorised process: raid budgets, raids and pressure adaptation.

One agency per jurisdiction. Its pressure (the share of its means it mobilises)
rests at a level growing with capacity; it reacts to the activity it observes
(with a detection lag) up to what its capacity and the local protection allow, and
to the political pressure of the states whose citizens its compounds defraud;
scenario shocks come on top. Its raids are a monthly budget, growing with capacity
and spent at the rate of the pressure, spread over the compounds it has seen: many
compounds dilute it (congestion), and compounds that arrived within the detection
lag are not seen yet. A raid fails with a probability growing with protection; a
successful one frees part of the workforce and may close the compound.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.core.streams import Draws, binomial_inverse


@dataclass
class PolicyState:
    """What the active interventions impose this step (reset every step)."""

    n: int
    shock: np.ndarray = field(init=False)
    infrastructure: np.ndarray = field(init=False)
    intel: np.ndarray = field(init=False)
    protection_cut: np.ndarray = field(init=False)
    capacity_gain: np.ndarray = field(init=False)  # lasting: not reset
    weakness_cut: np.ndarray = field(init=False)  # lasting: not reset
    seizure_rate: float = 0.0
    laundering_extra: float = 0.0
    revenue_frozen: float = 0.0
    squeeze_targets: np.ndarray | None = None
    pool_factor: np.ndarray = field(init=False)  # awareness campaigns: share of a pool left
    friction: np.ndarray | None = None  # visa tightening: travel friction (None = the world's)

    def __post_init__(self) -> None:
        self.capacity_gain = np.zeros(self.n)
        self.weakness_cut = np.zeros(self.n)
        self.reset()

    def reset(self) -> None:
        """Clear the per-step levers; capacity building persists."""
        self.shock = np.zeros(self.n)
        self.infrastructure = np.ones(self.n)
        self.intel = np.zeros(self.n, dtype=bool)
        self.protection_cut = np.zeros(self.n)
        self.seizure_rate = 0.0
        self.laundering_extra = 0.0
        self.revenue_frozen = 0.0
        self.squeeze_targets = None
        self.pool_factor = np.ones(self.n)
        self.friction = None


@dataclass(frozen=True)
class RaidOutcome:
    """Per-compound results of one month of raids (aligned with the input slots)."""

    raided: np.ndarray  # bool
    succeeded: np.ndarray  # bool
    rescued: np.ndarray  # int workers freed
    closed: np.ndarray  # bool: a successful raid shut the compound


def raid_budget(
    capacity: np.ndarray, *, raid_budget: float, raid_budget_floor: float
) -> np.ndarray:
    """Raids a month each agency can mount at pressure 1: ``raid_budget × (κ + floor)``."""
    return raid_budget * (capacity + raid_budget_floor)


def raid_probability(
    pressure: np.ndarray,
    budget: np.ndarray,
    seen: np.ndarray,
    visible: np.ndarray,
    anticipated: np.ndarray,
    *,
    raid_rate: float,
) -> np.ndarray:
    """Monthly raid probability of every compound (all arrays gathered per compound).

    ``p = visible × clip(P × min(raid_rate, B / N_seen) + anticipated, 0, 1)``: the
    agency spends ``B × P`` raids over the ``N_seen`` compounds it saw a detection lag
    ago, at most ``raid_rate × P`` per compound; compounds it does not see yet are not
    raided, except that shared intelligence reveals (and anticipates) new arrivals.
    """
    per = np.minimum(raid_rate, budget / np.maximum(seen, 1.0))
    p = (pressure * per + anticipated).clip(0.0, 1.0)
    return np.where(visible | (anticipated > 0), p, 0.0)


# The raids stream's draws of a month (sim.core.streams), one per compound each.
RAID_TRY, RAID_FAIL, RAID_FREED, RAID_CLOSE = 0, 1, 2, 3


def raid(
    workers: np.ndarray,
    p_raid: np.ndarray,
    protection: np.ndarray,
    pressure: np.ndarray,
    draws: Draws,
    *,
    protection_effect: float,
    raid_shrink: float,
    raid_close_rate: float,
) -> RaidOutcome:
    """Draw this month's raids on compounds with the given raid probabilities.

    A raid fails with probability ``protection × protection_effect``; a successful
    one frees ``Binomial(w, raid_shrink)`` workers and closes the compound with
    probability ``clip(raid_close_rate × freed / w × (1 + pressure), 0, 1)``.
    ``draws(k, rows)`` gives the uniforms of draw ``k`` for the compounds at ``rows``
    (the model's keyed draws; :func:`sim.core.streams.generator_draws` for a generator).
    """
    m = len(workers)
    # Draws are made only where they can matter: a failure draw for each raid, a
    # rescue and a closing draw for each successful one.
    raided = draws(RAID_TRY, np.arange(m)) < p_raid
    tried = raided.nonzero()[0]
    prot = protection[tried] if np.ndim(protection) else protection
    p_fail = np.minimum(np.maximum(prot * protection_effect, 0.0), 1.0)
    hit = tried[draws(RAID_FAIL, tried) >= p_fail]
    succeeded = np.zeros(m, dtype=bool)
    succeeded[hit] = True
    rescued = np.zeros(m, dtype=np.int64)
    closed = np.zeros(m, dtype=bool)
    if len(hit):
        w = workers[hit]
        freed = binomial_inverse(draws(RAID_FREED, hit), w, raid_shrink)
        rescued[hit] = freed
        share = np.where(w > 0, freed / np.maximum(w, 1), 0.0)
        pr = pressure[hit] if np.ndim(pressure) else pressure
        p_close = (raid_close_rate * share * (1.0 + pr)).clip(0.0, 1.0)
        closed[hit] = draws(RAID_CLOSE, hit) < p_close
    return RaidOutcome(raided, succeeded, rescued, closed)


def political_weights(
    victim_share: np.ndarray, weight: np.ndarray, cooperation: np.ndarray
) -> np.ndarray:
    """``g_h = Σ_{k≠h} V_hk × weight_k × cooperation_k``: foreign pressure per US$ of revenue."""
    w = victim_share * (weight * cooperation)[None, :]
    return w.sum(axis=1) - np.diag(w)


def political_reaction(
    stock: np.ndarray,
    protection: np.ndarray,
    *,
    political_gain: float,
    political_scale_usd: float,
    political_steepness: float,
    protection_effect: float,
) -> np.ndarray:
    """Pressure a host adds under foreign political pressure (a Hill switch).

    ``gain × (1 − π × protection_effect) × S^h / (S^h + scale^h)`` with ``S`` the
    accumulated weighted foreign losses: little below the scale, a crackdown above.
    """
    x = np.maximum(stock, 0.0) / political_scale_usd
    xh = x**political_steepness
    return political_gain * (1.0 - protection * protection_effect) * xh / (1.0 + xh)


def target_pressure(
    observed_workers: np.ndarray,
    capacity: np.ndarray,
    protection: np.ndarray,
    shock: np.ndarray,
    political: np.ndarray | float = 0.0,
    *,
    baseline_pressure: float,
    capacity_pressure: float,
    response_gain: float,
    response_scale_workers: float,
    protection_effect: float,
) -> np.ndarray:
    """Pressure each agency aims for, in [0, 1]."""
    rest = baseline_pressure + capacity_pressure * capacity
    willing = capacity * (1.0 - protection * protection_effect)
    reaction = response_gain * willing * (1.0 - np.exp(-observed_workers / response_scale_workers))
    return np.minimum(np.maximum(rest + reaction + political + shock, 0.0), 1.0)


def adapt(pressure: np.ndarray, target: np.ndarray, rate: float) -> np.ndarray:
    """Move pressure part of the way toward its target (rises and decays alike)."""
    return np.minimum(np.maximum(pressure + rate * (target - pressure), 0.0), 1.0)
