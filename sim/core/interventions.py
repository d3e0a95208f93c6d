"""Policy levers as intervention objects, scheduled in calendar months.

One class per kind of lever. A scenario lists them under ``events``; each entry
names its ``kind`` (the registry key below) and the class's fields. Adding a
lever means adding a class here and a YAML entry, never an ``if`` in the model.

Each step the model resets the policy state (shocks, infrastructure, shared
intelligence, extra seizures) and every active intervention writes into it
through :meth:`Intervention.apply`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sim.core.errors import ConfigError, check_month, check_value
from sim.core.timeline import month_index

if TYPE_CHECKING:
    from sim.core.model import ScamModel


def _f(default: Any, lo: float | None = None, hi: float | None = None, doc: str = "") -> Any:
    rng = (lo, hi) if lo is not None else None
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"range": rng, "doc": doc})
    return field(default=default, metadata={"range": rng, "doc": doc})


@dataclass
class Intervention:
    """Base class: a lever active from ``start`` for ``duration_months`` (0 = until the end)."""

    kind: ClassVar[str] = ""
    start: str = _f("2025-01", doc="first calendar month, YYYY-MM")
    duration_months: int = _f(12, 0, 1200, "months active; 0 means until the end of the run")
    label: str = _f("", doc="text shown on plots; defaults to the kind and targets")

    start_step: int = field(default=0, init=False, repr=False)
    target_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, int), init=False, repr=False)
    started: bool = field(default=False, init=False, repr=False)

    def bind(self, model: ScamModel) -> None:
        """Resolve calendar months and target names against the model's world."""
        self.start_step = month_index(model.start, self.start)
        self.target_idx = model.world.resolve(self.targets_spec(), model.p)
        self.started = False
        self.reset()

    def reset(self) -> None:
        """Forget what a previous run did (levers may be reused across runs)."""

    def targets_spec(self) -> list[str]:
        """Names of the targeted jurisdictions or groups (empty: the lever is global)."""
        return list(getattr(self, "targets", []))

    def is_active(self, step: int) -> bool:
        """Whether the lever acts on this step."""
        if step < self.start_step:
            return False
        return self.duration_months == 0 or step < self.start_step + self.duration_months

    def step(self, model: ScamModel) -> None:
        """Apply the lever if active, logging its start once."""
        if not self.is_active(model.steps):
            return
        if not self.started:
            self.started = True
            self.on_start(model)
        self.apply(model)

    def on_start(self, model: ScamModel) -> None:
        """Record the start of the lever in the event log."""
        to = ",".join(model.world.iso3[self.target_idx]) if len(self.target_idx) else "all"
        model.log_event("intervention:" + self.kind, -1, "", to, 0)

    def apply(self, model: ScamModel) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def displacement_targets(self) -> np.ndarray | None:
        """Jurisdictions this lever cracks down on, for the displacement metrics (R of the WDQ).

        None (the default) means the lever is not a crackdown: it sets the clock of
        the before/after windows only when a scenario has no crackdown at all.
        Call after the run (levers that choose their targets as they go know them then).
        """
        return None

    def record(self) -> dict[str, Any]:
        """What the run summary records of this lever: kind, label, timing and targets."""
        return {
            "kind": self.kind,
            "label": self.describe(),
            "start": self.start,
            "duration_months": self.duration_months,
            "targets": self.targets_spec(),
        }

    def describe(self) -> str:
        """Short human-readable description for plots and reports (the figure label)."""
        if self.label:
            return self.label
        targets = self.targets_spec()
        what = ",".join(targets[:4]) + ("…" if len(targets) > 4 else "")
        return f"{self.kind} {what}".strip()


@dataclass
class Crackdown(Intervention):
    """A pressure shock in the targeted jurisdictions (raids, arrests, border closures)."""

    kind: ClassVar[str] = "crackdown"
    targets: list[str] = _f([], doc="ISO3 codes or group names")
    intensity: float = _f(
        0.6, 0.0, 10.0, "pressure added in each target (in total if split); pressure caps at 1"
    )
    split_effort: bool = _f(False, doc="divide intensity across the targets (equal total effort)")
    protection_cut: float = _f(
        0.5, 0.0, 1.0, "share of local protection overcome (political will, foreign pressure)"
    )

    def displacement_targets(self) -> np.ndarray:
        """The crackdown's targets."""
        return self.target_idx

    def apply(self, model: ScamModel) -> None:
        """Add the pressure shock to the targets and override part of their protection."""
        k = max(len(self.target_idx), 1)
        share = self.intensity / k if self.split_effort else self.intensity
        model.policy.shock[self.target_idx] += share
        cut = model.policy.protection_cut
        cut[self.target_idx] = np.maximum(cut[self.target_idx], self.protection_cut)


