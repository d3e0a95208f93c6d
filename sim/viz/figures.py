"""Figures of a sweep: conditions compared over replicates (matplotlib, no display needed).

Inputs are the aggregate files of a sweep folder (``runs.parquet``,
``timeseries.parquet``, ``summary.csv`` with its bootstrap CIs and ``sweep.json``,
written by the analysis layer) or the Sobol table of ``experiments/sensitivity.py``:
this module draws what it is given and computes no statistics of its own beyond
the t-bands. Drawing functions either draw into an Axes they are given (and return
it) or build and return a whole Figure. Figures they create carry the caption of
:func:`sim.viz.style.caption` (scenarios, replicates, scamsim version) and the style
of :func:`sim.viz.style.style`; write them with :func:`sim.viz.style.save_png`.

Confidence bands of time series are Student-t 95% intervals of the mean over runs
(replicates are independent seeds, and one band per month needs no resampling);
the forest plot uses the seeded percentile bootstrap of ``summary.csv``.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

from sim.core.params import param_info

# CAPTION_COLOUR, CAPTION_GID, DPI, STYLE and save: the names the style had here
# before it moved to sim.viz.style, kept for callers.
from sim.viz.style import CAPTION_COLOUR as CAPTION_COLOUR
from sim.viz.style import CAPTION_GID as CAPTION_GID
from sim.viz.style import (
    CONDITION_COLOURS,
    PALETTE,
    REGION_ORDER,
    caption,
    region_colours,
    save_png,
    style,
    tidy,
    version_text,
)
from sim.viz.style import DPI as DPI
from sim.viz.style import STYLE as STYLE

# Past nine conditions colours repeat, so the line style changes with each round.
_LINESTYLES = ("-", "--", ":", "-.")
# Conditions that are reference points go first, so they keep the first colour.
_REFERENCE_FIRST = ("baseline", "no_enforcement")
DEFAULT_HUBS = ("MMR", "KHM", "LAO", "PHL")
BAND_NOTE = "bands: 95% t-interval over runs"

# Axis labels (with units and how to read the sign) and display scale of metrics.
METRICS: dict[str, tuple[str, float]] = {
    "wdq": ("WDQ (negative = displacement; −1 = all of it moved)", 1.0),
    "total_net_effect": ("total net effect (thousand workers; positive = net reduction)", 1e3),
    "global_change": ("global workforce change 12–24 months after (share)", 1.0),
    "local_change": ("workforce change in the targets 12–24 months after (share)", 1.0),
    "recovery_months": ("months until the global workforce recovers", 1.0),
    "new_jurisdictions_end": ("new host countries at the end (countries)", 1.0),
    "active_jurisdictions_end": ("host countries at the end (countries)", 1.0),
    "workers_end": ("workers at the end (thousands)", 1e3),
    "victim_losses_esea_per_year_usd": ("victim losses in E & SE Asia (US$ bn per year)", 1e9),
}
# Time-series columns: what they count, for axis labels.
SERIES_UNITS: dict[str, str] = {
    "workers": "workers in compounds",
    "compounds": "compounds",
    "revenue_usd": "revenue (US$ per month)",
    "victim_losses_usd": "victim losses (US$ per month)",
    "raids": "raids per month",
    "rescued": "workers rescued per month",
    "pressure": "enforcement pressure (0–1)",
}
_SCALE_WORDS = {1e3: "thousands", 1e6: "millions", 1e9: "billions"}

# Panel titles of the outcome metrics (Sobol bars and other per-outcome panels).
OUTCOME_TITLES: dict[str, str] = {
    "new_jurisdictions_end": "spread: new host countries at the end",
    "global_change": "global workforce change (12–24 months after)",
    "wdq": "weighted displacement quotient (WDQ)",
    "total_net_effect": "total net effect",
    "local_change": "workforce change in the targets (12–24 months after)",
    "workers_end": "workers at the end",
}

Where = Collection[str] | Callable[[pd.DataFrame], Any] | None
Events = Sequence[tuple[Any, str]] | None


# --------------------------------------------------------------------------- style

save = save_png


def _new_figure(figsize: tuple[float, float], **kw: Any) -> tuple[Figure, Any]:
    with style():
        return plt.subplots(figsize=figsize, layout="constrained", **kw)


# ----------------------------------------------------------------- conditions


def _natural_key(text: str) -> tuple:
    """Sort 'raid_rate=0.15' before 'raid_rate=0.25' and '2' before '10'."""
    parts = re.split(r"(-?\d+(?:\.\d+)?)", str(text))
    return tuple((0, float(p), "") if re.fullmatch(r"-?\d+(?:\.\d+)?", p) else (1, 0.0, p)
                 for p in parts if p)


def _condition_key(text: str) -> tuple:
    name = str(text).split("=", 1)[-1]
    return (0 if name in _REFERENCE_FIRST else 1, _natural_key(text))


def short_label(condition: str) -> str:
    """Readable condition label: 'scenario=baseline' → 'baseline', drop 'params.'."""
    items = [c.strip() for c in str(condition).split(", ")]
    if len(items) == 1 and "=" in items[0]:
        return items[0].split("=", 1)[1]
    return ", ".join(i.removeprefix("params.") for i in items)


def label_source(runs: pd.DataFrame, label_by: str = "cfg.scenario") -> str:
    """``label_by`` if it tells the conditions apart one to one, else ``"condition"``."""
    if label_by not in runs.columns or "condition" not in runs.columns:
        return "condition"
    pairs = runs[["condition", label_by]].astype(str).drop_duplicates()
    ok = pairs["condition"].is_unique and pairs[label_by].is_unique
    return label_by if ok else "condition"


def condition_labels(runs: pd.DataFrame, label_by: str = "cfg.scenario") -> pd.Series:
    """Label of each run's condition, indexed by run id.

    ``label_by`` names a column of ``runs``; it is used when it tells the conditions
    apart one to one, otherwise the short form of ``condition`` is used.
    """
    source = label_source(runs, label_by)
    if source == "condition":
        cond = runs["condition"] if "condition" in runs else pd.Series("all", runs.index)
        labels = cond.astype(str).map(short_label)
    else:
        labels = runs[source].astype(str)
    return pd.Series(labels.to_numpy(), index=runs["run_id"].to_numpy(), name="label")


def condition_order(runs: pd.DataFrame, label_by: str = "cfg.scenario") -> list[str]:
    """Condition labels in the order used by every figure (reference scenarios first)."""
    labels = condition_labels(runs, label_by)
    cond = runs["condition"].astype(str).to_numpy() if "condition" in runs else labels.to_numpy()
    first = dict(zip(labels.to_numpy(), cond, strict=True))
    return sorted(first, key=lambda lab: _condition_key(first[lab]))


def condition_styles(labels: Sequence[str]) -> dict[str, dict[str, str]]:
    """Colour and line style of each condition label, by position."""
    n = len(CONDITION_COLOURS)
    return {lab: {"color": CONDITION_COLOURS[k % n], "ls": _LINESTYLES[(k // n) % 4]}
            for k, lab in enumerate(labels)}


def _select_condition(runs: pd.DataFrame, condition: str, label_by: str) -> pd.DataFrame:
    labels = condition_labels(runs, label_by)
    mask = (runs["condition"].astype(str) == condition) if "condition" in runs else False
    mask = mask | (labels.to_numpy() == condition)
    if not np.any(mask):
        known = ", ".join(condition_order(runs, label_by))
        raise ValueError(f"condition {condition!r} is not in the runs; known: {known}")
    return runs[np.asarray(mask)]


# ------------------------------------------------------------------- captions


def _join(values: Sequence[str], limit: int = 6) -> str:
    values = list(values)
    if len(values) <= limit:
        return ", ".join(values)
    return ", ".join(values[:limit]) + f" … (+{len(values) - limit})"


def sweep_caption_text(data: pd.DataFrame, extra: str | None = None) -> str:
    """Caption line of a sweep: scenarios, world, replicates, months, scamsim version.

    ``data`` is ``runs`` (one row per run) or ``summary`` (one row per condition).
    """
    parts = []
    scen_col = next((c for c in ("cfg.scenario", "scenario") if c in data.columns), None)
    if scen_col is not None:
        scen = sorted(data[scen_col].astype(str).unique(), key=_condition_key)
        parts.append(("scenario " if len(scen) == 1 else "scenarios ") + _join(scen))
    elif "condition" in data.columns:
        conds = sorted(data["condition"].astype(str).unique(), key=_condition_key)
        parts.append(f"{len(conds)} conditions")
    if "cfg.world.name" in data.columns:
        parts.append("world " + _join(sorted(data["cfg.world.name"].astype(str).unique())))
    if "runs" in data.columns and "run_id" not in data.columns:
        counts = data["runs"].astype(int)
    elif "condition" in data.columns:
        counts = data.groupby("condition").size()
    else:
        counts = pd.Series([len(data)])
    lo, hi = int(counts.min()), int(counts.max())
    reps = f"{lo}" if lo == hi else f"{lo}–{hi}"
    parts.append(f"{reps} replicate{'s' if hi > 1 else ''} per condition")
    if {"cfg.steps", "cfg.start"} <= set(data.columns):
        steps = sorted(data["cfg.steps"].astype(int).unique())
        start = sorted(data["cfg.start"].astype(str).unique())
        parts.append(f"{_join([str(s) for s in steps])} months from {_join(start)}")
    if extra:
        parts.append(extra)
    # The version that produced the data, when recorded; otherwise the installed one.
    versions = sorted(data["version"].dropna().astype(str).unique()) if "version" in data else []
    revs = (sorted({str(v)[:10] for v in data["git_revision"].dropna()})
            if "git_revision" in data else [])
    parts.append(version_text(_join(versions) if versions else None,
                              _join(revs, 2) if revs else None))
    return " · ".join(parts)


def lever_marks(levers: Sequence[Mapping[str, Any]] | None) -> list[tuple[pd.Timestamp, str]]:
    """(start month, label) of each lever: a summary's ``levers`` or a scenario's ``events``.

    The label is the lever's ``label``, else its ``kind``; levers without a start are left out.
    """
    out = []
    for lever in levers or []:
        if lever.get("start"):
            when = pd.Timestamp(str(lever["start"])[:7] + "-01")
            out.append((when, str(lever.get("label") or lever.get("kind", ""))))
    return out


def scenario_events(runs: pd.DataFrame, condition: str | None = None,
                    label_by: str = "cfg.scenario") -> list[tuple[pd.Timestamp, str]]:
    """Distinct (start month, label) of the levers of the runs (or one condition).

    Read from the runs' ``levers`` (the summaries' list) where recorded, else from
    their scenario's events (``cfg.scenario.events``).
    """
    sel = runs if condition is None else _select_condition(runs, condition, label_by)
    found: dict[tuple[pd.Timestamp, str], None] = {}
    for col in ("levers", "cfg.scenario.events"):
        if col not in sel.columns or sel[col].isna().all():
            continue
        for text in sel[col].dropna().astype(str).unique():
            found.update(dict.fromkeys(lever_marks(json.loads(text))))
        break
    return sorted(found)


def merge_events(events: Sequence[tuple[Any, str]], max_labels: int = 3,
                 what: str = "interventions start") -> list[tuple[pd.Timestamp, str]]:
    """Events of a date kept as they are up to ``max_labels``, else one '<what>' marker."""
    by_date: dict[pd.Timestamp, list[str]] = {}
    for when, label in events:
        by_date.setdefault(pd.Timestamp(when), []).append(label)
    out: list[tuple[pd.Timestamp, str]] = []
    for when, labels in sorted(by_date.items()):
        labels = list(dict.fromkeys(labels))
        out += [(when, lab) for lab in labels] if len(labels) <= max_labels else [(when, what)]
    return out


def mark_events(ax: Axes, events: Events, *, labels: bool = True) -> None:
    """Dotted vertical lines at event dates, labels stacked at the top inside the axes.

    ``events`` are (date, label) pairs; the axes get headroom for the labels.
    """
    seen: dict[pd.Timestamp, int] = {}
    events = list(events or [])
    for when, label in events:
        when = pd.Timestamp(when)
        ax.axvline(when, color="black", lw=0.9, ls=":", alpha=0.8, zorder=1)
        if not labels or not label:
            continue
        k = seen.get(when, 0)
        seen[when] = k + 1
        ax.annotate(label, xy=(when, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(4, -4 - 12 * k), textcoords="offset points", fontsize=8,
                    ha="left", va="top",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                          "alpha": 0.85})
    if seen:
        # Headroom above the data so that the labels do not cover it.
        height_pt = ax.get_position().height * ax.figure.get_figheight() * 72
        frac = min((8 + 12 * max(seen.values())) / max(height_pt, 1.0), 0.5)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, lo + (hi - lo) / (1 - frac))


def _date_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.set_xlabel("year")
    ax.margins(x=0)


def _series_label(value: str, scale: float) -> str:
    what = SERIES_UNITS.get(value, value.replace("_", " "))
    word = _SCALE_WORDS.get(scale)
    if word is None and scale != 1:
        word = f"÷ {scale:g}"
    return f"{what} ({word})" if word else what


# --------------------------------------------------------------- time series


def _filter(timeseries: pd.DataFrame, where: Where) -> pd.DataFrame:
    if where is None:
        return timeseries
    if callable(where):
        return timeseries[np.asarray(where(timeseries), bool)]
    return timeseries[timeseries["iso3"].isin(list(where))]


def _per_run(timeseries: pd.DataFrame, value: str, where: Where) -> pd.DataFrame:
    """date × run_id table of ``value`` summed over the selected countries."""
    # Every (run, date) the run has, so a selection with no rows in a month counts as 0
    # while months a run never reached stay missing.
    full = pd.MultiIndex.from_frame(timeseries[["run_id", "date"]].drop_duplicates())
    sums = _filter(timeseries, where).groupby(["run_id", "date"])[value].sum()
    sums = sums.reindex(full, fill_value=0)
    table = sums.unstack("run_id").sort_index()
    table.index = pd.to_datetime(table.index)
    return table


def mean_ci(table: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Row-wise mean and Student-t interval over the columns (runs); NaN-aware."""
    n = table.notna().sum(axis=1)
    mean = table.mean(axis=1)
    sem = table.std(axis=1, ddof=1) / np.sqrt(n)
    t = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1))
    half = np.where(n > 1, t * sem, np.nan)
    return pd.DataFrame({"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n": n})


