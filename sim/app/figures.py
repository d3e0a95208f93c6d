"""The two live figures of the teaching page: the bubble map and the four time plots.

Both are drawn for a projector: the PNG is made at about the size it is shown
(about 1040 px wide) and no text is smaller than :data:`MIN_FONT_PT` (15 px at
100 dpi). Frames are rendered by *blitting* on a ``FigureCanvasAgg``: what a
full draw puts below the data (outlines, axes, grid, kept runs) is rasterised
once and copied back, a frame draws only the data, and what a full draw puts
above the data (labels, spines, legends, markers) is rasterised once on a
transparent canvas and blended over it with NumPy (:class:`Overlay`); so a
frame has the pixels of a full redraw. A frame is then encoded by
:func:`encode_png` (no PNG filter, zlib level 1: encoding time matters more than
bytes). That keeps a frame at a few tens of ms; a full ``savefig``
(:func:`sim.viz.style.png_bytes`) costs several times that, so it is used only
for the PNG downloads, which are drawn at the style's resolution.
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
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
from matplotlib.transforms import Bbox
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


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_LEVEL = 1  # zlib level: 1 is several times faster than the default and barely larger


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(data,
                                                                                zlib.crc32(tag)))


def encode_png(rgba: np.ndarray, level: int = PNG_LEVEL) -> bytes:
    """An opaque (h, w, 4) uint8 image as an RGB PNG: no filter, zlib at ``level``.

    The figures are flat colours on white: without PNG's per-row filters they
    compress as small as with Pillow's adaptive ones, in a third of the time;
    ``zlib`` also lets other threads run while it compresses.
    """
    h, w = rgba.shape[:2]
    # Pillow drops the alpha bytes three times faster than a strided NumPy copy.
    rgb = np.asarray(Image.frombuffer("RGBA", (w, h), np.ascontiguousarray(rgba), "raw", "RGBA",
                                      0, 1).convert("RGB"))
    rows = np.empty((h, 1 + 3 * w), np.uint8)
    rows[:, 0] = 0  # filter type "none" in front of every row
    rows[:, 1:] = rgb.reshape(h, 3 * w)
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"".join((PNG_SIGNATURE, _png_chunk(b"IHDR", header),
                     _png_chunk(b"IDAT", zlib.compress(rows.data, level)),
                     _png_chunk(b"IEND", b"")))


def canvas_pixels(canvas: FigureCanvasAgg) -> np.ndarray:
    """The canvas' RGBA buffer as a writable (h, w, 4) array (no copy)."""
    return np.asarray(canvas.get_renderer().buffer_rgba())


def pixel_box(bbox: Bbox, shape: tuple[int, ...], pad: int = 0) -> tuple[slice, slice]:
    """Rows and columns of the pixels a display-space ``bbox`` touches (``pad`` more around)."""
    h, w = shape[:2]
    x0, x1 = int(np.floor(bbox.x0)) - pad, int(np.ceil(bbox.x1)) + pad
    y0, y1 = int(np.floor(bbox.y0)) - pad, int(np.ceil(bbox.y1)) + pad
    return slice(max(0, h - y1), min(h, h - y0)), slice(max(0, x0), min(w, x1))


def area_mask(shape: tuple[int, ...], boxes: Iterable[Bbox], pad: int = 1) -> np.ndarray:
    """True on the pixels of ``boxes``: where a figure's data can be drawn."""
    mask = np.zeros(shape[:2], bool)
    for box in boxes:
        mask[pixel_box(box, shape, pad)] = True
    return mask


@contextmanager
def left_out(artists: Sequence[Artist]) -> Iterator[None]:
    """Leave ``artists`` out of canvas and axes draws (blitting's "animated" flag).

    Not by hiding them: a hidden title has no extent, and ``Axes.draw`` would
    move it above everything it seems to overlap.
    """
    for a in artists:
        a.set_animated(True)
    try:
        yield
    finally:
        for a in artists:
            a.set_animated(False)


def draw_alone(canvas: FigureCanvasAgg, artists: Sequence[Artist]) -> np.ndarray:
    """RGBA of ``artists`` alone, drawn (in zorder) on a transparent canvas; a copy."""
    canvas.get_renderer().clear()
    _draw_sorted(artists)
    return canvas_pixels(canvas).copy()


def blend_into(base: np.ndarray, rgba: np.ndarray, where: np.ndarray) -> None:
    """Blend the straight-alpha ``rgba`` over the opaque ``base`` where ``where`` is set."""
    Overlay(rgba, where).apply(base)


