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
    scamsim table --seeds 20                           (the README's scenario table)
    scamsim calibrate --quick                          (ABC-SMC against the record; pyabc)
    scamsim crn --seeds 40                             (variance cut by common random numbers)
    scamsim hindcast --draws 200                       (the calibrated model against the ledger)
    scamsim params
    scamsim app                                         (the teaching demo in the browser)

Overrides (and the sweep they define) are checked before Hydra starts: a wrong
key, type or value stops with one line naming the key and what is allowed,
and nothing is run or written.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from sim.config import (
    SCENARIO_KEYS,
    TOP_LEVEL,
    WORLD_KEYS,
    build_params,
    check_setting,
    load_group,
    options,
    validate,
)
from sim.core.errors import ConfigError, LeverWarning, RunFilesError, check_name, show
from sim.core.params import PARAM_NAMES
from sim.identity import MANIFEST, check_inside, run_dir_name
from sim.resources import configs_dir

GROUPS = ("scenario", "world", "sweep")
MULTIRUN_FLAGS = ("--multirun", "-m")


def _run_dir_resolver(*, _root_: Any) -> str:
    """Hydra ``hydra.sweep.subdir``: the run's name from the hash of its resolved config."""
    keys = [k for k in _root_ if k != "hydra"]
    data = OmegaConf.to_container(OmegaConf.masked_copy(_root_, keys), resolve=True)
    return run_dir_name(_quiet_validate(data).resolved)


def _quiet_validate(data: Any) -> Any:
    """``validate`` without lever warnings (the command line printed them once already)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LeverWarning)
        return validate(data)


# Registered at import: sweep workers (joblib, submitit, ray) import this module to
# unpickle the task and must resolve the run directory the same way.
if not OmegaConf.has_resolver("scamsim_run_dir"):
    OmegaConf.register_new_resolver("scamsim_run_dir", _run_dir_resolver)


# --- the sweep's workers end when its main process is gone --------------------------------

# "<host>:<pid>" of a sweep's main process, inherited by its workers.
MAIN_ENV = "SCAMSIM_SWEEP_MAIN"
_WATCHING = False


def _alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (a killed, unreaped parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc: trust kill(0)
    return state not in ("Z", "X")


def _watch_main_process() -> None:
    """In a sweep worker on the main process's host: exit as soon as the main process dies.

    Joblib's and submitit's workers outlive a main process killed with SIGKILL
    (it cannot tell them); each worker watches the pid it was given instead.
    """
    global _WATCHING
    spec = os.environ.get(MAIN_ENV, "")
    host, _, pid_text = spec.rpartition(":")
    if _WATCHING or not pid_text.isdigit() or host != socket.gethostname():
        return
    pid = int(pid_text)
    if pid == os.getpid():
        return
    _WATCHING = True

    def watch() -> None:
        while _alive(pid):
            time.sleep(0.5)
        os._exit(70)  # no cleanup: the sweep is gone and its lock released

    threading.Thread(target=watch, name="scamsim-watchdog", daemon=True).start()


_watch_main_process()


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
    # The sweep's design: swept keys and fixed overrides (multirun only).
    design: dict[str, Any] = field(default_factory=dict)
    other_versions: str = "refuse"
    run_dir: Path | None = None
    warnings: list[str] = field(default_factory=list)


# Keys that never define a sweep's design: replicate seeds and bookkeeping.
NOT_DESIGN = ("seed", "replicates", "sweep_name", "sweep", "plot", "results_dir",
              "other_versions")


def _values(override: Any, group: str | None) -> tuple[list[Any], list[str]]:
    """Every value an override stands for (one, or each value of a sweep), as Python
    values (to check) and as override text (to compose, exactly as Hydra's sweeper does)."""
    from hydra.core.override_parser.types import Glob

    value = override.value()
    if isinstance(value, Glob):
        names = value.filter(options(group) if group else [])
        return names, list(names)
    if override.is_sweep_override():
        return list(override.sweep_iterator()), list(override.sweep_string_iterator())
    return [value], [override.get_value_element_as_str()]


def _check_override(key: str, value: Any) -> None:
    if key in GROUPS:
        check_name(key, value)
        if value not in options(key):
            raise ConfigError(key, f"= {value!r} is not known; allowed: {', '.join(options(key))}")
        if key != "sweep":
            load_group(key, value)  # an empty or malformed file is refused here
    elif key.startswith("params."):
        build_params({key.split(".", 1)[1]: value})
    elif key in TOP_LEVEL:
        check_setting(key, value)
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


def _compose(texts: dict[str, str], hydra_args: list[str] | None = None) -> Any:
    """Hydra's composition of overrides given as ``key -> value text``."""
    from hydra import compose

    try:
        return compose(
            "config",
            overrides=[f"{k}={v}" for k, v in texts.items()] + (hydra_args or []),
            return_hydra_config=True,
        )
    except Exception as err:  # Hydra/OmegaConf raise many types; report one line
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ConfigError("config", f"cannot be composed: {first}") from None


def _resolved_data(cfg: Any) -> Any:
    data = OmegaConf.to_container(cfg, resolve=False)
    data.pop("hydra", None)
    try:
        return OmegaConf.to_container(OmegaConf.create(data), resolve=True)
    except Exception as err:  # an interpolation that cannot be resolved
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ConfigError("config", f"cannot be resolved: {first}") from None


def _validate_composed(cfg: Any) -> Any:
    return validate(_resolved_data(cfg))


def _hydra_dir(cfg: Any, key: str) -> Path:
    """A folder setting of Hydra's, resolved and checked to be creatable and writable."""
    try:
        text = OmegaConf.select(cfg, key, throw_on_missing=True)
    except Exception as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ConfigError(key, f"cannot be resolved: {first}") from None
    if not isinstance(text, str) or not text:
        raise ConfigError(key, f"must be a folder, got {text!r}")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise ConfigError(key, f"= {path} is an existing file, not a folder")
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(key, f"= {path} cannot be created: {probe} is a file")
    try:  # os.access says yes to root even on read-only file systems: try for real
        tempfile.TemporaryDirectory(dir=probe, prefix=".scamsim-probe-").cleanup()
    except OSError as err:
        raise ConfigError(key, f"= {path} cannot be written: {probe}: {err.strerror}") from None
    return path


def _check_launcher(cfg: Any) -> None:
    n_jobs = OmegaConf.select(cfg, "hydra.launcher.n_jobs", default=None)
    if n_jobs is None:
        return
    cores = os.cpu_count() or 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 \
            or n_jobs < -cores:
        raise ConfigError("hydra.launcher.n_jobs", f"= {show(n_jobs)} is not allowed; use a "
                          f"number of workers (1 or more), or -1 for all {cores} cores")


def precheck(args: list[str]) -> Plan:
    """Validate the overrides and the sweep they define; nothing is run or written."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LeverWarning)
        plan = _precheck(args)
    seen: list[str] = []
    for w in caught:
        if issubclass(w.category, LeverWarning) and str(w.message) not in seen:
            seen.append(str(w.message))
        elif not issubclass(w.category, LeverWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    plan.warnings = seen
    return plan


def _precheck(args: list[str]) -> Plan:
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    multirun = any(a in MULTIRUN_FLAGS for a in args)
    plain = [a for a in args if not a.startswith("-")]
    hydra_args = [a for a in plain if a.split("=")[0].lstrip("+~").startswith("hydra")]
    sweeps: dict[str, list[Any]] = {}
    texts: dict[str, list[str]] = {}
    for o in _parse([a for a in plain if a not in hydra_args], "command line"):
        key = o.key_or_group
        if o.is_add() or o.is_delete() or o.is_force_add():
            raise ConfigError(key, "cannot be added or deleted; set existing keys only")
        sweeps[key], texts[key] = _values(o, key if key in GROUPS else None)
    given_dirs = {a.split("=")[0] for a in hydra_args}

    GlobalHydra.instance().clear()
    _register_schema()
    try:
        with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
            return _plan(multirun, sweeps, texts, hydra_args, given_dirs)
    finally:
        GlobalHydra.instance().clear()


def _plan(multirun: bool, sweeps: dict[str, list[Any]], texts: dict[str, list[str]],
          hydra_args: list[str], given_dirs: set[str]) -> Plan:
    # The sweep file (sweep=<name>) may add swept keys; the command line wins.
    if len(sweeps.get("sweep", [])) > 1:
        raise ConfigError("sweep", "selects one sweep definition; it cannot be swept")
    file_params = {}
    if "sweep" in sweeps:
        _check_override("sweep", sweeps["sweep"][0])
        cfg = _compose({"sweep": texts["sweep"][0]})
        file_params = dict(OmegaConf.select(cfg, "hydra.sweeper.params") or {})
    from_file = [f"{k}={v}" for k, v in file_params.items() if k not in sweeps]
    for o in _parse(from_file, "hydra.sweeper.params"):
        key = o.key_or_group
        sweeps[key], texts[key] = _values(o, key if key in GROUPS else None)
    for key, values in sweeps.items():
        if not values:
            raise ConfigError(key, "sweep has no values")
        for v in values:
            _check_override(key, v)
    swept = {k for k, v in sweeps.items() if len(v) > 1}
    if swept and not multirun:
        key = sorted(swept)[0]
        raise ConfigError(key, "has several values: add --multirun to sweep")
    base = {k: v[0] for k, v in texts.items()}
    cfg = _compose(base, hydra_args)
    spec = _validate_composed(cfg)
    for key, values in texts.items():
        for v in values[1:]:
            _validate_composed(_compose({**base, key: v}))
    plan = Plan(multirun=multirun)
    root = Path(spec.results_dir)
    if not multirun:
        plan.run_dir = _hydra_dir(cfg, "hydra.run.dir")
        if "hydra.run.dir" not in given_dirs:  # built from names: must stay in the root
            check_inside(plan.run_dir, root, "hydra.run.dir")
        return plan
    if "replicates" in swept:
        raise ConfigError("replicates", "cannot be swept; it sets runs per condition")
    _check_launcher(cfg)
    plan.replicates = int(cfg.replicates)
    plan.other_versions = str(cfg.other_versions)
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
    plan.sweep_dir = _hydra_dir(cfg, "hydra.sweep.dir")
    if "hydra.sweep.dir" not in given_dirs:
        check_inside(plan.sweep_dir, root, "hydra.sweep.dir")
    plan.run_dirs = _planned_runs(texts, plan.seeds)
    plan.design = {
        "swept": sorted(k for k in swept if k not in NOT_DESIGN),
        "fixed": {k: texts[k][0] for k in sorted(texts) if k not in swept
                  and k not in NOT_DESIGN},
    }
    return plan


def _planned_runs(texts: dict[str, list[str]], seeds: list[int]) -> dict[str, str]:
    """Folder name and run id of every run of a sweep (composed as the jobs will be).

    Each condition is composed once; replicate seeds only change the ``seed``
    entry of the resolved config, so they are filled in without composing again.
    """
    import itertools

    from sim.identity import run_dir_name, run_id

    keys = list(texts)
    planned = {}
    for values in itertools.product(*(texts[k] for k in keys)):
        cfg = _compose(dict(zip(keys, values, strict=True)))
        resolved = _validate_composed(cfg).resolved
        for seed in seeds or [resolved["seed"]]:
            one = {**resolved, "seed": int(seed)}
            planned[run_dir_name(one)] = run_id(one)
    return planned


# --- a sweep folder: its design, its code versions, what is left to run ------------------

DESIGN_FILE = "design.json"


def _finished_runs(sweep_dir: Path) -> list[Path]:
    runs = sweep_dir / "runs"
    return sorted(p.parent for p in runs.glob(f"*/{MANIFEST}")) if runs.is_dir() else []


def _check_design(plan: Plan) -> dict[str, Any]:
    """The design to record: the folder's (extended) or this sweep's; ConfigError if unrelated.

    A sweep may add values of the keys the folder's sweep swept, or replicates;
    any other difference is another experiment and needs its own folder.
    """
    assert plan.sweep_dir is not None
    new = plan.design
    path = plan.sweep_dir / DESIGN_FILE
    hint = "give this sweep its own sweep_name= (or hydra.sweep.dir=)"
    if not path.exists():
        if _finished_runs(plan.sweep_dir):
            raise ConfigError("hydra.sweep.dir", f"= {plan.sweep_dir} holds runs of an "
                              f"unrecorded sweep design; {hint}")
        return new
    try:
        old = json.loads(path.read_text())
        old_swept, old_fixed = list(old["swept"]), dict(old["fixed"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError("hydra.sweep.dir", f"= {plan.sweep_dir}: {DESIGN_FILE} is unreadable; "
                          f"{hint}") from None

    def show_design(swept: list[str], fixed: dict[str, Any]) -> str:
        fx = " ".join(f"{k}={v}" for k, v in fixed.items()) or "none"
        return f"swept {', '.join(swept) or 'nothing'}; fixed {fx}"

    fixed_outside = {k: v for k, v in new["fixed"].items() if k not in old_swept}
    if not set(new["swept"]) <= set(old_swept) or fixed_outside != old_fixed:
        raise ConfigError("hydra.sweep.dir", f"= {plan.sweep_dir} holds another sweep "
                          f"({show_design(old_swept, old_fixed)}), this one is "
                          f"({show_design(new['swept'], new['fixed'])}); {hint}")
    return {"swept": old_swept, "fixed": old_fixed}


def _check_versions(plan: Plan) -> None:
    """Refuse runs of other model code in the folder, unless they are to be kept apart."""
    from sim.identity import code_version, read_manifest

    assert plan.sweep_dir is not None
    if plan.other_versions == "keep_apart":
        return
    current = code_version()
    others: dict[str, int] = {}
    for d in _finished_runs(plan.sweep_dir):
        version = str((read_manifest(d) or {}).get("code_version"))
        if version != current:
            others[version] = others.get(version, 0) + 1
    if others:
        n = sum(others.values())
        listed = ", ".join(sorted(others))
        raise ConfigError("other_versions", f"= refuse: {plan.sweep_dir} holds {n} run(s) of "
                          f"other model code ({listed}; this code is {current}); use a new "
                          "sweep_name= or other_versions=keep_apart")


def _resume_state(plan: Plan) -> int:
    """Finished runs of the plan; every started but unfinished run is marked and reported."""
    from sim.identity import mark_unfinished, verify_run

    assert plan.sweep_dir is not None
    runs = plan.sweep_dir / "runs"
    done = 0
    for name, rid in plan.run_dirs.items():
        d = runs / name
        if not d.exists():
            continue
        reason = verify_run(d, rid)
        if reason is None:
            done += 1
            continue
        print(f"sweep: redoing {name}: {reason}", file=sys.stderr)
        mark_unfinished(d)
    return done


def _is_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.get().mode == RunMode.MULTIRUN


def _clear_previous_run(out: Path) -> None:
    """Remove a previous run's contract and figures, so no stale file survives a rerun."""
    from sim.results import RESULT_FILES
    from sim.viz.run_figures import ACTIVITY_PNG, END_MAP_PNG, FLOWS_PNG

    names = (*RESULT_FILES, ACTIVITY_PNG, END_MAP_PNG, FLOWS_PNG)
    if any((out / n).exists() for n in RESULT_FILES):
        print(f"note: replacing the previous run in {out}", file=sys.stderr)
    for n in names:
        (out / n).unlink(missing_ok=True)


def _task(cfg: Any) -> dict[str, Any]:
    from hydra.core.hydra_config import HydraConfig

    from sim.identity import is_finished, remove_partial_files, run_id
    from sim.results import write_run
    from sim.runner import simulate

    _watch_main_process()
    data = OmegaConf.to_container(cfg, resolve=True)
    data.pop("hydra", None)
    spec = _quiet_validate(data)
    out = Path(HydraConfig.get().runtime.output_dir)
    sweeping = _is_multirun()
    # The main process verified every checksum before launching; a size check suffices.
    if sweeping and is_finished(out, run_id(spec.resolved), full=False):
        return json.loads((out / "summary.json").read_text())  # resumed: already done
    remove_partial_files(out)
    if not sweeping:
        _clear_previous_run(out)
    result = simulate(spec, progress=not sweeping and sys.stderr.isatty())
    write_run(result, out)
    if spec.plot and not sweeping:
        from sim.viz.run_figures import plot_run

        plot_run(out)
    s = result.summary
    if not sweeping:
        yearly = s.get("victim_losses_esea_per_year_usd")
        # Under 12 months there is no whole year of losses to average.
        losses = f"{yearly / 1e9:.1f} bn US$/yr" if yearly is not None else "n/a (under a year)"
        print(
            f"{spec.scenario} / {s['world']} / seed {spec.seed}: {s['workers_end']:,} workers in "
            f"{s['active_jurisdictions_end']} jurisdictions at {s['end']}; ESEA losses "
            f"{losses} -> {out}"
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
        return sum(1 for _ in runs.glob(f"*/{MANIFEST}")) if runs.exists() else 0

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


def _flags_first(args: list[str]) -> list[str]:
    """``--multirun`` before the overrides: Hydra's argparse refuses it between them."""
    return [a for a in args if a in MULTIRUN_FLAGS] + [a for a in args if a not in MULTIRUN_FLAGS]


def _multirun(args: list[str], plan: Plan) -> int:
    from sim.identity import FolderBusyError, folder_lock

    assert plan.sweep_dir is not None
    try:
        # Checked before taking the lock too, so a refused sweep writes nothing.
        _check_design(plan)
        _check_versions(plan)
        with folder_lock(plan.sweep_dir):
            return _sweep_locked(args, plan)
    except (ConfigError, FolderBusyError, RunFilesError) as err:
        print(err, file=sys.stderr)
        return 2


def _sweep_locked(args: list[str], plan: Plan) -> int:
    from sim.analysis.sweep import aggregate
    from sim.results import atomic_write_text

    assert plan.sweep_dir is not None
    design = _check_design(plan)  # again: another sweep may have finished meanwhile
    _check_versions(plan)
    atomic_write_text(plan.sweep_dir / DESIGN_FILE, json.dumps(design, indent=2) + "\n")
    sys.argv = [sys.argv[0], *_flags_first(args), *plan.extra_args]
    print(
        f"sweep: {plan.runs} runs ({plan.replicates} replicate(s) per condition) -> "
        f"{plan.sweep_dir}",
        file=sys.stderr,
    )
    t0 = time.perf_counter()
    if _resume_state(plan) == len(plan.run_dirs) and plan.run_dirs:
        # Nothing to run: skip launching the workers (the aggregate is reused too,
        # unless a run changed since it was built).
        print("sweep: every run is finished already", file=sys.stderr)
    else:
        os.environ[MAIN_ENV] = f"{socket.gethostname()}:{os.getpid()}"
        try:
            with _Progress(plan.sweep_dir, plan.runs):
                _hydra_main()
        except KeyboardInterrupt:
            # A second Ctrl-C while the sweep winds down must not cut the message short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            print(
                "\ninterrupted: finished runs are kept; run the same command again to resume",
                file=sys.stderr,
            )
            return 130
        finally:
            os.environ.pop(MAIN_ENV, None)
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
    from sim.results import RESULT_FILES

    if (d / "runs").is_dir() or (d / "runs.parquet").exists():
        return "sweep"
    if any((d / n).exists() for n in RESULT_FILES):
        return "run"
    return None


def _folder(args: list[str], command: str) -> tuple[Path, str] | None:
    """The run or sweep folder a subcommand was given, or None after printing why not.

    A run must be complete (its files match its manifest); a sweep is aggregated
    first (which checks every run), so a broken file is named in one line.
    """
    from sim.identity import verify_run

    if len(args) != 1:
        print(f"usage: scamsim {command} RUN_OR_SWEEP_DIR", file=sys.stderr)
        return None
    d = Path(args[0])
    kind = _kind_of(d)
    if kind is None:
        print(f"error: {d} is neither a finished run nor a sweep folder", file=sys.stderr)
        return None
    if kind == "run":
        reason = verify_run(d)
        if reason is not None:
            print(RunFilesError(str(d), reason), file=sys.stderr)
            return None
    else:
        from sim.analysis.sweep import aggregate

        try:
            aggregate(d)
        except (RunFilesError, FileNotFoundError) as err:
            print(err if isinstance(err, RunFilesError) else f"error: {d}: {err}",
                  file=sys.stderr)
            return None
    return d, kind


def _plot_command(args: list[str]) -> int:
    target = _folder(args, "plot")
    if target is None:
        return 2
    d, kind = target
    try:
        if kind == "run":
            from sim.viz.run_figures import plot_run

            paths = plot_run(d)
        else:
            from sim.viz.figures import sweep_figures

            paths = sweep_figures(d)
    except RunFilesError as err:
        print(err, file=sys.stderr)
        return 2
    for p in paths:
        print(p)
    return 0


def _report_command(args: list[str]) -> int:
    from sim.analysis.report import run_report, sweep_report

    target = _folder(args, "report")
    if target is None:
        return 2
    d, kind = target
    try:
        paths = run_report(d) if kind == "run" else sweep_report(d)
    except RunFilesError as err:
        print(err, file=sys.stderr)
        return 2
    for p in paths:
        print(p)
    return 0


def _aggregate_command(args: list[str]) -> int:
    from sim.analysis.sweep import aggregate
    from sim.identity import FolderBusyError

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
    except (RunFilesError, FolderBusyError) as err:
        print(err, file=sys.stderr)
        return 2
    print(f"{record['runs']} runs, {record['conditions']} condition(s) -> "
          f"{d}/runs.parquet, {d}/timeseries.parquet, {d}/summary.csv")
    return 0


# A host name or an IPv4/IPv6 address (no spaces, no scheme, no port).
_HOST_RE = re.compile(r"^[A-Za-z0-9._:-]{1,253}$")


def _app_command(args: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="scamsim app",
                                 description="Start the teaching demo in the browser.")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--open", action="store_true", help="open a browser tab")
    opts = ap.parse_args(args)
    # Checked before importing the app (slow, and may be missing).
    if not 1 <= opts.port <= 65535:
        print(f"error: --port = {show(opts.port)} is out of range; allowed 1 to 65535",
              file=sys.stderr)
        return 2
    if not _HOST_RE.match(opts.host):
        print(f"error: --host = {show(opts.host)} is not a host name or IP address",
              file=sys.stderr)
        return 2
    try:
        from sim.app.server import serve
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


def _table_command(args: list[str]) -> int:
    from sim.analysis.scenario_table import main

    return main(args)


def _calibrate_command(args: list[str]) -> int:
    try:
        from sim.analysis.calibration import main
    except ImportError as err:
        print(f"error: calibration needs the 'calibrate' extra ({err}); run: "
              "pip install 'scamsim[calibrate]'", file=sys.stderr)
        return 2
    return int(main(args) or 0)


def _hindcast_command(args: list[str]) -> int:
    from sim.analysis.hindcast import main

    return main(args)


def _crn_command(args: list[str]) -> int:
    from sim.analysis.variance_reduction import main

    main(args)
    return 0


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
                "studies": _studies_command, "sensitivity": _sensitivity_command,
                "table": _table_command, "calibrate": _calibrate_command,
                "crn": _crn_command, "hindcast": _hindcast_command}
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
    for text in plan.warnings:
        print(f"warning: {text}", file=sys.stderr)
    if plan.multirun:
        sys.exit(_multirun(args, plan))
    sys.argv = [sys.argv[0], *_flags_first(args)]
    _hydra_main()


__all__ = ["main", "precheck"]
