"""Figures of a run (matplotlib, no display needed)."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

from sim.results import RunResult, atomic_write_bytes, read_run

# Paul Tol's "muted" scheme (colour-blind safe) plus a pale grey.
PALETTE = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
    "#BBBBBB",
)
REGION_ORDER = (
    "East & South-East Asia",
    "South Asia",
    "Central Asia & Caucasus",
    "Middle East",
    "Africa",
    "Europe",
    "Pacific",
    "South America",
    "Central America & Caribbean",
    "North America",
)


def region_colours() -> dict[str, str]:
    """One fixed colour per region, the same in every figure."""
    return dict(zip(REGION_ORDER, PALETTE, strict=True))


def _events(config: Mapping[str, Any]) -> list[tuple[pd.Timestamp, str]]:
    out = []
    for ev in config.get("scenario", {}).get("events", []) or []:
        label = ev.get("label") or ev.get("kind", "")
        out.append((pd.Timestamp(str(ev.get("start", "2025-01")) + "-01"), label))
    return out


def _caption(summary: Mapping[str, Any]) -> str:
    rev = summary.get("git_revision") or "no git"
    return (
        f"scenario {summary.get('scenario')} · world {summary.get('world')} · "
        f"seed {summary.get('seed')} · scamsim {summary.get('version')} ({rev[:10]})"
    )


def plot_activity(result: RunResult, path: str | os.PathLike) -> Path:
    """Workers by region over time (stacked) and hubs vs rest of world, events marked."""
    ts = result.timeseries.copy()
    ts["date"] = pd.to_datetime(ts["date"])
    hubs = list((result.config.get("world", {}) or {}).get("initial_presence", {}) or {})
    by_region = ts.pivot_table(
        index="date", columns="region", values="workers", aggfunc="sum"
    ).fillna(0)
    order = [r for r in REGION_ORDER if r in by_region.columns and by_region[r].max() > 0]
    colours = region_colours()

    fig, (ax1, ax2) = plt.subplots(
        2, 1, figsize=(11, 7.5), sharex=True, height_ratios=(3, 2), constrained_layout=True
    )
    ax1.stackplot(
        by_region.index,
        *[by_region[r].to_numpy() / 1e3 for r in order],
        labels=order,
        colors=[colours[r] for r in order],
        alpha=0.9,
        linewidth=0,
    )
    ax1.set_ylabel("workers in compounds (thousands)")
    title = f"Scam-compound workforce by region — {result.summary.get('scenario')}"
    ax1.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax1.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8.5,
               title="region", title_fontsize=9)
    ax1.grid(axis="y", alpha=0.3)
    ax1.margins(x=0)

    # The roots migrate: each starting hub on its own, and everything else together.
    per = ts.pivot_table(index="date", columns="iso3", values="workers", aggfunc="sum")
    rest = per.drop(columns=[h for h in hubs if h in per.columns]).sum(axis=1)
    hub_colours = (PALETTE[0], PALETTE[2], PALETTE[4], PALETTE[8])
    for k, h in enumerate(hubs):
        if h in per.columns:
            ax2.plot(per.index, per[h] / 1e3, color=hub_colours[k % 4], lw=1.8, label=h)
    ax2.plot(rest.index, rest / 1e3, color=PALETTE[6], lw=2.4, label="rest of world")
    lines = per
    ax2.set_ylabel("workers (thousands)")
    ax2.grid(alpha=0.3)
    active = ts[ts["compounds"] > 0].groupby("date")["iso3"].nunique()
    active = active.reindex(lines.index, fill_value=0)
    ax3 = ax2.twinx()
    ax3.step(active.index, active.to_numpy(), where="post", color="#444444", lw=1.3, ls="--",
             label="active jurisdictions (right)")
    ax3.set_ylabel("active jurisdictions")
    ax3.set_ylim(bottom=0)
    handles = ax2.get_legend_handles_labels()[0] + ax3.get_legend_handles_labels()[0]
    ax2.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.08, 1.0), frameon=False,
               fontsize=8.5)
    ax2.xaxis.set_major_locator(mdates.YearLocator())
    ax2.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))

    marks = _events(result.config)
    seen: dict[pd.Timestamp, int] = {}
    for when, label in marks:
        for ax in (ax1, ax2):
            ax.axvline(when, color="black", lw=0.9, ls=":", alpha=0.8)
        k = seen.get(when, 0)
        seen[when] = k + 1
        ax1.annotate(label, xy=(when, 1.0), xycoords=("data", "axes fraction"),
                     xytext=(4, -12 - 12 * k), textcoords="offset points", fontsize=8,
                     ha="left", va="top",
                     bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8})
    fig.get_layout_engine().set(rect=(0, 0.025, 1, 0.975))
    fig.text(0.99, 0.005, _caption(result.summary), fontsize=7.5, color="#555555", ha="right")
    out = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, dpi=130, format="png")
    plt.close(fig)
    atomic_write_bytes(out, buf.getvalue())
    return out


def plot_run(directory: str | os.PathLike) -> list[Path]:
    """Draw the figures of a run directory next to its data."""
    d = Path(directory)
    result = read_run(d)
    return [plot_activity(result, d / "activity_by_region.png")]
