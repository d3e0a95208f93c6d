"""The scam-industry model: syndicates move compounds between jurisdictions.

One step is one month, in the order of docs/ODD.md ("Process overview"):
operate, enforce, learn, decide, regenerate, recruit, adapt, collect.

Random numbers: the model's seeded generator (``self.rng``) draws the initial
state; three streams spawned from the same seed (``numpy.random.SeedSequence``)
serve the raids, the movement decisions (relocation, choice, expansion, splits)
and recruitment (attrition, sizes of new sites). Every draw of a stream is keyed by
the month, the draw and the stable id of the agent it is for (sim.core.streams), so
paired scenarios with the same seed give every agent they share the same draws: a
lever that changes, say, how many compounds move does not shift the raid or
attrition draws of any other compound, before or after it acts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from itertools import repeat

import mesa
import numpy as np
from mesa.discrete_space import Network
from mesa.experimental.scenarios import Scenario

from sim.core import choice, enforcement, labour
from sim.core.agents import (
    EXPANSION,
    INITIAL,
    Compound,
    Syndicate,
    compound_store,
    syndicate_store,
)
from sim.core.enforcement import PolicyState
from sim.core.interventions import Intervention
from sim.core.params import Params
from sim.core.series import MODEL_SERIES, SERIES, SOURCE_SERIES
from sim.core.settings import DEFAULTS
from sim.core.streams import BinomialTable, Stream, binomial_inverse
from sim.core.timeline import month_label, step_dates
from sim.core.world import World

# Below this scale the risk evidence is multiplied out (far above float underflow).
EVIDENCE_RESCALE = 1e-100

# The draws of each stream in a month (sim.core.streams), keyed by the stable id of the
# compound (C) or syndicate (S) they are for; numbered in the order the step makes them.
# raids stream (C): sim.core.enforcement.RAID_TRY .. RAID_CLOSE
MOVE_UNHAPPY, MOVE_WHERE, MOVE_CARRY = 0, 1, 2  # move stream (C)
EXPAND_PICK, EXPAND_WHERE, SPLIT, REESTABLISH_WHERE = 3, 4, 5, 6  # move stream (S)
SITE_SIZE, ATTRITION = 0, 2  # recruit stream (C); SITE_SIZE uses draws 0 and 1
RAID_KINDS = ("raid_failed", "raid")  # event kind of a raid, by whether it succeeded


class ScamScenario(Scenario):
    """The model's run settings as a Mesa ``Scenario`` (declared in sim.core.settings)."""

    steps: int = DEFAULTS["steps"]
    start: str = DEFAULTS["start"]
    record_events: bool = DEFAULTS["record_events"]


