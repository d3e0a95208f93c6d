"""Sweeps: run identities, replicate seeds, and the aggregate of a sweep directory.

A run is identified by a hash of its resolved configuration (every parameter,
the world, the events, the seed) and of the model's code version. Sweeps name
each run's directory from it, so running the same sweep again finds finished
runs and skips them.

The aggregate of a sweep directory is four files:

- ``runs.parquet``: one row per run (run id, condition, every setting and
  parameter, seed, code version, every scalar summary metric). When the sweep
  holds the ``baseline`` scenario, every other run's displacement metrics (WDQ,
  total net effect, moved and removed shares, the buffered WDQ, the global change)
  are measured against the baseline run of the same seed and condition (common
  random numbers; ``displacement_control`` = "control run", ``control_run_id``),
  as ``sim.run(..., control=...)`` does; without one they are the before/after
  values of the run itself;
- ``timeseries.parquet``: every run's time series, long, with its run id;
- ``summary.csv``: per condition (the settings that vary across runs, seed
  aside; the code version too when runs of several versions are kept apart),
  the number of runs and, for each metric, the mean with a 95% bootstrap
  confidence interval;
- ``sweep.json``: the provenance record.

They are written as one unit: built in ``.aggregate/<token>/``, then the
symlink ``.aggregate/current`` is swapped to it atomically (``os.replace``).
The names at the sweep's root (``runs.parquet``, …) are relative symlinks into
``.aggregate/current/``, so a reader sees the old aggregate or the new one,
never a mix; a reader that opens several files can pin one generation with
:func:`aggregate_dir`.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from scipy import stats

from sim.core.errors import RunFilesError
from sim.identity import (
    MANIFEST,
    NOT_IDENTITY,
    folder_lock,
    read_manifest,
    run_id,
    verify_run,
)
from sim.results import (
    CONTRACT_FILES,
    CONTROL_METRICS,
    atomic_write_bytes,
    atomic_write_text,
    control_metrics,
    package_version,
    wide_workers,
)

CONTROL_SCENARIO = "baseline"  # the counterfactual of every other scenario in a sweep

# Summary entries that vary between identical runs (timing) or are not metrics.
VOLATILE = ("wall_time_s",)
# What the aggregate was built from (kept apart so sweep.json stays reproducible).
INPUTS_STAMP = ".aggregate-inputs"
AGGREGATE_FILES = ("runs.parquet", "timeseries.parquet", "summary.csv", "sweep.json")
AGGREGATE_DIR = ".aggregate"
CURRENT = "current"
BOOTSTRAP_RESAMPLES = 2000
# Bumped whenever the aggregate computes something differently (2: runs paired with the
# sweep's baseline): an aggregate of the same runs built by another format is rebuilt.
AGGREGATE_FORMAT = 2


def find_runs(root: str | os.PathLike) -> list[Path]:
    """Run directories below ``root`` (any with a manifest or a summary), in a stable order.

    Finished or not: :func:`aggregate` checks each against its manifest.
    """
    root = Path(root)
    found = {p.parent for name in (MANIFEST, "summary.json") for p in root.rglob(name)
             if AGGREGATE_DIR not in p.relative_to(root).parts}
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list | tuple):
        out[prefix] = json.dumps(value, default=str)
    else:
        out[prefix] = value


def _rel(directory: Path, root: Path) -> str:
    try:
        return directory.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return directory.resolve().as_posix()


def _run_row(directory: Path, root: Path) -> dict[str, Any]:
    summary = json.loads((directory / "summary.json").read_text())
    with (directory / "resolved_config.yaml").open() as fh:
        config = yaml.safe_load(fh)
    row: dict[str, Any] = {"run_id": summary.get("run_id") or run_id(config)}
    settings: dict[str, Any] = {}
    _flatten("", {k: v for k, v in config.items() if k != "scenario"}, settings)
    settings["scenario"] = config["scenario"]["name"]
    settings["scenario.events"] = json.dumps(config["scenario"].get("events", []), default=str)
    metrics: dict[str, Any] = {}
    _flatten("", {k: v for k, v in summary.items() if k not in VOLATILE}, metrics)
    for key in ("scenario", "world", "seed", "steps", "start", "run_id"):
        metrics.pop(key, None)
    row.update({f"cfg.{k}": v for k, v in settings.items()})
    row.update(metrics)
    row["run_dir"] = _rel(directory, root)
    row["swept"] = json.dumps(_swept_keys(directory))
    row["cfg.code_version"] = str((read_manifest(directory) or {}).get("code_version"))
    return row


# Overrides that never define a condition: replicate seeds and bookkeeping.
_NOT_CONDITION = ("seed", "replicates", "sweep_name", "sweep", "plot", "results_dir",
                  "other_versions")


def _swept_keys(directory: Path) -> list[str]:
    """Config keys a Hydra sweep set for this run (from .hydra/overrides.yaml)."""
    path = directory / ".hydra" / "overrides.yaml"
    if not path.exists():
        return []
    with path.open() as fh:
        overrides = yaml.safe_load(fh) or []
    keys = []
    for item in overrides:
        key = str(item).split("=", 1)[0].lstrip("+~")
        if key.startswith("hydra") or key in _NOT_CONDITION:
            continue
        keys.append("world.name" if key == "world" else key)
    return keys


def condition_columns(runs: pd.DataFrame) -> list[str]:
    """The settings that define the conditions of a sweep.

    The keys the sweep set (Hydra's overrides, seed aside) when runs record them;
    otherwise every setting that varies across runs, seed and event lists aside.
    """
    swept = sorted({k for s in runs.get("swept", []) for k in json.loads(s)})
    cols = [f"cfg.{k}" for k in swept if f"cfg.{k}" in runs.columns]
    if not cols:
        # Bookkeeping settings (plot, sweep_name, other_versions…) never define one.
        skip = ("cfg.seed", "cfg.scenario.events", *(f"cfg.{n}" for n in NOT_IDENTITY))
        cols = [c for c in runs.columns if c.startswith("cfg.") and c not in skip]
    # Runs of different model code are never one condition (kept apart, never mixed).
    if "cfg.code_version" in runs.columns and "cfg.code_version" not in cols:
        cols.append("cfg.code_version")
    return [c for c in cols if runs[c].astype(str).nunique() > 1]


def runs_table(run_dirs: Iterable[Path], root: Path) -> pd.DataFrame:
    """One row per run, sorted by condition and seed (independent of launch order)."""
    rows = [_run_row(Path(d), Path(root)) for d in run_dirs]
    if not rows:
        raise FileNotFoundError("no finished runs (no summary.json with resolved_config.yaml)")
    runs = pd.DataFrame(rows)
    for c in runs.columns:
        # A metric that is undefined in every run (null in JSON) is still a numeric column.
        if not c.startswith("cfg.") and runs[c].isna().all():
            runs[c] = runs[c].astype(float)
    conds = condition_columns(runs)
    runs.insert(1, "condition", _condition_labels(runs, conds))
    return runs.sort_values(["condition", "cfg.seed", "run_id"]).reset_index(drop=True)


def _control_key(runs: pd.DataFrame) -> pd.Series:
    """What a run shares with its control: seed, code version and every swept setting
    but the scenario (a scenario's own parameters belong to its intervention)."""
    cols = ["cfg.seed", "cfg.code_version",
            *(c for c in condition_columns(runs)
              if not c.startswith("cfg.scenario") and c != "cfg.code_version")]
    cols = [c for c in dict.fromkeys(cols) if c in runs.columns]
    return runs[cols].astype(str).agg("|".join, axis=1)


def with_controls(runs: pd.DataFrame, dirs: Mapping[str, Path]) -> pd.DataFrame:
    """``runs`` with each run's displacement metrics against its same-seed baseline run
    (see the module docstring); ``dirs`` maps ``run_dir`` to the run's folder."""
    from sim.config import world_config
    from sim.core.world import World

    if "cfg.scenario" not in runs or not (runs["cfg.scenario"] == CONTROL_SCENARIO).any():
        return runs
    runs = runs.copy()
    key = _control_key(runs)
    is_control = runs["cfg.scenario"] == CONTROL_SCENARIO
    controls = dict(zip(key[is_control], runs.index[is_control], strict=True))
    runs["control_run_id"] = None
    worlds: dict[str, World] = {}
    wide: dict[tuple[Path, str], np.ndarray] = {}  # a baseline serves several scenarios

    def workers_of(run_dir: Path, world_key: str, world: World, steps: int) -> np.ndarray:
        if (run_dir, world_key) not in wide:
            frame = pd.read_parquet(run_dir / "timeseries.parquet",
                                    columns=["step", "iso3", "workers"])
            wide[run_dir, world_key] = wide_workers(frame, world.iso3, steps)
        return wide[run_dir, world_key]

    for i in runs.index[~is_control]:
        c = controls.get(key[i])
        if c is None:
            continue
        run_dir, ctrl_dir = dirs[runs.at[i, "run_dir"]], dirs[runs.at[c, "run_dir"]]
        with (run_dir / "resolved_config.yaml").open() as fh:
            world_cfg = yaml.safe_load(fh)["world"]
        world_key = json.dumps(world_cfg, sort_keys=True, default=str)
        if world_key not in worlds:
            worlds[world_key] = World.from_config(world_config(world_cfg))
        world = worlds[world_key]
        steps = int(runs.at[i, "cfg.steps"])
        workers = workers_of(run_dir, world_key, world, steps)
        ctrl = workers_of(ctrl_dir, world_key, world, steps)
        t0 = runs.at[i, "intervention_step"]
        t0 = None if pd.isna(t0) else int(t0)
        targets = np.flatnonzero(np.isin(world.iso3, json.loads(runs.at[i, "targets"])))
        for k, v in control_metrics(workers, ctrl, targets, t0, world.distance_km).items():
            runs.at[i, k] = v
        runs.at[i, "displacement_control"] = "control run"
        runs.at[i, "control_run_id"] = runs.at[c, "run_id"]
    for k in CONTROL_METRICS:
        runs[k] = runs[k].astype(float)
    return runs


def _condition_labels(runs: pd.DataFrame, conds: list[str]) -> pd.Series:
    if not conds:
        return pd.Series(["all"] * len(runs), index=runs.index)
    return runs[conds].astype(str).apply(
        lambda r: ", ".join(f"{c[4:]}={v}" for c, v in r.items()), axis=1
    )


def _metric_columns(runs: pd.DataFrame) -> list[str]:
    skip = {"run_id", "condition", "run_dir"}
    cols = []
    for c in runs.columns:
        if c in skip or c.startswith("cfg."):
            continue
        if pd.api.types.is_numeric_dtype(runs[c]) and not pd.api.types.is_bool_dtype(runs[c]):
            cols.append(c)
    return cols


def bootstrap_ci(values: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """Mean and 95% percentile-bootstrap interval (scipy), NaN-aware; seeded."""
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return np.nan, np.nan, np.nan
    mean = float(x.mean())
    if len(x) == 1 or np.all(x == x[0]):
        return mean, (np.nan if len(x) == 1 else mean), (np.nan if len(x) == 1 else mean)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.bootstrap(
            (x,),
            np.mean,
            confidence_level=0.95,
            n_resamples=BOOTSTRAP_RESAMPLES,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    return mean, float(res.confidence_interval.low), float(res.confidence_interval.high)


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per condition: runs, and mean / ci_low / ci_high of every metric."""
    conds = condition_columns(runs)
    metrics = _metric_columns(runs)
    out = []
    for label, group in runs.groupby("condition", sort=True):
        row: dict[str, Any] = {"condition": label}
        for c in conds:
            row[c[4:]] = group[c].iloc[0]
        row["runs"] = len(group)
        for k, m in enumerate(metrics):
            mean, lo, hi = bootstrap_ci(group[m].to_numpy(float), seed=k)
            row[f"{m}_mean"] = mean
            row[f"{m}_ci_low"] = lo
            row[f"{m}_ci_high"] = hi
        out.append(row)
    return pd.DataFrame(out)


def _write_timeseries(run_dirs: list[Path], ids: Mapping[Path, str], path: Path) -> int:
    """Stream every run's time series into one Parquet file (one row group per run)."""
    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        for d in run_dirs:
            table = pq.read_table(d / "timeseries.parquet")
            table = table.add_column(0, "run_id", pa.array([ids[d]] * table.num_rows))
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows


def inputs_fingerprint(run_dirs: Iterable[Path], root: Path) -> str:
    """Hash of which runs an aggregate is built from and of their manifests and file sizes.

    A finished run never changes its files, so the same fingerprint means the
    aggregate on disk is still the aggregate of these runs.
    """
    h = hashlib.sha256()
    for d in run_dirs:
        h.update(_rel(d, root).encode())
        try:
            h.update((d / MANIFEST).read_bytes())
            for name in CONTRACT_FILES:
                st = (d / name).stat()
                h.update(f"{name}:{st.st_size}:{st.st_mtime_ns};".encode())
        except OSError:
            h.update(b"missing")  # never equal to a complete run's fingerprint
    return h.hexdigest()[:16]


def aggregate_dir(root: str | os.PathLike) -> Path | None:
    """The folder of the current aggregate of a sweep (one consistent generation), or None."""
    link = Path(root) / AGGREGATE_DIR / CURRENT
    try:
        return link.parent / os.readlink(link)
    except OSError:
        return None


def _current_record(root: Path, fingerprint: str) -> dict[str, Any] | None:
    """The sweep's record if its aggregate is complete and built from the same runs."""
    current = aggregate_dir(root)
    if current is None or not all((current / f).exists() for f in AGGREGATE_FILES):
        return None
    if not all((root / f).resolve() == (current / f).resolve() for f in AGGREGATE_FILES):
        return None  # the root names do not point at it (yet)
    try:
        stamp = (current / INPUTS_STAMP).read_text().strip()
        record = json.loads((current / "sweep.json").read_text())
    except (OSError, ValueError):
        return None
    return record if stamp == _stamp(fingerprint) else None


def _stamp(fingerprint: str) -> str:
    """What an aggregate was built from and how: package version, format, inputs."""
    return f"{package_version()} format-{AGGREGATE_FORMAT} {fingerprint}"


def _symlink_replace(target: str, link: Path) -> None:
    """Point ``link`` at ``target`` atomically (a new link renamed over the old name)."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _install(root: Path, token: str) -> None:
    """Make ``.aggregate/<token>`` the sweep's aggregate, in one atomic step."""
    base = root / AGGREGATE_DIR
    _symlink_replace(token, base / CURRENT)  # the one switch readers see
    for name in AGGREGATE_FILES:
        link = root / name
        target = f"{AGGREGATE_DIR}/{CURRENT}/{name}"
        if not (link.is_symlink() and os.readlink(link) == target):
            _symlink_replace(target, link)  # once per sweep folder (or over old files)
    for old in base.iterdir():  # earlier generations and failed attempts
        if old.name not in (CURRENT, token) and old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)


def check_runs(run_dirs: Iterable[Path], root: Path) -> None:
    """RunFilesError naming the first run whose files do not match its manifest."""
    for d in run_dirs:
        reason = verify_run(d)
        if reason is not None:
            raise RunFilesError(_rel(d, root), f"{reason}; rerun its sweep to redo it, "
                                "or delete the run's folder")


def aggregate(root: str | os.PathLike, run_dirs: Iterable[Path] | None = None, *,
              force: bool = False) -> dict[str, Any]:
    """Write the aggregate of a sweep into ``root``; returns its provenance record.

    When the aggregate on disk was built from exactly these runs (same
    fingerprint) it is kept as it is, unless ``force``. Every run must match its
    manifest (RunFilesError names the first that does not). The four files
    appear together or not at all.
    """
    root = Path(root)
    dirs = sorted(Path(d) for d in run_dirs) if run_dirs is not None else find_runs(root)
    if not dirs:
        raise FileNotFoundError("no finished runs (no run folder with a manifest.json)")
    with folder_lock(root):
        fingerprint = inputs_fingerprint(dirs, root)
        if not force:
            record = _current_record(root, fingerprint)
            if record is not None:
                return {**record, "rebuilt": False}
        check_runs(dirs, root)
        token = f"{os.getpid()}-{secrets.token_hex(6)}"
        work = root / AGGREGATE_DIR / token
        work.mkdir(parents=True)
        try:
            record = _build(root, dirs, work, fingerprint)
            _install(root, token)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)  # the previous aggregate stays whole
            raise
    return {**record, "rebuilt": True}


def _build(root: Path, dirs: list[Path], out: Path, fingerprint: str) -> dict[str, Any]:
    """Write the four aggregate files (and the inputs stamp) into the folder ``out``."""
    runs = runs_table(dirs, root)
    by_rel = {_rel(d, root): d for d in dirs}
    runs = with_controls(runs, by_rel)
    ordered = [by_rel[r] for r in runs["run_dir"]]
    by_dir = dict(zip(ordered, runs["run_id"], strict=True))
    buf = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(runs, preserve_index=False), buf, compression="zstd")
    atomic_write_bytes(out / "runs.parquet", buf.getvalue().to_pybytes())
    n_rows = _write_timeseries(ordered, by_dir, out / "timeseries.parquet")
    summary = summary_table(runs)
    atomic_write_text(out / "summary.csv", summary.to_csv(index=False, lineterminator="\n"))
    record = {
        "runs": len(runs),
        "conditions": int(runs["condition"].nunique()),
        "condition_columns": [c[4:] for c in condition_columns(runs)],
        "timeseries_rows": n_rows,
        "scamsim_version": package_version(),
        "code_versions": sorted({str(v) for v in runs["cfg.code_version"]}),
        "git_revisions": sorted({str(v) for v in runs.get("git_revision", pd.Series())}),
        "bootstrap": {"confidence_level": 0.95, "resamples": BOOTSTRAP_RESAMPLES,
                      "method": "percentile"},
    }
    atomic_write_text(out / "sweep.json", json.dumps(record, indent=2) + "\n")
    atomic_write_text(out / INPUTS_STAMP, _stamp(fingerprint) + "\n")
    return record
