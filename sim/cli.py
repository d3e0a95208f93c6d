"""The ``scamsim`` command: a Hydra app over the model, plus small subcommands.

    scamsim scenario=mekong_crackdown world=world seed=3
    scamsim params.raid_rate=0.3 steps=60 hydra.run.dir=results/my_run
    scamsim --multirun scenario=baseline,mekong_crackdown replicates=20 sweep_name=first
    scamsim --multirun sweep=coordination hydra/launcher=submitit_local
    scamsim aggregate results/sweeps/first
    scamsim plot results/runs/baseline/world/seed_1     (a run or a sweep folder)
    scamsim report results/sweeps/first                 (HTML + Markdown report)
    scamsim study displacement --quick                 (a canonical study; `studies`: all)
    scamsim sensitivity --quick                        (Morris, then Sobol; SALib)
    scamsim params
    scamsim app                                         (the teaching demo in the browser)

Overrides (and the sweep they define) are checked before Hydra starts: a wrong
key, type or value stops with one line naming the key and what is allowed,
and nothing is run or written.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from sim.config import (
    SCENARIO_KEYS,
    TOP_LEVEL,
    WORLD_KEYS,
    build_params,
    options,
    validate,
)
from sim.core.errors import ConfigError, check_value
from sim.core.params import PARAM_NAMES
from sim.identity import run_dir_name
from sim.resources import configs_dir

GROUPS = ("scenario", "world", "sweep")
MULTIRUN_FLAGS = ("--multirun", "-m")


def _run_dir_resolver(*, _root_: Any) -> str:
    """Hydra ``hydra.sweep.subdir``: the run's name from the hash of its resolved config."""
    keys = [k for k in _root_ if k != "hydra"]
    data = OmegaConf.to_container(OmegaConf.masked_copy(_root_, keys), resolve=True)
    return run_dir_name(validate(data).resolved)


# Registered at import: sweep workers (joblib, submitit, ray) import this module to
# unpickle the task and must resolve the run directory the same way.
if not OmegaConf.has_resolver("scamsim_run_dir"):
    OmegaConf.register_new_resolver("scamsim_run_dir", _run_dir_resolver)


def _register_schema() -> None:
    from sim.schema import register

    register()


@dataclass
class Plan:
    """What a command line will run, worked out before anything runs."""

    multirun: bool
    runs: int = 1
    replicates: int = 1
    seeds: list[int] = field(default_factory=list)
    sweep_dir: Path | None = None
    extra_args: list[str] = field(default_factory=list)
    # Run folder name -> run id of every run the sweep will hold (multirun only).
    run_dirs: dict[str, str] = field(default_factory=dict)


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
            f"is not a setting; allowed: {', '.join(TOP_LEVEL)}, scenario=, world=, sweep=, "
            "params.<name>",
        )


