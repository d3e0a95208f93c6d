"""Interactive teaching demo: Mesa's SolaraViz page of the scam-compound model.

Run it with ``scamsim app`` (or ``solara run sim/app.py``); it opens a page with
a world map, live plots, a crackdown button and an info panel. Everything the
page needs (JavaScript, fonts) is served by the local Solara server, so it works
without an internet connection.

The model behind the page is :class:`DemoModel`, a :class:`~sim.model.ScamModel`
built from the ``baseline`` scenario and the slider values:

- ``crackdown_intensity``: the pressure a "Crack down now" adds in each chosen
  jurisdiction for 12 months (the scenarios use 0.6); routine enforcement
  (``raid_rate``) is left at its default so that the sliders never change the
  world before the class acts.
- ``coordination``: ``none``, ``ASEAN`` or ``global``; with ASEAN or global
  coordination a crackdown also starts a 36-month intelligence-sharing bloc
  (``Cooperation``) of the ASEAN states or of every state, plus the targets,
  without extra pressure (equal raid effort, as in the coordination study).
- ``capacity_building``: enforcement capacity added from the first month in the
  most vulnerable destinations (``vulnerable:N``: 30 in the full world, 4 in the
  teaching world), with two thirds of it as a cut in regulatory weakness.
- ``relocation_cost``: a multiplier of the cost of moving a compound, applied
  to both the money cost per 1,000 km and the distance term of the syndicates'
  choice (they know what a long move costs).
- ``seed`` and ``world`` (``teaching``: 13 jurisdictions, or ``world``: 193).

Slider changes take effect when the model is reset (the Reset button).
"""

from __future__ import annotations

import io
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import markdown
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import reacton.ipywidgets as rw
import solara
from matplotlib import patches, ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization import solara_viz as _solara_viz
from mesa.visualization.utils import force_update, update_counter
from PIL import Image

from sim.config import compose, validate
from sim.core.interventions import Cooperation, Crackdown, Intervention
from sim.core.model import ScamModel
from sim.core.params import Params
from sim.core.timeline import month_label
from sim.core.world import World
from sim.runner import model_args
from sim.viz import maps
from sim.viz.style import PALETTE, REGION_ORDER, region_colours

HUBS = ("MMR", "KHM", "LAO", "PHL")
WORLDS = ("teaching", "world")
COORDINATION: dict[str, list[str]] = {"none": [], "ASEAN": ["asean"], "global": ["all"]}
CRACKDOWN_MONTHS = 12
COOPERATION_MONTHS = 36
PROTECTION_CUT = 0.6  # as in the scenarios: political will overcomes part of local protection
MAP_MAX_WORKERS = 150_000.0  # fixed bubble scale, so shrinking and growing hosts are visible
PLAY_INTERVAL_MS = 50
# No usage telemetry; matplotlib without a display. (The version check against the
# package index is switched off on the command line.)
OFFLINE_ENV = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "MPLBACKEND": "Agg"}
# Solara warns on every page load that plain-http cookies fall back to samesite=lax;
# that is expected for a local server and only clutters the terminal.
QUIET_WARNINGS = "ignore:Cookies with samesite=none require https:UserWarning"


# --- the model ---------------------------------------------------------------------------


_MODEL_IDS = itertools.count()


