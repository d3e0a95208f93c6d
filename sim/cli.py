"""The ``scamsim`` command: a Hydra app over the model, plus small subcommands.

    scamsim scenario=mekong_crackdown world=world seed=3
    scamsim params.raid_rate=0.3 steps=60 hydra.run.dir=results/my_run
    scamsim --multirun scenario=baseline,mekong_crackdown seed=1,2,3
    scamsim plot results/runs/baseline/world/seed_1

Overrides are checked before Hydra starts: a wrong key, type or value stops
with one line naming the key and what is allowed, and nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sim.config import (
    CONFIG_DIR,
    SCENARIO_KEYS,
    TOP_LEVEL,
    WORLD_KEYS,
    build_params,
    options,
    validate,
)
from sim.errors import ConfigError, check_value
from sim.params import PARAM_NAMES, Params

GROUPS = ("scenario", "world")


def _register_schema() -> None:
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(group="params", name="default", node=Params)


def _values(override: Any, group: str | None) -> list[Any]:
    """Every value an override stands for (one, or each value of a sweep)."""
    from hydra.core.override_parser.types import Glob

    value = override.value()
    if isinstance(value, Glob):
        return value.filter(options(group) if group else [])
    if override.is_sweep_override():
        return list(override.sweep_iterator())
    return [value]


def _check_override(key: str, value: Any) -> None:
    if key in GROUPS:
        if value not in options(key):
            raise ConfigError(key, f"= {value!r} is not known; allowed: {', '.join(options(key))}")
    elif key.startswith("params."):
        build_params({key.split(".", 1)[1]: value})
    elif key in TOP_LEVEL:
        kind, lo, hi = TOP_LEVEL[key]
        check_value(key, value, kind, lo, hi)
    elif key.startswith("scenario."):
        if key.split(".")[1] not in SCENARIO_KEYS:
            allowed = ", ".join(SCENARIO_KEYS)
            raise ConfigError(key, f"is not a scenario setting; allowed: {allowed}")
    elif key.startswith("world."):
        if key.split(".")[1] not in WORLD_KEYS:
            raise ConfigError(key, f"is not a world setting; allowed: {', '.join(WORLD_KEYS)}")
    elif key in PARAM_NAMES:
        raise ConfigError(key, f"is a model parameter: write params.{key}={value}")
    else:
        raise ConfigError(
            key,
            f"is not a setting; allowed: {', '.join(TOP_LEVEL)}, scenario=, world=, params.<name>",
        )


def precheck(args: list[str]) -> int:
    """Validate command-line overrides as Hydra would compose them; return the run count."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf import OmegaConf

    plain = [a for a in args if not a.startswith("-")]
    try:
        parsed = OverridesParser.create().parse_overrides(plain)
    except HydraException as err:
        first = str(err).strip().splitlines()[0]
        raise ConfigError("command line", f"cannot be parsed: {first}") from None
    base: dict[str, Any] = {}
    alternatives: list[tuple[str, Any]] = []
    n_runs = 1
    for o in parsed:
        key = o.key_or_group
        if key == "hydra" or key.startswith(("hydra.", "hydra/")):
            continue
        if o.is_add() or o.is_delete() or o.is_force_add():
            raise ConfigError(key, "cannot be added or deleted; set existing keys only")
        values = _values(o, key if key in GROUPS else None)
        if not values:
            raise ConfigError(key, "sweep has no values")
        for v in values:
            _check_override(key, v)
        n_runs *= len(values)
        base[key] = values[0]
        alternatives.extend((key, v) for v in values[1:])

    def as_override(k: str, v: Any) -> str:
        if isinstance(v, str):
            return f"{k}={v}" if k in GROUPS else f"{k}='{v}'"
        return f"{k}={str(v).lower() if isinstance(v, bool) else v}"

    combos = [dict(base)] + [{**base, k: v} for k, v in alternatives]
    GlobalHydra.instance().clear()
    _register_schema()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        for combo in combos:
            try:
                cfg = compose("config", overrides=[as_override(k, v) for k, v in combo.items()])
            except Exception as err:  # Hydra/OmegaConf raise many types; report one line
                first = str(err).strip().splitlines()[0]
                raise ConfigError("config", f"cannot be composed: {first}") from None
            validate(OmegaConf.to_container(cfg, resolve=True))
    GlobalHydra.instance().clear()
    return n_runs


def _task(cfg: Any) -> dict[str, Any]:
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    from sim.plots import plot_run
    from sim.results import write_run
    from sim.runner import simulate

    data = OmegaConf.to_container(cfg, resolve=True)
    data.pop("hydra", None)
    spec = validate(data)
    out = Path(HydraConfig.get().runtime.output_dir)
    result = simulate(spec, progress=sys.stderr.isatty())
    write_run(result, out)
    if spec.plot:
        plot_run(out)
    s = result.summary
    print(
        f"{spec.scenario} / {s['world']} / seed {spec.seed}: {s['workers_end']:,} workers in "
        f"{s['active_jurisdictions_end']} jurisdictions at {s['end']}; "
        f"ESEA losses {s['victim_losses_esea_per_year_usd'] / 1e9:.1f} bn US$/yr -> {out}"
    )
    return s


def _hydra_main() -> None:
    import hydra

    _register_schema()
    app = hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")(
        _task
    )
    app()


def _plot_command(args: list[str]) -> int:
    from sim.plots import plot_run

    if len(args) != 1:
        print("usage: scamsim plot RUN_DIR", file=sys.stderr)
        return 2
    d = Path(args[0])
    if not (d / "summary.json").exists():
        print(f"error: {d} is not a finished run directory (no summary.json)", file=sys.stderr)
        return 2
    for p in plot_run(d):
        print(p)
    return 0


def _params_command() -> int:
    from sim.params import param_info

    for info in param_info():
        print(f"{info['name']:32s} {info['default']!s:>10}  [{info['min']}, {info['max']}]  "
              f"{info['doc']}")
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``scamsim`` and ``python -m sim``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "plot":
        sys.exit(_plot_command(args[1:]))
    if args and args[0] == "params":
        sys.exit(_params_command())
    informational = {"--help", "-h", "--hydra-help", "--info", "--cfg", "-c", "--shell-completion"}
    if not informational.intersection(args):
        try:
            precheck(args)
        except ConfigError as err:
            print(err, file=sys.stderr)
            sys.exit(2)
    sys.argv = [sys.argv[0], *args]
    _hydra_main()


__all__ = ["main", "precheck"]
