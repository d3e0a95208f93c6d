"""The agents: syndicates (Mesa ``Agent``) and their compounds (Mesa ``CellAgent``).

Agents are the modelling surface: a compound sits on its jurisdiction's cell and
moves cell when it relocates; a syndicate owns compounds and remembers risk.
Their numeric state lives in struct-of-arrays stores owned by the model, so the
hot paths (operate, raid, learn, choose) are vectorised over all agents at once;
the attributes below read and write those arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from mesa import Agent
from mesa.discrete_space import CellAgent

if TYPE_CHECKING:
    from mesa.discrete_space import Cell

    from sim.core.model import ScamModel

# Why a compound was opened.
INITIAL, RELOCATION, EXPANSION = 0, 1, 2


class Store:
    """Columns of equal length with reusable slots; ``alive`` marks the used ones."""

    def __init__(self, capacity: int, columns: dict[str, tuple[Any, tuple[int, ...]]]) -> None:
        self._spec = columns
        self.alive = np.zeros(capacity, dtype=bool)
        self._live: np.ndarray | None = None  # cached used slots (dropped on add/remove)
        self.version = 0  # changes whenever a slot is added or freed or an agent moves
        for name, (dtype, tail) in columns.items():
            setattr(self, name, np.zeros((capacity, *tail), dtype=dtype))

    def _grow(self, need: int) -> None:
        cap = len(self.alive)
        new = max(2 * cap, cap + need)
        self.alive = np.concatenate([self.alive, np.zeros(new - cap, bool)])
        self._live = None
        for name, (dtype, tail) in self._spec.items():
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, np.zeros((new - cap, *tail), dtype)]))

    def add(self, k: int, clear: bool = True) -> np.ndarray:
        """Allocate ``k`` slots (lowest free first, so allocation is deterministic).

        ``clear``: zero their columns (False when the caller writes every column).
        """
        free = np.flatnonzero(~self.alive)
        if len(free) < k:
            self._grow(k - len(free))
            free = np.flatnonzero(~self.alive)
        slots = free[:k]
        self.alive[slots] = True
        self._live = None
        self.version += 1
        if clear:
            for name in self._spec:
                getattr(self, name)[slots] = 0
        return slots

    def remove(self, slots: np.ndarray | int) -> None:
        """Free slots."""
        self.alive[slots] = False
        self._live = None
        self.version += 1

    def moved(self) -> None:
        """Note that an agent changed place (what is cached per place is stale)."""
        self.version += 1

    def live(self) -> np.ndarray:
        """Used slots in increasing order (read-only; cached until a slot is added or freed)."""
        if self._live is None:
            live = self.alive.nonzero()[0]
            live.setflags(write=False)
            self._live = live
        return self._live

    def __len__(self) -> int:
        return len(self.live())


def compound_store(capacity: int) -> Store:
    """Columns of the compound store."""
    return Store(
        capacity,
        {
            "jurisdiction": (np.int64, ()),
            "owner": (np.int64, ()),
            "workers": (np.int64, ()),
            "target": (np.int64, ()),
            "opened": (np.int64, ()),
            "arrived": (np.int64, ()),
            "origin": (np.int8, ()),
            "uid": (np.int64, ()),  # stable id (creation order): the key of its draws
        },
    )


def syndicate_store(capacity: int, n_jurisdictions: int) -> Store:
    """Columns of the syndicate store (risk evidence is one row per syndicate)."""
    return Store(
        capacity,
        {
            "capital": (np.float64, ()),
            "tolerance": (np.float64, ()),
            "tie_affinity": (np.float64, ()),
            "laundering_leak": (np.float64, ()),
            "hits": (np.float64, (n_jurisdictions,)),
            "safe": (np.float64, (n_jurisdictions,)),
            "home": (np.int64, ()),
            "lost": (np.int64, ()),
            "uid": (np.int64, ()),  # stable id (creation order): the key of its draws
        },
    )


class Compound(CellAgent):
    """One scam centre on a jurisdiction's cell, run by a syndicate with trafficked workers."""

    def __init__(self, model: ScamModel, slot: int, cell: Cell) -> None:
        super().__init__(model)
        self.slot = int(slot)
        self.cell = cell

    @property
    def _store(self) -> Store:
        return self.model.compounds

    @property
    def workforce(self) -> int:
        """Workers held in the compound."""
        return int(self._store.workers[self.slot])

    @property
    def owner(self) -> Syndicate:
        """The syndicate running it."""
        return self.model.syndicate_agents[int(self._store.owner[self.slot])]

    @property
    def iso3(self) -> str:
        """ISO3 code of the host jurisdiction."""
        return str(self.model.world.iso3[self._store.jurisdiction[self.slot]])

    @property
    def age(self) -> int:
        """Months since it opened."""
        return int(self.model.steps - self._store.opened[self.slot])

    def relocate(self, cell: Cell) -> None:
        """Move the organisation to another jurisdiction's cell."""
        self.cell = cell
        self._store.jurisdiction[self.slot] = cell.coordinate
        self._store.moved()
        self._store.arrived[self.slot] = self.model.steps
        self._store.origin[self.slot] = RELOCATION

    def close(self) -> None:
        """Shut the compound and free its slot."""
        self._store.remove(self.slot)
        self.model.compound_agents.pop(self.slot, None)
        self.remove()


class Syndicate(Agent):
    """A criminal organisation: capital, risk tolerance, risk memory, compounds."""

    def __init__(self, model: ScamModel, slot: int) -> None:
        super().__init__(model)
        self.slot = int(slot)

    @property
    def _store(self) -> Store:
        return self.model.syndicates

    @property
    def capital(self) -> float:
        """Working capital in US$."""
        return float(self._store.capital[self.slot])

    @property
    def risk_tolerance(self) -> float:
        """Monthly raid risk it accepts before moving compounds out."""
        return float(self._store.tolerance[self.slot])

    @property
    def perceived_risk(self) -> np.ndarray:
        """Perceived monthly raid risk in every jurisdiction."""
        return self.model.perceived_risk(np.array([self.slot]))[0]

    @property
    def compounds(self) -> list[Compound]:
        """The compounds it runs."""
        store = self.model.compounds
        slots = np.flatnonzero(store.alive & (store.owner == self.slot))
        return [self.model.compound_agents[int(s)] for s in slots]

    @property
    def n_compounds(self) -> int:
        """Number of compounds it runs."""
        store = self.model.compounds
        return int(np.count_nonzero(store.alive & (store.owner == self.slot)))

    def dissolve(self) -> None:
        """End the organisation (only when its capital is gone)."""
        self._store.remove(self.slot)
        self.model.syndicate_agents.pop(self.slot, None)
        self.remove()