def condition_series(timeseries: pd.DataFrame, runs: pd.DataFrame, *, value: str = "workers",
                     where: Where = None, label_by: str = "cfg.scenario") -> pd.DataFrame:
    """Per condition label and date: mean over runs of the summed series, 95% t-interval, n."""
    table = _per_run(timeseries, value, where)
    labels = condition_labels(runs, label_by)
    out = []
    for lab in condition_order(runs, label_by):
        ids = [r for r in labels.index[labels.to_numpy() == lab] if r in table.columns]
        if not ids:
            continue
        stats_ = mean_ci(table[ids])
        stats_.insert(0, "label", lab)
        out.append(stats_.rename_axis("date").reset_index())
    if not out:
        raise ValueError("no run of `runs` has rows in `timeseries`")
    return pd.concat(out, ignore_index=True)


def series_by_condition(
    timeseries: pd.DataFrame,
    runs: pd.DataFrame,
    *,
    value: str = "workers",
    where: Where = None,
    label_by: str = "cfg.scenario",
    ax: Axes | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    scale: float = 1e3,
    events: Events = None,
    event_labels: bool = True,
    legend: bool = True,
) -> Axes:
    """Mean over runs of a (summed) series per condition with its 95% CI band.

    ``where`` restricts the countries summed: a collection of ISO3 codes or a
    callable returning a boolean mask of the time-series frame. ``events`` are
    ``(date, label)`` markers. Without ``ax`` a new captioned figure is made.
    """
    own = ax is None
    if ax is None:
        ax = _new_figure((10, 4.8))[1]
    data = condition_series(timeseries, runs, value=value, where=where, label_by=label_by)
    looks = condition_styles(condition_order(runs, label_by))
    with style():
        for lab, grp in data.groupby("label", sort=False):
            look = looks[lab]
            ax.plot(grp["date"], grp["mean"] / scale, color=look["color"], ls=look["ls"],
                    lw=1.8, label=lab, zorder=3)
            ax.fill_between(grp["date"], grp["ci_low"] / scale, grp["ci_high"] / scale,
                            color=look["color"], alpha=0.18, lw=0, zorder=2)
        ax.set_ylabel(ylabel or _series_label(value, scale))
        if title:
            ax.set_title(title)
        _date_axis(ax)
        # Counts start at zero; a t-band dipping below it is cut rather than shown.
        ax.set_ylim(bottom=0.0 if (data["mean"] >= 0).all() else None)
        mark_events(ax, events, labels=event_labels)
        if legend:
            name = label_source(runs, label_by).removeprefix("cfg.")
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      title=f"{name}\n(mean, 95% CI)", alignment="left")
        tidy(ax)
    if own:
        caption(ax.figure, sweep_caption_text(runs, BAND_NOTE))
    return ax


