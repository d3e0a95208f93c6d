"""The model behind the teaching page: :class:`DemoModel` and the lesson presets.

:class:`DemoModel` is a :class:`~sim.core.model.ScamModel` built from the
``baseline`` scenario and the classroom levers:

- ``crackdown_intensity``: the pressure a "Crack down now" adds in each chosen
  jurisdiction for 12 months (the scenarios use 0.6); routine enforcement
  (``raid_rate``) is left at its default so that the levers never change the
  world before the class acts.
- ``coordination``: ``none``, ``ASEAN`` or ``global``; with ASEAN or global
  coordination a crackdown also starts a 36-month intelligence-sharing bloc
  (``Cooperation``) of the ASEAN states or of every state, plus the targets,
  without extra pressure (equal raid effort, as in the coordination study).
- ``capacity_building``: enforcement capacity added from the first month in the
  most vulnerable destinations (``vulnerable:N``: 30 in the full world, 4 in the
  teaching world), with two thirds of it as a cut in regulatory weakness.
- ``relocation_cost``: a multiplier of the cost of moving a compound, applied
  to both the money cost per 1,000 km and the distance term of the syndicates'
  choice (they know what a long move costs).
- ``seed`` and ``world`` (``teaching``: 13 jurisdictions, or ``world``: 193).

Nothing here imports Solara: the page (:mod:`sim.app.views`) drives this class,
and tests and benchmarks can use it alone.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.config import compose, validate
from sim.core.interventions import Cooperation, Crackdown, Intervention
from sim.core.model import ScamModel
from sim.core.params import Params
from sim.core.timeline import month_index, month_label
from sim.core.world import World
from sim.runner import model_args

HUBS = ("MMR", "KHM", "LAO", "PHL")
WORLDS = ("teaching", "world")
COORDINATION: dict[str, list[str]] = {"none": [], "ASEAN": ["asean"], "global": ["all"]}
CRACKDOWN_MONTHS = 12
COOPERATION_MONTHS = 36
PROTECTION_CUT = 0.6  # as in the scenarios: political will overcomes part of local protection
LEVERS: dict[str, Any] = {  # the defaults of the page's settings, in DemoModel's argument names
    "world": "teaching",
    "crackdown_intensity": 0.6,
    "coordination": "none",
    "capacity_building": 0.0,
    "relocation_cost": 1.0,
    "seed": 1,
}

_MODEL_IDS = itertools.count()


def vulnerable_count(world: World) -> int:
    """How many destinations capacity building reaches: 30 worldwide, fewer in small worlds."""
    others = world.n - len(world.initial_presence)
    return max(1, min(30, others // 2))


@dataclass
class PageCrackdown:
    """A crackdown made on the page: first month (step), targets and the levers it added."""

    first: int
    targets: list[str]
    label: str
    interventions: list[Intervention] = field(default_factory=list)


class DemoModel(ScamModel):
    """The baseline model with the classroom levers and crackdowns that can be added live.

    ``step()`` never goes past the horizon (a no-op there, whoever calls it), and
    stepping, adding and undoing crackdowns and reading the recorders hold
    :attr:`lock`, because the page steps in a play thread while clicks arrive on
    another.
    """

    def __init__(
        self,
        world: str = "teaching",
        crackdown_intensity: float = 0.6,
        coordination: str = "none",
        capacity_building: float = 0.0,
        relocation_cost: float = 1.0,
        seed: int = 1,
        steps: int = 120,
        start: str = "2023-01",
    ) -> None:
        if world not in WORLDS:
            raise ValueError(f"world = {world!r}; allowed: {', '.join(WORLDS)}")
        if coordination not in COORDINATION:
            raise ValueError(f"coordination = {coordination!r}; allowed: {', '.join(COORDINATION)}")
        base = Params()
        overrides: dict[str, Any] = {
            "seed": int(seed),
            "steps": int(steps),
            "start": start,
            "relocation_cost_per_1000km_usd": base.relocation_cost_per_1000km_usd
            * float(relocation_cost),
            "beta_distance": base.beta_distance * float(relocation_cost),
        }
        cfg = compose("baseline", world, overrides)
        cfg["scenario"]["name"] = "classroom"
        if capacity_building > 0:
            n = vulnerable_count(validate(cfg).world)
            cfg["scenario"]["events"] = [{
                "kind": "capacity_building",
                "label": "capacity building",
                "targets": [f"vulnerable:{n}"],
                "start": month_label(start, 1),  # the first month that steps
                "duration_months": 0,
                "capacity_gain": float(capacity_building),
                "regulation_gain": float(capacity_building) * 2 / 3,
                "ramp_months": 1,
            }]
        super().__init__(**model_args(validate(cfg)))
        self.lock = threading.RLock()
        # Mesa's Model.__init__ puts its time-advancing wrapper in the instance's ``step``
        # (it counts ``steps`` *before* calling ScamModel.step), so the horizon guard has
        # to wrap that wrapper, not override the class method.
        self._mesa_step = self.step
        self.step = self._guarded_step  # type: ignore[method-assign]
        self.world_name = world
        self.crackdown_intensity = float(crackdown_intensity)
        self.coordination = coordination
        self.capacity_building = float(capacity_building)
        self.relocation_cost = float(relocation_cost)
        self.seed_value = int(seed)
        self.uid = next(_MODEL_IDS)  # views are cached per model; id() may be reused
        self.hub_idx = np.array([self.world.index[h] for h in HUBS if h in self.world.index])
        self.page_crackdowns: list[PageCrackdown] = []

    def _guarded_step(self) -> None:
        """One month, unless the run is at its horizon (then nothing happens)."""
        with self.lock:
            if self.steps >= self.horizon:
                self.running = False
                return
            self._mesa_step()

    @property
    def ended(self) -> bool:
        """Whether the run has reached its last month."""
        return self.steps >= self.horizon

    def levers(self) -> dict[str, Any]:
        """The lever values this model was built with (the page's settings)."""
        return {
            "world": self.world_name,
            "crackdown_intensity": self.crackdown_intensity,
            "coordination": self.coordination,
            "capacity_building": self.capacity_building,
            "relocation_cost": self.relocation_cost,
            "seed": self.seed_value,
        }

    # --- crackdowns from the page ------------------------------------------------------

    @property
    def crackdowns(self) -> list[tuple[int, str]]:
        """(first step, label) of every crackdown made from the page, for the plot markers."""
        return [(c.first, c.label) for c in self.page_crackdowns]

    def scheduled(self, targets: Sequence[str], first: int | None = None) -> list[str]:
        """Those of ``targets`` that already have a page crackdown starting in month ``first``."""
        first = self.steps + 1 if first is None else first
        taken = {t for c in self.page_crackdowns if c.first == first for t in c.targets}
        return [t for t in targets if t in taken]

    def crack_down(self, targets: Sequence[str], first: int | None = None) -> list[Intervention]:
        """Start a crackdown in ``targets`` (ISO3) in step ``first`` (default: next month).

        Coordinated as configured. Targets that already have a crackdown starting
        that month are left out; returns the added levers (none if nothing is left,
        the start is past the horizon or already over).
        """
        with self.lock:
            first = self.steps + 1 if first is None else int(first)
            targets = [t for t in targets if t in self.world.index]
            targets = [t for t in targets if t not in self.scheduled(targets, first)]
            if not targets or first <= self.steps or first > self.horizon:
                return []
            start = month_label(self.start, first)
            names = ", ".join(targets)
            added: list[Intervention] = [
                Crackdown(
                    start=start,
                    duration_months=CRACKDOWN_MONTHS,
                    label=f"crackdown {names}",
                    targets=list(targets),
                    intensity=self.crackdown_intensity,
                    protection_cut=PROTECTION_CUT,
                )
            ]
            if self.coordination != "none":
                added.append(
                    Cooperation(
                        start=start,
                        duration_months=COOPERATION_MONTHS,
                        label=f"{self.coordination} intelligence sharing",
                        targets=COORDINATION[self.coordination] + list(targets),
                        pressure_uplift=0.0,  # equal raid effort: coordination is the shared intel
                        intel_sharing=True,
                    )
                )
            for iv in added:
                iv.bind(self)
                self.interventions.append(iv)
            label = names if self.coordination == "none" else f"{names} + {self.coordination}"
            self.page_crackdowns.append(PageCrackdown(first, list(targets), label, added))
            return added

    def pending_crackdowns(self) -> list[PageCrackdown]:
        """Page crackdowns that have not started yet (they can still be undone)."""
        return [c for c in self.page_crackdowns if c.first > self.steps]

    def undo_crackdown(self) -> PageCrackdown | None:
        """Take back the latest crackdown that has not started; None if there is none."""
        with self.lock:
            pending = self.pending_crackdowns()
            if not pending:
                return None
            last = pending[-1]
            self.page_crackdowns.remove(last)
            self.interventions = [iv for iv in self.interventions
                                  if not any(iv is a for a in last.interventions)]
            return last

    # --- read-outs for the page --------------------------------------------------------

    def month(self) -> str:
        """Calendar month of the current step."""
        return month_label(self.start, self.steps)

    def month_step(self, month: str) -> int:
        """The step of a calendar month ``YYYY-MM`` of this run."""
        return month_index(self.start, month)

    def workers_now(self) -> np.ndarray:
        """Workers per jurisdiction at the end of the current month."""
        return self.rec["workers"][self.steps]

    def hub_workers(self) -> int:
        """Workers in the four starting hubs (Myanmar, Cambodia, Laos, the Philippines)."""
        return int(self.workers_now()[self.hub_idx].sum())

    def series(self) -> dict[str, np.ndarray]:
        """Time series up to the current month: workers in thousands, counts, rescued (k)."""
        with self.lock:
            t = self.steps
            w = self.rec["workers"][: t + 1].astype(float)
            hub = np.zeros(w.shape[1], bool)
            hub[self.hub_idx] = True
            mmr = self.world.index.get("MMR")
            return {
                "hubs": w[:, hub].sum(axis=1) / 1e3,
                "rest": w[:, ~hub].sum(axis=1) / 1e3,
                "myanmar": w[:, mmr] / 1e3 if mmr is not None else np.zeros(t + 1),
                "active": (self.rec["compounds"][: t + 1] > 0).sum(axis=1).astype(float),
                "rescued": np.cumsum(self.rec["rescued"][: t + 1].sum(axis=1)) / 1e3,
                "workers": w,
            }

    def summary(self) -> dict[str, Any]:
        """The numbers of the current month that the page shows and the runs table lists."""
        with self.lock:
            w = self.workers_now()
            mmr = self.world.index.get("MMR")
            hubs = self.hub_workers()
            return {
                "month": self.month(),
                "step": int(self.steps),
                "myanmar": int(w[mmr]) if mmr is not None else 0,
                "hubs": hubs,
                "rest": int(w.sum()) - hubs,
                "total": int(w.sum()),
                "countries": int((w > 0).sum()),
                "rescued": int(self.rec["rescued"][: self.steps + 1].sum()),
            }

    def relocations_now(self) -> pd.DataFrame:
        """This month's relocations as (from, to, size, moves) pairs, largest first."""
        # Summed in a dict: a pandas groupby costs about 10 ms, a third of a map frame.
        sums: dict[tuple[str, str], list[float]] = {}
        for ev in reversed(self.events):  # the current month's events are at the end
            if ev[0] != self.steps:
                break
            if ev[1] == "relocation" and ev[3] != ev[4] and ev[5] > 0:
                pair = sums.setdefault((ev[3], ev[4]), [0.0, 0])
                pair[0] += ev[5]
                pair[1] += 1
        keys = sorted(sums)  # the order groupby gives, before sorting by size
        pairs = pd.DataFrame({"from": [k[0] for k in keys], "to": [k[1] for k in keys],
                              "size": np.array([sums[k][0] for k in keys], float),
                              "moves": np.array([sums[k][1] for k in keys], np.int64)})
        return pairs.sort_values("size", ascending=False, ignore_index=True)


# --- lesson presets ----------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    """One step of the lesson plan: settings, and a Myanmar crackdown planned for a month."""

    key: str
    label: str
    levers: dict[str, Any]
    crackdown: tuple[str, ...] = ("MMR",)
    crackdown_month: str | None = "2023-08"
    note: str = ""


PRESETS: tuple[Preset, ...] = (
    Preset("baseline", "1 · Baseline", {}, (), None, "no crackdown: the starting situation"),
    Preset("myanmar", "2 · Crackdown in Myanmar", {},
           note="Myanmar cracks down alone from 2023-08"),
    Preset("asean", "3 · With ASEAN", {"coordination": "ASEAN"},
           note="the crackdown plus ASEAN intelligence sharing"),
    Preset("worldwide", "4 · Worldwide", {"world": "world"},
           note="the Myanmar crackdown in the full world (193 countries)"),
    Preset("capacity", "5 · With capacity building", {"world": "world", "capacity_building": 0.3},
           note="full world, capacity building 0.3 in the likely destinations"),
)


def preset_levers(preset: Preset, seed: int) -> dict[str, Any]:
    """The lever values of ``preset`` (every other lever at its default) with ``seed``."""
    return {**LEVERS, **preset.levers, "seed": int(seed)}


def start_preset(preset: Preset, seed: int) -> DemoModel:
    """A fresh model of ``preset``, its crackdown already planned (it can be undone)."""
    model = DemoModel(**preset_levers(preset, seed))
    if preset.crackdown and preset.crackdown_month:
        model.crack_down(list(preset.crackdown), first=model.month_step(preset.crackdown_month))
    return model