def vulnerable_count(world: World) -> int:
    """How many destinations capacity building reaches: 30 worldwide, fewer in small worlds."""
    others = world.n - len(world.initial_presence)
    return max(1, min(30, others // 2))


class DemoModel(ScamModel):
    """The baseline model with the classroom levers and a crackdown that can be added live."""

    def __init__(
        self,
        world: str = "teaching",
        crackdown_intensity: float = 0.6,
        coordination: str = "none",
        capacity_building: float = 0.0,
        relocation_cost: float = 1.0,
        seed: int = 1,
        steps: int = 120,
        start: str = "2023-01",
    ) -> None:
        if world not in WORLDS:
            raise ValueError(f"world = {world!r}; allowed: {', '.join(WORLDS)}")
        if coordination not in COORDINATION:
            raise ValueError(f"coordination = {coordination!r}; allowed: {', '.join(COORDINATION)}")
        base = Params()
        overrides: dict[str, Any] = {
            "seed": int(seed),
            "steps": int(steps),
            "start": start,
            "relocation_cost_per_1000km_usd": base.relocation_cost_per_1000km_usd
            * float(relocation_cost),
            "beta_distance": base.beta_distance * float(relocation_cost),
        }
        cfg = compose("baseline", world, overrides)
        cfg["scenario"]["name"] = "classroom"
        if capacity_building > 0:
            n = vulnerable_count(validate(cfg).world)
            cfg["scenario"]["events"] = [{
                "kind": "capacity_building",
                "label": "capacity building",
                "targets": [f"vulnerable:{n}"],
                "start": start,
                "duration_months": 0,
                "capacity_gain": float(capacity_building),
                "regulation_gain": float(capacity_building) * 2 / 3,
                "ramp_months": 1,
            }]
        super().__init__(**model_args(validate(cfg)))
        self.world_name = world
        self.crackdown_intensity = float(crackdown_intensity)
        self.coordination = coordination
        self.capacity_building = float(capacity_building)
        self.relocation_cost = float(relocation_cost)
        self.seed_value = int(seed)
        self.uid = next(_MODEL_IDS)  # views are cached per model; id() may be reused
        self.hub_idx = np.array([self.world.index[h] for h in HUBS if h in self.world.index])
        # (first step, label) of every crackdown made from the page, for the plot markers.
        self.crackdowns: list[tuple[int, str]] = []

    def crack_down(self, targets: Sequence[str]) -> list[Intervention]:
        """Start a crackdown in ``targets`` (ISO3) next month, coordinated as configured."""
        targets = [t for t in targets if t in self.world.index]
        if not targets or not self.running or self.steps >= self.horizon:
            return []
        first = self.steps + 1
        start = month_label(self.start, first)
        names = ", ".join(targets)
        added: list[Intervention] = [
            Crackdown(
                start=start,
                duration_months=CRACKDOWN_MONTHS,
                label=f"crackdown {names}",
                targets=list(targets),
                intensity=self.crackdown_intensity,
                protection_cut=PROTECTION_CUT,
            )
        ]
        if self.coordination != "none":
            added.append(
                Cooperation(
                    start=start,
                    duration_months=COOPERATION_MONTHS,
                    label=f"{self.coordination} intelligence sharing",
                    targets=COORDINATION[self.coordination] + list(targets),
                    pressure_uplift=0.0,  # equal raid effort: coordination is the shared intel
                    intel_sharing=True,
                )
            )
        for iv in added:
            iv.bind(self)
            self.interventions.append(iv)
        label = names if self.coordination == "none" else f"{names} + {self.coordination}"
        self.crackdowns.append((first, label))
        return added

    # --- read-outs for the page --------------------------------------------------------

    def month(self) -> str:
        """Calendar month of the current step."""
        return month_label(self.start, self.steps)

    def workers_now(self) -> np.ndarray:
        """Workers per jurisdiction at the end of the current month."""
        return self.rec["workers"][self.steps]

    def hub_workers(self) -> int:
        """Workers in the four starting hubs (Myanmar, Cambodia, Laos, the Philippines)."""
        return int(self.workers_now()[self.hub_idx].sum())

    def relocations_now(self) -> pd.DataFrame:
        """This month's relocations as (from, to, size, moves) pairs, largest first."""
        rows = []
        for ev in reversed(self.events):  # the current month's events are at the end
            if ev[0] != self.steps:
                break
            if ev[1] == "relocation" and ev[3] != ev[4] and ev[5] > 0:
                rows.append((ev[3], ev[4], ev[5]))
        frame = pd.DataFrame(rows, columns=["from", "to", "size"])
        pairs = frame.groupby(["from", "to"], as_index=False).agg(
            size=("size", "sum"), moves=("size", "size")
        )
        pairs["size"] = pairs["size"].astype(float)
        return pairs.sort_values("size", ascending=False, ignore_index=True)


# --- drawing -----------------------------------------------------------------------------


def _png(canvas: FigureCanvasAgg) -> bytes:
    """The canvas as PNG; low compression, because encoding time matters more than bytes."""
    w, h = canvas.get_width_height(physical=True)
    img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    img.convert("RGB").save(out, format="png", compress_level=1)
    return out.getvalue()


class MapView:
    """Bubble map of one world: the background is drawn once, each frame only the data.

    Country outlines, legends and the colorbar are rasterised once and restored
    (blitting); a frame redraws the bubbles, this month's relocation arrows and
    the labels, which keeps the full world well under 0.1 s per frame.
    """

    def __init__(self, world: World, figsize: tuple[float, float] = (7.4, 3.5), dpi: int = 100):
        self.lock = threading.Lock()
        self.world = world
        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes((0.005, 0.01, 0.80, 0.98))
        init = pd.Series(world.initial_presence, dtype=float)
        pressure = pd.Series(0.0, index=init.index)
        self.art = maps.world_map(
            self.ax, init, color_by="pressure", pressure=pressure, title=None,
            max_value=MAP_MAX_WORKERS, legend=True, top=4,
        )
        m = self.art.basemap
        self.basemap = m
        self.xy = np.column_stack(m(world.lon, world.lat))
        # Every jurisdiction of the world as a small ring: where compounds could go.
        self.ax.scatter(self.xy[:, 0], self.xy[:, 1], s=7, facecolors="none",
                        edgecolors=to_rgba(maps.EDGE, 0.45), linewidths=0.5, zorder=3)
        self.ax.text(0.985, 0.02, "arrows: relocations this month",
                     transform=self.ax.transAxes, ha="right", va="bottom", fontsize=8,
                     color=maps.FLOW_COLOUR, zorder=7)
        self.label = self.ax.text(0.012, 0.075, "", transform=self.ax.transAxes, ha="left",
                                  va="bottom", fontsize=17, fontweight="bold", color="#222222",
                                  zorder=7)
        self.sub = self.ax.text(0.012, 0.025, "", transform=self.ax.transAxes, ha="left",
                                va="bottom", fontsize=9, color="#333333", zorder=7)
        # Colour key higher and shorter, so the list of the largest hosts fits above the
        # size key in a map this wide.
        if self.art.colorbar is not None:
            to_fig = self.ax.transAxes + self.fig.transFigure.inverted()
            (x0, y0), (x1, y1) = to_fig.transform([(1.03, 0.64), (1.052, 0.99)])
            self.art.colorbar.ax.set_axes_locator(None)
            self.art.colorbar.ax.set_position((x0, y0, x1 - x0, y1 - y0))
        self.art.top_text.set_position((1.01, 0.58))
        self.art.colorbar.ax.yaxis.label.set_fontsize(7.5)
        if self.art.note is not None:
            self.art.note.remove()
            self.art.note = None
        self.note = maps._note(self.ax, "no compounds anywhere")
        self.dynamic = [self.art.bubbles, self.art.top_text, self.label, self.sub, self.note]
        for a in self.dynamic:
            a.set_visible(False)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        for a in self.dynamic:
            a.set_visible(True)
        self.ref = 1000.0  # workers of an arrow drawn at the full width

    def render(self, model: DemoModel) -> bytes:
        """PNG of the current month of ``model``."""
        with self.lock:
            workers = model.workers_now().astype(float)
            order = np.argsort(-workers, kind="stable")
            order = order[workers[order] > 0]  # big bubbles first, small ones stay on top
            bubbles = self.art.bubbles
            bubbles.set_offsets(self.xy[order].reshape(-1, 2))
            bubbles.set_sizes(maps.bubble_areas(workers[order], MAP_MAX_WORKERS,
                                                self.art.max_area))
            bubbles.set_array(np.asarray(model.pressure, float)[order])
            names = model.world.names
            top = [f"{names[j]}  {maps.fmt_count(workers[j])}" for j in order[:4]]
            self.art.top_text.set_text("largest\n" + "\n".join(top) if top else "")
            self.label.set_text(model.month())
            self.sub.set_text(f"{maps.fmt_count(workers.sum())} workers in {len(order)} "
                              f"of {model.world.n} jurisdictions")
            self.note.set_visible(len(order) == 0)
            pairs = model.relocations_now()
            arcs, heads, o, d = maps.draw_flows(self.ax, pairs, self.basemap, ref=self.ref,
                                                max_width=4.0)
            flows = [a for a in (*arcs, *heads, o, d) if a is not None]
            self.canvas.restore_region(self.background)
            for a in flows + self.dynamic:
                if a.get_visible():
                    self.ax.draw_artist(a)
            for a in flows:
                a.remove()
            return _png(self.canvas)


def _nice_ceiling(value: float) -> float:
    """The next 1-2-2.5-5 × 10^k at or above ``value`` (stable axis limits while playing)."""
    if value <= 0:
        return 1.0
    exp = 10.0 ** np.floor(np.log10(value))
    for f in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if f * exp >= value:
            return float(f * exp)
    return float(10 * exp)


class PlotsView:
    """Four live time plots over calendar months, with crackdown markers.

    Axes, ticks and legends are redrawn only when an axis limit or the set of
    crackdown markers changes; otherwise a frame restores them and draws the data.
    """

    def __init__(self, model: DemoModel, figsize: tuple[float, float] = (5.4, 4.6),
                 dpi: int = 100):
        self.lock = threading.Lock()
        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        grid = self.fig.add_gridspec(2, 2, left=0.085, right=0.985, top=0.95, bottom=0.165,
                                     hspace=0.42, wspace=0.3)
        self.ax_hubs = self.fig.add_subplot(grid[0, 0])
        self.ax_active = self.fig.add_subplot(grid[0, 1])
        self.ax_regions = self.fig.add_subplot(grid[1, 0])
        self.ax_rescued = self.fig.add_subplot(grid[1, 1])
        self.axes = (self.ax_hubs, self.ax_active, self.ax_regions, self.ax_rescued)
        y0 = int(model.start[:4]) + (int(model.start[5:7]) - 1) / 12
        self.x = y0 + np.arange(model.horizon + 1) / 12.0
        self.regions = [r for r in REGION_ORDER if r in set(model.world.region)]
        self.region_of = np.array([self.regions.index(r) for r in model.world.region])
        colours = region_colours()
        titles = ("Workers: hubs vs rest of world", "Countries with compounds",
                  "Workers by region (share)", "Workers rescued (total)")
        units = ("thousands", "count", "%", "thousands")
        for ax, title, unit in zip(self.axes, titles, units, strict=True):
            ax.set_title(title, loc="left", fontsize=8.5, fontweight="bold")
            ax.set_ylabel(unit, fontsize=8)
            ax.set_xlim(self.x[0], self.x[-1])
            ax.tick_params(labelsize=7.5)
            ax.grid(alpha=0.3, lw=0.6)
            ax.xaxis.set_major_locator(ticker.MultipleLocator(2))
            ax.xaxis.set_minor_locator(ticker.MultipleLocator(1))
            ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%d"))
        (self.hubs_line,) = self.ax_hubs.plot([], [], color=PALETTE[0], lw=1.8,
                                              label="hubs (MMR, KHM, LAO, PHL)")
        (self.rest_line,) = self.ax_hubs.plot([], [], color=PALETTE[6], lw=2.0,
                                              label="rest of world")
        (self.mmr_line,) = self.ax_hubs.plot([], [], color=PALETTE[0], lw=1.0, ls="--",
                                             label="Myanmar")
        self.ax_hubs.legend(loc="upper right", fontsize=6.5, frameon=False)
        (self.active_line,) = self.ax_active.step([], [], where="post", color="#333333", lw=1.5)
        (self.rescued_line,) = self.ax_rescued.plot([], [], color=PALETTE[3], lw=1.8)
        self.ax_regions.set_ylim(0, 100)
        self.ax_active.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        self.region_colours = [colours[r] for r in self.regions]
        handles = [patches.Patch(color=c, label=r)
                   for r, c in zip(self.regions, self.region_colours, strict=True)]
        self.fig.legend(handles=handles, loc="lower center", ncol=min(4, len(handles)),
                        fontsize=6.8, frameon=False, bbox_to_anchor=(0.5, 0.0),
                        columnspacing=1.0, handlelength=1.2)
        self.limits: tuple[Any, ...] = ()
        self.marks: list[tuple[int, str]] = []
        self.marker_artists: list[Any] = []
        self.stack: list[Any] = []
        self.background = None

    def _relimit(self, model: DemoModel, hubs: np.ndarray, rest: np.ndarray,
                 active: np.ndarray, rescued: np.ndarray) -> None:
        """Fix the y limits (expanding in nice steps) and redraw the static layer if needed."""
        limits = (
            _nice_ceiling(max(hubs.max(), rest.max(), 1.0) * 1.3),  # room for the legend
            max(5.0, _nice_ceiling(active.max() * 1.15)),
            _nice_ceiling(max(rescued.max(), 0.5) * 1.1),
        )
        if limits == self.limits and self.marks == model.crackdowns and self.background:
            return
        self.limits = limits
        self.ax_hubs.set_ylim(0, limits[0])
        self.ax_active.set_ylim(0, limits[1])
        self.ax_rescued.set_ylim(0, limits[2])
        for a in self.marker_artists:
            a.remove()
        self.marker_artists = []
        self.marks = list(model.crackdowns)
        for k, (step, label) in enumerate(self.marks):
            xs = self.x[min(step, len(self.x) - 1)]
            for ax in self.axes:
                self.marker_artists.append(ax.axvline(xs, color="black", lw=0.9, ls=":"))
            self.marker_artists.append(self.ax_hubs.annotate(
                label, xy=(xs, 1.0), xycoords=("data", "axes fraction"),
                xytext=(3, -10 - 9 * (k % 4)), textcoords="offset points", fontsize=6.5,
                ha="left", va="top", color="black",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            ))
        data = [self.hubs_line, self.rest_line, self.mmr_line, self.active_line,
                self.rescued_line, *self.stack]
        for a in data:
            a.set_visible(False)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        for a in data:
            a.set_visible(True)

    def render(self, model: DemoModel) -> bytes:
        """PNG of the four plots up to the current month."""
        with self.lock:
            t = model.steps
            x = self.x[: t + 1]
            w = model.rec["workers"][: t + 1].astype(float)
            hub = np.zeros(w.shape[1], bool)
            hub[model.hub_idx] = True
            hubs = w[:, hub].sum(axis=1) / 1e3
            rest = w[:, ~hub].sum(axis=1) / 1e3
            active = (model.rec["compounds"][: t + 1] > 0).sum(axis=1).astype(float)
            rescued = np.cumsum(model.rec["rescued"][: t + 1].sum(axis=1)) / 1e3
            mmr = model.world.index.get("MMR")
            self._relimit(model, hubs, rest, active, rescued)
            self.hubs_line.set_data(x, hubs)
            self.rest_line.set_data(x, rest)
            self.mmr_line.set_data(x, w[:, mmr] / 1e3 if mmr is not None else [])
            self.active_line.set_data(x, active)
            self.rescued_line.set_data(x, rescued)
            by_region = np.zeros((t + 1, len(self.regions)))
            for k in range(len(self.regions)):
                by_region[:, k] = w[:, self.region_of == k].sum(axis=1)
            total = np.maximum(by_region.sum(axis=1, keepdims=True), 1.0)
            shares = 100.0 * by_region / total
            for a in self.stack:
                a.remove()
            self.stack = self.ax_regions.stackplot(x, shares.T, colors=self.region_colours,
                                                   linewidth=0, alpha=0.9)
            self.canvas.restore_region(self.background)
            for a in [*self.stack, self.hubs_line, self.rest_line, self.mmr_line,
                      self.active_line, self.rescued_line]:
                a.axes.draw_artist(a)
            return _png(self.canvas)


# --- page components ---------------------------------------------------------------------


def _choices(world: World) -> list[str]:
    """Multi-select entries: the starting hubs first, then the others by name."""
    order = sorted(range(world.n), key=lambda j: (world.iso3[j] not in HUBS, world.names[j]))
    return [f"{world.names[j]} ({world.iso3[j]})" for j in order]


def _iso(choice: str) -> str:
    return choice.rsplit("(", 1)[-1].rstrip(")")


def _settings(model: DemoModel) -> str:
    return (f"In use: {model.world_name} world · crackdown intensity "
            f"{model.crackdown_intensity:g} · coordination {model.coordination} · capacity "
            f"building {model.capacity_building:g} · relocation cost ×{model.relocation_cost:g}"
            f" · seed {model.seed_value}  (change on the left, then Reset)")


def _status(model: DemoModel) -> Any:
    """One line with the month and the key numbers, also as data attributes for tests."""
    w = model.workers_now()
    mmr = model.world.index.get("MMR")
    myanmar = int(w[mmr]) if mmr is not None else 0
    text = (f"{model.month()} · month {model.steps} of {model.horizon} · "
            f"{int(w.sum()):,} workers in {int((w > 0).sum())} jurisdictions · "
            f"hubs {model.hub_workers():,} · Myanmar: {myanmar:,} workers")
    attrs = {
        "data-testid": "scamsim-status",
        "data-step": str(model.steps),
        "data-month": model.month(),
        "data-hub-workers": str(model.hub_workers()),
        "data-myanmar-workers": str(myanmar),
        "data-total-workers": str(int(w.sum())),
        "data-running": "1" if model.running else "0",
        "data-world": model.world_name,
    }
    return solara.v.Html(tag="div", children=[text], attributes=attrs,
                         style_="font-size: 14px; font-weight: 500; margin: 2px 0 4px 0;")


@solara.component
def MapPanel(model: DemoModel) -> None:  # noqa: N802 - Solara components are CamelCase
    """Crackdown control, status line and the world map."""
    update_counter.get()
    view = solara.use_memo(lambda: MapView(model.world), [model.world_name])
    choices = _choices(model.world)
    default = [c for c in choices if c.endswith("(MMR)")]
    picked, set_picked = solara.use_state(default, key=model.world_name)
    picked = [c for c in picked if c in choices] or []
    last, set_last = solara.use_state("")

    def crack_down() -> None:
        added = model.crack_down([_iso(c) for c in picked])
        if added:
            set_last(f"Crackdown from {added[0].start}: {model.crackdowns[-1][1]}")
        force_update()

    with solara.Column(gap="0px", style="padding: 4px 8px;"):
        with solara.Row(style="align-items: center; flex-wrap: wrap;", gap="12px"):
            solara.SelectMultiple("Crack down in", values=picked, all_values=choices,
                                  on_value=set_picked, dense=True,
                                  style="min-width: 260px; max-width: 460px;")
            solara.Button("Crack down now", color="error", on_click=crack_down,
                          disabled=not picked or not model.running,
                          classes=["scamsim-crackdown"])
        solara.Text(_settings(model), style="font-size: 12px; color: #555;")
        _status(model)
        if last:
            solara.Text(last, style="font-size: 12px; color: #882255;")
        rw.Image(value=view.render(model), format="png", _dom_classes=["scamsim-map"],
                 layout={"width": "100%", "height": "auto", "max_height": "330px",
                         "object_fit": "contain"})


@solara.component
def PlotsPanel(model: DemoModel) -> None:  # noqa: N802 - Solara components are CamelCase
    """The four live plots."""
    update_counter.get()
    view = solara.use_memo(lambda: PlotsView(model), [model.uid])
    rw.Image(value=view.render(model), format="png", _dom_classes=["scamsim-plots"],
             layout={"width": "100%", "height": "auto", "max_height": "460px",
                     "object_fit": "contain"})


INFO = """
## WHAT IS IT?

A model of transnational scam syndicates that run "scam compounds" with
trafficked workers, and move them between countries when enforcement rises. It
tests a claim of the UN Office on Drugs and Crime (UNODC 2025): enforcement in one
place does not remove the industry, *"it spreads like a cancer … the roots never
disappear, they simply migrate"*.

## HOW IT WORKS

Each month (one step) every compound earns from victims worldwide; enforcement
agencies raid compounds (more where their pressure is high, less where officials
are bribed); syndicates learn from raids which places are risky, move compounds
out of risky places and open new ones where they expect profit. Destinations are
chosen among all countries by weighing weak regulation, working infrastructure,
partner criminal groups, other compounds nearby, pressure, learned risk,
enforcement capacity and the distance (cost) of the move. Agencies raise their
pressure when they see compounds, but only months later and only as far as their
capacity allows. Countries are described by real public data.

## HOW TO USE IT

- **Step** advances one month, **▶** plays, **Reset** starts again with the
  parameters on the left (change the sliders, then press Reset).
- **Crack down in** / **Crack down now**: choose one or more countries (Myanmar by
  default) and start a 12-month crackdown next month. With *coordination*
  ASEAN or global, the crackdown also starts 36 months of intelligence sharing
  among the ASEAN states or among all states.
- The **map** shows workers per country (bubble area) and enforcement pressure
  (colour); arrows are this month's relocations. Small rings are the countries
  of the world the syndicates can choose from.
- The **plots** show the four starting hubs against the rest of the world, how
  many countries host compounds, the regional shares and the workers rescued.
  Dotted lines mark your crackdowns.

## THINGS TO NOTICE

- After a crackdown in Myanmar its bubble shrinks within months, but arrows leave
  it: where do they go? Do neighbours grow?
- Does the "rest of world" line rise when the hubs fall? Does the total come back?
- How many countries host compounds before and after the crackdown?
- Pressure (colour) follows the compounds only with a delay.

## THINGS TO TRY

- Crack down on Myanmar alone, then Reset and do it with coordination ASEAN, and
  global. Which one shrinks the total rather than moving it?
- Crack down on all four hubs at once. Then a year later wherever the industry has
  gone ("whack-a-mole").
- Set capacity building to 0.3 and repeat the Myanmar crackdown.
- Make relocation cheap (0.25) or expensive (4) and compare where compounds go.
- Switch to the full world (193 countries) and compare with the teaching world.
- Change the seed: which results are robust, which are luck?

## FACTS AND SOURCES

- Scam compounds are concentrated in Myanmar's border areas, in Cambodia and in
  Laos, and have spread since 2023 to Africa, the Pacific, South America, the
  Middle East and Europe (UNODC 2025).
- Losses of victims in East and South-East Asia were an estimated US$18–37
  billion in 2023 (UNODC 2024); the industry's profits are just under US$40
  billion a year (UNODC 2025).
- At least 120,000 people were held in Myanmar and around 100,000 in Cambodia,
  many of them trafficked (OHCHR 2023).
- About 7,000 workers were freed after the early-2025 Myanmar border crackdown;
  in February 2025 Thailand cut power, internet and fuel to the border areas.
- Syndicates partner with other organised-crime groups and launder through
  crypto; their own digital infrastructure lets a raided organisation set up
  again elsewhere.

Countries are described by the World Bank Worldwide Governance Indicators (2024
update) and World Development Indicators (GDP), the GI-TOC Global Organized
Crime Index 2023 and country centroids (world-countries-centroids); outlines come
from Basemap's GSHHS data. The model is stylised and data-anchored, not a
forecast: where compounds go after 2023 is not encoded anywhere. Full
description: docs/ODD.md.

UNODC (2024, 2025), *Transnational Organized Crime and the Convergence of
Cyber-Enabled Fraud…* and *Inflection Point: Global Implications of Scam
Centres…*; OHCHR (2023), *Online Scam Operations and Trafficking into Forced
Criminality in Southeast Asia*.
"""


@solara.component
def InfoPanel(model: DemoModel) -> None:  # noqa: N802 - Solara components are CamelCase
    """NetLogo-style info tab, scrollable inside its grid cell."""
    # Rendered here rather than with solara.Markdown, which loads KaTeX from a CDN.
    html = solara.use_memo(lambda: markdown.markdown(INFO), [])
    solara.HTML(tag="div", unsafe_innerHTML=html, classes=["scamsim-info"],
                style="height: 100%; overflow-y: auto; padding: 0 16px 12px 16px;")


def _grid_layout(n: int) -> list[dict[str, Any]]:
    """Map and plots side by side, the info panel below across the full width.

    Mesa's SolaraViz gives every component half the width and a fixed height;
    its layout function is replaced (module attribute) because it takes no option.
    """
    spec = [(0, 0, 7, 12), (7, 0, 5, 12), (0, 12, 12, 13)]
    spec += [(0, 25 + 10 * k, 12, 10) for k in range(max(0, n - 3))]
    return [{"i": i, "x": x, "y": y, "w": w, "h": h, "moved": False}
            for i, (x, y, w, h) in enumerate(spec[:n])]


_solara_viz.make_initial_grid_layout = _grid_layout

MODEL_PARAMS: dict[str, Any] = {
    "world": {"type": "Select", "value": "teaching", "values": list(WORLDS), "label": "World"},
    "crackdown_intensity": {"type": "SliderFloat", "value": 0.6, "min": 0.1, "max": 1.0,
                            "step": 0.05, "label": "Crackdown intensity (pressure added)"},
    "coordination": {"type": "Select", "value": "none", "values": list(COORDINATION),
                     "label": "Coordination of crackdowns"},
    "capacity_building": {"type": "SliderFloat", "value": 0.0, "min": 0.0, "max": 0.5,
                          "step": 0.05, "label": "Capacity building in destinations"},
    "relocation_cost": {"type": "SliderFloat", "value": 1.0, "min": 0.25, "max": 4.0,
                        "step": 0.25, "label": "Relocation cost (× default)"},
    "seed": {"type": "SliderInt", "value": 1, "min": 1, "max": 50, "step": 1, "label": "Seed"},
}


@solara.component
def Page() -> None:  # noqa: N802 - Solara components are CamelCase
    """The page: one fresh model per browser connection, shown by Mesa's SolaraViz."""
    model = solara.use_memo(DemoModel, [])
    # SolaraViz puts its components in tabs; with a single page the tab bar is only noise.
    solara.Style(".v-tabs { display: none; }")
    SolaraViz(
        model,
        components=[(MapPanel, 0), (PlotsPanel, 0), (InfoPanel, 0)],
        model_params=MODEL_PARAMS,
        name="scamsim: where do scam compounds go?",
        play_interval=PLAY_INTERVAL_MS,
    )


page = Page


# --- serving -----------------------------------------------------------------------------


def _solara_command() -> list[str]:
    exe = Path(sys.executable).with_name("solara")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "import sys; from solara.__main__ import main; "
            "sys.argv[0] = 'solara'; sys.exit(main())"]


def offline_env() -> dict[str, str]:
    """Environment of the server: no telemetry, no version check, assets served locally."""
    env = {**os.environ, **OFFLINE_ENV}
    env["PYTHONWARNINGS"] = ",".join(w for w in (env.get("PYTHONWARNINGS"), QUIET_WARNINGS) if w)
    return env


def server_command(port: int, host: str = "127.0.0.1", open_browser: bool = False) -> list[str]:
    """The ``solara run`` command line serving this page."""
    return [
        *_solara_command(), "run", str(Path(__file__).resolve()),
        "--host", host, "--port", str(port), "--production", "--no-check-version",
        "--open" if open_browser else "--no-open",
    ]


def wait_for(url: str, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    """Poll ``url`` until it answers (True) or ``timeout`` s pass or ``proc`` exits (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    return False


def serve(port: int = 8765, host: str = "127.0.0.1", open_browser: bool = False) -> int:
    """Serve the demo with ``solara run`` until interrupted; returns the server's exit code."""
    proc = subprocess.Popen(server_command(port, host, open_browser), env=offline_env())

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)  # a terminated launcher takes the server down too
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/"
    try:
        if wait_for(url, timeout=120, proc=proc):
            print(f"scamsim app: {url}  (Ctrl-C stops it)", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
