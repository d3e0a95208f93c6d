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

import copy
import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from sim import paramsets
from sim.core.errors import (
    ConfigError,
    LeverWarning,
    check_month,
    check_name,
    check_value,
    show,
)
from sim.core.interventions import Intervention, build_intervention
from sim.core.params import PARAM_NAMES, Params
from sim.core.settings import DEFAULTS, setting_info
from sim.core.timeline import month_index, month_label, parse_month
from sim.core.world import World, load_table
from sim.resources import configs_dir, results_root

# libyaml's parser when PyYAML was built with it (the same safe constructor, faster).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Top-level settings (sim.core.settings): (type, min, max), and their defaults. A kind
# "choice:a|b" is a string with allowed values; "name" becomes a folder name.
_KINDS = {"int": int, "float": float, "bool": bool, "str": str, "month": str, "path": str,
          "name": str, "choice": str}
_INFO = {info["name"]: info for info in setting_info()}
TOP_LEVEL: dict[str, tuple[type, Any, Any]] = {
    name: (_KINDS[info["kind"].split(":")[0]], info["min"], info["max"])
    for name, info in _INFO.items()
}
CHOICES: dict[str, tuple[str, ...]] = {
    name: tuple(info["kind"].split(":", 1)[1].split("|"))
    for name, info in _INFO.items() if info["kind"].startswith("choice:")
}
# A run's last month must have a four-digit year (dates are written as YYYY-MM-DD).
LAST_MONTH = "9999-12"
# Ceiling on a starting workforce: beyond the whole industry many times over, the
# model's arrays (one slot per compound) would not fit in memory.
MAX_PRESENCE = 10_000_000


def top_defaults() -> dict[str, Any]:
    """Default of every setting, with ``results_dir`` resolved as Hydra would."""
    return {**DEFAULTS, "results_dir": str(results_root())}


def check_setting(key: str, value: Any) -> Any:
    """One top-level setting, checked for type, range, month form, name or choice."""
    kind, lo, hi = TOP_LEVEL[key]
    value = check_value(key, value, kind, lo, hi)
    info_kind = _INFO[key]["kind"]
    if info_kind == "month":
        check_month(key, value)
    elif info_kind == "name":
        check_name(key, value)
    elif key in CHOICES and value not in CHOICES[key]:
        raise ConfigError(key, f"= {show(value)} is not allowed; allowed: "
                          + ", ".join(CHOICES[key]))
    return value


WORLD_KEYS = ("name", "table", "jurisdictions", "initial_presence", "groups")
SCENARIO_KEYS = ("name", "description", "events")
IGNORED_KEYS = ("hydra", "posterior_draw")  # posterior_draw: recorded by validate
# Config groups whose files are read by name (a name never leaves configs/<group>/).
NAMED_GROUPS = ("scenario", "world", "sweep")


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


@lru_cache(maxsize=256)
def _parsed(path: Path, mtime_ns: int, size: int) -> Any:
    """A YAML file's content, parsed once per version of the file (its mtime and size are
    part of the key, so an edited file is read again); callers get a deep copy."""
    with path.open() as fh:
        return yaml.load(fh, Loader=_LOADER)