def _parse(strings: list[str], where: str) -> list[Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        return OverridesParser.create().parse_overrides(strings)
    except HydraException as err:
        first = str(err).strip().splitlines()[0]
        raise ConfigError(where, f"cannot be parsed: {first}") from None


def _as_override(k: str, v: Any) -> str:
    if isinstance(v, str):
        return f"{k}={v}" if k in GROUPS else f"{k}='{v}'"
    return f"{k}={str(v).lower() if isinstance(v, bool) else v}"


def _compose(overrides: dict[str, Any], hydra_args: list[str] | None = None) -> Any:
    from hydra import compose

    try:
        return compose(
            "config",
            overrides=[_as_override(k, v) for k, v in overrides.items()] + (hydra_args or []),
            return_hydra_config=True,
        )
    except Exception as err:  # Hydra/OmegaConf raise many types; report one line
        first = str(err).strip().splitlines()[0]
        raise ConfigError("config", f"cannot be composed: {first}") from None


def _validate_composed(cfg: Any) -> None:
    data = OmegaConf.to_container(cfg, resolve=False)
    data.pop("hydra", None)
    validate(OmegaConf.to_container(OmegaConf.create(data), resolve=True))


def precheck(args: list[str]) -> Plan:
    """Validate the overrides and the sweep they define; nothing is run or written."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    multirun = any(a in MULTIRUN_FLAGS for a in args)
    plain = [a for a in args if not a.startswith("-")]
    hydra_args = [a for a in plain if a.split("=")[0].lstrip("+~").startswith("hydra")]
    sweeps: dict[str, list[Any]] = {}
    for o in _parse([a for a in plain if a not in hydra_args], "command line"):
        key = o.key_or_group
        if o.is_add() or o.is_delete() or o.is_force_add():
            raise ConfigError(key, "cannot be added or deleted; set existing keys only")
        sweeps[key] = _values(o, key if key in GROUPS else None)

    GlobalHydra.instance().clear()
    _register_schema()
    with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
        # The sweep file (sweep=<name>) may add swept keys; the command line wins.
        base_sweep = {"sweep": sweeps["sweep"][0]} if "sweep" in sweeps else {}
        if len(sweeps.get("sweep", [])) > 1:
            raise ConfigError("sweep", "selects one sweep definition; it cannot be swept")
        file_params = {}
        if base_sweep:
            _check_override("sweep", base_sweep["sweep"])
            cfg = _compose(base_sweep)
            file_params = dict(OmegaConf.select(cfg, "hydra.sweeper.params") or {})
        from_file = [f"{k}={v}" for k, v in file_params.items() if k not in sweeps]
        for o in _parse(from_file, "hydra.sweeper.params"):
            key = o.key_or_group
            sweeps[key] = _values(o, key if key in GROUPS else None)
        for key, values in sweeps.items():
            if not values:
                raise ConfigError(key, "sweep has no values")
            for v in values:
                _check_override(key, v)
        swept = {k for k, v in sweeps.items() if len(v) > 1}
        if swept and not multirun:
            key = sorted(swept)[0]
            raise ConfigError(key, "has several values: add --multirun to sweep")
        base = {k: v[0] for k, v in sweeps.items()}
        cfg = _compose(base, hydra_args)
        _validate_composed(cfg)
        for key, values in sweeps.items():
            for v in values[1:]:
                _validate_composed(_compose({**base, key: v}))
        plan = Plan(multirun=multirun)
        if multirun:
            if "replicates" in swept:
                raise ConfigError("replicates", "cannot be swept; it sets runs per condition")
            plan.replicates = int(cfg.replicates)
            if plan.replicates > 1 and "seed" in swept:
                raise ConfigError("seed", "cannot be swept together with replicates > 1; "
                                  "sweep one or the other")
            n = 1
            for values in sweeps.values():
                n *= len(values)
            plan.runs = n * plan.replicates
            if plan.replicates > 1:
                from sim.identity import replicate_seeds

                plan.seeds = replicate_seeds(int(cfg.seed), plan.replicates)
                plan.extra_args = ["seed=" + ",".join(str(s) for s in plan.seeds)]
            plan.sweep_dir = Path(str(OmegaConf.select(cfg, "hydra.sweep.dir")))
            plan.run_dirs = _planned_runs(sweeps, plan.seeds)
    GlobalHydra.instance().clear()
    return plan


def _planned_runs(sweeps: dict[str, list[Any]], seeds: list[int]) -> dict[str, str]:
    """Folder name and run id of every run of a sweep (composed as the jobs will be).

    Each condition is composed once; replicate seeds only change the ``seed``
    entry of the resolved config, so they are filled in without composing again.
    """
    import itertools

    from sim.identity import run_dir_name, run_id

    keys = list(sweeps)
    planned = {}
    for values in itertools.product(*(sweeps[k] for k in keys)):
        cfg = _compose(dict(zip(keys, values, strict=True)))
        data = OmegaConf.to_container(cfg, resolve=False)
        data.pop("hydra", None)
        resolved = validate(OmegaConf.to_container(OmegaConf.create(data), resolve=True)).resolved
        for seed in seeds or [resolved["seed"]]:
            one = {**resolved, "seed": int(seed)}
            planned[run_dir_name(one)] = run_id(one)
    return planned


def _all_finished(plan: Plan) -> bool:
    """Whether every run of a planned sweep is already finished in its folder."""
    from sim.identity import is_finished

    assert plan.sweep_dir is not None
    runs = plan.sweep_dir / "runs"
    return bool(plan.run_dirs) and all(
        is_finished(runs / name, rid) for name, rid in plan.run_dirs.items()
    )


def _is_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.get().mode == RunMode.MULTIRUN


def _task(cfg: Any) -> dict[str, Any]:
    import json

    from hydra.core.hydra_config import HydraConfig

    from sim.identity import is_finished, remove_partial_files, run_id
    from sim.results import write_run
    from sim.runner import simulate
    from sim.viz.run_figures import plot_run

    data = OmegaConf.to_container(cfg, resolve=True)
    data.pop("hydra", None)
    spec = validate(data)
    out = Path(HydraConfig.get().runtime.output_dir)
    sweeping = _is_multirun()
    if sweeping and is_finished(out, run_id(spec.resolved)):
        return json.loads((out / "summary.json").read_text())  # resumed: already done
    remove_partial_files(out)
    result = simulate(spec, progress=not sweeping and sys.stderr.isatty())
    write_run(result, out)
    if spec.plot and not sweeping:
        plot_run(out)
    s = result.summary
    if not sweeping:
        print(
            f"{spec.scenario} / {s['world']} / seed {spec.seed}: {s['workers_end']:,} workers in "
            f"{s['active_jurisdictions_end']} jurisdictions at {s['end']}; ESEA losses "
            f"{s['victim_losses_esea_per_year_usd'] / 1e9:.1f} bn US$/yr -> {out}"
        )
    return s


def _hydra_main() -> None:
    import hydra

    _register_schema()
    app = hydra.main(config_path=str(configs_dir()), config_name="config", version_base="1.3")(
        _task
    )
    app()


class _Progress:
    """Live bar of finished runs in a sweep folder (works for every launcher)."""

    def __init__(self, sweep_dir: Path, total: int) -> None:
        from tqdm import tqdm

        self.dir = sweep_dir
        self.total = total
        self.done0 = self._count()
        self.bar = tqdm(total=total, initial=min(self.done0, total), unit="run", desc="sweep",
                        dynamic_ncols=True, smoothing=0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _count(self) -> int:
        runs = self.dir / "runs"
        return sum(1 for _ in runs.glob("*/summary.json")) if runs.exists() else 0

    def _poll(self) -> None:
        while not self._stop.wait(0.5):
            self._update()

    def _update(self) -> None:
        n = min(self._count(), self.total)
        if n > self.bar.n:
            self.bar.update(n - self.bar.n)

    def __enter__(self) -> _Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._update()
        self.bar.close()


def _multirun(args: list[str], plan: Plan) -> int:
    from sim.analysis.sweep import aggregate

    assert plan.sweep_dir is not None
    sys.argv = [sys.argv[0], *args, *plan.extra_args]
    print(
        f"sweep: {plan.runs} runs ({plan.replicates} replicate(s) per condition) -> "
        f"{plan.sweep_dir}",
        file=sys.stderr,
    )
    t0 = time.perf_counter()
    if _all_finished(plan):
        # Nothing to run: skip launching the workers (the aggregate is reused too,
        # unless a run changed since it was built).
        print("sweep: every run is finished already", file=sys.stderr)
    else:
        try:
            with _Progress(plan.sweep_dir, plan.runs):
                _hydra_main()
        except KeyboardInterrupt:
            print(
                "\ninterrupted: finished runs are kept; run the same command again to resume",
                file=sys.stderr,
            )
            return 130
    record = aggregate(plan.sweep_dir)
    print(
        f"sweep done in {time.perf_counter() - t0:.1f} s: {record['runs']} runs, "
        f"{record['conditions']} condition(s) -> {plan.sweep_dir}/runs.parquet, "
        "timeseries.parquet, summary.csv",
        file=sys.stderr,
    )
    return 0


def _kind_of(d: Path) -> str | None:
    """'run' for a run folder, 'sweep' for a sweep folder, None otherwise."""
    if (d / "summary.json").exists() and (d / "resolved_config.yaml").exists():
        return "run"
    if (d / "runs.parquet").exists() or any((d / "runs").glob("*/summary.json")):
        return "sweep"
    return None


def _folder(args: list[str], command: str) -> tuple[Path, str] | None:
    """The run or sweep folder a subcommand was given, or None after printing why not."""
    if len(args) != 1:
        print(f"usage: scamsim {command} RUN_OR_SWEEP_DIR", file=sys.stderr)
        return None
    d = Path(args[0])
    kind = _kind_of(d)
    if kind is None:
        print(f"error: {d} is neither a finished run nor a sweep folder", file=sys.stderr)
        return None
    return d, kind


def _plot_command(args: list[str]) -> int:
    target = _folder(args, "plot")
    if target is None:
        return 2
    d, kind = target
    if kind == "run":
        from sim.viz.run_figures import plot_run

        paths = plot_run(d)
    else:
        from sim.analysis.sweep import aggregate
        from sim.viz.figures import sweep_figures

        if not (d / "runs.parquet").exists():
            aggregate(d)
        paths = sweep_figures(d)
    for p in paths:
        print(p)
    return 0


def _report_command(args: list[str]) -> int:
    from sim.analysis.report import run_report, sweep_report

    target = _folder(args, "report")
    if target is None:
        return 2
    d, kind = target
    for p in run_report(d) if kind == "run" else sweep_report(d):
        print(p)
    return 0


def _aggregate_command(args: list[str]) -> int:
    from sim.analysis.sweep import aggregate

    if len(args) != 1:
        print("usage: scamsim aggregate SWEEP_DIR", file=sys.stderr)
        return 2
    d = Path(args[0])
    if not d.is_dir():
        print(f"error: {d} is not a directory", file=sys.stderr)
        return 2
    try:
        record = aggregate(d, force=True)
    except FileNotFoundError as err:
        print(f"error: {d}: {err}", file=sys.stderr)
        return 2
    print(f"{record['runs']} runs, {record['conditions']} condition(s) -> "
          f"{d}/runs.parquet, {d}/timeseries.parquet, {d}/summary.csv")
    return 0


def _app_command(args: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="scamsim app",
                                 description="Start the teaching demo in the browser.")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--open", action="store_true", help="open a browser tab")
    opts = ap.parse_args(args)
    try:
        from sim.app.app import serve
    except ImportError as err:
        print(f"error: the app needs the 'app' extra ({err}); run: pip install -e '.[app]'",
              file=sys.stderr)
        return 2
    return serve(port=opts.port, host=opts.host, open_browser=opts.open)


def _study_command(args: list[str]) -> int:
    from sim.analysis.studies import STUDIES, main

    if not args or args[0] not in STUDIES:
        print(f"usage: scamsim study NAME [--quick] [--world W] [--replicates N] [--jobs N] "
              f"[--results-dir DIR]; NAME is one of {', '.join(STUDIES)}", file=sys.stderr)
        return 2
    main(args[0], args[1:])
    return 0


def _sensitivity_command(args: list[str]) -> int:
    from sim.analysis.sensitivity_study import main

    return main(args)


def _studies_command(args: list[str]) -> int:
    from sim.analysis.studies import run_all

    run_all(args)
    return 0


def _params_command() -> int:
    from sim.core.params import param_info
    from sim.core.settings import setting_info

    print("settings:")
    for info in setting_info():
        rng = f"[{info['min']}, {info['max']}]" if info["min"] is not None else info["kind"]
        print(f"  {info['name']:30s} {info['default']!s:>10}  {rng}  {info['doc']}")
    print("parameters (params.<name>):")
    for info in param_info():
        print(f"  {info['name']:30s} {info['default']!s:>10}  [{info['min']}, {info['max']}]  "
              f"{info['doc']}")
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``scamsim`` and ``python -m sim``."""
    args = list(sys.argv[1:] if argv is None else argv)
    commands = {"plot": _plot_command, "aggregate": _aggregate_command,
                "report": _report_command, "app": _app_command, "study": _study_command,
                "studies": _studies_command, "sensitivity": _sensitivity_command}
    if args and args[0] in commands:
        sys.exit(commands[args[0]](args[1:]))
    if args and args[0] == "params":
        sys.exit(_params_command())
    informational = {"--help", "-h", "--hydra-help", "--info", "--cfg", "-c", "--shell-completion"}
    if informational.intersection(args):
        sys.argv = [sys.argv[0], *args]
        _hydra_main()
        return
    try:
        plan = precheck(args)
    except ConfigError as err:
        print(err, file=sys.stderr)
        sys.exit(2)
    if plan.multirun:
        sys.exit(_multirun(args, plan))
    sys.argv = [sys.argv[0], *args]
    _hydra_main()


__all__ = ["main", "precheck"]