@dataclass
class InfrastructureCutoff(Intervention):
    """Power, internet and fuel cut to compound areas (Thailand, February 2025)."""

    kind: ClassVar[str] = "infrastructure_cutoff"
    targets: list[str] = _f([], doc="ISO3 codes or group names")
    severity: float = _f(0.5, 0.0, 1.0, "share of compound operations made impossible")

    def apply(self, model: ScamModel) -> None:
        """Lower infrastructure availability in the targets."""
        model.policy.infrastructure[self.target_idx] *= 1.0 - self.severity


@dataclass
class Cooperation(Intervention):
    """A cooperation bloc: members share intelligence and raise pressure together."""

    kind: ClassVar[str] = "cooperation"
    targets: list[str] = _f([], doc="member states: ISO3 codes or group names")
    pressure_uplift: float = _f(0.1, 0.0, 1.0, "pressure added in every member")
    intel_sharing: bool = _f(True, doc="members anticipate arriving compounds")

    def apply(self, model: ScamModel) -> None:
        """Raise pressure in members and switch on shared intelligence."""
        model.policy.shock[self.target_idx] += self.pressure_uplift
        if self.intel_sharing:
            model.policy.intel[self.target_idx] = True


@dataclass
class CapacityBuilding(Intervention):
    """Raise enforcement capacity and regulation in (vulnerable) destinations, lastingly."""

    kind: ClassVar[str] = "capacity_building"
    targets: list[str] = _f(["vulnerable:25"], doc="ISO3 codes, groups or 'vulnerable:N'")
    capacity_gain: float = _f(0.3, 0.0, 1.0, "enforcement capacity added when fully built")
    regulation_gain: float = _f(0.2, 0.0, 1.0, "regulatory weakness removed when fully built")
    ramp_months: int = _f(12, 1, 240, "months to build it up; the gain stays afterwards")

    def apply(self, model: ScamModel) -> None:
        """Build capacity up linearly over the ramp; it never falls back."""
        progress = min(1.0, (model.steps - self.start_step + 1) / self.ramp_months)
        idx = self.target_idx
        pol = model.policy
        pol.capacity_gain[idx] = np.maximum(pol.capacity_gain[idx], progress * self.capacity_gain)
        pol.weakness_cut[idx] = np.maximum(pol.weakness_cut[idx], progress * self.regulation_gain)


@dataclass
class FinancialSqueeze(Intervention):
    """Crypto and laundering seizures: syndicates lose capital every month."""

    kind: ClassVar[str] = "financial_squeeze"
    targets: list[str] = _f([], doc="empty: all syndicates; else those operating in the targets")
    seizure_rate: float = _f(0.1, 0.0, 1.0, "share of capital seized each month")
    laundering_increase: float = _f(
        0.2, 0.0, 0.9, "extra share of profit lost laundering (squeezed syndicates)"
    )
    revenue_frozen: float = _f(
        0.3, 0.0, 1.0, "share of victims' payments frozen in crypto before the syndicate cashes it"
    )

    def apply(self, model: ScamModel) -> None:
        """Set this month's seizure, freezing and laundering losses."""
        pol = model.policy
        pol.seizure_rate = max(pol.seizure_rate, self.seizure_rate)
        pol.revenue_frozen = max(pol.revenue_frozen, self.revenue_frozen)
        pol.laundering_extra = max(pol.laundering_extra, self.laundering_increase)
        # Targets named but absent from this world: nobody is squeezed (not everybody).
        pol.squeeze_targets = self.target_idx if self.targets else None


@dataclass
class FollowTheActivity(Intervention):
    """Whack-a-mole: every few months, a unilateral crackdown where activity is largest now."""

    kind: ClassVar[str] = "follow_the_activity"
    interval_months: int = _f(12, 1, 240, "months between successive crackdowns")
    crackdown_months: int = _f(12, 1, 240, "how long each crackdown lasts")
    intensity: float = _f(0.6, 0.0, 10.0, "pressure added in the chosen jurisdiction")
    protection_cut: float = _f(0.6, 0.0, 1.0, "share of local protection overcome")

    current: list[int] = field(default_factory=list, init=False, repr=False)
    since: list[int] = field(default_factory=list, init=False, repr=False)

    def reset(self) -> None:
        """Forget the crackdowns chosen in a previous run."""
        self.current = []
        self.since = []

    def displacement_targets(self) -> np.ndarray:
        """The first jurisdiction it cracked down on (later ones follow the displacement)."""
        return np.array(self.current[:1], dtype=np.int64)

    def on_start(self, model: ScamModel) -> None:
        """Nothing to log yet: each crackdown is logged when chosen."""

    def apply(self, model: ScamModel) -> None:
        """Pick the current largest host at each interval, then keep cracking down on it."""
        t = model.steps - self.start_step
        if t % self.interval_months == 0:
            j = int(np.argmax(model.workers_by_jurisdiction()))
            self.current.append(j)
            self.since.append(model.steps)
            model.log_event("intervention:crackdown", -1, "", str(model.world.iso3[j]), 0)
        for j, s in zip(self.current, self.since, strict=True):
            if model.steps < s + self.crackdown_months:
                model.policy.shock[j] += self.intensity
                cut = model.policy.protection_cut
                cut[j] = max(cut[j], self.protection_cut)