class Overlay:
    """Static artists that a full draw puts above the data, blended over each frame.

    Rasterised once on a transparent canvas; kept as premultiplied colour and
    remaining weight (1 - alpha) of only the pixels it covers inside ``where``,
    so a frame blends some ten thousand pixels instead of drawing the artists
    again (a label with a halo costs about 1 ms). Blending a layer drawn over
    transparency is the same as drawing its artists, up to rounding.
    """

    def __init__(self, rgba: np.ndarray, where: np.ndarray | None = None) -> None:
        alpha = rgba[..., 3]
        covered = alpha > 0 if where is None else (alpha > 0) & where
        self.index = np.flatnonzero(covered)
        a = alpha.reshape(-1)[self.index].astype(np.float32)[:, None] / np.float32(255)
        self.colour = rgba.reshape(-1, 4)[self.index, :3].astype(np.float32) * a + 0.5
        self.keep = 1 - a

    def apply(self, pixels: np.ndarray) -> None:
        """Blend the layer over ``pixels`` (the canvas buffer or an image of its shape)."""
        flat = pixels.reshape(-1, 4)
        flat[self.index, :3] = flat[self.index, :3] * self.keep + self.colour


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


def above_data(ax: Axes, data: Sequence[Artist], exclude: Sequence[Artist] = ()) -> list[Artist]:
    """The static artists of ``ax`` that its full draw puts after the first of ``data``.

    In the order ``Axes.draw`` uses (zorder, then the order they were added);
    ``data`` and ``exclude`` (what a frame draws itself) and child axes are left out.
    """
    drawn = [a for a in ax.get_children() if a is not ax.patch and not isinstance(a, Axes)]
    if not ax.axison:
        drawn = [a for a in drawn if a is not ax.xaxis and a is not ax.yaxis]  # as Axes.draw
    order = sorted(drawn, key=lambda a: a.get_zorder())
    first = min(k for k, a in enumerate(order) if any(a is d for d in data))
    skip = {id(a) for a in (*data, *exclude)}
    return [a for a in order[first + 1:] if id(a) not in skip and a.get_visible()]


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
        """Set this month's bubbles and arrows; the artists to draw (labels are overlaid)."""
        self.bubbles.set_offsets(self.xy[order].reshape(-1, 2))
        self.bubbles.set_sizes(maps.bubble_areas(workers[order], MAP_MAX_WORKERS, MAP_MAX_AREA))
        self.bubbles.set_array(pressure[order])
        for a in self.flows:
            a.remove()
        self.flows = []
        if len(pairs):  # most months move nothing; draw_flows costs ~8 ms even then
            arcs, heads, o, d = maps.draw_flows(self.ax, pairs, self.m, ref=FLOW_REF,
                                                max_width=4.5)
            self.flows = [a for a in (*arcs, *heads, o, d) if a is not None]
        return [self.bubbles, *self.flows]


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
        self._capture()
        self.font_px = min_font_px(self.fig)

    def _capture(self) -> None:
        """Rasterise what lies below the bubbles and, on transparency, what lies above them.

        Above them in a full draw are the labels, the zoom box and the arrows note
        of the main map, then the inset (drawn over the main map) with its own labels.
        Data can only be drawn inside the main axes: outside it the layers above are
        blended into the background once.
        """
        data = [self.main.bubbles]
        above = above_data(self.ax, data, self.dynamic)
        inset_above: list[Artist] = []
        if self.inset is not None:
            data.append(self.inset.bubbles)
            inset_above = above_data(self.inset.ax, [self.inset.bubbles])
        with left_out([*data, *self.dynamic, *above, *inset_above]):
            self.canvas.draw()
            below = canvas_pixels(self.canvas).copy()
            main_rgba = draw_alone(self.canvas, above)
            inset_rgba = draw_alone(self.canvas, inset_above)
        inside = area_mask(below.shape, [self.ax.bbox])
        blend_into(below, main_rgba, ~inside)
        blend_into(below, inset_rgba, ~inside)
        self.background = below
        self.overlay = Overlay(main_rgba, inside)
        self.inset_overlay = Overlay(inset_rgba, inside)
        self.inset_box = (pixel_box(self.inset.ax.bbox.expanded(1.02, 1.02), below.shape)
                          if self.inset is not None else None)

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
            pixels = canvas_pixels(self.canvas)
            np.copyto(pixels, self.background)
            _draw_sorted(main)
            self.overlay.apply(pixels)
            _draw_sorted(self.dynamic)
            if self.inset is not None and self.inset_box is not None:
                inner = self.inset.update(order, workers, pressure, pairs)
                # Main-map arrows may cross the inset: put its clean background back first.
                pixels[self.inset_box] = self.background[self.inset_box]
                _draw_sorted(inner)
                self.inset_overlay.apply(pixels)
            return encode_png(pixels)

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
            # At y=1 as the automatic placement puts them (no tick labels on top), but fixed:
            # placing them measures every tick label, 10 ms a plot at each draw.
            ax.set_title(title, loc="left", fontsize=MIN_FONT_PT + 1.5, fontweight="bold", y=1.0)
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
        # The regional shares: one band per region, created once and reshaped every frame
        # (a stack made anew each frame would cost its construction and move in the order).
        self.stack = self.ax_regions.stackplot(
            self.x[:1], np.zeros((len(self.regions), 1)), colors=self.region_colours,
            linewidth=0, alpha=0.9)
        self.data: list[Artist] = [self.hubs_line, self.rest_line, self.mmr_line,
                                   self.active_line, self.rescued_line, *self.stack]
        self.first_data = {id(self.ax_hubs): self.hubs_line, id(self.ax_active): self.active_line,
                           id(self.ax_regions): self.stack[0],
                           id(self.ax_rescued): self.rescued_line}
        self.limits: tuple[Any, ...] = ()
        self.marks: list[tuple[int, str]] = []
        self.key: tuple[Any, ...] = ()
        self.cache: dict[tuple[Any, ...], _PlotLayers] = {}  # by (limits, marks, kept)
        self.static: list[Artist] = []
        self.layers: _PlotLayers | None = None
        self.font_px = MIN_FONT_PT * dpi / 72

    def bind(self, model: DemoModel) -> None:
        """Show ``model`` (a new run of the same world) from the next frame on."""
        with self.lock:
            self.layers = None
            self.key = ()

    def _relimit(self, model: DemoModel, s: dict[str, np.ndarray],
                 kept: Sequence[dict[str, Any]]) -> None:
        """Fix the y limits (expanding in nice steps) and redraw the static layers if needed."""
        kept_series = [k["series"] for k in kept]
        top_w = max([s["hubs"].max(), s["rest"].max(), 1.0]
                    + [max(k["hubs"].max(), k["rest"].max()) for k in kept_series])
        top_a = max([s["active"].max()] + [k["active"].max() for k in kept_series])
        top_r = max([s["rescued"].max(), 0.5] + [k["rescued"].max() for k in kept_series])
        limits = (nice_ceiling(top_w * 1.2), max(5.0, nice_ceiling(top_a * 1.1)),
                  nice_ceiling(top_r * 1.05))
        key = (limits, tuple(model.crackdowns), tuple(k["label"] for k in kept))
        if key == self.key and self.layers is not None:
            return
        previous, old_key = self.layers, self.key
        self.key = key
        changed = [ax for ax, old, new in zip(
            (self.ax_hubs, self.ax_active, self.ax_rescued), self.limits or (None,) * 3, limits,
            strict=True) if old != new]
        self.limits = limits
        self.ax_hubs.set_ylim(0, limits[0])
        self.ax_active.set_ylim(0, limits[1])
        self.ax_rescued.set_ylim(0, limits[2])
        same_static = bool(old_key) and old_key[1:] == key[1:]
        if not same_static:
            self.marks = list(model.crackdowns)
            self._restatic(kept)
        # A full draw costs 100-200 ms; runs of one lesson step go through the same limits
        # and markers, so their rasterised static layers are kept (a few MB each). A new
        # limit alone redraws only the plots it changes (an axis, its ticks and labels).
        layers = self.cache.pop(key, None)
        if layers is None and same_static and previous is not None:
            layers = self._redraw_cells(previous, changed)
        if layers is None:
            layers = self._redraw()
            self.font_px = min_font_px(self.fig)
        self.layers = layers
        self.cache[key] = self.layers
        while len(self.cache) > CACHE_LAYERS:
            self.cache.pop(next(iter(self.cache)))

    def _restatic(self, kept: Sequence[dict[str, Any]]) -> None:
        """Replace the kept runs and the crackdown markers."""
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

    def _cells(self) -> list[tuple[slice, slice]]:
        """The pixels each plot may paint: its cell of the grid, halfway to its neighbours.

        The bottom row ends above the figure's region legend, so that redrawing one
        plot in its cell redraws everything there is there.
        """
        fig_h = round(self.fig.bbox.height)
        w = round(self.fig.bbox.width)
        hub, act, reg = (ax.bbox for ax in self.axes[:3])
        mid_x = (hub.x1 + act.x0) / 2
        mid_y = (hub.y0 + reg.y1) / 2
        legend = self.fig.legends[0].get_window_extent()
        cols = (slice(0, int(mid_x)), slice(int(mid_x), w))
        row_top = slice(0, fig_h - int(mid_y))
        row_bottom = slice(fig_h - int(mid_y), fig_h - int(np.ceil(legend.y1)) - 1)
        return [(row_top, cols[0]), (row_top, cols[1]), (row_bottom, cols[0]),
                (row_bottom, cols[1])]

    def _above(self, ax: Axes) -> list[Artist]:
        return above_data(ax, [self.first_data[id(ax)]], self.data)

    def _redraw(self) -> _PlotLayers:
        """The static layers, drawn in full.

        Below the data: a draw that leaves out the data and what lies above it. Above
        it (grid over the regional bands, markers, spines, legends): drawn alone on
        transparency. Both as a full draw stacks them around the data.
        """
        above = [a for ax in self.axes for a in self._above(ax)]
        with left_out([*self.data, *above]):
            self.canvas.draw()
            below = canvas_pixels(self.canvas).copy()
            over = draw_alone(self.canvas, above)
        return _PlotLayers(below, over, area_mask(below.shape, [ax.bbox for ax in self.axes]))

    def _redraw_cells(self, previous: _PlotLayers, axes: Sequence[Axes]) -> _PlotLayers | None:
        """``previous`` with only the cells of ``axes`` drawn again; None if a plot overflows.

        Each plot is drawn on a transparent canvas with only its cell filled: anything
        it paints outside the cell (wider tick labels) would be lost, so then the
        caller draws everything.
        """
        below, over = previous.below.copy(), previous.over.copy()
        renderer = self.canvas.get_renderer()
        pixels = canvas_pixels(self.canvas)
        face = (np.asarray(to_rgba(self.fig.get_facecolor())) * 255).round().astype(np.uint8)
        cells = dict(zip(map(id, self.axes), self._cells(), strict=True))
        for ax in axes:
            cell = cells[id(ax)]
            above = self._above(ax)
            with left_out([*self.data, *above]):
                renderer.clear()
                pixels[cell] = face
                ax.draw(renderer)
                if _paints_outside(pixels, cell, opaque_cell=True):
                    return None
                below[cell] = pixels[cell]
                renderer.clear()
                _draw_sorted(above)
                if _paints_outside(pixels, cell):
                    return None
                over[cell] = pixels[cell]
        return _PlotLayers(below, over, previous.inside)

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
            # Cumulative shares, as stackplot stacks them (from 0 up, region by region).
            tops = np.cumsum(100.0 * by_region / total, axis=1).T
            for k, band in enumerate(self.stack):
                band.set_verts([band_polygon(x, tops[k - 1] if k else np.zeros_like(x),
                                             tops[k])])
            layers = self.layers
            assert layers is not None
            pixels = canvas_pixels(self.canvas)
            np.copyto(pixels, layers.background)
            _draw_sorted(self.data)
            layers.overlay.apply(pixels)
            return encode_png(pixels)

    def full_png(self) -> bytes:
        """The current plots redrawn in full at the figure style's resolution (downloads)."""
        with self.lock:
            data = style.png_bytes(self.fig)
            self.canvas.draw()
            return data