def load_group(group: str, name: str) -> dict[str, Any]:
    """Read ``configs/<group>/<name>.yaml`` as a plain mapping (Hydra package line ignored).

    The name is checked first (letters, digits, -, _), so a lookup never leaves
    the group's folder; an empty or malformed file is refused in one line.
    """
    check_name(group, name)
    path = configs_dir() / group / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(group, f"= {name!r} is not known; allowed: {', '.join(options(group))}")
    try:
        stat = path.stat()
        data = copy.deepcopy(_parsed(path, stat.st_mtime_ns, stat.st_size))
    except (OSError, yaml.YAMLError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(group, f"= {name!r}: {path} cannot be read: {first}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(group, f"= {name!r}: {path} must hold a mapping")
    if group == "scenario":
        scen = data.get("scenario")
        if not isinstance(scen, dict) or "name" not in scen:
            raise ConfigError(group, f"= {name!r}: {path} is empty or has no scenario.name")
    elif group == "world" and "name" not in data:
        raise ConfigError(group, f"= {name!r}: {path} is empty or has no name")
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
    file_params = scen.get("params") or {}
    if not isinstance(file_params, dict):
        raise ConfigError("scenario", f"= {scenario!r}: its params must be a mapping")
    params.update(file_params)
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
            raise ConfigError(prefix + str(key), _unknown_param(str(key)))
    for f in dataclasses.fields(Params):
        if f.name not in values:
            continue
        lo, hi = f.metadata["range"]
        kwargs[f.name] = check_value(
            prefix + f.name, values[f.name], type(f.default), lo, hi
        )
    return Params(**kwargs)


def _mapping(key: str, value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(key, f"must be a mapping of {what}, got {show(value)}")
    return dict(value)


def _names(key: str, value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(key, f"must be a list of ISO3 codes, got {show(value)}")
    return list(value)


def world_config(raw: Any) -> dict[str, Any]:
    """The world's config checked key by key, with every default filled in."""
    w = _mapping("world", raw, "world settings")
    for key in w:
        if key not in WORLD_KEYS:
            allowed = ", ".join(WORLD_KEYS)
            raise ConfigError(f"world.{key}", f"is not a world setting; allowed: {allowed}")
    out: dict[str, Any] = {
        "name": check_name("world.name", w.get("name", "world")),
        # The table name becomes a file name in the package's data folder.
        "table": check_name("world.table", w.get("table", "world")),
    }
    jur = w.get("jurisdictions")
    if jur is not None:
        jur = _names("world.jurisdictions", jur)
        if not jur:
            raise ConfigError("world.jurisdictions", "is empty; list ISO3 codes, or null for all")
    out["jurisdictions"] = jur
    if w.get("initial_presence") is None:
        raise ConfigError("world.initial_presence", "must map ISO3 codes to workforces "
                          "(at least one), e.g. {MMR: 120000}; got null")
    presence = _mapping("world.initial_presence", w["initial_presence"], "ISO3 codes to workers")
    for code, n in presence.items():
        if not isinstance(code, str):
            raise ConfigError("world.initial_presence",
                              f"keys must be ISO3 codes, got {show(code)}")
        check_value(f"world.initial_presence.{code}", n, int, 1, MAX_PRESENCE)
    out["initial_presence"] = {k: int(v) for k, v in presence.items()}
    if "groups" in w and w["groups"] is None:
        raise ConfigError("world.groups", "must map group names to ISO3 lists ({} for none); "
                          "got null")
    groups = _mapping("world.groups", w.get("groups", {}), "group names to ISO3 lists")
    for g, members in groups.items():
        if not isinstance(g, str):
            raise ConfigError("world.groups", f"names must be strings, got {show(g)}")
        _names(f"world.groups.{g}", members)
    out["groups"] = {g: list(m) for g, m in groups.items()}
    return out


def _list_fields(iv: Intervention) -> list[dataclasses.Field]:
    """The lever's fields that name jurisdictions (its list-valued init fields)."""
    return [f for f in dataclasses.fields(iv) if f.init and isinstance(getattr(iv, f.name), list)]


def lever_record(iv: Intervention) -> dict[str, Any]:
    """A lever as its config entry with every field, defaults included (for the record)."""
    out: dict[str, Any] = {"kind": iv.kind}
    for f in dataclasses.fields(iv):
        if f.init:
            value = getattr(iv, f.name)
            out[f.name] = list(value) if isinstance(value, list) else value
    return out


def _check_lever(iv: Intervention, where: str, world: World, params: Params, start: str,
                 steps: int) -> None:
    """Refuse a lever that can never act; warn (once) about one that acts only in part."""
    for f in _list_fields(iv):
        specs = getattr(iv, f.name)
        key = f"{where}.{f.name}"
        for spec in specs:
            if spec.startswith("region:") and spec.split(":", 1)[1] not in world.regions:
                known = ", ".join(str(r) for r in world.regions)
                raise ConfigError(key, f"unknown region {spec.split(':', 1)[1]!r}; known: {known}")
        try:
            idx = world.resolve(specs, params)
        except ConfigError as err:
            raise ConfigError(key, err.problem) from None
        empty_means_all = "empty" in str(f.metadata.get("doc", ""))
        if not specs and not empty_means_all:
            raise ConfigError(key, f"is empty: the {iv.kind} would act nowhere; name ISO3 codes, "
                              "groups, all, hubs, region:<name> or vulnerable:<N>")
        outside = [s for s in specs if s not in world.index and s not in world.groups
                   and s in set(load_table("world")["iso3"])]
        if outside:
            warnings.warn(f"{key}: {', '.join(outside)} not in world {world.name!r} "
                          f"({'it acts nowhere' if not len(idx) else 'skipped'})",
                          LeverWarning, stacklevel=3)
        if f.name == "targets" and hasattr(iv, "intensity"):
            k = max(len(idx), 1)
            per_target = iv.intensity / k if getattr(iv, "split_effort", False) else iv.intensity
            if per_target > 1.0:
                raise ConfigError(f"{where}.intensity", f"= {show(iv.intensity)} adds "
                                  f"{per_target:g} pressure per target; pressure caps at 1, so "
                                  "at most 1 per target is allowed")
    if not hasattr(iv, "targets") and getattr(iv, "intensity", 0.0) > 1.0:
        raise ConfigError(f"{where}.intensity", f"= {show(iv.intensity)} is above 1 per "
                          "jurisdiction; pressure caps at 1")
    # The model steps through months 1..steps (month 0 is the initial state).
    s = month_index(start, iv.start)
    end = s + iv.duration_months
    if iv.duration_months and end <= 1:
        raise ConfigError(f"{where}.start", f"= {iv.start} with duration_months="
                          f"{iv.duration_months}: the lever is over before the run's first "
                          f"month ({month_label(start, 1)}); it can never act")
    if s > steps:
        warnings.warn(f"{where} ({iv.kind}) starts {iv.start}, after the run ends "
                      f"({month_label(start, steps)}); it never acts", LeverWarning, stacklevel=3)
    elif s < 1:
        warnings.warn(f"{where} ({iv.kind}) starts {iv.start}, before the run's first month; "
                      f"it acts from {month_label(start, 1)}", LeverWarning, stacklevel=3)


def validate(cfg: Mapping[str, Any]) -> RunSpec:
    """Check a composed config and build the run it describes."""
    if not isinstance(cfg, Mapping):
        raise ConfigError("config", f"must be a mapping, got {show(cfg)}")
    cfg = dict(cfg)
    for key in cfg:
        if key not in TOP_LEVEL and key not in ("params", "world", "scenario", *IGNORED_KEYS):
            raise ConfigError(str(key), f"is not a setting; allowed: {', '.join(TOP_LEVEL)}, "
                              "params.*")
    top = {}
    defaults = top_defaults()
    for key in TOP_LEVEL:
        top[key] = check_setting(key, cfg.get(key, defaults[key]))
    y, m = parse_month(top["start"])
    if y * 12 + m - 1 + top["steps"] > 9999 * 12 + 11:
        raise ConfigError("steps", f"= {top['steps']} from start={top['start']} runs past "
                          f"{LAST_MONTH}")
    values, drawn = paramsets.apply(
        _mapping("params", cfg.get("params"), "parameters"), paramset_name=top["paramset"],
        posterior=top["posterior"], seed=top["seed"],
    )
    params = build_params(values)

    world_cfg = world_config(cfg.get("world"))
    world = World.from_config(world_cfg)

    scen = _mapping("scenario", cfg.get("scenario"), "scenario settings")
    for key in scen:
        if key not in SCENARIO_KEYS:
            allowed = ", ".join(SCENARIO_KEYS)
            raise ConfigError(f"scenario.{key}", f"is not a scenario setting; allowed: {allowed}")
    name = check_name("scenario.name", scen.get("name", "custom"))
    description = scen.get("description")
    description = "" if description is None else description
    if not isinstance(description, str):
        raise ConfigError("scenario.description", f"must be text, got {show(description)}")
    events = scen.get("events")
    events = [] if events is None else events
    if not isinstance(events, list):
        raise ConfigError("scenario.events", "must be a list of interventions")
    interventions = [build_intervention(e, f"scenario.events[{i}]") for i, e in enumerate(events)]
    for i, iv in enumerate(interventions):
        _check_lever(iv, f"scenario.events[{i}]", world, params, top["start"], top["steps"])
    resolved = {
        **top,
        "params": dataclasses.asdict(params),
        **({"posterior_draw": drawn} if drawn else {}),
        "world": world_cfg,
        "scenario": {
            "name": name,
            "description": description,
            # Every field of every lever, as built (defaults filled in).
            "events": [lever_record(iv) for iv in interventions],
        },
    }
    return RunSpec(
        seed=top["seed"],
        steps=top["steps"],
        start=top["start"],
        scenario=name,
        description=description,
        world=world,
        params=params,
        interventions=interventions,
        plot=top["plot"],
        results_dir=top["results_dir"],
        record_events=top["record_events"],
        resolved=resolved,
    )
