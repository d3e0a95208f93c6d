"""The two live figures of the teaching page: the bubble map and the four time plots.

Both are drawn for a projector: the PNG is made at about the size it is shown
(about 1040 px wide) and no text is smaller than :data:`MIN_FONT_PT` (15 px at
100 dpi). Frames are rendered by *blitting* on a ``FigureCanvasAgg``: the
static layer (outlines, legends, axes, kept runs) is rasterised once and
restored, a frame draws only the data and is encoded by Pillow with low
compression. That keeps a frame of the full world at a few tens of ms; a full
``savefig`` (:func:`sim.viz.style.png_bytes`) costs several times that, so it
is used only for the PNG downloads, which are drawn at the style's resolution.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
from matplotlib import patches, patheffects, ticker
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from sim.app.adapter import DemoModel
from sim.core.world import World
from sim.viz import maps, style

MIN_FONT_PT = 11.0  # 15.3 px at 100 dpi: readable from the back of a classroom
DPI = 100
MAP_SIZE_IN = (10.4, 5.0)
PLOTS_SIZE_IN = (10.4, 5.6)
MAP_MAX_WORKERS = 150_000.0  # fixed bubble scale, so shrinking and growing hosts are visible
MAP_MAX_AREA = 900.0  # points² of a 150k bubble (about 40 px across)
CACHE_LAYERS = 12  # rasterised static layers of the plots kept per view
FLOW_REF = 1000.0  # workers of an arrow drawn at the full width
# Mainland South-East Asia and the Philippines, shown as an inset of the teaching world:
# on the whole map the hubs and their neighbours sit on top of each other.
SE_ASIA = (90.0, 4.5, 125.0, 28.0)
# Basemap objects are cached and shared, and drawing on one keeps a patch of the figure
# (the clipping globe): two figures drawn at once on another thread fail ("single artist
# in more than one figure"). Map backgrounds are therefore drawn one at a time.
BUILD_LOCK = threading.Lock()
HALO = [patheffects.withStroke(linewidth=3, foreground="white")]
# Where a jurisdiction's label sits relative to its point (offset in points, alignment).
LABEL_PLACES: dict[str, tuple[float, float, str, str]] = {
    "MMR": (-12, 0, "right", "center"),
    "THA": (-8, -12, "right", "top"),
    "LAO": (0, 14, "center", "bottom"),
    "KHM": (0, -14, "center", "top"),
    "VNM": (12, 0, "left", "center"),
    "PHL": (0, -14, "center", "top"),
    "CHN": (0, 12, "center", "bottom"),
    "FJI": (-8, 10, "right", "bottom"),
    "GBR": (0, -10, "center", "top"),
    "ARE": (-6, -6, "right", "top"),
    "IND": (-4, -8, "right", "top"),
}


def fast_png(canvas: FigureCanvasAgg) -> bytes:
    """The canvas as PNG; low compression, because encoding time matters more than bytes."""
    w, h = canvas.get_width_height(physical=True)
    img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    img.convert("RGB").save(out, format="png", compress_level=1)
    return out.getvalue()


def min_font_px(fig: Figure) -> float:
    """Size in pixels of the smallest visible, non-empty text of ``fig``."""
    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip()]
    return float(min(sizes, default=MIN_FONT_PT)) * fig.dpi / 72.0


def enlarge_texts(fig: Figure, min_pt: float = MIN_FONT_PT) -> None:
    """Raise every text of ``fig`` below ``min_pt`` to it (legends, colorbars, ticks)."""
    for t in fig.findobj(Text):
        if t.get_fontsize() < min_pt:
            t.set_fontsize(min_pt)


def centre_note(ax: Axes, text: str) -> Text:
    """A grey note in the middle of ``ax`` (shown when there is nothing to draw)."""
    return ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
                   fontsize=MIN_FONT_PT + 2, color=style.CAPTION_COLOUR, zorder=8,
                   bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "none", "alpha": 0.85})


def _draw_region(ax: Axes, m: Any) -> None:
    """Ocean, land, borders and coasts of a regional Basemap (drawn once per view)."""
    m.drawmapboundary(fill_color=maps.OCEAN, color=maps.COAST, linewidth=0.8, ax=ax)
    m.fillcontinents(color=maps.LAND, lake_color=maps.OCEAN, ax=ax, zorder=1)
    m.drawcountries(linewidth=0.5, color=maps.BORDER, ax=ax, zorder=2)
    m.drawcoastlines(linewidth=0.5, color=maps.COAST, ax=ax, zorder=2)


def _draw_sorted(artists: Sequence[Artist]) -> None:
    """``draw_artist`` in zorder (it ignores zorder): arrows above bubbles, labels on top."""
    for a in sorted(artists, key=lambda a: a.get_zorder()):
        if a.get_visible():
            a.axes.draw_artist(a)


class _Layer:
    """Bubbles, rings and labels of one map axes (the main map or the inset)."""

    def __init__(self, ax: Axes, m: Any, world: World, labelled: Sequence[int]) -> None:
        self.ax, self.m = ax, m
        self.xy = np.column_stack(m(world.lon, world.lat))
        # Every jurisdiction as a small ring: where compounds could go.
        ax.scatter(self.xy[:, 0], self.xy[:, 1], s=14, facecolors="none",
                   edgecolors=to_rgba(maps.EDGE, 0.5), linewidths=0.7, zorder=3)
        self.bubbles = ax.scatter([], [], s=[], c=[], cmap=maps.PRESSURE_CMAP,
                                  norm=maps.pressure_norm(), alpha=0.85,
                                  edgecolors=to_rgba(maps.EDGE, 0.85), linewidths=0.6, zorder=4)
        self.labels: list[Text] = []
        for j in labelled:
            dx, dy, ha, va = LABEL_PLACES.get(world.iso3[j], (0, -12, "center", "top"))
            self.labels.append(ax.annotate(
                world.names[j], xy=tuple(self.xy[j]), xytext=(dx, dy),
                textcoords="offset points", ha=ha, va=va, fontsize=MIN_FONT_PT,
                color="#222222", zorder=7, path_effects=HALO, annotation_clip=False))
        self.flows: list[Artist] = []

    def update(self, order: np.ndarray, workers: np.ndarray, pressure: np.ndarray,
               pairs: pd.DataFrame) -> list[Artist]:
        """Set this month's bubbles and arrows; the artists to draw."""
        self.bubbles.set_offsets(self.xy[order].reshape(-1, 2))
        self.bubbles.set_sizes(maps.bubble_areas(workers[order], MAP_MAX_WORKERS, MAP_MAX_AREA))
        self.bubbles.set_array(pressure[order])
        for a in self.flows:
            a.remove()
        arcs, heads, o, d = maps.draw_flows(self.ax, pairs, self.m, ref=FLOW_REF, max_width=4.5)
        self.flows = [a for a in (*arcs, *heads, o, d) if a is not None]
        return [self.bubbles, *self.flows, *self.labels]