class ScamModel(mesa.Model):
    """Transnational scam syndicates choosing where to run compounds."""

    def __init__(
        self,
        world: World,
        params: Params | None = None,
        interventions: Sequence[Intervention] = (),
        *,
        steps: int = DEFAULTS["steps"],
        start: str = DEFAULTS["start"],
        rng: int | None = None,
        record_events: bool = DEFAULTS["record_events"],
    ) -> None:
        super().__init__(
            scenario=ScamScenario(rng=rng, steps=steps, start=start, record_events=record_events)
        )
        self.world = world
        self.p = params or Params()
        self.start = self.scenario.start
        self.horizon = int(self.scenario.steps)
        self.record_events = self.scenario.record_events
        n = world.n
        self.iso3 = world.iso3.tolist()  # codes as Python strings (the event log's hosts)
        self.grid = Network(
            world.graph(), capacity=None, random=self.random, layout=world.positions()
        )
        self.cells = [self.grid[i] for i in range(n)]  # Network cells by node id
        self.victim_share = world.victim_shares(self.p.victim_distance_km)
        base = (
            np.random.SeedSequence(int(rng)) if isinstance(rng, int | np.integer)
            else np.random.SeedSequence(int(self.rng.integers(2**63)))
        )
        self.stream_raids, self.stream_move, self.stream_recruit = (
            Stream(s) for s in base.spawn(3)
        )
        self._attrition = BinomialTable.of(self.p.attrition_rate)
        self._next_uid = {"compound": 0, "syndicate": 0}  # stable ids, in creation order
        self.labour = labour.Labour(self)
        # Foreign political pressure per US$ of a host's revenue (victim weight × cooperation).
        self.political_weight = enforcement.political_weights(
            self.victim_share, labour.victim_weight(world), world.cooperation
        )
        self.political_stock = np.zeros(n)
        self.policy = PolicyState(n)
        self._policy_at_rest = False  # True while no lever has written since a reset
        self.update_governance()  # the start month's governance (World.derived_at)
        self._policy_now()
        self.pressure = self._resting_pressure()
        self.compounds = compound_store(1024)
        self._counts, self._counted = np.zeros(0, dtype=np.int64), -1  # see compounds_by_…
        self.syndicates = syndicate_store(max(64, 2 * self.p.syndicates), n)
        self.compound_agents: dict[int, Compound] = {}
        self.syndicate_agents: dict[int, Syndicate] = {}
        self._evidence_scale = 1.0  # risk evidence = stored hits/safe × this (see learn)
        self._observed: deque[np.ndarray] = deque(maxlen=self.p.detection_lag + 1)
        self.events: list[tuple] = []
        self.flows = {
            k: 0.0
            for k in (
                "revenue",
                "frozen",
                "bribes",
                "running_costs",
                "laundering_losses",
                "payouts",
                "seized",
                "spent_recruiting",
                "spent_opening",
                "spent_relocating",
                "capital_of_dissolved",
            )
        }
        self.worker_flows = {k: 0 for k in ("recruited", "rescued", "released")}
        self._friction_used = self.labour.friction
        self._land_labour: np.ndarray | None = None
        self._init_recorders(n)
        self._populate()
        self.interventions = list(interventions)
        for iv in self.interventions:
            iv.bind(self)
        self.datacollector = mesa.DataCollector(
            model_reporters={s.name: s.source for s in MODEL_SERIES}
        )
        self.collect()

    # --- set-up -------------------------------------------------------------------------

    def update_governance(self) -> None:
        """This month's governance indicators: the yearly values interpolated by month
        (``World.derived_at``); the static world attributes are the latest year's."""
        month = month_label(self.start, self.steps)
        # Months at the same place between the yearly anchors (before the first year or
        # past the last year of data) have the same values: keep what depends on them.
        position = self.world.anchor_position(month)
        if position == getattr(self, "_governance_position", None):
            return
        self._governance_position = position
        self.gov = self.world.derived_at(month)
        for a in self.gov.values():
            a.setflags(write=False)
        self._per_km = choice.distance_cost(
            self.gov["criminal_ties"], beta_distance=self.p.beta_distance,
            tie_discount=self.p.tie_discount,
        )
        self._policy_key = None  # capacity, protection and utility depend on it

    def _policy_now(self) -> None:
        """This month's capacity, protection and static utility (the policy is set once a
        month, by the interventions, so the step reads them from here)."""
        pol = self.policy
        key = tuple(
            a.tobytes()
            for a in (pol.capacity_gain, pol.protection_cut, pol.weakness_cut, pol.infrastructure)
        )
        if key == getattr(self, "_policy_key", None):
            return  # the same levers as last month: the same values
        p, g = self.p, self.gov
        self._policy_key = key
        self._capacity = self.capacity()
        self._protection = self.protection()
        self._bribe_rate = p.bribe_share * self._protection  # share of revenue paid per host
        self._kept_share = 1.0 - self._bribe_rate
        self._raid_budget = enforcement.raid_budget(
            self._capacity, raid_budget=p.raid_budget, raid_budget_floor=p.raid_budget_floor
        )
        self._static = choice.static_utility(
            np.clip(g["regulatory_weakness"] - pol.weakness_cut, 0.0, 1.0),
            g["operability"] * pol.infrastructure,
            self._capacity,
            p,
        )
        for a in (self._capacity, self._protection, self._static, self._bribe_rate,
                  self._kept_share, self._raid_budget):
            a.setflags(write=False)

    def _resting_pressure(self) -> np.ndarray:
        p = self.p
        capacity = np.clip(self.gov["enforcement_capacity"] + self.policy.capacity_gain, 0, 1)
        return np.full(self.world.n, p.baseline_pressure) + p.capacity_pressure * capacity

    def _init_recorders(self, n: int) -> None:
        t = self.horizon + 1
        self.rec = {s.name: np.zeros((t, n), dtype=s.dtype) for s in SERIES}
        # This month's flows per jurisdiction, read by the recorders (sim.core.series).
        self.month_raids = np.zeros(n, dtype=np.int64)
        self.month_rescued = np.zeros(n, dtype=np.int64)
        self.month_revenue = np.zeros(n)
        self.month_losses = np.zeros(n)
        # By source country (nationality of the workers), one row per step.
        self.src_rec = {s.name: np.zeros((t, n), dtype=s.dtype) for s in SOURCE_SERIES}

    def _populate(self) -> None:
        """Syndicates and compounds in the initial hubs only, at the configured sizes."""
        p, w, rng = self.p, self.world, self.rng
        hubs = np.array([w.index[c] for c in w.initial_presence])
        hub_workers = np.array([w.initial_presence[c] for c in w.initial_presence], float)
        n_synd = p.syndicates
        synd_slots = self.syndicates.add(n_synd)
        st = self.syndicates
        st.uid[synd_slots] = self._new_uids("syndicate", n_synd)
        lo, hi = 1 - p.risk_tolerance_spread, 1 + p.risk_tolerance_spread
        st.tolerance[synd_slots] = p.risk_tolerance_mean * rng.uniform(lo, hi, n_synd)
        st.tie_affinity[synd_slots] = rng.uniform(0.5, 1.5, n_synd)
        st.laundering_leak[synd_slots] = rng.uniform(0.5, 1.5, n_synd)
        st.home[synd_slots] = hubs[rng.choice(len(hubs), n_synd, p=hub_workers / hub_workers.sum())]
        for s in synd_slots:
            self.syndicate_agents[int(s)] = Syndicate(self, int(s))
        for h, total in zip(hubs, hub_workers, strict=True):
            k = max(1, round(total / p.compound_size_mean))
            sizes = rng.lognormal(0.0, p.compound_size_sigma, k)
            sizes = np.maximum(p.min_workforce, np.round(sizes / sizes.sum() * total)).astype(int)
            local = synd_slots[st.home[synd_slots] == h]
            # Most compounds belong to syndicates based in the hub, some to others.
            owners = np.where(
                (rng.random(k) < 0.85) & (len(local) > 0),
                rng.choice(local if len(local) else synd_slots, k),
                rng.choice(synd_slots, k),
            )
            # Site capacity: the size the compound refills to after a month's attrition.
            targets = np.round(sizes / max(1.0 - p.attrition_rate, 1e-9)).astype(np.int64)
            self._open_compounds(int(h), owners, sizes, INITIAL, targets)
        # Starting capital: a few months of each syndicate's expected profit.
        c = self.compounds.live()
        r = p.productivity_usd * (1 - p.disruption * self.pressure[self.compounds.jurisdiction[c]])
        margin = r - p.cost_per_worker_usd - p.bribe_share * r
        profit = np.bincount(
            self.compounds.owner[c],
            weights=self.compounds.workers[c] * margin,
            minlength=len(st.alive),
        )
        st.capital[synd_slots] = p.initial_capital_months * np.maximum(profit[synd_slots], 0) + (
            2 * p.setup_cost_usd
        )
        self.flows["initial_capital"] = float(st.capital[synd_slots].sum())
        self.worker_flows["initial"] = int(self.compounds.workers[c].sum())
        self.labour.seed_workforce(self.workers_by_jurisdiction().astype(float))

    def _open_compounds(
        self,
        j: int | np.ndarray,
        owners: np.ndarray,
        workers: np.ndarray,
        origin: int,
        targets: np.ndarray,
    ) -> np.ndarray:
        """Open compounds in jurisdiction(s) ``j`` (one slot allocation for all of them).

        Slots are the lowest free ones in order, as if opened one at a time, and the
        Mesa agents are created in the order of ``owners``.
        """
        cs = self.compounds
        slots = cs.add(len(owners), clear=False)  # every column is written below
        cs.jurisdiction[slots] = j
        cs.owner[slots] = owners
        cs.workers[slots] = workers
        cs.target[slots] = targets
        cs.opened[slots] = self.steps
        cs.arrived[slots] = self.steps if origin != INITIAL else -10_000
        cs.origin[slots] = origin
        cs.uid[slots] = self._new_uids("compound", len(slots))
        agents, cells = self.compound_agents, self.cells
        if np.ndim(j) == 0:
            cell = cells[int(j)]
            for slot in slots.tolist():
                agents[slot] = Compound(self, slot, cell)
        else:
            for slot, jj in zip(slots.tolist(), np.asarray(j).tolist(), strict=True):
                agents[slot] = Compound(self, slot, cells[jj])
        return slots

    def _new_uids(self, kind: str, k: int) -> np.ndarray:
        """The next ``k`` stable ids of compounds or syndicates (never reused)."""
        first = self._next_uid[kind]
        self._next_uid[kind] = first + k
        return np.arange(first, first + k, dtype=np.int64)

    def _targets(self, k: int) -> np.ndarray:
        """Site capacities of the next ``k`` compounds to open: ``max(min_workforce,
        round(mean × L))``, ``L`` lognormal of mean 1 (keyed by their stable ids)."""
        p = self.p
        s = p.compound_size_sigma
        first = self._next_uid["compound"]
        z = self.stream_recruit.normal(self.steps, SITE_SIZE, np.arange(first, first + k))
        draws = np.exp(-0.5 * s * s + s * z)
        return np.maximum(p.min_workforce, np.round(p.compound_size_mean * draws)).astype(np.int64)

    # --- small helpers ------------------------------------------------------------------

    def log_event(self, kind: str, syndicate: int, src: str, dst: str, size: int) -> None:
        """Append an event (relocation, expansion, raid, split, intervention…)."""
        if self.record_events:
            self.events.append((self.steps, kind, int(syndicate), src, dst, int(size)))

    def workers_by_jurisdiction(self) -> np.ndarray:
        """Current workforce per jurisdiction."""
        cs = self.compounds
        c = cs.live()
        held = np.bincount(cs.jurisdiction[c], weights=cs.workers[c], minlength=self.world.n)
        return held.astype(np.int64)

    def compounds_by_jurisdiction(self) -> np.ndarray:
        """Current number of compounds per jurisdiction (read-only; recounted only after
        a compound opened, closed or moved)."""
        cs = self.compounds
        if self._counted != cs.version:
            counts = np.bincount(cs.jurisdiction[cs.live()], minlength=self.world.n)
            counts.setflags(write=False)
            self._counts, self._counted = counts, cs.version
        return self._counts

    def perceived_risk(self, synd: np.ndarray, j: np.ndarray | None = None) -> np.ndarray:
        """Beta-posterior mean of the monthly raid risk.

        Per syndicate × jurisdiction, or only at the pairs ``(synd[i], j[i])`` if ``j`` is given.
        """
        p, st, g = self.p, self.syndicates, self._evidence_scale
        hits = st.hits[synd] if j is None else st.hits[synd, j]
        safe = st.safe[synd] if j is None else st.safe[synd, j]
        if g != 1.0:  # the stores hold evidence / scale (see learn)
            hits = hits * g
            safe = safe * g
        return (hits + p.prior_risk * p.prior_strength) / (hits + safe + p.prior_strength)

    def capacity(self) -> np.ndarray:
        """Enforcement capacity including capacity building."""
        return (self.gov["enforcement_capacity"] + self.policy.capacity_gain).clip(0.0, 1.0)

    def protection(self) -> np.ndarray:
        """Protection after the share overcome by crackdowns."""
        return self.gov["protection"] * (1.0 - self.policy.protection_cut)

    @property
    def n_compounds(self) -> int:
        """Compounds in operation."""
        return len(self.compounds)

    @property
    def n_workers(self) -> int:
        """Workers held in compounds."""
        return int(self.compounds.workers[self.compounds.live()].sum())

    @property
    def n_syndicates(self) -> int:
        """Syndicates alive."""
        return len(self.syndicates)

    @property
    def n_active(self) -> int:
        """Jurisdictions hosting at least one compound."""
        return int(np.count_nonzero(self.compounds_by_jurisdiction()))

    @property
    def n_rescued(self) -> int:
        """Workers rescued since the start."""
        return int(self.worker_flows["rescued"])

    # --- the step -----------------------------------------------------------------------

    def step(self) -> None:
        """One month."""
        self.labour.begin_month()
        self._land_labour = None
        self.update_governance()
        self.apply_interventions()
        self.operate()
        self.enforce()
        self.learn()
        self.decide()
        self.regenerate()
        self.recruit()
        self.adapt()
        self.collect()
        if self.steps >= self.horizon:
            self.running = False

    def apply_interventions(self) -> None:
        """Reset this month's policy state and let every active lever write into it."""
        if self.interventions or not self._policy_at_rest:
            self.policy.reset()
            for iv in self.interventions:
                iv.step(self)
            friction = self.policy.friction
            if friction is None:
                friction = self.world.travel_friction
            if friction is not self._friction_used and not np.array_equal(
                friction, self._friction_used
            ):
                self.labour.set_friction(np.asarray(friction, float))
            self._friction_used = friction
            # With no lever the state stays as reset: the next months need no reset.
            self._policy_at_rest = not self.interventions
        self._policy_now()

    def operate(self) -> None:
        """Compounds earn; syndicates bank profit after costs, bribes and laundering."""
        p, cs, st = self.p, self.compounds, self.syndicates
        c = cs.live()
        j = cs.jurisdiction[c]
        w = cs.workers[c].astype(float)
        total = max(w.sum(), 1.0)
        per_worker = p.productivity_usd * (p.market_size_workers / total) ** p.saturation
        self._per_worker = per_worker
        # Revenue and bribes per worker are the same for all compounds of a host this
        # month: computed once per host, then gathered per compound.
        self._gross_host = (
            per_worker * (1.0 - p.disruption * self.pressure) * self.policy.infrastructure
        )
        # The margin per worker before laundering, the same for every compound of a host.
        self._net_host = self._gross_host * self._kept_share - p.cost_per_worker_usd
        revenue = w * self._gross_host[j]
        bribes = revenue * self._bribe_rate[j]
        running = w * p.cost_per_worker_usd
        profit_c = revenue - bribes - running
        if self.policy.revenue_frozen > 0:
            frozen = revenue * self._frozen_share(c)
            profit_c -= frozen
            self.flows["frozen"] += float(frozen.sum())
        self._profit_c = np.zeros(len(cs.alive))  # by slot; no compound opens before decide
        self._profit_c[c] = profit_c
        size = len(st.alive)
        profit = np.bincount(cs.owner[c], weights=profit_c, minlength=size)
        turnover = np.bincount(cs.owner[c], weights=revenue, minlength=size)
        extra = self.policy.laundering_extra
        if extra:
            extra = extra * self._squeezed()
        lose = ((p.laundering_loss + extra) * st.laundering_leak).clip(0.0, 0.95)
        self._launder_share = lose
        laundering = np.where(profit > 0, profit * lose, 0.0)
        kept = profit - laundering
        st.capital += np.where(st.alive, kept, 0.0)
        self._margin = np.divide(kept, turnover, out=np.zeros(size), where=turnover > 0)
        payout = np.where(st.alive, p.payout_rate * np.maximum(st.capital, 0.0), 0.0)
        st.capital -= payout
        self.month_revenue = np.bincount(j, weights=revenue, minlength=self.world.n)
        self.month_losses = self.month_revenue @ self.victim_share
        f = self.flows
        f["revenue"] += float(revenue.sum())
        f["bribes"] += float(bribes.sum())
        f["running_costs"] += float(running.sum())
        f["laundering_losses"] += float(laundering.sum())
        f["payouts"] += float(payout.sum())
        self._seize_financially()

    def _squeezed(self) -> np.ndarray:
        """Syndicates reached by a financial squeeze (all, or those in its targets)."""
        st, cs = self.syndicates, self.compounds
        hit = st.alive.copy()
        if self.policy.squeeze_targets is not None:
            c = cs.live()
            inside = np.isin(cs.jurisdiction[c], self.policy.squeeze_targets)
            hit &= np.bincount(cs.owner[c][inside], minlength=len(st.alive)) > 0
        return hit

    def _frozen_share(self, c: np.ndarray) -> np.ndarray | float:
        if self.policy.revenue_frozen <= 0:
            return 0.0
        return self.policy.revenue_frozen * self._squeezed()[self.compounds.owner[c]]

    def _seize_financially(self) -> None:
        rate = self.policy.seizure_rate
        if rate <= 0:
            return
        st = self.syndicates
        hit = self._squeezed()
        seized = np.where(hit, rate * np.maximum(st.capital, 0.0), 0.0)
        st.capital -= seized
        self.flows["seized"] += float(seized.sum())

    def enforce(self) -> None:
        """Agencies spend their raid budgets on the compounds they have seen."""
        p, cs, st = self.p, self.compounds, self.syndicates
        c = cs.live()
        j = cs.jurisdiction[c]
        n, t = self.world.n, self.steps
        cap, budget = self._capacity, self._raid_budget
        # What agencies know: the compounds present a detection lag ago.
        seen_at = max(t - 1 - p.detection_lag, 0)
        seen = self.rec["compounds"][seen_at].astype(float)
        arrived = cs.arrived[c]
        visible = arrived <= seen_at
        if self.policy.intel.any():
            new = (t - arrived) < p.intel_window
            anticipated = p.raid_rate * p.intel_boost * cap[j] * (self.policy.intel[j] & new)
        else:
            anticipated = np.zeros(len(c))  # what the product above is without shared intel
        pressure = self.pressure[j]
        p_raid = enforcement.raid_probability(
            pressure, budget[j], seen[j], visible, anticipated, raid_rate=p.raid_rate
        )
        w = cs.workers[c]
        out = enforcement.raid(
            w, p_raid, self._protection[j], pressure,
            self.stream_raids.draws(t, cs.uid[c]),
            protection_effect=p.protection_effect, raid_shrink=p.raid_shrink,
            raid_close_rate=p.raid_close_rate,
        )
        w -= out.rescued
        cs.workers[c] = w
        j_raided = j[out.raided]
        self.month_raids = np.bincount(j_raided, minlength=n)
        rescued_h = np.bincount(j, weights=out.rescued, minlength=n)
        self.month_rescued = rescued_h.astype(np.int64)
        self.worker_flows["rescued"] += int(out.rescued.sum())
        self.labour.remove(rescued_h, "rescued")
        # Each successful raid seizes a share of the owner's capital.
        owner = cs.owner[c]
        wins = np.bincount(owner[out.succeeded], minlength=len(st.alive))
        seized = np.maximum(st.capital, 0.0) * (1.0 - (1.0 - p.seize_share) ** wins)
        st.capital -= seized
        self.flows["seized"] += float(seized.sum())
        # Evidence for learning: raids seen per living syndicate × jurisdiction, and exposure
        # (every compound belongs to a living syndicate), and their totals per jurisdiction.
        s = st.live()
        if len(s) and s[-1] - s[0] + 1 == len(s):  # contiguous slots (the usual case)
            row_of_owner = owner - s[0]
        else:
            row = np.full(len(st.alive), -1, dtype=np.int64)
            row[s] = np.arange(len(s))
            row_of_owner = row[owner]
        # Only the jurisdictions hosting a compound have any (the others' evidence is 0).
        all_exposure = self.compounds_by_jurisdiction()  # compounds per host (none closed yet)
        cols = all_exposure.nonzero()[0]
        col_of = np.zeros(n, dtype=np.int64)
        col_of[cols] = np.arange(len(cols))
        cell = row_of_owner * len(cols) + col_of[j]
        size = len(s) * len(cols)
        self._learn_rows, self._learn_cols = s, cols
        self._own_raids = np.bincount(cell[out.raided], minlength=size).reshape(len(s), len(cols))
        self._own_exposure = np.bincount(cell, minlength=size).reshape(len(s), len(cols))
        self._all_raids = self.month_raids[cols]
        self._all_exposure = all_exposure[cols]
        if self.record_events:
            raided = out.raided.nonzero()[0]
            iso = self.iso3
            hosts = [iso[h] for h in j_raided.tolist()]
            kinds = [RAID_KINDS[ok] for ok in out.succeeded[raided].tolist()]
            self.events.extend(zip(repeat(t), kinds, owner[raided].tolist(), hosts, hosts,
                                   out.rescued[raided].tolist(), strict=False))
        st.lost[:] = 0
        self._close_many(c[out.closed], "closure")
        self._close_many(c[~out.closed & (w < p.min_workforce)], "closure")

    def _close_many(self, slots: np.ndarray, reason: str) -> None:
        """Close open compounds ``slots`` (in slot order) as :meth:`_close` would one by one.

        Removals take every host's mix in proportion, so the workers of all of a host's
        closing compounds leave it in one removal.
        """
        if len(slots) == 0:
            return
        cs, st = self.compounds, self.syndicates
        owner, j, w = cs.owner[slots], cs.jurisdiction[slots], cs.workers[slots]
        self.worker_flows["released"] += int(w.sum())
        self.labour.remove(np.bincount(j, weights=w, minlength=self.world.n), "released")
        cs.workers[slots] = 0
        np.add.at(st.lost, owner, 1)
        if self.record_events:
            t, iso = self.steps, self.iso3
            self.events.extend(zip(repeat(t), repeat(reason), owner.tolist(),
                                   [iso[h] for h in j.tolist()], repeat(""), w.tolist(),
                                   strict=False))
        agents = self.compound_agents
        for slot in slots.tolist():
            agents[slot].close()

    def _close(self, slot: int, reason: str) -> None:
        cs, st = self.compounds, self.syndicates
        owner, j, w = int(cs.owner[slot]), int(cs.jurisdiction[slot]), int(cs.workers[slot])
        self.worker_flows["released"] += w
        self.labour.remove_one(j, w, "released")
        cs.workers[slot] = 0
        st.lost[owner] += 1
        self.log_event(reason, owner, self.iso3[j], "", w)
        self.compound_agents[slot].close()

    def learn(self) -> None:
        """Syndicates update perceived risk from their own and observed raids, with decay."""
        p, st = self.p, self.syndicates
        s = self._learn_rows  # the living syndicates (rows of the evidence of enforce)
        w = p.observe_weight
        # own + w × (all − own), for the living syndicates only (freed rows are reset on reuse)
        hits = (1.0 - w) * self._own_raids
        hits += w * self._all_raids
        exposure = (1.0 - w) * self._own_exposure
        exposure += w * self._all_exposure
        exposure -= hits
        # Jurisdictions without a compound only decay (their new evidence is exactly 0).
        cols = self._learn_cols
        # The stores hold evidence / scale: decaying all of it is one multiplication of
        # the scale, and only this month's new evidence is written (divided by the scale).
        scale = self._evidence_scale * p.memory_decay
        if scale < EVIDENCE_RESCALE:  # renormalise (and memory_decay 0) before it underflows
            st.hits *= scale
            st.safe *= scale
            scale = 1.0
        self._evidence_scale = scale
        if scale != 1.0:
            hits /= scale
            exposure /= scale
        if len(s) and s[-1] - s[0] + 1 == len(s):  # contiguous slots: update in place
            rows = slice(int(s[0]), int(s[-1]) + 1)
            st.hits[rows, cols] += hits
            st.safe[rows, cols] += exposure
        else:
            st.hits[np.ix_(s, cols)] += hits
            st.safe[np.ix_(s, cols)] += exposure

    def _landscape(self) -> choice.Landscape:
        w = self.world
        return choice.Landscape(
            static=self._static,
            ties=self.gov["criminal_ties"],
            pressure=self.pressure,
            compounds=self.compounds_by_jurisdiction().astype(float),
            distance_km=w.distance_km,
            labour=self._labour_index(),
            per_km=self._per_km,
        )

    def _labour_index(self) -> np.ndarray:
        """Log of the cost of a recruit into every host relative to a full, free pool."""
        if self._land_labour is None:
            p = self.p
            top = p.pool_cost_cap * (1.0 + p.friction_cost_share)
            cost = np.clip(self.labour.unit_cost() / max(p.recruit_cost_usd, 1e-9), 1.0, top)
            cost[np.isnan(cost)] = 1.0  # as nan_to_num (nan 0, inf top) before the clip
            self._land_labour = np.log(cost)
        return self._land_labour

    def _choose(
        self, synd: np.ndarray, origin: np.ndarray, exclude_origin: bool, uniforms: np.ndarray
    ) -> np.ndarray:
        p, st = self.p, self.syndicates
        u = choice.utilities(
            self._landscape(),
            origin,
            self.perceived_risk(synd),
            st.tie_affinity[synd],
            beta_ties=p.beta_ties,
            beta_agglomeration=p.beta_agglomeration,
            beta_pressure=p.beta_pressure,
            beta_risk=p.beta_risk,
            beta_distance=p.beta_distance,
            tie_discount=p.tie_discount,
            exit_utility=p.exit_utility,
            exclude_origin=exclude_origin,
            beta_labour=p.beta_labour,
        )
        return choice.draw_from_utilities(u, uniforms)

    def decide(self) -> None:
        """Forced relocations out of risky places, then expansions by profitable syndicates."""
        self.relocate()
        self.expand()

    def relocate(self) -> None:
        """Compounds whose owner finds their jurisdiction too risky (or loss-making) move."""
        p, cs, st = self.p, self.compounds, self.syndicates
        c = cs.live()
        if len(c) == 0:
            return
        owner, j = cs.owner[c], cs.jurisdiction[c]
        risk = self.perceived_risk(owner, j)
        losing = self._profit_c[c] < 0
        unhappy = (risk > st.tolerance[owner]) | losing
        move, t = self.stream_move, self.steps
        uids = cs.uid[c]
        movers = c[unhappy & (move.uniform(t, MOVE_UNHAPPY, uids) < p.relocation_rate)]
        if len(movers) == 0:
            return
        ids = cs.uid[movers]
        dest = self._choose(cs.owner[movers], cs.jurisdiction[movers], exclude_origin=True,
                            uniforms=move.uniform(t, MOVE_WHERE, ids))
        # What each mover would carry (drawn for all of them: one draw per compound).
        carry = binomial_inverse(move.uniform(t, MOVE_CARRY, ids), cs.workers[movers],
                                 p.relocation_carry)
        iso = self.iso3
        for slot, d, carried in zip(movers.tolist(), dest.tolist(), carry.tolist(), strict=True):
            src = int(cs.jurisdiction[slot])
            owner_s = int(cs.owner[slot])
            if d == self.world.n:
                self._close(slot, "abandoned")
                continue
            cost = self._relocation_cost(src, d)
            if st.capital[owner_s] < cost:
                self._close(slot, "abandoned")
                continue
            st.capital[owner_s] -= cost
            self.flows["spent_relocating"] += cost
            before = int(cs.workers[slot])
            self.worker_flows["released"] += before - carried
            self.labour.remove_one(src, before - carried, "released")
            self.labour.move(src, d, carried)
            cs.workers[slot] = carried
            self.compound_agents[slot].relocate(self.cells[d])
            self.log_event("relocation", owner_s, iso[src], iso[d], carried)
            if carried < p.min_workforce:
                self._close(slot, "closure")

    def _relocation_cost(self, src: int, dst: int) -> float:
        p, w = self.p, self.world
        km = w.distance_km[src, dst]
        ties = self.gov["criminal_ties"][dst]
        per_km = p.relocation_cost_per_1000km_usd * (1.0 - p.tie_discount * ties)
        return p.setup_cost_usd + per_km * km / 1000.0

    def _homes(self, synd: np.ndarray) -> np.ndarray:
        """Jurisdiction holding most of each (distinct) syndicate's workers (or its last home)."""
        cs, st = self.compounds, self.syndicates
        c = cs.live()
        n = self.world.n
        m = len(synd)
        owner = cs.owner[c]
        if m and synd[-1] - synd[0] + 1 == m:  # contiguous slots (the usual case)
            r = owner - synd[0]
            mine = (r >= 0) & (r < m)
        else:
            row = np.full(len(st.alive), -1, dtype=np.int64)
            row[synd] = np.arange(m)
            r = row[owner]
            mine = r >= 0
        j = cs.jurisdiction[c]
        # Only the hosts of a compound can hold workers: tally over those columns (in
        # increasing order, so the first maximum is the same host as over all columns).
        cols = np.bincount(j, minlength=n).nonzero()[0]
        col_of = np.zeros(n, dtype=np.int64)
        col_of[cols] = np.arange(len(cols))
        k = len(cols)
        if mine.all():
            cell, workers = r * k + col_of[j], cs.workers[c]
        else:
            cell, workers = r[mine] * k + col_of[j[mine]], cs.workers[c][mine]
        held = np.bincount(cell, weights=workers, minlength=m * k).reshape(m, k)
        has = held.sum(axis=1) > 0
        if has.all():
            st.home[synd] = cols[np.argmax(held, axis=1)]
        elif has.any():
            st.home[synd[has]] = cols[np.argmax(held[has], axis=1)]
        return st.home[synd]

    def _worker_margin(self, synd: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Expected net profit per worker-month of syndicates ``synd`` in hosts ``j``.

        ``m = (ρ × (1 − disruption × P_j) × I_j × (1 − frozen_s − bribe_share × π_j)
        − cost_per_worker) × (1 − λ_s)`` at this month's revenue per worker ``ρ``.
        """
        p = self.p
        if self.policy.revenue_frozen > 0:
            kept = self._kept_share[j] - self._frozen_share_synd(synd)  # after bribes, freezes
            net = self._gross_host[j] * kept - p.cost_per_worker_usd
        else:  # the margin before laundering is one value per host (see operate)
            net = self._net_host[j]
        return np.where(net > 0, net * (1.0 - self._launder_share[synd]), net)

    def _frozen_share_synd(self, synd: np.ndarray) -> np.ndarray | float:
        if self.policy.revenue_frozen <= 0:
            return 0.0
        return self.policy.revenue_frozen * self._squeezed()[synd]

    def expand(self) -> None:
        """Syndicates open a site where its expected profit beats keeping the capital.

        ``ROI = (L × (m × payback − c) − setup) / (setup + L × c)`` with ``m`` the net
        margin per worker-month at home, ``c`` the cost of a recruit there and
        ``L = compound_size_mean × fill`` the workforce the pools can supply (share
        of last month's demand met); expansion probability ``expansion_rate ×
        clip(ROI, 0, 1)``, at most one a month.
        """
        p, st = self.p, self.syndicates
        s = st.live()
        if len(s) == 0:
            return
        homes = self._homes(s)
        margin = self._worker_margin(s, homes)
        cost = self.labour.unit_cost()[homes]
        workforce = p.compound_size_mean * self.labour.host_fill[homes]
        invest = p.setup_cost_usd + workforce * cost
        with np.errstate(divide="ignore", invalid="ignore"):
            roi = (workforce * (margin * p.payback_months - cost) - p.setup_cost_usd) / invest
        # As nan_to_num (nan and -inf 0, inf huge) then a clip to [0, 1]: fmax drops NaN.
        keen = np.minimum(np.fmax(roi, 0.0), 1.0)
        can = st.capital[s] >= 2 * p.setup_cost_usd
        u = self.stream_move.uniform(self.steps, EXPAND_PICK, st.uid[s])
        pick = can & (u < p.expansion_rate * keen)
        if pick.any():
            self._open_chosen(s[pick], EXPANSION, "expansion", EXPAND_WHERE, homes[pick])

    def _open_chosen(
        self, synd: np.ndarray, origin_kind: int, kind: str, draw: int,
        homes: np.ndarray | None = None,
    ) -> None:
        """Open one compound per (distinct) syndicate at a chosen destination, staffed from
        the pools. ``draw``: the move stream's draw for the choice; ``homes``: the
        syndicates' :meth:`_homes`, if known."""
        p, st = self.p, self.syndicates
        if homes is None:
            homes = self._homes(synd)
        uniforms = self.stream_move.uniform(self.steps, draw, st.uid[synd])
        dest = self._choose(synd, homes, exclude_origin=False, uniforms=uniforms)
        n = self.world.n
        go = dest < n  # the outside option: no destination worth it, keep the money
        if not go.any():
            return
        # One offer for all new sites of the batch: the pools share among them.
        demand = np.bincount(dest[go], minlength=n) * float(p.new_compound_workers)
        fill, unit = self.labour.offer(demand)
        synd, homes, dest = synd[go], homes[go], dest[go]
        workers = np.floor(p.new_compound_workers * fill[dest]).astype(np.int64)
        # Sites the pools can staff (a cost is needed there only) and their owners can pay.
        staffed = workers >= p.min_workforce
        with np.errstate(invalid="ignore"):
            hire = np.where(staffed, workers * unit[dest], 0.0)
        outlay = p.setup_cost_usd + hire
        ok = staffed & ~(st.capital[synd] < outlay)
        if not ok.any():
            return
        synd, homes, dest = synd[ok], homes[ok], dest[ok]
        workers, hire, outlay = workers[ok], hire[ok], outlay[ok]
        st.capital[synd] -= outlay  # one site per syndicate
        f = self.flows
        for h in hire.tolist():  # in order, as the running totals always were
            f["spent_opening"] += p.setup_cost_usd
            f["spent_recruiting"] += h
        self.worker_flows["recruited"] += int(workers.sum())
        self._open_compounds(dest, synd, workers, origin_kind, self._targets(len(synd)))
        if self.record_events:
            iso = self.iso3
            t = self.steps
            self.events.extend(zip(repeat(t), repeat(kind), synd.tolist(),
                                   [iso[h] for h in homes.tolist()],
                                   [iso[d] for d in dest.tolist()], workers.tolist(),
                                   strict=False))
        self.labour.take(np.bincount(dest, weights=workers, minlength=n))

    def regenerate(self) -> None:
        """Hit syndicates re-establish or split; only lost capital ends one."""
        p, st, cs = self.p, self.syndicates, self.compounds
        s = st.live()
        counts = np.bincount(cs.owner[cs.live()], minlength=len(st.alive))
        # Syndicates that lost a large share of their compounds this month may split.
        had = counts[s] + st.lost[s]
        hit = s[(had >= 2) & (counts[s] >= 2) & (st.lost[s] >= p.split_threshold * had)]
        u = self.stream_move.uniform(self.steps, SPLIT, st.uid[hit])
        for parent in hit[u < p.split_prob].tolist():
            self._split(parent)
        # Capital gone: the organisation ends and its compounds close.
        for dead in s[st.capital[s] < p.min_capital_usd].tolist():
            for slot in np.flatnonzero(cs.alive & (cs.owner == dead)).tolist():
                self._close(slot, "closure")
            self.flows["capital_of_dissolved"] += float(st.capital[dead])
            self.log_event("syndicate_end", dead, "", "", 0)
            self.syndicate_agents[dead].dissolve()
        # Survivors without compounds re-establish when they can afford it.
        s = st.live()
        counts = np.bincount(cs.owner[cs.live()], minlength=len(st.alive))
        empty = s[(counts[s] == 0) & (st.capital[s] >= 2 * p.setup_cost_usd)]
        if len(empty):
            self._open_chosen(empty, EXPANSION, "reestablish", REESTABLISH_WHERE)

    def _split(self, parent: int) -> None:
        st, cs = self.syndicates, self.compounds
        child = int(st.add(1)[0])
        st.uid[child] = self._new_uids("syndicate", 1)[0]
        for name in ("tolerance", "tie_affinity", "laundering_leak", "home"):
            getattr(st, name)[child] = getattr(st, name)[parent]
        st.hits[child] = st.hits[parent]
        st.safe[child] = st.safe[parent]
        half = st.capital[parent] / 2.0
        st.capital[parent] -= half
        st.capital[child] = half
        if len(self._margin) < len(st.alive):  # the store grew: keep per-slot arrays aligned
            grow = len(st.alive) - len(self._margin)
            self._margin = np.pad(self._margin, (0, grow))
            self._launder_share = np.pad(self._launder_share, (0, grow))
        self._margin[child] = self._margin[parent]
        self._launder_share[child] = self._launder_share[parent]
        self.syndicate_agents[child] = Syndicate(self, child)
        mine = np.flatnonzero(cs.alive & (cs.owner == parent))
        moved = mine[1::2]
        cs.owner[moved] = child
        self.log_event("split", parent, "", str(child), len(moved))

    def recruit(self) -> None:
        """Compounds grow while a recruit pays back and the pools can supply one.

        ``keen_c = clip(m × payback / c_h − 1, 0, 1)``; ``want_c = min(target − w,
        ceil(recruit_rate × w × keen_c))``; the pools meet a share of each host's
        demand, at the host's cost per recruit; the budget scales what is hired.
        """
        p, cs, st = self.p, self.compounds, self.syndicates
        c = cs.live()
        if len(c) == 0:
            self.labour.end_month(self.policy.pool_factor)
            return
        n, lab = self.world.n, self.labour
        j, owner, w = cs.jurisdiction[c], cs.owner[c], cs.workers[c]
        cost_now = lab.unit_cost()[j]
        margin = self._worker_margin(owner, j)
        with np.errstate(divide="ignore", invalid="ignore"):
            keen = np.minimum(np.fmax(margin * p.payback_months / cost_now - 1.0, 0.0), 1.0)
        gap = np.maximum(cs.target[c] - w, 0)
        want = np.minimum(gap, np.ceil(p.recruit_rate * w * keen))
        demand = np.bincount(j, weights=want, minlength=n)
        fill, unit = lab.offer(demand)
        avail = np.floor(want * fill[j])
        price = np.where(np.isfinite(unit), unit, 0.0)[j]
        size = len(st.alive)
        need = np.bincount(owner, weights=avail * price, minlength=size)
        budget = p.recruit_budget_share * np.maximum(st.capital, 0.0)
        # Recruits that cost nothing need no budget: scale 1 where nothing is owed.
        scale = np.divide(budget, need, out=np.ones(size), where=need > 0)
        np.minimum(scale, 1.0, out=scale)
        got = np.floor(avail * scale[owner]).astype(np.int64)
        spent = np.bincount(owner, weights=got * price, minlength=size)
        st.capital -= spent
        self.flows["spent_recruiting"] += float(spent.sum())
        w = w + got  # the live compounds' workforce, kept here and written back
        self.worker_flows["recruited"] += int(got.sum())
        lab.take(np.bincount(j, weights=got, minlength=n))
        gone = self._attrition.inverse(self.stream_recruit.uniform(self.steps, ATTRITION,
                                                                   cs.uid[c]), w)
        w -= gone
        cs.workers[c] = w
        self.worker_flows["released"] += int(gone.sum())
        lab.remove(np.bincount(j, weights=gone, minlength=n), "released")
        self._close_many(c[w < p.min_workforce], "closure")  # all of c is still open
        lab.end_month(self.policy.pool_factor)

    def adapt(self) -> None:
        """Pressure moves toward what agencies see and can do, plus scenario shocks."""
        p = self.p
        self._observed.append(self.workers_by_jurisdiction())
        observed = self._observed[0].astype(float)
        # Victim states press the host: decayed sum of weighted foreign losses.
        self.political_stock = (
            p.political_memory * self.political_stock + self.month_revenue * self.political_weight
        )
        political = enforcement.political_reaction(
            self.political_stock, self._protection, political_gain=p.political_gain,
            political_scale_usd=p.political_scale_usd,
            political_steepness=p.political_steepness, protection_effect=p.protection_effect,
        )
        target = enforcement.target_pressure(
            observed,
            self._capacity,
            self._protection,
            self.policy.shock,
            political,
            baseline_pressure=p.baseline_pressure,
            capacity_pressure=p.capacity_pressure,
            response_gain=p.response_gain,
            response_scale_workers=p.response_scale_workers,
            protection_effect=p.protection_effect,
        )
        self.pressure = enforcement.adapt(self.pressure, target, p.pressure_adapt_rate)

    def collect(self) -> None:
        """Record this month's value of every declared series (sim.core.series)."""
        t = self.steps
        for s in SERIES:
            self.rec[s.name][t] = s.read(self)
        for s in SOURCE_SERIES:
            self.src_rec[s.name][t] = s.read(self)
        self.datacollector.collect(self)

    # --- accounting (used by tests and the summary) --------------------------------------

    def dates(self) -> np.ndarray:
        """Calendar month of every step."""
        return step_dates(self.start, self.horizon)

    def total_capital(self) -> float:
        """Capital held by living syndicates."""
        st = self.syndicates
        return float(st.capital[st.alive].sum())
