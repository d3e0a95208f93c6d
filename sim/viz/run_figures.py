"""Figures of one run (matplotlib, no display needed), drawn next to the run's data.

:func:`plot_run` reads a run folder (the results contract of :mod:`sim.results`)
and writes three PNGs into it: the workforce by region over time with the
scenario's levers marked, a world map of where the compounds are at the end, and
a map of the flows between countries (relocations, expansions and
re-establishments abroad) over the whole run. The ``*_figure`` functions build
the same figures without writing them, for notebooks and tests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from sim.results import RunResult, read_run
from sim.viz import maps
from sim.viz.figures import lever_marks, mark_events, merge_events
from sim.viz.style import (
    PALETTE,
    REGION_ORDER,
    caption,
    caption_text,
    region_colours,
    save_png,
    style,
    tidy,
)

# Event kinds that move or open compounds from one country into another.
MOVE_KINDS = ("relocation", "expansion", "reestablish")
_MOVE_WORDS = {"relocation": "relocations", "expansion": "expansions abroad",
               "reestablish": "re-establishments abroad"}
ACTIVITY_PNG = "activity_by_region.png"
END_MAP_PNG = "map_end.png"
FLOWS_PNG = "flows.png"
# What each figure of plot_run shows, by file name (for reports).
FIGURE_CAPTIONS: dict[str, str] = {
    ACTIVITY_PNG: "Workers by region, starting hubs and rest of the world; levers marked",
    END_MAP_PNG: "Where the compounds are at the end: workers per host country",
    FLOWS_PNG: "Where the compounds moved: relocations, expansions and re-establishments "
    "between countries over the run (great-circle arcs weighted by workers)",
}


def run_levers(summary: Mapping[str, Any], config: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """(start month, label) of the run's levers: ``summary["levers"]``, else the config's events."""
    levers: Sequence[Mapping[str, Any]] | None = summary.get("levers")
    if levers is None:
        levers = (config.get("scenario", {}) or {}).get("events", []) or []
    return lever_marks(levers)


def activity_figure(result: RunResult) -> Figure:
    """Workers by region over time (stacked) and hubs vs rest of the world, levers marked."""
    ts = result.timeseries.copy()
    ts["date"] = pd.to_datetime(ts["date"])
    hubs = list((result.config.get("world", {}) or {}).get("initial_presence", {}) or {})
    by_region = ts.pivot_table(
        index="date", columns="region", values="workers", aggfunc="sum"
    ).fillna(0)
    order = [r for r in REGION_ORDER if r in by_region.columns and by_region[r].max() > 0]
    colours = region_colours()
    with style():
        fig, (ax1, ax2) = plt.subplots(
            2, 1, figsize=(11, 7.5), sharex=True, height_ratios=(3, 2), layout="constrained"
        )
        ax1.stackplot(by_region.index, *[by_region[r].to_numpy() / 1e3 for r in order],
                      labels=order, colors=[colours[r] for r in order], alpha=0.9, linewidth=0)
        ax1.set_ylabel("workers in compounds (thousands)")
        ax1.set_title(f"Scam-compound workforce by region — {result.summary.get('scenario')}")
        # Legend top-down in the order the areas are stacked on screen.
        handles, names = ax1.get_legend_handles_labels()
        ax1.legend(handles[::-1], names[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0),
                   title="region")
        ax1.grid(axis="x", visible=False)
        ax1.margins(x=0)

        # Where the roots are: each starting hub on its own, and everything else together.
        per = ts.pivot_table(index="date", columns="iso3", values="workers", aggfunc="sum")
        rest = per.drop(columns=[h for h in hubs if h in per.columns]).sum(axis=1)
        hub_colours = (PALETTE[0], PALETTE[2], PALETTE[4], PALETTE[8])
        for k, h in enumerate(hubs):
            if h in per.columns:
                ax2.plot(per.index, per[h] / 1e3, color=hub_colours[k % 4], lw=1.8, label=h)
        ax2.plot(rest.index, rest / 1e3, color=PALETTE[6], lw=2.4, label="rest of world")
        ax2.set_ylabel("workers (thousands)")
        ax2.set_xlabel("year")
        active = ts[ts["compounds"] > 0].groupby("date")["iso3"].nunique()
        active = active.reindex(per.index, fill_value=0)
        ax3 = ax2.twinx()
        ax3.step(active.index, active.to_numpy(), where="post", color="#444444", lw=1.3,
                 ls="--", label="active jurisdictions (right)")
        ax3.set_ylabel("active jurisdictions")
        ax3.set_ylim(bottom=0)
        ax3.grid(False)
        handles = ax2.get_legend_handles_labels()[0] + ax3.get_legend_handles_labels()[0]
        ax2.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.08, 1.0))
        marks = merge_events(run_levers(result.summary, result.config))
        mark_events(ax1, marks)
        mark_events(ax2, marks, labels=False)
        ax2.xaxis.set_major_locator(mdates.YearLocator())
        ax2.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        tidy(ax1)
        tidy(ax2)
    caption(fig, caption_text(result.summary))
    return fig


def end_map_figure(result: RunResult) -> tuple[Figure, maps.MapArtists]:
    """Bubble map of the workers per host country in the last month of the run."""
    ts = result.timeseries
    last = pd.to_datetime(ts["date"]).max().strftime("%Y-%m")
    act = maps.activity_at(ts, last)
    hosts = act[act > 0]
    fig, ax = maps.map_figure()
    art = maps.world_map(ax, act, title=f"Where the compounds are at the end ({last}): "
                         f"{maps.fmt_count(hosts.sum())} workers in {len(hosts)} countries")
    caption(fig, caption_text(result.summary))
    return fig, art


def _moves_title(events: pd.DataFrame, first: str, last: str) -> str:
    moves = events[events["kind"].isin(MOVE_KINDS) & (events["from"] != events["to"])]
    counts = moves["kind"].value_counts()
    parts = [f"{int(counts[k])} {_MOVE_WORDS[k]}" for k in MOVE_KINDS if counts.get(k, 0)]
    what = ", ".join(parts) if parts else "no moves between countries"
    return f"Where the compounds moved, {first} to {last}: {what}"


def flows_figure(result: RunResult) -> tuple[Figure, maps.FlowArtists]:
    """Great-circle flows of all moves between countries over the run, one arc per pair."""
    ev = result.events
    dates = pd.to_datetime(result.timeseries["date"])
    first, last = dates.min().strftime("%Y-%m"), dates.max().strftime("%Y-%m")
    fig, ax = maps.map_figure()
    art = maps.flow_map(ax, ev, kinds=MOVE_KINDS, title=_moves_title(ev, first, last))
    if art.note is not None:
        art.note.set_text("no compound relocated or expanded\nto another country in this run")
    caption(fig, caption_text(result.summary))
    return fig, art


def plot_activity(result: RunResult, path: str | os.PathLike) -> Path:
    """Write :func:`activity_figure` of ``result`` to ``path`` (PNG, atomically)."""
    return save_png(activity_figure(result), path)


def plot_run(directory: str | os.PathLike) -> list[Path]:
    """Draw the figures of a run directory next to its data; returns the PNGs written.

    ``activity_by_region.png``, ``map_end.png`` and ``flows.png`` (see
    :data:`FIGURE_CAPTIONS`), each written atomically.
    """
    d = Path(directory)
    result = read_run(d)
    return [
        save_png(activity_figure(result), d / ACTIVITY_PNG),
        save_png(end_map_figure(result)[0], d / END_MAP_PNG),
        save_png(flows_figure(result)[0], d / FLOWS_PNG),
    ]