class MapView:
    """Bubble map of one world: the background is drawn once, each frame only the data.

    The teaching world is shown cropped to the area of its jurisdictions, every
    one labelled, with an inset of mainland South-East Asia where the hubs and
    their neighbours are apart; the full world is the whole Robinson map.
    """

    def __init__(self, world: World, figsize: tuple[float, float] = MAP_SIZE_IN,
                 dpi: int = DPI) -> None:
        with BUILD_LOCK:
            self._build(world, figsize, dpi)

    def _build(self, world: World, figsize: tuple[float, float], dpi: int) -> None:
        self.lock = threading.Lock()
        self.world = world
        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes((0.004, 0.01, 0.775, 0.98))
        ax = self.ax
        span = float(world.lon.max() - world.lon.min())
        small = world.n <= 40
        lon_0 = float((world.lon.max() + world.lon.min()) / 2) if small and span < 300 else 0.0
        m = maps.draw_background(ax, projection="robin", lon_0=round(lon_0))
        inset_idx: list[int] = []
        if small:
            self._crop(m)
            lo_lon, lo_lat, hi_lon, hi_lat = SE_ASIA
            inside = ((world.lon >= lo_lon) & (world.lon <= hi_lon)
                      & (world.lat >= lo_lat) & (world.lat <= hi_lat))
            inset_idx = list(np.flatnonzero(inside))
            main_labels = [j for j in range(world.n) if j not in inset_idx]
        else:
            main_labels = []
        self.main = _Layer(ax, m, world, main_labels)
        self.inset: _Layer | None = None
        if inset_idx:
            self.inset = self._make_inset(m, inset_idx)
        self.month_text = ax.text(0.012, 0.085, "", transform=ax.transAxes, ha="left",
                                  va="bottom", fontsize=22, fontweight="bold", color="#222222",
                                  zorder=9, path_effects=HALO)
        self.sub = ax.text(0.012, 0.02, "", transform=ax.transAxes, ha="left", va="bottom",
                           fontsize=MIN_FONT_PT + 1, color="#222222", zorder=9,
                           path_effects=HALO)
        self.note = centre_note(ax, "no compounds anywhere")
        self._legends()
        enlarge_texts(self.fig)
        self.dynamic: list[Artist] = [self.month_text, self.sub, self.note, self.top_text]
        self.main.bubbles.set_visible(False)
        for a in self.dynamic + self.main.labels + (self.inset.labels if self.inset else []):
            a.set_visible(False)
        if self.inset:
            self.inset.bubbles.set_visible(False)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)
        self.inset_background = (self.canvas.copy_from_bbox(self.inset.ax.bbox.expanded(1.02, 1.02))
                                 if self.inset else None)
        for a in self.dynamic + self.main.labels + (self.inset.labels if self.inset else []):
            a.set_visible(True)
        self.main.bubbles.set_visible(True)
        if self.inset:
            self.inset.bubbles.set_visible(True)
        self.font_px = min_font_px(self.fig)

    def _crop(self, m: Any) -> None:
        """Limit the map to the jurisdictions plus a margin, at the axes' aspect ratio."""
        x, _ = m(self.world.lon, self.world.lat)
        _, y_lo = m(float(np.mean(self.world.lon)), max(-80.0, float(self.world.lat.min()) - 22))
        _, y_hi = m(float(np.mean(self.world.lon)), min(80.0, float(self.world.lat.max()) + 10))
        x_lo, x_hi = float(np.min(x)), float(np.max(x))
        pad = 0.05 * (x_hi - x_lo)
        x_lo, x_hi = x_lo - pad, x_hi + pad
        bbox = self.ax.get_position()
        aspect = (bbox.height * self.fig.get_figheight()) / (bbox.width * self.fig.get_figwidth())
        want_h = (x_hi - x_lo) * aspect
        if want_h > y_hi - y_lo:
            mid = (y_lo + y_hi) / 2
            y_lo, y_hi = mid - want_h / 2, mid + want_h / 2
        else:
            mid, want_w = (x_lo + x_hi) / 2, (y_hi - y_lo) / aspect
            x_lo, x_hi = mid - want_w / 2, mid + want_w / 2
        self.ax.set_xlim(x_lo, x_hi)
        self.ax.set_ylim(y_lo, y_hi)
        # Keep the axes box and widen the limits if the aspect is off (Basemap's
        # default shrinks the box, and the land, clipped to the globe, spills out).
        self.ax.set_aspect("equal", adjustable="datalim")
        self.ax.set_autoscale_on(True)  # else matplotlib logs that it ignores the fixed limits
        self.ax.apply_aspect()
        limits = self.ax.get_xlim(), self.ax.get_ylim()
        self.ax.set_aspect("auto")  # freeze the widened limits
        self.ax.set_xlim(*limits[0])
        self.ax.set_ylim(*limits[1])
        for a in self.ax.get_children():  # land is clipped to the globe: clip it to the axes too
            a.set_clip_box(self.ax.bbox)

    def _make_inset(self, m: Any, idx: list[int]) -> _Layer:
        """Mainland South-East Asia in the empty ocean south of it, with a zoom box."""
        lo_lon, lo_lat, hi_lon, hi_lat = SE_ASIA
        corners = np.array(m([lo_lon, hi_lon, hi_lon, lo_lon], [lo_lat, lo_lat, hi_lat, hi_lat]))
        self.ax.add_patch(patches.Polygon(corners.T, closed=True, fill=False, ec="#555555",
                                          lw=1.0, ls="--", zorder=6))
        to_axes = self.ax.transData + self.ax.transAxes.inverted()
        (bx0, by0), (bx1, _) = to_axes.transform([m(lo_lon, lo_lat), m(hi_lon, lo_lat)])
        width = 0.42
        left = min(0.99 - width, max(0.30, (bx0 + bx1) / 2 - width / 2 - 0.06))
        inset = self.ax.inset_axes((left, 0.015, width, max(0.3, by0 - 0.04)))
        inset.set_zorder(10)
        mr = maps.regional_basemap(SE_ASIA)
        _draw_region(inset, mr)
        for side in inset.spines.values():
            side.set_edgecolor("#555555")
            side.set_linewidth(1.2)
        inset.text(0.015, 0.985, "South-East Asia (zoom)", transform=inset.transAxes,
                   ha="left", va="top", fontsize=MIN_FONT_PT, color="#333333", zorder=9,
                   path_effects=HALO)
        return _Layer(inset, mr, self.world, idx)

    def _legends(self) -> None:
        """Colour key, size key and the list of the largest hosts, right of the map."""
        ax = self.ax
        fig = self.fig
        cax = fig.add_axes((0.795, 0.50, 0.018, 0.46))
        sm = matplotlib.cm.ScalarMappable(norm=maps.pressure_norm(), cmap=maps.PRESSURE_CMAP)
        cb = fig.colorbar(sm, cax=cax, ticks=maps.PRESSURE_TICKS)
        cb.ax.set_yticklabels([f"{t:g}" for t in maps.PRESSURE_TICKS])
        cb.ax.tick_params(labelsize=MIN_FONT_PT)
        cb.set_label("enforcement pressure", fontsize=MIN_FONT_PT)
        legend = maps.size_legend(ax, MAP_MAX_WORKERS, MAP_MAX_AREA, label="workers",
                                  loc="lower left", bbox_to_anchor=(1.005, -0.01),
                                  borderaxespad=0.0, fontsize=MIN_FONT_PT,
                                  title_fontsize=MIN_FONT_PT)
        if legend is not None:
            legend.set_title("workers")
        self.top_text = ax.text(1.14, 0.985, "", transform=ax.transAxes, ha="left", va="top",
                                fontsize=MIN_FONT_PT, color="#222222", linespacing=1.3)
        ax.text(0.99, 0.985, "arrows: moves this month", transform=ax.transAxes, ha="right",
                va="top", fontsize=MIN_FONT_PT, color=maps.FLOW_COLOUR, zorder=9,
                path_effects=HALO)

    def render(self, model: DemoModel) -> bytes:
        """PNG of the current month of ``model``."""
        with self.lock, model.lock:
            workers = model.workers_now().astype(float)
            pressure = np.asarray(model.pressure, float)
            order = np.argsort(-workers, kind="stable")
            order = order[workers[order] > 0]  # big bubbles first, small ones stay on top
            names = model.world.names
            top = [f"{names[j]}\n   {maps.fmt_count(workers[j])}" for j in order[:4]]
            self.top_text.set_text("largest:\n" + "\n".join(top) if top else "")
            self.month_text.set_text(model.month())
            self.sub.set_text(f"{maps.fmt_count(workers.sum())} workers in {len(order)} "
                              f"of {model.world.n} countries")
            self.note.set_visible(len(order) == 0)
            pairs = model.relocations_now()
            main = self.main.update(order, workers, pressure, pairs)
            self.canvas.restore_region(self.background)
            _draw_sorted(main + self.dynamic)
            if self.inset is not None:
                inner = self.inset.update(order, workers, pressure, pairs)
                # Main-map arrows may cross the inset: put its clean background back first.
                self.canvas.restore_region(self.inset_background)
                _draw_sorted(inner)
            return fast_png(self.canvas)

    def full_png(self) -> bytes:
        """The current frame redrawn in full at the figure style's resolution (downloads)."""
        with self.lock:
            data = style.png_bytes(self.fig)
            self.canvas.draw()  # back to the screen resolution for the next blitted frame
            return data


