"""Run configuration: composition from ``configs/`` and validation, without Hydra.

The Hydra command line and the Python API compose the same plain mapping::

    seed, steps, start, …: every setting of sim.core.settings.Settings
    params:   every field of sim.params.Params (scenario values over defaults)
    world:    name, table, jurisdictions, initial_presence, groups
    scenario: name, description, events (list of intervention entries)

:func:`validate` turns it into a :class:`RunSpec` or raises :class:`ConfigError`
with one line naming the key and what is allowed. Nothing is run or written
before validation has passed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from sim.core.errors import ConfigError, check_month, check_value
from sim.core.interventions import Intervention, build_intervention
from sim.core.params import PARAM_NAMES, Params
from sim.core.settings import DEFAULTS, setting_info
from sim.core.world import World
from sim.resources import configs_dir, results_root

# Top-level settings (sim.core.settings): (type, min, max), and their defaults.
_KINDS = {"int": int, "float": float, "bool": bool, "str": str, "month": str, "path": str,
          "name": str}
TOP_LEVEL: dict[str, tuple[type, Any, Any]] = {
    info["name"]: (_KINDS[info["kind"]], info["min"], info["max"]) for info in setting_info()
}


def top_defaults() -> dict[str, Any]:
    """Default of every setting, with ``results_dir`` resolved as Hydra would."""
    return {**DEFAULTS, "results_dir": str(results_root())}

WORLD_KEYS = ("name", "table", "jurisdictions", "initial_presence", "groups")
SCENARIO_KEYS = ("name", "description", "events")
IGNORED_KEYS = ("hydra",)


@dataclass
class RunSpec:
    """A validated run: everything the model needs, plus the resolved config to record."""

    seed: int
    steps: int
    start: str
    scenario: str
    description: str
    world: World
    params: Params
    interventions: list[Intervention]
    plot: bool = False
    record_events: bool = True
    results_dir: str = "results"
    resolved: dict[str, Any] = field(default_factory=dict)


def options(group: str) -> list[str]:
    """Names of the configs available in a group (``scenario`` or ``world``)."""
    return sorted(p.stem for p in (configs_dir() / group).glob("*.yaml"))


def load_group(group: str, name: str) -> dict[str, Any]:
    """Read ``configs/<group>/<name>.yaml`` as a plain mapping (Hydra package line ignored)."""
    path = configs_dir() / group / f"{name}.yaml"
    if not path.exists():
        raise ConfigError(group, f"= {name!r} is not known; allowed: {', '.join(options(group))}")
    with path.open() as fh:
        data = yaml.safe_load(fh) or {}
    return data


def compose(
    scenario: str = "baseline",
    world: str = "world",
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Compose a config as Hydra does: defaults, then the scenario, then the overrides.

    ``overrides`` keys are parameter names (``raid_rate``), top-level settings
    (``seed``, ``steps``, ``start``) or dotted paths (``params.raid_rate``).
    """
    scen = load_group("scenario", scenario)
    cfg: dict[str, Any] = top_defaults()
    cfg["world"] = load_group("world", world)
    params = dataclasses.asdict(Params())
    params.update(scen.get("params", {}) or {})
    cfg["params"] = params
    cfg["scenario"] = dict(scen.get("scenario", {}))
    for key, value in (overrides or {}).items():
        if key in PARAM_NAMES:
            cfg["params"][key] = value
        elif key.startswith("params."):
            name = key.split(".", 1)[1]
            if name not in PARAM_NAMES:
                raise ConfigError(key, _unknown_param(name))
            cfg["params"][name] = value
        elif key in TOP_LEVEL:
            cfg[key] = value
        else:
            raise ConfigError(
                key,
                "is not a setting; allowed: "
                + ", ".join(TOP_LEVEL)
                + " or a parameter name (see docs/ODD.md)",
            )
    return cfg


def _unknown_param(name: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, PARAM_NAMES, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see docs/ODD.md for the list"
    return f"is not a model parameter{hint}"


def build_params(values: Mapping[str, Any], prefix: str = "params.") -> Params:
    """Validated :class:`Params` from a mapping of parameter values."""
    kwargs = {}
    for key in values:
        if key not in PARAM_NAMES:
            raise ConfigError(prefix + key, _unknown_param(key))
    for f in dataclasses.fields(Params):
        if f.name not in values:
            continue
        lo, hi = f.metadata["range"]
        kwargs[f.name] = check_value(
            prefix + f.name, values[f.name], type(f.default), lo, hi
        )
    return Params(**kwargs)


def validate(cfg: Mapping[str, Any]) -> RunSpec:
    """Check a composed config and build the run it describes."""
    cfg = dict(cfg)
    for key in cfg:
        if key not in TOP_LEVEL and key not in ("params", "world", "scenario", *IGNORED_KEYS):
            raise ConfigError(key, f"is not a setting; allowed: {', '.join(TOP_LEVEL)}, params.*")
    top = {}
    defaults = top_defaults()
    for key, (kind, lo, hi) in TOP_LEVEL.items():
        top[key] = check_value(key, cfg.get(key, defaults[key]), kind, lo, hi)
    check_month("start", top["start"])
    params = build_params(dict(cfg.get("params") or {}))

    world_cfg = dict(cfg.get("world") or {})
    for key in world_cfg:
        if key not in WORLD_KEYS:
            allowed = ", ".join(WORLD_KEYS)
            raise ConfigError(f"world.{key}", f"is not a world setting; allowed: {allowed}")
    world = World.from_config(world_cfg)

    scen = dict(cfg.get("scenario") or {})
    for key in scen:
        if key not in SCENARIO_KEYS:
            allowed = ", ".join(SCENARIO_KEYS)
            raise ConfigError(f"scenario.{key}", f"is not a scenario setting; allowed: {allowed}")
    events = scen.get("events") or []
    if not isinstance(events, list):
        raise ConfigError("scenario.events", "must be a list of interventions")
    interventions = [build_intervention(e, f"scenario.events[{i}]") for i, e in enumerate(events)]
    for i, iv in enumerate(interventions):
        try:
            world.resolve(iv.targets_spec(), params)
        except ConfigError as err:
            raise ConfigError(f"scenario.events[{i}].{err.key}", err.problem) from None
    resolved = {
        **top,
        "params": dataclasses.asdict(params),
        "world": world_cfg,
        "scenario": {
            "name": str(scen.get("name", "custom")),
            "description": str(scen.get("description", "")),
            "events": [dict(e) for e in events],
        },
    }
    return RunSpec(
        seed=top["seed"],
        steps=top["steps"],
        start=top["start"],
        scenario=resolved["scenario"]["name"],
        description=resolved["scenario"]["description"],
        world=world,
        params=params,
        interventions=interventions,
        plot=top["plot"],
        results_dir=top["results_dir"],
        record_events=top["record_events"],
        resolved=resolved,
    )