def hub_vs_rest(
    timeseries: pd.DataFrame,
    runs: pd.DataFrame,
    hubs: Sequence[str] = DEFAULT_HUBS,
    *,
    value: str = "workers",
    label_by: str = "cfg.scenario",
    scale: float = 1e3,
    events: Events = None,
    title: str | None = None,
) -> Figure:
    """Two panels: the series in the starting hubs and in the rest of the world, per condition."""
    fig, (top, bottom) = _new_figure((10, 7), nrows=2, sharex=True)
    hubs = list(hubs)
    series_by_condition(timeseries, runs, value=value, where=set(hubs), label_by=label_by,
                        ax=top, scale=scale, events=events,
                        title=f"Starting hubs ({', '.join(hubs)})")
    series_by_condition(timeseries, runs, value=value,
                        where=lambda f: ~f["iso3"].isin(hubs), label_by=label_by,
                        ax=bottom, scale=scale, events=events, event_labels=False,
                        legend=False, title="Rest of the world")
    top.set_xlabel("")
    what = SERIES_UNITS.get(value, value).capitalize()
    with style():
        fig.suptitle(title or f"{what}: starting hubs and the rest of the world", x=0.01,
                     ha="left")
    caption(fig, sweep_caption_text(runs, BAND_NOTE))
    return fig