def _paints_outside(pixels: np.ndarray, cell: tuple[slice, slice],
                    opaque_cell: bool = False) -> bool:
    """Whether a transparent canvas has paint outside ``cell`` (which is opaque if so told)."""
    alpha = pixels[..., 3]
    inside = alpha[cell].size if opaque_cell else np.count_nonzero(alpha[cell])
    return bool(np.count_nonzero(alpha) > inside)


def band_polygon(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The polygon ``fill_between(x, lower, upper)`` fills (no gaps, no steps).

    The same vertices as matplotlib's, made without its masked-array checks
    (3-6 ms a frame for the regional bands).
    """
    return np.concatenate(([[x[0], upper[0]]], np.column_stack((x, lower)),
                           [[x[-1], upper[-1]]], np.column_stack((x, upper))[::-1]))


class _PlotLayers:
    """The rasterised static layers of the plots for one set of limits, markers and kept runs.

    ``below`` and ``over`` are what a full draw puts below and above the data;
    ``background`` is ``below`` with ``over`` already blended in outside the plots,
    where no data is drawn, and ``overlay`` the rest of ``over``, blended every frame.
    """

    def __init__(self, below: np.ndarray, over: np.ndarray, inside: np.ndarray) -> None:
        self.below, self.over, self.inside = below, over, inside
        self.background = below.copy()
        blend_into(self.background, over, ~inside)
        self.overlay = Overlay(over, inside)


# Kept runs: dark, distinct colours of the style palette (faded when drawn).
KEPT_COLOURS = (style.PALETTE[7], style.PALETTE[2], style.PALETTE[4], style.PALETTE[8],
                style.PALETTE[1], style.PALETTE[5])
