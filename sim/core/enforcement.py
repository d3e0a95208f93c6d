"""Enforcement agencies as a vectorised process: raids and pressure adaptation.

One agency per jurisdiction. Its resting pressure grows with capacity; it reacts
to the activity it observes (with a detection lag) up to what its capacity and
the local protection allow; scenario shocks come on top. Raids fall on
compounds with a probability proportional to pressure and fail with a
probability proportional to protection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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


@dataclass(frozen=True)
class RaidOutcome:
    """Per-compound results of one month of raids (aligned with the input slots)."""

    raided: np.ndarray  # bool
    succeeded: np.ndarray  # bool
    rescued: np.ndarray  # int workers freed


def raid(
    workers: np.ndarray,
    pressure: np.ndarray,
    protection: np.ndarray,
    newly_arrived: np.ndarray,
    intel: np.ndarray,
    capacity: np.ndarray,
    rng: np.random.Generator,
    *,
    raid_rate: float,
    protection_effect: float,
    raid_shrink: float,
    intel_boost: float,
) -> RaidOutcome:
    """Draw this month's raids on compounds.

    ``pressure``, ``protection``, ``intel`` and ``capacity`` are gathered per compound.
    Where intelligence is shared, agencies expect arriving compounds: a newly
    arrived one faces extra raids in proportion to the local capacity, even
    where routine pressure is low.
    """
    anticipated = intel_boost * capacity * (intel & newly_arrived)
    p_raid = raid_rate * (pressure + anticipated)
    raided = rng.random(len(workers)) < np.clip(p_raid, 0.0, 1.0)
    fails = rng.random(len(workers)) < np.clip(protection * protection_effect, 0.0, 1.0)
    succeeded = raided & ~fails
    rescued = np.zeros(len(workers), dtype=np.int64)
    rescued[succeeded] = rng.binomial(workers[succeeded], raid_shrink)
    return RaidOutcome(raided, succeeded, rescued)


def target_pressure(
    observed_workers: np.ndarray,
    capacity: np.ndarray,
    protection: np.ndarray,
    shock: np.ndarray,
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
    return np.clip(rest + reaction + shock, 0.0, 1.0)


def adapt(pressure: np.ndarray, target: np.ndarray, rate: float) -> np.ndarray:
    """Move pressure part of the way toward its target (rises and decays alike)."""
    return np.clip(pressure + rate * (target - pressure), 0.0, 1.0)