@dataclass
class AwarenessCampaign(Intervention):
    """Awareness and exit controls in source countries: fewer people can be lured away."""

    kind: ClassVar[str] = "awareness_campaign"
    targets: list[str] = _f([], doc="source countries: ISO3 codes or group names")
    reach: float = _f(0.5, 0.0, 1.0, "share of the recruitable pool the campaign protects")

    def displacement_targets(self) -> None:
        """Not a crackdown: it acts on source countries, not on hosts."""
        return None

    def describe(self) -> str:
        """Figure label: the sources and the reach."""
        if self.label:
            return self.label
        return f"awareness campaign {','.join(self.targets_spec()[:4])} (reach {self.reach:g})"

    def apply(self, model: ScamModel) -> None:
        """Shrink the target sources' recruitable pools while active."""
        model.policy.pool_factor[self.target_idx] *= 1.0 - self.reach


@dataclass
class VisaTightening(Intervention):
    """Visa requirements between chosen countries: travel friction from sources to hosts rises."""

    kind: ClassVar[str] = "visa_tightening"
    targets: list[str] = _f([], doc="source countries whose nationals need a visa")
    hosts: list[str] = _f([], doc="destination countries imposing it (empty: all)")
    friction: float = _f(1.0, 0.0, 1.0, "travel friction set at least to this (1 = visa required)")

    host_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, int), init=False, repr=False)

    def bind(self, model: ScamModel) -> None:
        """Resolve the sources (targets) and the hosts against the model's world."""
        super().bind(model)
        specs = self.hosts or ["all"]
        self.host_idx = model.world.resolve(specs, model.p)

    def displacement_targets(self) -> None:
        """Not a crackdown: it changes where workers can be brought from."""
        return None

    def describe(self) -> str:
        """Figure label: who needs a visa where."""
        if self.label:
            return self.label
        hosts = ",".join(self.hosts[:4]) or "all"
        return f"visa tightening {','.join(self.targets_spec()[:4])} -> {hosts}"

    def record(self) -> dict[str, Any]:
        """Also record the hosts."""
        return {**super().record(), "hosts": list(self.hosts)}

    def apply(self, model: ScamModel) -> None:
        """Raise the friction of the (source, host) pairs to at least ``friction``."""
        pol = model.policy
        if pol.friction is None:
            pol.friction = np.array(model.world.travel_friction, float, copy=True)
        block = np.ix_(self.target_idx, self.host_idx)
        pol.friction[block] = np.maximum(pol.friction[block], self.friction)


REGISTRY: dict[str, type[Intervention]] = {
    cls.kind: cls
    for cls in (
        Crackdown,
        InfrastructureCutoff,
        Cooperation,
        CapacityBuilding,
        FinancialSqueeze,
        FollowTheActivity,
        AwarenessCampaign,
        VisaTightening,
    )
}


def _check_value(where: str, f: dataclasses.Field, value: Any) -> Any:
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    if isinstance(default, list):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(where, f"must be a list of names, got {value!r}")
        return list(value)
    lo, hi = f.metadata.get("range") or (None, None)
    value = check_value(where, value, type(default), lo, hi)
    return check_month(where, value) if f.name == "start" else value


def build_intervention(spec: dict[str, Any], where: str) -> Intervention:
    """Create and validate one intervention from its config entry."""
    if not isinstance(spec, dict):
        raise ConfigError(where, f"must be a mapping with a 'kind', got {spec!r}")
    spec = dict(spec)
    kind = spec.pop("kind", None)
    if kind not in REGISTRY:
        raise ConfigError(f"{where}.kind", f"unknown kind {kind!r}; allowed: {', '.join(REGISTRY)}")
    cls = REGISTRY[kind]
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for key, value in spec.items():
        if key not in fields:
            raise ConfigError(
                f"{where}.{key}", f"unknown key for {kind}; allowed: {', '.join(fields)}"
            )
        kwargs[key] = _check_value(f"{where}.{key}", fields[key], value)
    return cls(**kwargs)
