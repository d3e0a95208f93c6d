"""The results contract: tables and summary of a run, written atomically.

A run directory holds ``timeseries.parquet`` (+ ``timeseries.csv``),
``events.parquet``, ``summary.json``, ``resolved_config.yaml`` and, written
last, ``manifest.json`` (every file's size and SHA-256: the run is finished
only when the files match it; Hydra adds its own ``.hydra/``). Every file is
written to a temporary name in the same directory and renamed into place, so a
crash never leaves a half-written file under a contract name.
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import yaml

from sim.core import metrics
from sim.core.series import SERIES, SOURCE_COLUMNS, SOURCE_SERIES
from sim.core.timeline import month_index, month_label, step_dates
from sim.core.world import EAST_SE_ASIA, World
from sim.identity import MANIFEST, manifest_record, mark_unfinished

if TYPE_CHECKING:
    from sim.config import RunSpec
    from sim.core.model import ScamModel

EVENT_COLUMNS = ("step", "date", "kind", "syndicate", "from", "to", "size")
# The files of the contract, each listed with its size and checksum in the manifest.
CONTRACT_FILES = (
    "timeseries.parquet",
    "timeseries.csv",
    "events.parquet",
    "workforce_by_source.parquet",
    "summary.json",
    "resolved_config.yaml",
)
RESULT_FILES = (*CONTRACT_FILES, MANIFEST)
# Before/after windows of the displacement metrics (months).
WINDOW, LAG = 12, 12


@cache
def package_version() -> str:
    """Installed version of scamsim."""
    try:
        return metadata.version("scamsim")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@cache
def git_revision() -> str | None:
    """Commit of the source tree (``+dirty`` if modified), or None outside a checkout."""
    root = Path(__file__).resolve().parents[1]
    if not ((root / ".git").exists() and (root / "pyproject.toml").exists()):
        return None  # an installed package: its version is the package version
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "sim", "configs"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


@dataclass(frozen=True)
class Recording:
    """What a finished model recorded: its arrays and event log, not the model itself.

    The result tables are built from it on first use, so a run whose tables are never
    read (a calibration particle, a benchmark) does not pay for building them.
    """

    rec: dict[str, np.ndarray]
    src_rec: dict[str, np.ndarray]
    events: list[tuple]
    world: World
    start: str
    horizon: int

    @classmethod
    def of(cls, model: ScamModel) -> Recording:
        """The recorders of ``model`` (shared, not copied: the model has finished)."""
        return cls(model.rec, model.src_rec, model.events, model.world, model.start,
                   model.horizon)

    def dates(self) -> np.ndarray:
        """Calendar month of every step."""
        return step_dates(self.start, self.horizon)


class RunResult:
    """What a run produced. Nothing is written until :meth:`write` is called.

    ``timeseries``, ``events`` and ``workforce_by_source`` are tables; a result made by
    :func:`sim.runner.simulate` builds them from its :class:`Recording` when first read.
    """

    def __init__(
        self,
        timeseries: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        summary: dict[str, Any] | None = None,
        config: dict[str, Any] | None = None,
        workforce_by_source: pd.DataFrame | None = None,
        model: ScamModel | None = None,
        recording: Recording | None = None,
    ) -> None:
        if recording is None and (timeseries is None or events is None):
            raise ValueError("a RunResult needs its tables or the recording to build them")
        self._timeseries = timeseries
        self._events = events
        self._workforce_by_source = workforce_by_source
        self.summary: dict[str, Any] = summary or {}
        self.config: dict[str, Any] = config or {}
        self.model = model
        self.recording = recording

    @property
    def timeseries(self) -> pd.DataFrame:
        """Long table, one row per step × jurisdiction (see :func:`timeseries_frame`)."""
        if self._timeseries is None:
            self._timeseries = timeseries_frame(self.recording)
        return self._timeseries

    @property
    def events(self) -> pd.DataFrame:
        """The event log (see :func:`events_frame`)."""
        if self._events is None:
            self._events = events_frame(self.recording)
        return self._events

    @property
    def workforce_by_source(self) -> pd.DataFrame | None:
        """The workforce by source country, long (see :func:`workforce_by_source_frame`)."""
        if self._workforce_by_source is None and self.recording is not None:
            self._workforce_by_source = workforce_by_source_frame(self.recording)
        return self._workforce_by_source

    def __repr__(self) -> str:
        return f"RunResult(run_id={self.summary.get('run_id')!r})"

    def write(self, directory: str | os.PathLike) -> Path:
        """Write the results contract into ``directory`` (created if needed)."""
        return write_run(self, directory)


def _long_frame(model: ScamModel | Recording, recorders: dict[str, np.ndarray],
                series: tuple) -> pd.DataFrame:
    """One row per step × country: the key columns, then every series (rounded as
    declared)."""
    t, n = model.rec["workers"].shape
    w = model.world
    frame: dict[str, Any] = {
        "step": np.repeat(np.arange(t, dtype=np.int64), n),
        "date": np.repeat(model.dates(), n),
        "iso3": np.tile(w.iso3, t),
        "region": np.tile(w.region, t),
    }
    for s in series:
        values = recorders[s.name].reshape(-1)
        frame[s.name] = values if s.decimals is None else values.round(s.decimals)
    return pd.DataFrame(frame)


def timeseries_frame(model: ScamModel | Recording) -> pd.DataFrame:
    """Long table, one row per step × jurisdiction."""
    return _long_frame(model, model.rec, SERIES)


def events_frame(model: ScamModel | Recording) -> pd.DataFrame:
    """Event log: relocations, expansions, raids, closures, splits, interventions."""
    cols = ("step", "kind", "syndicate", "from", "to", "size")
    df = pd.DataFrame(model.events, columns=list(cols))
    df = df.astype({"step": np.int64, "syndicate": np.int64, "size": np.int64})
    df = df.astype({"kind": str, "from": str, "to": str})
    dates = model.dates()
    df.insert(1, "date", dates[df["step"].to_numpy()] if len(df) else dates[:0])
    return df


def intervention_targets(spec: RunSpec, model: ScamModel) -> tuple[int | None, np.ndarray]:
    """Start step of the first crackdown and the jurisdictions it targets (R of the WDQ).

    Each lever says what it targets for the displacement metrics
    (:meth:`~sim.core.interventions.Intervention.displacement_targets`).
    """
    if not spec.interventions:
        return None, np.zeros(0, np.int64)
    crackdowns = [iv for iv in spec.interventions if iv.displacement_targets() is not None]
    # Displacement is measured around the first crackdown; other levers (capacity
    # building, squeezes) only set the clock when there is no crackdown.
    timed = crackdowns or spec.interventions
    t0 = min(month_index(spec.start, iv.start) for iv in timed)
    targets: list[int] = []
    for iv in crackdowns:
        if month_index(spec.start, iv.start) == t0:
            targets.extend(iv.displacement_targets().tolist())
    return t0, np.array(sorted(set(targets)), dtype=np.int64)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN becomes null, NumPy scalars become Python ones."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def control_workers(control: Any, model: ScamModel) -> np.ndarray | None:
    """Workers per step × jurisdiction of a control run, aligned with ``model``'s world.

    ``control`` is a :class:`RunResult` (its kept model or its time series), a long
    time-series frame (columns ``step``, ``iso3``, ``workers``) or an array shaped
    like ``model.rec["workers"]``; None gives None.
    """
    if control is None:
        return None
    shape = model.rec["workers"].shape
    if isinstance(control, RunResult):
        kept = control.model
        control = kept.rec["workers"] if kept is not None else control.timeseries
    if isinstance(control, pd.DataFrame):
        control = wide_workers(control, model.world.iso3, shape[0] - 1)
    arr = np.asarray(control, float)
    if arr.shape != shape:
        raise ValueError(f"control has shape {arr.shape}, the run {shape}")
    return arr


CONTROL_METRICS = ("wdq", "total_net_effect", "wdq_buffer", "moved_share", "removed_share",
                   "global_change_vs_control")


def control_metrics(workers: np.ndarray, ctrl: np.ndarray, targets: np.ndarray,
                    t0: int | None, distance_km: np.ndarray) -> dict[str, float]:
    """The displacement metrics of a run against its control run (docs/ODD.md 9.3).

    ``workers`` and ``ctrl``: workers per step × jurisdiction of the run and of the
    same-seed run without the intervention; ``targets``: indices of the intervention's
    targets; ``t0``: its first step. Keys :data:`CONTROL_METRICS`; NaN where undefined.
    """
    nan = math.nan
    out = dict.fromkeys(CONTROL_METRICS, nan)
    t_last = workers.shape[0] - 1
    if t0 is None or not 0 < t0 <= t_last:
        return out
    if len(targets):
        vs = metrics.displacement_vs_control(workers, ctrl, targets, t0, None, WINDOW, LAG)
        near = (distance_km[targets] <= BUFFER_KM).any(axis=0)
        near[targets] = False
        if near.any():
            out["wdq_buffer"] = metrics.displacement_vs_control(
                workers, ctrl, targets, t0, near, WINDOW, LAG
            )["wdq"]
        out["wdq"], out["total_net_effect"] = vs["wdq"], vs["total_net_effect"]
        out.update(metrics.moved_removed(vs["delta_r"], vs["delta_d"]))
    after = metrics.period_mean(workers.sum(axis=1), t0 + LAG, WINDOW)
    after_c = metrics.period_mean(ctrl.sum(axis=1), t0 + LAG, WINDOW)
    out["global_change_vs_control"] = metrics.relative_change(after_c, after)
    return out


def wide_workers(frame: pd.DataFrame, iso3: Sequence[str], steps: int) -> np.ndarray:
    """Workers per step (0..steps) × jurisdiction (in ``iso3`` order) from a long table."""
    wide = frame.pivot_table(index="step", columns="iso3", values="workers", aggfunc="sum")
    return wide.reindex(index=range(steps + 1), columns=list(iso3), fill_value=0).to_numpy(float)


def workforce_by_source_frame(model: ScamModel | Recording) -> pd.DataFrame:
    """Long table of the workforce by source country (nationality), one row per step × source.

    Columns: ``step``, ``date``, ``iso3`` (source country), ``region``, ``workers`` (held in
    compounds anywhere), ``recruited``, ``rescued``, ``released`` (this month's flows),
    ``pool`` (recruitable persons left) and ``returned`` (persons back home after a
    compound, not yet recruitable again). Nationality mixes are tracked per host as
    fractions, so the values are persons with decimals (rounded to 0.01).
    """
    return _long_frame(model, model.src_rec, SOURCE_SERIES)


# Buffer of the buffered WDQ: jurisdictions within this distance of a target (km).
BUFFER_KM = 1500.0


def summarize(
    model: ScamModel, spec: RunSpec, wall_time_s: float, control: Any = None
) -> dict[str, Any]:
    """All metrics of the results contract for one run.

    ``control`` (optional): the same-seed run without the intervention (see
    :func:`control_workers`). With it, ``wdq``, ``total_net_effect``, ``moved_share``
    and ``removed_share`` are measured against the control run; the before/after
    variants without control are always reported as ``*_no_control``.
    """
    w = model.world
    workers = model.rec["workers"].astype(float)
    compounds = model.rec["compounds"].astype(float)
    total = workers.sum(axis=1)
    t_last = workers.shape[0] - 1
    active_end = compounds[-1] > 0
    new_ever = metrics.ever_active_new(compounds)
    regions_new = sorted({str(r) for r in w.region[new_ever]})
    esea = w.region == EAST_SE_ASIA
    losses = model.rec["victim_losses_usd"][1:]
    months = losses.shape[0]
    years = months // 12
    esea_monthly = losses[:, esea].sum(axis=1)
    esea_yearly = [float(esea_monthly[12 * y : 12 * y + 12].sum()) for y in range(years)]

    out: dict[str, Any] = {
        "scenario": spec.scenario,
        "world": w.name,
        "seed": spec.seed,
        "steps": spec.steps,
        "start": spec.start,
        "end": month_label(spec.start, spec.steps),
        "version": package_version(),
        "git_revision": git_revision(),
        "wall_time_s": round(wall_time_s, 4),
        "activity_measure": "workers",
        "active_jurisdictions_start": int(metrics.active_jurisdictions(compounds[0])),
        "active_jurisdictions_end": int(metrics.active_jurisdictions(compounds[-1])),
        "active_jurisdictions_max": int(metrics.active_jurisdictions(compounds).max()),
        "new_jurisdictions_end": int(metrics.new_jurisdictions(compounds)[-1]),
        "new_jurisdictions_ever": int(new_ever.sum()),
        "new_regions": regions_new,
        "active_by_region_end": metrics.counts_by_region(active_end, list(w.region)),
        "hhi_start": float(metrics.hhi(workers[0])),
        "hhi_end": float(metrics.hhi(workers[-1])),
        "entropy_end": float(metrics.shannon_entropy(workers[-1])),
        "evenness_end": float(metrics.evenness(workers[-1])),
        "workers_start": int(total[0]),
        "workers_end": int(total[-1]),
        "workers_mean": float(total[1:].mean()) if t_last else float(total[0]),
        "compounds_end": int(compounds[-1].sum()),
        "syndicates_end": model.n_syndicates,
        "rescued_total": int(model.worker_flows["rescued"]),
        "victim_losses_total_usd": float(losses.sum()),
        "victim_losses_esea_by_year_usd": esea_yearly,
        "victim_losses_esea_per_year_usd": float(np.mean(esea_yearly)) if years else math.nan,
        "revenue_total_usd": float(model.rec["revenue_usd"][1:].sum()),
    }
    t0, targets = intervention_targets(spec, model)
    out["levers"] = [iv.record() for iv in spec.interventions]
    out["intervention_step"] = t0
    out["intervention_date"] = month_label(spec.start, t0) if t0 is not None else None
    out["targets"] = [str(c) for c in w.iso3[targets]]
    nan = math.nan
    disp = {"wdq": nan, "total_net_effect": nan}
    change = {"local_change": nan, "global_change": nan}
    recovery = nan
    if t0 is not None and 0 < t0 <= t_last:
        glob = metrics.global_local_change(
            total, workers[:, targets].sum(axis=1) if len(targets) else total, t0, WINDOW, LAG
        )
        change = {"local_change": glob["local_change"], "global_change": glob["global_change"]}
        recovery = metrics.recovery_time(total, t0, WINDOW)
        if len(targets):
            disp = metrics.displacement_summary(workers, targets, t0, None, WINDOW, LAG)
    ctrl = control_workers(control, model)
    out["displacement_control"] = "none" if ctrl is None else "control run"
    out["wdq_no_control"] = disp["wdq"]
    out["total_net_effect_no_control"] = disp["total_net_effect"]
    split_nc = {"moved_share": nan, "removed_share": nan}
    if not math.isnan(disp["wdq"]) or not math.isnan(disp["total_net_effect"]):
        split_nc = metrics.moved_removed(
            disp.get("r_after", nan) - disp.get("r_before", nan),
            disp.get("d_after", nan) - disp.get("d_before", nan),
        )
    if ctrl is None:
        vs = {"wdq": disp["wdq"], "total_net_effect": disp["total_net_effect"],
              "wdq_buffer": nan, **split_nc, "global_change_vs_control": nan}
    else:
        vs = control_metrics(workers, ctrl, targets, t0, w.distance_km)
    for key in ("wdq", "total_net_effect", "wdq_buffer", "moved_share", "removed_share"):
        out[key] = vs[key]
    out["moved_share_no_control"] = split_nc["moved_share"]
    out["removed_share_no_control"] = split_nc["removed_share"]
    out["global_change_vs_control"] = vs["global_change_vs_control"]
    out["local_change"] = change["local_change"] if len(targets) else nan
    out["global_change"] = change["global_change"]
    out["recovery_months"] = recovery
    lab = model.labour
    out["rescued_by_source"] = {
        str(w.iso3[k]): round(float(lab.by_source["rescued"][k]), 2)
        for k in np.argsort(-lab.by_source["rescued"])[:10] if lab.by_source["rescued"][k] > 0
    }
    out["accounting"] = {
        "workers": dict(model.worker_flows),
        "money_usd": dict(model.flows),
        "labour_persons": {**lab.flows, "pool_end": float(lab.pool.sum()),
                           "returned_end": float(lab.returned.sum())},
    }
    return _clean(out)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path: Path, write: Callable[[io.BufferedWriter], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files private; results are not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write text to ``path`` via a temporary file and a rename."""
    _atomic(Path(path), lambda fh: fh.write(text.encode()))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes to ``path`` via a temporary file and a rename."""
    _atomic(Path(path), lambda fh: fh.write(data))


def _parquet(df: pd.DataFrame) -> Callable[[io.BufferedWriter], None]:
    return lambda fh: df.to_parquet(fh, index=False, engine="pyarrow", compression="zstd")


def write_run(result: RunResult, directory: str | os.PathLike) -> Path:
    """Write the results contract; the manifest goes last and marks a finished run."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    mark_unfinished(out)  # a rewrite is unfinished until its new manifest is in place
    ts = result.timeseries.copy()
    ts["date"] = pd.to_datetime(ts["date"]).astype("datetime64[ms]")
    _atomic(out / "timeseries.parquet", _parquet(ts))
    # The CSV twin through Arrow (faster than pandas); no quoting: codes and region
    # names hold no delimiter, and Arrow refuses a value that would need quotes.
    table = pa.Table.from_pandas(ts, preserve_index=False)
    table = table.set_column(1, "date", pc.strftime(table["date"], format="%Y-%m-%d"))
    options = pa_csv.WriteOptions(quoting_style="none", include_header=False)

    def write_csv(fh: io.BufferedWriter) -> None:
        fh.write((",".join(table.column_names) + "\n").encode())  # Arrow quotes its header
        pa_csv.write_csv(table, fh, options)

    _atomic(out / "timeseries.csv", write_csv)
    ev = result.events.copy()
    ev["date"] = pd.to_datetime(ev["date"])
    _atomic(out / "events.parquet", _parquet(ev))
    src = result.workforce_by_source
    if src is None:  # a result built by hand: an empty table with the contract's columns
        src = pd.DataFrame({c: pd.Series(dtype=float) for c in SOURCE_COLUMNS})
    src = src.copy()
    src["date"] = pd.to_datetime(src["date"]).astype("datetime64[ms]")
    _atomic(out / "workforce_by_source.parquet", _parquet(src))
    atomic_write_text(
        out / "resolved_config.yaml", yaml.safe_dump(result.config, sort_keys=False)
    )
    atomic_write_text(out / "summary.json", json.dumps(result.summary, indent=2) + "\n")
    rid = str(result.summary.get("run_id", ""))
    manifest = manifest_record(out, CONTRACT_FILES, rid)
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return out


def _read(path: Path, load: Callable[[Path], Any]) -> Any:
    """``load(path)``, or RunFilesError naming the run folder and the file."""
    from sim.core.errors import RunFilesError

    if not path.is_file():
        raise RunFilesError(str(path.parent), f"{path.name} is missing")
    try:
        return load(path)
    except Exception as err:  # Arrow, YAML and JSON raise many types; one line
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:120]
        raise RunFilesError(
            str(path.parent), f"{path.name} cannot be read (truncated or corrupt?): {first}"
        ) from None


def read_run(directory: str | os.PathLike) -> RunResult:
    """Load a run directory written by :func:`write_run` (RunFilesError if a file is bad)."""
    d = Path(directory)

    def load_yaml(p: Path) -> Any:
        with p.open() as fh:
            return yaml.safe_load(fh)

    return RunResult(
        timeseries=_read(d / "timeseries.parquet", pd.read_parquet),
        events=_read(d / "events.parquet", pd.read_parquet),
        workforce_by_source=_read(d / "workforce_by_source.parquet", pd.read_parquet),
        summary=_read(d / "summary.json", lambda p: json.loads(p.read_text())),
        config=_read(d / "resolved_config.yaml", load_yaml),
    )