def nice_ceiling(value: float) -> float:
    """The next 1-2-5 × 10^k at or above ``value``.

    Coarse on purpose: a new axis limit redraws the static layer (a few hundred
    ms), so the limits should change only a few times in a run.
    """
    if value <= 0:
        return 1.0
    exp = 10.0 ** np.floor(np.log10(value))
    for f in (1.0, 2.0, 5.0, 10.0):
        if f * exp >= value * (1 - 1e-12):
            return float(f * exp)
    return float(10 * exp)


class PlotsView:
    """Four live time plots over calendar months, with crackdown markers and kept runs.

    Axes, ticks, legends, markers and the kept runs (faded) form the static
    layer, redrawn only when an axis limit, a marker or the kept runs change;
    otherwise a frame restores it and draws the current run's lines.
    """

    def __init__(self, model: DemoModel, figsize: tuple[float, float] = PLOTS_SIZE_IN,
                 dpi: int = DPI) -> None:
        self.lock = threading.Lock()
        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        grid = self.fig.add_gridspec(2, 2, left=0.075, right=0.99, top=0.945, bottom=0.16,
                                     hspace=0.42, wspace=0.2)
        self.ax_hubs = self.fig.add_subplot(grid[0, 0])
        self.ax_active = self.fig.add_subplot(grid[0, 1])
        self.ax_regions = self.fig.add_subplot(grid[1, 0])
        self.ax_rescued = self.fig.add_subplot(grid[1, 1])
        self.axes = (self.ax_hubs, self.ax_active, self.ax_regions, self.ax_rescued)
        y0 = int(model.start[:4]) + (int(model.start[5:7]) - 1) / 12
        self.x = y0 + np.arange(model.horizon + 1) / 12.0
        self.regions = [r for r in style.REGION_ORDER if r in set(model.world.region)]
        self.region_of = np.array([self.regions.index(r) for r in model.world.region])
        colours = style.region_colours()
        titles = ("Workers (thousands): hubs vs rest of world", "Countries with compounds",
                  "Workers by region (%)", "Workers rescued (thousands, total)")
        for ax, title in zip(self.axes, titles, strict=True):
            ax.set_title(title, loc="left", fontsize=MIN_FONT_PT + 1.5, fontweight="bold")
            ax.set_xlim(self.x[0], self.x[-1])
            ax.tick_params(labelsize=MIN_FONT_PT)
            ax.grid(alpha=0.3, lw=0.6)
            ax.xaxis.set_major_locator(ticker.MultipleLocator(2))
            ax.xaxis.set_minor_locator(ticker.MultipleLocator(1))
            ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%d"))
        p = style.PALETTE
        (self.hubs_line,) = self.ax_hubs.plot([], [], color=p[0], lw=2.4, label="4 hubs")
        (self.rest_line,) = self.ax_hubs.plot([], [], color=p[6], lw=2.6, label="rest of world")
        (self.mmr_line,) = self.ax_hubs.plot([], [], color=p[0], lw=1.4, ls="--",
                                             label="Myanmar")
        self.ax_hubs.legend(loc="upper right", fontsize=MIN_FONT_PT, frameon=False, ncols=3,
                            handlelength=1.4, columnspacing=0.8, borderaxespad=0.1)
        (self.active_line,) = self.ax_active.step([], [], where="post", color="#333333", lw=2.0,
                                                  label="this run")
        (self.rescued_line,) = self.ax_rescued.plot([], [], color=p[3], lw=2.4, label="this run")
        self.ax_regions.set_ylim(0, 100)
        self.ax_active.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        self.region_colours = [colours[r] for r in self.regions]
        handles = [patches.Patch(color=c, label=r)
                   for r, c in zip(self.regions, self.region_colours, strict=True)]
        self.fig.legend(handles=handles, loc="lower center", ncol=min(5, len(handles)),
                        fontsize=MIN_FONT_PT, frameon=False, bbox_to_anchor=(0.5, 0.0),
                        columnspacing=1.0, handlelength=1.0, handletextpad=0.4)
        self.limits: tuple[Any, ...] = ()
        self.marks: list[tuple[int, str]] = []
        self.key: tuple[Any, ...] = ()
        self.cache: dict[tuple[Any, ...], Any] = {}  # static layers by (limits, marks, kept)
        self.static: list[Artist] = []
        self.stack: list[Artist] = []
        self.background = None
        self.font_px = MIN_FONT_PT * dpi / 72

    def bind(self, model: DemoModel) -> None:
        """Show ``model`` (a new run of the same world) from the next frame on."""
        with self.lock:
            self.background = None
            self.key = ()

    def _relimit(self, model: DemoModel, s: dict[str, np.ndarray],
                 kept: Sequence[dict[str, Any]]) -> None:
        """Fix the y limits (expanding in nice steps) and redraw the static layer if needed."""
        kept_series = [k["series"] for k in kept]
        top_w = max([s["hubs"].max(), s["rest"].max(), 1.0]
                    + [max(k["hubs"].max(), k["rest"].max()) for k in kept_series])
        top_a = max([s["active"].max()] + [k["active"].max() for k in kept_series])
        top_r = max([s["rescued"].max(), 0.5] + [k["rescued"].max() for k in kept_series])
        limits = (nice_ceiling(top_w * 1.2), max(5.0, nice_ceiling(top_a * 1.1)),
                  nice_ceiling(top_r * 1.05))
        key = (limits, tuple(model.crackdowns), tuple(k["label"] for k in kept))
        if key == self.key and self.background is not None:
            return
        self.key = key
        self.limits, self.marks = limits, list(model.crackdowns)
        self.ax_hubs.set_ylim(0, limits[0])
        self.ax_active.set_ylim(0, limits[1])
        self.ax_rescued.set_ylim(0, limits[2])
        for a in self.static:
            a.remove()
        self.static = []
        self._draw_kept(kept)
        for k, (step, label) in enumerate(self.marks):
            xs = self.x[min(step, len(self.x) - 1)]
            for ax in self.axes:
                self.static.append(ax.axvline(xs, color="black", lw=1.1, ls=":"))
            self.static.append(self.ax_hubs.annotate(
                label, xy=(xs, 0.83), xycoords=("data", "axes fraction"),
                xytext=(4, -19 * (k % 3)), textcoords="offset points", fontsize=MIN_FONT_PT,
                ha="left", va="top", color="black",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            ))
        # A full draw costs a few hundred ms; runs of one lesson step go through the same
        # limits and markers, so their rasterised static layers are kept (a few MB each).
        if key in self.cache:
            self.background = self.cache.pop(key)
        else:
            data = [self.hubs_line, self.rest_line, self.mmr_line, self.active_line,
                    self.rescued_line, *self.stack]
            for a in data:
                a.set_visible(False)
            self.canvas.draw()
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
            for a in data:
                a.set_visible(True)
            self.font_px = min_font_px(self.fig)
        self.cache[key] = self.background
        while len(self.cache) > CACHE_LAYERS:
            self.cache.pop(next(iter(self.cache)))

    def _draw_kept(self, kept: Sequence[dict[str, Any]]) -> None:
        """Kept runs as faded lines, one colour each, with a legend in the rescued plot."""
        handles = []
        for k, run in enumerate(kept):
            colour = KEPT_COLOURS[k % len(KEPT_COLOURS)]
            s = run["series"]
            x = self.x[: len(s["hubs"])]
            opts = {"color": colour, "alpha": 0.55, "lw": 1.6, "zorder": 1.5}
            self.static += self.ax_hubs.plot(x, s["hubs"], **opts)
            self.static += self.ax_hubs.plot(x, s["rest"], ls="-.", **opts)
            self.static += self.ax_active.step(x, s["active"], where="post", **opts)
            (line,) = self.ax_rescued.plot(x, s["rescued"], label=run["short"], **opts)
            self.static.append(line)
            handles.append(line)
        if handles:
            self.static.append(self.ax_rescued.legend(
                handles=[self.rescued_line, *handles], loc="upper left", fontsize=MIN_FONT_PT,
                frameon=False, title=None, handlelength=1.4, borderaxespad=0.2))

    def render(self, model: DemoModel, kept: Sequence[dict[str, Any]] = ()) -> bytes:
        """PNG of the four plots up to the current month, with ``kept`` runs faded."""
        with self.lock:
            s = model.series()
            t = len(s["hubs"]) - 1
            x = self.x[: t + 1]
            self._relimit(model, s, kept)
            self.hubs_line.set_data(x, s["hubs"])
            self.rest_line.set_data(x, s["rest"])
            self.mmr_line.set_data(x, s["myanmar"])
            self.active_line.set_data(x, s["active"])
            self.rescued_line.set_data(x, s["rescued"])
            w = s["workers"]
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
            _draw_sorted([*self.stack, self.hubs_line, self.rest_line, self.mmr_line,
                          self.active_line, self.rescued_line])
            return fast_png(self.canvas)

    def full_png(self) -> bytes:
        """The current plots redrawn in full at the figure style's resolution (downloads)."""
        with self.lock:
            data = style.png_bytes(self.fig)
            self.canvas.draw()
            return data


# Kept runs: dark, distinct colours of the style palette (faded when drawn).
KEPT_COLOURS = (style.PALETTE[7], style.PALETTE[2], style.PALETTE[4], style.PALETTE[8],
                style.PALETTE[1], style.PALETTE[5])