def regional_stacked(
    timeseries: pd.DataFrame,
    runs: pd.DataFrame,
    condition: str,
    ax: Axes | None = None,
    *,
    value: str = "workers",
    label_by: str = "cfg.scenario",
    scale: float = 1e3,
    events: Events = None,
    title: str | None = None,
) -> Axes:
    """Stacked areas of the mean (over runs) of ``value`` by region for one condition.

    ``condition`` is a condition of ``runs`` or its label. Regions keep the colours and
    order of :mod:`sim.viz.run_figures`; regions never active are left out.
    """
    own = ax is None
    if ax is None:
        ax = _new_figure((10, 4.8))[1]
    sel = _select_condition(runs, condition, label_by)
    ids = set(sel["run_id"])
    ts = timeseries[timeseries["run_id"].isin(ids)]
    per = ts.groupby(["date", "region", "run_id"])[value].sum().unstack(["region"]).fillna(0)
    mean = per.groupby(level="date").mean()
    mean.index = pd.to_datetime(mean.index)
    order = [r for r in REGION_ORDER if r in mean.columns and mean[r].max() > 0]
    order += sorted(c for c in mean.columns if c not in REGION_ORDER and mean[c].max() > 0)
    colours = region_colours()
    with style():
        ax.stackplot(mean.index, *[mean[r].to_numpy() / scale for r in order], labels=order,
                     colors=[colours.get(r, "#777777") for r in order], alpha=0.9,
                     linewidth=0)
        ax.set_ylabel(f"mean {_series_label(value, scale)}")
        # Labels come from all runs: within one condition any column would do.
        label = condition_labels(runs, label_by)[sel["run_id"].iloc[0]]
        ax.set_title(title or f"{SERIES_UNITS.get(value, value).capitalize()} by region — "
                     f"{label}")
        _date_axis(ax)
        ax.grid(axis="x", visible=False)
        mark_events(ax, events)
        # Legend top-down in the order the areas are stacked on screen.
        handles, names = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], names[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  title="region")
        tidy(ax)
    if own:
        extra = None if label_source(runs, label_by) != "condition" else str(
            sel["condition"].iloc[0])
        caption(ax.figure, sweep_caption_text(sel, extra))
    return ax


# ---------------------------------------------------------------- forest plot


def _metric_label(metric: str) -> tuple[str, float]:
    return METRICS.get(metric, (metric.replace("_", " "), 1.0))


def _metric_title(metric: str) -> str:
    return "WDQ" if metric == "wdq" else metric.replace("_", " ")


def _fmt(v: float) -> str:
    if not np.isfinite(v):
        return "n/a"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}" if abs(v) >= 1 else f"{v:.2f}"


def forest_plot(
    summary_or_runs: pd.DataFrame,
    metrics: Sequence[str] = ("wdq", "total_net_effect"),
    *,
    fig: Figure | None = None,
    title: str | None = None,
    label_by: str = "cfg.scenario",
    summarise: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> Figure:
    """Mean and 95% CI of each metric per condition (rows), one panel per metric.

    Draws ``summary.csv`` (``<metric>_mean``/``_ci_low``/``_ci_high``). Given
    ``runs.parquet`` instead, ``summarise`` turns them into such a table (the
    analysis layer's ``summary_table``, the seeded bootstrap of ``summary.csv``);
    rows are then labelled like the other figures (by ``label_by``).
    """
    data = summary_or_runs
    if "run_id" in data.columns:
        if summarise is None:
            raise ValueError("forest_plot draws a summary table (summary.csv); to draw runs, "
                             "pass summarise=sim.analysis.sweep.summary_table")
        labels_by_cond = (pd.Series(condition_labels(data, label_by).to_numpy(),
                                    index=data["condition"].astype(str).to_numpy())
                          .groupby(level=0).first())
        summary = summarise(data)
        summary["label"] = summary["condition"].astype(str).map(labels_by_cond)
    else:
        summary = data.copy()
        # summary.csv has the condition settings without their "cfg." prefix.
        col = label_by.removeprefix("cfg.")
        if col in summary.columns and summary[col].astype(str).is_unique:
            summary["label"] = summary[col].astype(str)
        else:
            summary["label"] = summary["condition"].astype(str).map(short_label)
    missing = [m for m in metrics if f"{m}_mean" not in summary.columns]
    if missing:
        raise ValueError(f"metrics not in the data: {', '.join(missing)}")
    summary = summary.sort_values("condition", key=lambda s: s.map(_condition_key))
    labels = list(summary["label"])
    looks = condition_styles(labels)
    if fig is None:
        with style():
            fig = plt.figure(figsize=(4.2 * len(metrics) + 2.2, 0.45 * len(labels) + 2.2),
                             layout="constrained")
    with style():
        axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
        pos = np.arange(len(labels))[::-1]  # first condition at the top
        for ax, metric in zip(axes, metrics, strict=True):
            label, scale = _metric_label(metric)
            mean = summary[f"{metric}_mean"].to_numpy(float) / scale
            lo = summary[f"{metric}_ci_low"].to_numpy(float) / scale
            hi = summary[f"{metric}_ci_high"].to_numpy(float) / scale
            for y, lab, m, a, b in zip(pos, labels, mean, lo, hi, strict=True):
                colour = looks[lab]["color"]
                if not np.isfinite(m):
                    ax.text(0.02, y, "not defined", transform=ax.get_yaxis_transform(),
                            va="center", ha="left", fontsize=8, color="0.45", style="italic")
                    continue
                err = None
                if np.isfinite(a) and np.isfinite(b):
                    err = [[max(m - a, 0.0)], [max(b - m, 0.0)]]
                ax.errorbar([m], [y], xerr=err, fmt="o", color=colour, ecolor=colour,
                            markersize=6, capsize=3.5, elinewidth=1.6, zorder=3)
                ax.annotate(_fmt(m), xy=(m, y),
                            xytext=(0, 6), textcoords="offset points", ha="center",
                            va="bottom", fontsize=7.5, color="0.25")
            ax.axvline(0, color="0.2", lw=0.9, zorder=1)
            ax.set_xlabel("\n".join(textwrap.wrap(label, 38)))
            ax.set_title(_metric_title(metric), fontsize=10)
            ax.grid(axis="y", visible=False)
            ax.set_ylim(-0.7, len(labels) - 0.4)
            ax.margins(x=0.12)
            tidy(ax)
        axes[0].set_yticks(pos, labels)
        axes[0].set_ylabel("condition")
        fig.suptitle(title or "Outcomes by condition (mean and 95% bootstrap CI)", x=0.01,
                     ha="left")
    caption(fig, sweep_caption_text(data, "95% percentile bootstrap CI over runs"))
    return fig


# -------------------------------------------------------------------- heatmap


def _param_label(column: str) -> str:
    name = column.removeprefix("cfg.").removeprefix("params.")
    doc = {p["name"]: p["doc"] for p in param_info()}.get(name)
    return "\n".join(textwrap.wrap(f"{name} — {doc}" if doc else name, 55))


def _tick(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float | np.floating) else str(v)


def heatmap_2d(
    runs: pd.DataFrame,
    x: str = "cfg.params.raid_rate",
    y: str = "cfg.params.exit_utility",
    value: str = "wdq",
    ax: Axes | None = None,
    *,
    annotate: bool = True,
    cmap: str | None = None,
    title: str | None = None,
) -> Axes:
    """Mean of ``value`` over replicates for each (x, y) cell of a parameter grid.

    Values of both signs get "RdBu" centred at 0, otherwise "cividis" (both
    colour-blind safe). Cells are annotated with the mean; empty cells are blank.
    """
    own = ax is None
    if ax is None:
        ax = _new_figure((7.8, 5.6))[1]
    grid = runs.pivot_table(index=y, columns=x, values=value, aggfunc="mean", dropna=False)
    grid = grid.sort_index().sort_index(axis=1)
    arr = grid.to_numpy(float)
    finite = arr[np.isfinite(arr)]
    label, scale = _metric_label(value)
    shown = arr / scale
    if finite.size and finite.min() < 0 < finite.max():
        cmap = cmap or "RdBu"
        lim = float(np.nanmax(np.abs(shown)))
        norm: mcolors.Normalize = mcolors.Normalize(-lim, lim)
    else:
        cmap = cmap or "cividis"
        norm = mcolors.Normalize(float(np.nanmin(shown)) if finite.size else 0.0,
                                 float(np.nanmax(shown)) if finite.size else 1.0)
    with style():
        im = ax.imshow(shown, origin="lower", aspect="auto", cmap=cmap, norm=norm,
                       interpolation="nearest")
        ax.set_xticks(range(grid.shape[1]), [_tick(v) for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [_tick(v) for v in grid.index])
        ax.set_xlabel(_param_label(x))
        ax.set_ylabel(_param_label(y))
        ax.grid(False)
        ax.tick_params(length=0)
        for s in ax.spines.values():
            s.set_visible(False)
        if annotate:
            cm = plt.get_cmap(cmap)
            for (i, j), v in np.ndenumerate(shown):
                if not np.isfinite(v):
                    ax.text(j, i, "n/a", ha="center", va="center", fontsize=9, color="0.4")
                    continue
                r, g, b, _ = cm(norm(v))
                # Dark cells get white text (relative luminance, ITU-R BT.709).
                dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5
                ax.text(j, i, _fmt(v), ha="center", va="center", fontsize=10,
                        color="white" if dark else "black")
        bar = ax.figure.colorbar(im, ax=ax, shrink=0.9)
        bar.set_label("mean " + label)
        bar.outline.set_visible(False)
        name = _metric_title(value)
        xs, ys = (c.removeprefix("cfg.").removeprefix("params.") for c in (x, y))
        ax.set_title(title or f"{name}: mean over replicates by {xs} and {ys}")
    if own:
        caption(ax.figure, sweep_caption_text(runs))
    return ax


# ---------------------------------------------------------------------- Sobol


def sobol_bars(
    sobol_df: pd.DataFrame,
    *,
    fig: Figure | None = None,
    outputs: Sequence[str] | None = None,
    output_labels: Mapping[str, str] | None = None,
    title: str = "Sobol indices: shares of the outcome variance of the Mekong crackdown",
    caption_line: str | None = None,
) -> Figure:
    """S1 and ST bars with 95% CI error bars per parameter, one panel per output.

    ``sobol_df`` is ``sobol.csv`` of ``experiments/sensitivity.py`` (columns method,
    output, parameter, index, value, conf). Parameters are sorted by ST, largest on top.
    """
    df = sobol_df
    if "method" in df.columns:
        df = df[df["method"] == "sobol"]
    if output_labels is None:
        output_labels = OUTCOME_TITLES
    outs = list(outputs) if outputs is not None else list(dict.fromkeys(df["output"]))
    if fig is None:
        with style():
            fig = plt.figure(figsize=(5 * len(outs), 5.6), layout="constrained")
    elif fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")  # needed for the legend outside the panels
    indigo, sand = PALETTE[0], PALETTE[5]
    lo = min(0.0, float((df["value"] - df["conf"].fillna(0)).min()))
    hi = max(1.0, float((df["value"] + df["conf"].fillna(0)).max()))
    with style():
        axes = fig.subplots(1, len(outs), squeeze=False)[0]
        for ax, out in zip(axes, outs, strict=True):
            sub = df[df["output"] == out]
            val = sub.pivot(index="parameter", columns="index", values="value").sort_values("ST")
            conf = sub.pivot(index="parameter", columns="index", values="conf").loc[val.index]
            pos = np.arange(len(val))
            err = {"ecolor": "black", "capsize": 2.5, "elinewidth": 0.9}
            # ST is drawn first so that it sits above S1 in each pair.
            ax.barh(pos + 0.2, val["ST"], height=0.38, color=sand, edgecolor="0.35",
                    linewidth=0.5, xerr=conf["ST"], error_kw=err,
                    label="ST (total, with interactions)")
            ax.barh(pos - 0.2, val["S1"], height=0.38, color=indigo, xerr=conf["S1"],
                    error_kw=err, label="S1 (first order, alone)")
            ax.set_yticks(pos, val.index)
            ax.axvline(0, color="0.2", linewidth=0.8)
            ax.set_xlim(lo - 0.02, hi + 0.02)
            ax.grid(axis="y", visible=False)
            ax.set_xlabel("share of the output's variance")
            ax.set_title(output_labels.get(out, out), fontsize=10.5, fontweight="normal")
            tidy(ax)
        axes[0].set_ylabel("parameter")
        handles, labels = axes[0].get_legend_handles_labels()
        handles.append(plt.Line2D([], [], color="black", linewidth=1, marker="|", markersize=8))
        labels.append("95% bootstrap CI")
        order = sorted(range(len(labels)), key=lambda i: not labels[i].startswith("S1"))
        # Upper right, outside the panels: the bottom edge belongs to the caption line.
        fig.legend([handles[i] for i in order], [labels[i] for i in order],
                   loc="outside right upper", ncols=1, frameon=False)
        fig.suptitle(title, x=0.01, ha="left")
    caption(fig, caption_line or f"Sobol/Saltelli indices (SALib) · {version_text()}")
    return fig


# ------------------------------------------------------------- sweep folders


def load_sweep(directory: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The aggregate of a sweep folder: runs, time series and summary."""
    d = Path(directory)
    return (pd.read_parquet(d / "runs.parquet"), pd.read_parquet(d / "timeseries.parquet"),
            pd.read_csv(d / "summary.csv"))


def sweep_conditions(directory: str | os.PathLike, runs: pd.DataFrame) -> list[str]:
    """The ``cfg.*`` columns that define the conditions of a sweep folder.

    From ``sweep.json`` (``condition_columns``) where written, else from the keys of
    the runs' condition labels ('raid_rate=0.2, exit_utility=3.0').
    """
    record = Path(directory) / "sweep.json"
    if record.exists():
        keys = json.loads(record.read_text()).get("condition_columns", [])
    else:
        first = str(runs["condition"].iloc[0]) if len(runs) and "condition" in runs else "all"
        keys = [part.split("=", 1)[0] for part in first.split(", ") if "=" in part]
    return [f"cfg.{k}" for k in keys if f"cfg.{k}" in runs.columns]


def _numeric_conditions(directory: str | os.PathLike, runs: pd.DataFrame) -> list[str]:
    return [c for c in sweep_conditions(directory, runs)
            if pd.api.types.is_numeric_dtype(runs[c])]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def sweep_figures(directory: str | os.PathLike, out: str | os.PathLike | None = None,
                  *, max_regional: int = 8) -> list[Path]:
    """Draw the standard figures of a sweep folder into ``out`` (default ``<folder>/figures``).

    Workers by condition, hubs vs rest of the world, workers by region per condition
    (up to ``max_regional`` conditions), the forest plot of the displacement metrics and,
    for a sweep over two numeric settings, the heatmap of WDQ.
    """
    runs, ts, summary = load_sweep(directory)
    dest = Path(out) if out is not None else Path(directory) / "figures"
    events = merge_events(scenario_events(runs))
    hubs = [c.rsplit(".", 1)[1] for c in runs.columns
            if c.startswith("cfg.world.initial_presence.") and runs[c].notna().any()]
    written = []
    ax = series_by_condition(ts, runs, events=events,
                             title="Scam-compound workforce, world total")
    written.append(save_png(ax.figure, dest / "workers_by_condition.png"))
    written.append(save_png(hub_vs_rest(ts, runs, hubs or DEFAULT_HUBS, events=events),
                        dest / "hubs_vs_rest.png"))
    order = condition_order(runs)
    for lab in order[:max_regional]:
        ax = regional_stacked(ts, runs, lab, events=scenario_events(runs, lab))
        written.append(save_png(ax.figure, dest / f"regions_{_slug(lab)}.png"))
    metrics = [m for m in ("wdq", "total_net_effect", "global_change")
               if f"{m}_mean" in summary.columns and summary[f"{m}_mean"].notna().any()]
    if metrics:
        written.append(save_png(forest_plot(summary, metrics), dest / "forest.png"))
    grid = _numeric_conditions(directory, runs)
    if len(grid) == 2 and runs["wdq"].notna().any():
        ax = heatmap_2d(runs, x=grid[1], y=grid[0], value="wdq")
        written.append(save_png(ax.figure, dest / "heatmap_wdq.png"))
    return written


def _panel_title(ax: Axes, output: str, output_labels: Mapping[str, str]) -> None:
    ax.set_title(output_labels.get(output, output), fontsize=10.5, loc="left")


def morris_bars(df: pd.DataFrame, *, outputs: Sequence[str], output_labels: Mapping[str, str],
                caption_line: str) -> Figure:
    """Morris mu_star bars with CI error bars and sigma markers, one panel per output."""
    outs = list(outputs)
    indigo, rose = PALETTE[0], PALETTE[6]
    with style():
        fig, axes = plt.subplots(1, len(outs), figsize=(15, 5.6), layout="constrained")
    for ax, out in zip(axes, outs, strict=True):
        sel = df[df["output"] == out].pivot(index="parameter", columns="index", values="value")
        conf = df[(df["output"] == out) & (df["index"] == "mu_star")].set_index("parameter")
        sel = sel.sort_values("mu_star")  # largest at the top of a horizontal chart
        pos = np.arange(len(sel))
        ax.barh(pos, sel["mu_star"], color=indigo, height=0.65, label="μ* (mean |effect|)",
                xerr=conf.loc[sel.index, "conf"], error_kw={"ecolor": "black", "capsize": 3,
                                                             "elinewidth": 1})
        ax.plot(sel["sigma"], pos, "D", color=rose, markersize=6, markeredgecolor="black",
                markeredgewidth=0.6, label="σ (non-linearity, interactions)")
        ax.set_yticks(pos, sel.index)
        ax.set_xlim(left=0)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("effect on the output over the factor's range")
        _panel_title(ax, out, output_labels)
        tidy(ax)
    axes[0].set_ylabel("parameter")
    handles, labels = axes[0].get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: not labels[i].startswith("μ*"))
    handles = [handles[i] for i in order]
    labels = [labels[i] for i in order]
    handles.append(plt.Line2D([], [], color="black", linewidth=1, marker="|", markersize=8))
    labels.append("95% bootstrap CI of μ*")
    # Upper right, outside the panels: the bottom edge belongs to the caption line.
    fig.legend(handles, labels, loc="outside right upper", ncols=1, frameon=False)
    fig.suptitle("Morris screening: which parameters move the outcomes of the Mekong crackdown",
                 x=0.01, ha="left", fontsize=12.5, fontweight="bold")
    caption(fig, caption_line)
    fig.get_layout_engine().set(h_pad=0.12)
    return fig
