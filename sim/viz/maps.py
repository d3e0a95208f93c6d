"""World maps of a run: where the compounds are and where they move.

Country outlines and coastlines come from the ``basemap`` / ``basemap-data``
packages, which ship them, so every map is drawn offline. Basemap is imported
lazily: the model and the results do not need it.

Typical use::

    import sim
    from sim.viz import maps, style

    res = sim.run("mekong_crackdown", world="world", seed=1)
    fig, ax = maps.map_figure()
    maps.world_map(ax, maps.activity_at(res.timeseries, "2027-01"), title="Workers, 2027-01")
    style.caption(fig, style.caption_text(res.summary))
    style.save_png(fig, "workers_2027-01.png")
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import animation
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import PowerNorm, to_rgba
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Text
from PIL import Image

from sim.core.world import load_table
from sim.viz.style import (
    CAPTION_COLOUR,
    PALETTE,
    REGION_ORDER,
    region_colours,
    save_animation,
    save_png,
)

# caption_text, DPI, add_caption (caption) and save (save_png): the names the
# style had here before it moved to sim.viz.style, kept for callers.
from sim.viz.style import DPI as DPI
from sim.viz.style import caption as add_caption
from sim.viz.style import caption_text as caption_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colorbar import Colorbar
    from matplotlib.figure import Figure
    from mpl_toolkits.basemap import Basemap

# Pale map background, so that the data (bubbles, arcs) carry all the colour.
OCEAN = "#F2F6F9"
LAND = "#E6E3DC"
BORDER = "#B3AEA6"
COAST = "#8E8982"
EDGE = "#333333"
CAPTION_GREY = CAPTION_COLOUR
FLOW_COLOUR = PALETTE[7]  # Tol muted wine: dark, reads on land and ocean alike
# Sequential, perceptually uniform and readable with colour-vision deficiency.
PRESSURE_CMAP = "viridis"
# Pressure is mostly 0.02-0.1 with crackdowns near 0.7: a power scale (x^0.35)
# keeps routine enforcement distinguishable while the colorbar still spans 0-1.
PRESSURE_NORM_GAMMA = 0.35
PRESSURE_TICKS = (0.0, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
# Area (points²) of the largest bubble on a map about 8.5 inches wide.
MAX_AREA = 1300.0
REFERENCE_WIDTH_IN = 8.5
MAX_FLOW_WIDTH = 6.0  # points, for the largest flow
MIN_FLOW_WIDTH = 0.5  # thinner lines vanish once anti-aliased
BUBBLE_ALPHA = 0.78

Projection = Literal["robin", "moll", "kav7", "eck4", "hammer", "mbtfpq"]


# --- basemap -----------------------------------------------------------------------------


def _basemap_class() -> type[Basemap]:
    try:
        from mpl_toolkits.basemap import Basemap
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "sim.viz.maps needs basemap for country outlines: "
            "pip install 'basemap>=1.4,<3' 'basemap-data>=1.3,<3'"
        ) from exc
    return Basemap


def basemap(projection: Projection = "robin", lon_0: float = 0.0, resolution: str = "l") -> Basemap:
    """The (cached) Basemap of a whole-world projection; building one takes about a second."""
    # Normalised positional key: functools.cache tells basemap() and basemap("robin") apart.
    return _world_basemap(str(projection), float(lon_0), str(resolution))


@cache
def _world_basemap(projection: str, lon_0: float, resolution: str) -> Basemap:
    return _basemap_class()(projection=projection, lon_0=lon_0, resolution=resolution)


def regional_basemap(bounds: tuple[float, float, float, float], resolution: str = "l") -> Basemap:
    """The (cached) Mercator Basemap of ``bounds`` = (lon_min, lat_min, lon_max, lat_max)."""
    lon_min, lat_min, lon_max, lat_max = (float(b) for b in bounds)
    return _regional_basemap(lon_min, lat_min, lon_max, lat_max, str(resolution))


@cache
def _regional_basemap(
    lon_min: float, lat_min: float, lon_max: float, lat_max: float, resolution: str
) -> Basemap:
    return _basemap_class()(projection="merc", llcrnrlon=lon_min, llcrnrlat=lat_min,
                            urcrnrlon=lon_max, urcrnrlat=lat_max, resolution=resolution)


@cache
def _land_and_water(m: Basemap) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Projected land and lake polygons (one PolyCollection is ~10x faster than fillcontinents)."""
    land: list[np.ndarray] = []
    water: list[np.ndarray] = []
    # GSHHS levels: 1 land, 2 lake, 3 island in a lake, 4 pond on such an island.
    for (xs, ys), level in zip(m.coastpolygons, m.coastpolygontypes, strict=True):
        (land if level in (1, 3) else water).append(np.column_stack((xs, ys)))
    return land, water


@cache
def _positions(m: Basemap) -> pd.DataFrame:
    """Projected country centroids with name and region, indexed by ISO3."""
    table = load_table("world").set_index("iso3")
    x, y = m(table["lon"].to_numpy(float), table["lat"].to_numpy(float))
    return pd.DataFrame(
        {"x": x, "y": y, "name": table["name"], "region": table["region"]}, index=table.index
    )


def _draw_base(ax: Axes, m: Basemap) -> None:
    limb = m.drawmapboundary(color=COAST, linewidth=0.6, fill_color=OCEAN, ax=ax, zorder=0)
    land, water = _land_and_water(m)
    for polys, colour, z in ((land, LAND, 1.0), (water, OCEAN, 1.1)):
        coll = PolyCollection(polys, facecolors=colour, edgecolors="none", zorder=z)
        coll.set_clip_path(limb)
        ax.add_collection(coll)
    m.drawcountries(linewidth=0.3, color=BORDER, ax=ax, zorder=2)
    m.drawcoastlines(linewidth=0.35, color=COAST, ax=ax, zorder=2)
    m.set_axes_limits(ax=ax)


def draw_background(
    ax: Axes, *, projection: Projection = "robin", lon_0: float = 0.0
) -> Basemap:
    """Ocean, land, country borders and coastlines of the whole world on ``ax``."""
    m = basemap(projection, lon_0)
    _draw_base(ax, m)
    return m


# --- data helpers --------------------------------------------------------------------------


def _months(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.strftime("%Y-%m")


def n_runs(timeseries: pd.DataFrame) -> int:
    """Number of runs in a time series (a sweep's has a ``run_id`` column)."""
    return int(timeseries["run_id"].nunique()) if "run_id" in timeseries else 1


def activity_at(timeseries: pd.DataFrame, date: str, column: str = "workers") -> pd.Series:
    """``column`` per ISO3 in month ``date`` (YYYY-MM); the mean over runs for a sweep.

    Filter a sweep's table to one condition first: runs of different scenarios
    would be averaged together.
    """
    months = _months(timeseries["date"])
    rows = timeseries[months == date]
    if rows.empty:
        raise ValueError(
            f"no rows for {date!r}; the time series covers {months.min()} to {months.max()}"
        )
    # Every run has one row per jurisdiction and month, so sum / runs is the mean.
    values = rows.groupby("iso3", sort=True)[column].sum() / n_runs(rows)
    values.name = column
    return values


def _as_series(values: pd.Series | Mapping[str, float], what: str) -> pd.Series:
    s = values.copy() if isinstance(values, pd.Series) else pd.Series(dict(values), dtype=float)
    s = pd.to_numeric(s, errors="raise").astype(float)
    s.index = s.index.astype(str)
    if s.index.has_duplicates:
        raise ValueError(f"{what}: ISO3 codes appear more than once")
    unknown = sorted(set(s.index) - set(load_table("world")["iso3"]))
    if unknown:
        raise ValueError(f"{what}: unknown ISO3 codes {unknown[:8]}")
    return s


def fmt_count(value: float) -> str:
    """Short count: 950, 1.2k, 15k, 150k, 1.5M."""
    v = abs(value)
    if v >= 1e6:
        text = f"{value / 1e6:.1f}M"
    elif v >= 1e4:
        text = f"{value / 1e3:.0f}k"
    elif v >= 1e3:
        text = f"{value / 1e3:.1f}k"
    else:
        return f"{value:.0f}"
    return text.replace(".0k", "k").replace(".0M", "M")


def bubble_areas(values: np.ndarray, max_value: float, max_area: float = MAX_AREA) -> np.ndarray:
    """Marker areas (points²) proportional to ``values``; ``max_value`` gets ``max_area``."""
    values = np.asarray(values, float)
    if not max_value or max_value <= 0:
        return np.zeros_like(values)
    return max_area * values / max_value


def size_references(max_value: float, max_area: float = MAX_AREA, n: int = 3) -> list[float]:
    """Up to ``n`` round values (decades below ``max_value``) whose bubbles are visible."""
    if not max_value or max_value <= 0:
        return []
    exp = math.floor(math.log10(max_value))
    mant = max_value / 10**exp
    top = (5 if mant >= 5 else 2 if mant >= 2 else 1) * 10**exp
    refs = [top / 10**k for k in range(n) if top / 10**k >= 1]
    # Skip references so small that their bubble would be a speck (< 2 pt across).
    refs = [r for r in refs if bubble_areas(np.array([r]), max_value, max_area)[0] >= 4.0]
    return sorted(refs)


def scaled_area(ax: Axes, base: float = MAX_AREA) -> float:
    """Largest bubble area for ``ax``, so bubbles keep their size relative to the map."""
    width_in = ax.get_position().width * ax.figure.get_figwidth()
    return base * (width_in / REFERENCE_WIDTH_IN) ** 2


# --- figures ------------------------------------------------------------------


save = save_png


def map_figure(figsize: tuple[float, float] = (11.5, 5.6)) -> tuple[Figure, Axes]:
    """A figure with one map axes, with room for legends at the right (constrained layout)."""
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


# --- bubble map ----------------------------------------------------------------------------


@dataclass
class MapArtists:
    """What :func:`world_map` drew, for further styling and for tests."""

    ax: Axes
    bubbles: PathCollection
    iso3: list[str]
    values: np.ndarray
    max_value: float
    max_area: float
    title: Text
    region_legend: Legend | None = None
    size_legend: Legend | None = None
    colorbar: Colorbar | None = None
    top_text: Text | None = None
    note: Text | None = None
    basemap: Any = field(default=None, repr=False)


def _region_handles(regions: Sequence[str]) -> list[Line2D]:
    colours = region_colours()
    present = set(regions)
    return [
        Line2D([], [], ls="", marker="o", markersize=8, label=r,
               markerfacecolor=to_rgba(colours[r], BUBBLE_ALPHA), markeredgecolor=EDGE,
               markeredgewidth=0.5)
        for r in REGION_ORDER
        if r in present
    ]


def region_legend(target: Axes | Figure, regions: Sequence[str], **kwargs: Any) -> Legend | None:
    """Legend of the region colours of ``regions`` (in the fixed region order)."""
    handles = _region_handles(regions)
    if not handles:
        return None
    opts = {"title": "region", "frameon": False, "fontsize": 8, "title_fontsize": 8.5}
    return target.legend(handles=handles, **(opts | kwargs))


def _size_handles(max_value: float, max_area: float) -> list[Line2D]:
    refs = size_references(max_value, max_area)
    areas = bubble_areas(np.array(refs), max_value, max_area)
    # A scatter marker of area s has the diameter of a Line2D marker of size sqrt(s).
    return [
        Line2D([], [], ls="", marker="o", markersize=math.sqrt(a), label=fmt_count(r),
               markerfacecolor="#DDDDDD", markeredgecolor=EDGE, markeredgewidth=0.5)
        for r, a in zip(refs, areas, strict=True)
    ]


def size_legend(
    target: Axes | Figure,
    max_value: float,
    max_area: float,
    *,
    label: str = "workers",
    horizontal: bool = False,
    **kwargs: Any,
) -> Legend | None:
    """Legend of 2-3 reference bubbles on the same scale as the map."""
    handles = _size_handles(max_value, max_area)
    if not handles:
        return None
    fontsize = 8.0
    biggest = max(h.get_markersize() for h in handles)
    # Legend rows and handle boxes are sized in font units: make room for the big bubbles.
    opts: dict[str, Any] = {
        "title": f"{label} (bubble area)",
        "fontsize": fontsize,
        "title_fontsize": 8.5,
        "frameon": False,
        "handlelength": max(1.5, biggest / fontsize),
        "handleheight": max(0.7, biggest / fontsize),
        "borderpad": 0.6,
    }
    if horizontal:
        opts |= {"ncols": len(handles), "columnspacing": 1.2, "handletextpad": 0.4}
    else:
        opts |= {"labelspacing": 0.5, "handletextpad": 0.8}
    return target.legend(handles=handles, **(opts | kwargs))


def pressure_norm() -> PowerNorm:
    """Colour scale of enforcement pressure (0-1, power 0.35)."""
    return PowerNorm(PRESSURE_NORM_GAMMA, vmin=0.0, vmax=1.0)


def pressure_colorbar(ax: Axes) -> Colorbar:
    """Vertical 0-1 colorbar of enforcement pressure, outside ``ax`` at the upper right."""
    cax = ax.inset_axes((1.03, 0.52, 0.022, 0.46))
    sm = ScalarMappable(norm=pressure_norm(), cmap=PRESSURE_CMAP)
    cb = ax.figure.colorbar(sm, cax=cax, ticks=PRESSURE_TICKS)
    cb.set_label("enforcement pressure", fontsize=8.5)
    cb.ax.tick_params(labelsize=7.5)
    cb.ax.set_yticklabels([f"{t:g}" for t in PRESSURE_TICKS])
    return cb


def _note(ax: Axes, text: str) -> Text:
    return ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
                   fontsize=10, color=CAPTION_GREY, zorder=8,
                   bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "none", "alpha": 0.85})


def world_map(
    ax: Axes,
    activity: pd.Series | Mapping[str, float],
    *,
    color_by: Literal["region", "pressure"] = "region",
    pressure: pd.Series | Mapping[str, float] | None = None,
    title: str | None = "Workers in scam compounds by country",
    size_label: str = "workers",
    max_value: float | None = None,
    max_area: float | None = None,
    legend: bool = True,
    top: int = 5,
    projection: Projection = "robin",
    lon_0: float = 0.0,
) -> MapArtists:
    """Bubble map: one bubble per country with activity > 0, area proportional to it.

    ``activity`` maps ISO3 codes to a value (workers by default). Bubbles are
    coloured by region (with a legend of the regions present) or by enforcement
    ``pressure`` (ISO3 -> 0..1, with a colorbar). ``max_value`` fixes the bubble
    scale (the value drawn with area ``max_area`` points²), e.g. across panels or
    frames; ``max_area`` defaults to a size relative to the axes width. Legends
    and the list of the ``top`` largest countries go outside the map, at the right.
    """
    if color_by not in ("region", "pressure"):
        raise ValueError(f"color_by = {color_by!r}; allowed 'region' or 'pressure'")
    if color_by == "pressure" and pressure is None:
        raise ValueError("color_by='pressure' needs pressure= (ISO3 -> value in 0..1)")
    act = _as_series(activity, "activity").fillna(0.0)
    act = act[act > 0].sort_values(ascending=False, kind="stable")  # big bubbles below small
    m = draw_background(ax, projection=projection, lon_0=lon_0)
    pos = _positions(m).loc[act.index]
    scale = float(max_value) if max_value else (float(act.iloc[0]) if len(act) else 0.0)
    area_max = float(max_area) if max_area else scaled_area(ax)
    areas = bubble_areas(act.to_numpy(), scale, area_max)
    common = {"s": areas, "edgecolors": to_rgba(EDGE, 0.85), "linewidths": 0.5, "zorder": 4}
    if color_by == "region":
        colours = region_colours()
        face = np.array([to_rgba(colours[r], BUBBLE_ALPHA) for r in pos["region"]]).reshape(-1, 4)
        bubbles = ax.scatter(pos["x"], pos["y"], c=face, **common)
    else:
        p = _as_series(pressure, "pressure").reindex(act.index)
        if p.isna().any():
            raise ValueError(f"pressure: missing for {list(p.index[p.isna()])[:8]}")
        bubbles = ax.scatter(pos["x"], pos["y"], c=p.to_numpy(), cmap=PRESSURE_CMAP,
                             norm=pressure_norm(), alpha=0.85, **common)
    art = MapArtists(
        ax=ax, bubbles=bubbles, iso3=list(act.index), values=act.to_numpy(), max_value=scale,
        max_area=area_max, basemap=m,
        title=ax.set_title(title or "", loc="left", fontsize=11, fontweight="bold"),
    )
    if act.empty:
        art.note = _note(ax, f"no {size_label} anywhere")
    if legend:
        art.size_legend = size_legend(ax, scale, area_max, label=size_label, loc="lower left",
                                      bbox_to_anchor=(1.01, 0.0), borderaxespad=0.0)
        if color_by == "region":
            art.region_legend = region_legend(ax, list(pos["region"]), loc="upper left",
                                              bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        else:
            art.colorbar = pressure_colorbar(ax)
        if art.region_legend is not None and art.size_legend is not None:
            ax.add_artist(art.size_legend)  # a second ax.legend() replaces the first
    if top and len(act):
        lines = [f"{name}  {fmt_count(v)}" for name, v in
                 zip(pos["name"].iloc[:top], act.iloc[:top], strict=True)]
        # In the legend column, between the colour key (top) and the size key (bottom).
        art.top_text = ax.text(1.01, 0.46, "largest\n" + "\n".join(lines), transform=ax.transAxes,
                               ha="left", va="top", fontsize=7.5, color="#222222",
                               linespacing=1.3)
    return art


# --- flow map ------------------------------------------------------------------------------

# Mainland South-East Asia: the hubs and their neighbours, too close together to
# read on a world map.
MEKONG = (91.0, 4.0, 111.0, 27.0)


@dataclass
class FlowArtists:
    """What :func:`flow_map` drew."""

    ax: Axes
    pairs: pd.DataFrame
    arcs: list[Line2D]
    heads: list[Any]
    origins: PathCollection | None
    destinations: PathCollection | None
    title: Text
    legend: Legend | None = None
    top_text: Text | None = None
    note: Text | None = None
    inset: Axes | None = None
    inset_arcs: list[Line2D] = field(default_factory=list)


def _step_of(events: pd.DataFrame, value: int | str | None) -> int | None:
    """A step number from an int or a 'YYYY-MM' month (via the events' own step/date pairs)."""
    if value is None or isinstance(value, int | np.integer):
        return None if value is None else int(value)
    if events.empty:
        return None
    first = events.iloc[0]
    origin = pd.Period(pd.Timestamp(first["date"]), "M") - int(first["step"])
    return (pd.Period(str(value), "M") - origin).n


def flow_pairs(
    events: pd.DataFrame,
    *,
    kinds: Sequence[str] = ("relocation",),
    start_step: int | str | None = None,
    end_step: int | str | None = None,
    min_size: float = 0,
) -> pd.DataFrame:
    """Workers moved per (from, to) pair between two steps (inclusive), largest first.

    Steps may be given as 'YYYY-MM'. Moves within a country and events without
    two countries (interventions) are left out. Columns: from, to, size, moves.
    """
    cols = ["from", "to", "size", "moves"]
    if events.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             zip(cols, (str, str, float, int), strict=True)})
    lo, hi = _step_of(events, start_step), _step_of(events, end_step)
    known = set(load_table("world")["iso3"])
    ev = events[events["kind"].isin(list(kinds))]
    ev = ev[ev["from"].isin(known) & ev["to"].isin(known) & (ev["from"] != ev["to"])]
    if lo is not None:
        ev = ev[ev["step"] >= lo]
    if hi is not None:
        ev = ev[ev["step"] <= hi]
    pairs = ev.groupby(["from", "to"], as_index=False).agg(
        size=("size", "sum"), moves=("size", "size")
    )
    pairs["size"] = pairs["size"].astype(float)
    pairs = pairs[(pairs["size"] > 0) & (pairs["size"] >= min_size)]
    return pairs.sort_values(["size", "from", "to"], ascending=[False, True, True],
                             ignore_index=True)[cols]


def great_circle(
    lon1: float, lat1: float, lon2: float, lat2: float, n: int = 80
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points (lon, lat in degrees) along the shorter great circle between two points."""
    p = np.radians([lat1, lon1, lat2, lon2])
    a = np.array([np.cos(p[0]) * np.cos(p[1]), np.cos(p[0]) * np.sin(p[1]), np.sin(p[0])])
    b = np.array([np.cos(p[2]) * np.cos(p[3]), np.cos(p[2]) * np.sin(p[3]), np.sin(p[2])])
    omega = math.acos(float(np.clip(a @ b, -1.0, 1.0)))
    t = np.linspace(0.0, 1.0, n)[:, None]
    if omega < 1e-9:
        pts = np.repeat(a[None, :], n, axis=0)
    else:  # spherical linear interpolation
        pts = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / math.sin(omega)
    lat = np.degrees(np.arcsin(np.clip(pts[:, 2], -1, 1)))
    lon = np.degrees(np.arctan2(pts[:, 1], pts[:, 0]))
    return lon, lat


def _split_at_edge(lon: np.ndarray, lat: np.ndarray, lon_0: float) -> tuple[np.ndarray, ...]:
    """Cut a path where it crosses the map edge (lon_0 ± 180) so it does not streak across."""
    rel = (lon - lon_0 + 180.0) % 360.0 - 180.0
    out_lon: list[float] = [float(rel[0])]
    out_lat: list[float] = [float(lat[0])]
    for i in range(1, len(rel)):
        if abs(rel[i] - rel[i - 1]) > 180.0:
            side = math.copysign(179.999, rel[i - 1])
            d_prev = 180.0 - abs(rel[i - 1])
            d_next = 180.0 - abs(rel[i])
            f = d_prev / (d_prev + d_next) if d_prev + d_next else 0.5
            edge_lat = float(lat[i - 1] + f * (lat[i] - lat[i - 1]))
            out_lon += [side, math.nan, -side]
            out_lat += [edge_lat, math.nan, edge_lat]
        out_lon.append(float(rel[i]))
        out_lat.append(float(lat[i]))
    return np.array(out_lon) + lon_0, np.array(out_lat)


def flow_widths(sizes: np.ndarray, ref: float, max_width: float = MAX_FLOW_WIDTH) -> np.ndarray:
    """Line widths (points) ∝ √workers, so small flows stay visible next to the big ones."""
    sizes = np.asarray(sizes, float)
    if not ref or ref <= 0:
        return np.full_like(sizes, MIN_FLOW_WIDTH)
    return np.maximum(MIN_FLOW_WIDTH, max_width * np.sqrt(sizes / ref))


def _flow_alpha(sizes: np.ndarray, ref: float, n: int) -> np.ndarray:
    """Opacity grows with the flow; with many flows the small ones fade so the big stand out."""
    frac = np.sqrt(np.clip(np.asarray(sizes, float) / ref, 0, 1)) if ref else np.zeros(len(sizes))
    low = 0.4 * min(1.0, math.sqrt(40 / max(n, 1)))
    return np.maximum(low, 0.12) + (0.9 - max(low, 0.12)) * frac


def draw_flows(
    ax: Axes,
    pairs: pd.DataFrame,
    m: Basemap,
    *,
    ref: float,
    max_width: float = MAX_FLOW_WIDTH,
) -> tuple[list[Line2D], list[Any], PathCollection | None, PathCollection | None]:
    """Arcs, arrow heads and origin/destination dots of ``pairs`` on a map drawn with ``m``."""
    table = load_table("world").set_index("iso3")
    lon_0 = float(m.projparams.get("lon_0", 0.0))
    widths = flow_widths(pairs["size"].to_numpy(), ref, max_width)
    alphas = _flow_alpha(pairs["size"].to_numpy(), ref, len(pairs))
    arcs: list[Line2D] = []
    heads: list[Any] = []
    # Largest first, so that thin arcs are drawn on top of the thick ones.
    for k, (src_code, dst_code) in enumerate(zip(pairs["from"], pairs["to"], strict=True)):
        src, dst = table.loc[src_code], table.loc[dst_code]
        lon, lat = great_circle(src["lon"], src["lat"], dst["lon"], dst["lat"])
        lon, lat = _split_at_edge(lon, lat, lon_0)
        gap = np.isnan(lon)
        x, y = m(np.where(gap, 0.0, lon), np.where(gap, 0.0, lat))
        x, y = np.where(gap, np.nan, x), np.where(gap, np.nan, y)  # NaN breaks the line
        (line,) = ax.plot(x, y, color=FLOW_COLOUR, lw=widths[k], alpha=alphas[k],
                          solid_capstyle="round", zorder=5 + k * 1e-4)
        line.set_gid(f"arc:{src_code}->{dst_code}")
        arcs.append(line)
        # Arrow head along the last stretch of the arc, pointing at the destination.
        finite = np.flatnonzero(np.isfinite(x))
        j, i = finite[-1], finite[max(0, len(finite) - 6)]
        heads.append(ax.annotate(
            "", xy=(x[j], y[j]), xytext=(x[i], y[i]),
            arrowprops={"arrowstyle": "-|>", "color": FLOW_COLOUR, "lw": 0,
                        "alpha": min(1.0, alphas[k] + 0.2), "shrinkA": 0, "shrinkB": 2.5,
                        "mutation_scale": 5 + 1.6 * widths[k]},
            zorder=5.5,
        ))
    origins = destinations = None
    if len(pairs):
        pos = _positions(m)
        src = pos.loc[sorted(set(pairs["from"]))]
        dst = pos.loc[sorted(set(pairs["to"]))]
        origins = ax.scatter(src["x"], src["y"], s=26, facecolors="white", edgecolors=EDGE,
                             linewidths=0.9, zorder=6, label="origin")
        destinations = ax.scatter(dst["x"], dst["y"], s=11, facecolors=FLOW_COLOUR,
                                  edgecolors="white", linewidths=0.4, zorder=6.1,
                                  label="destination")
    return arcs, heads, origins, destinations


def _width_references(ref: float) -> list[float]:
    if not ref or ref <= 0:
        return []
    exp = math.floor(math.log10(ref))
    refs = [10.0**e for e in range(exp - 2, exp + 1) if 10.0**e >= 1]
    return refs[-3:]


def flow_legend(
    ax: Axes, ref: float, max_width: float = MAX_FLOW_WIDTH, n: int = 1, **kwargs: Any
) -> Legend:
    """Legend of reference line widths (for a map of ``n`` flows) and of the dot markers."""
    refs = _width_references(ref)
    widths = flow_widths(np.array(refs), ref, max_width)
    alphas = _flow_alpha(np.array(refs), ref, n)
    handles: list[Line2D] = [
        Line2D([], [], color=FLOW_COLOUR, lw=w, alpha=a, solid_capstyle="butt",
               label=f"{fmt_count(r)} workers")
        for r, w, a in zip(refs, widths, alphas, strict=True)
    ]
    handles += [
        Line2D([], [], ls="", marker="o", markersize=5.5, markerfacecolor="white",
               markeredgecolor=EDGE, markeredgewidth=0.9, label="origin"),
        Line2D([], [], ls="", marker="o", markersize=4, markerfacecolor=FLOW_COLOUR,
               markeredgecolor="white", markeredgewidth=0.4, label="destination"),
    ]
    opts: dict[str, Any] = {
        "title": "workers moved (width ∝ √)", "fontsize": 8, "title_fontsize": 8.5,
        "frameon": False, "handlelength": 2.6, "labelspacing": 0.6,
    }
    return ax.legend(handles=handles, **(opts | kwargs))


def _inside(pairs: pd.DataFrame, bounds: tuple[float, float, float, float]) -> np.ndarray:
    """Pairs with both ends inside ``bounds``."""
    t = load_table("world").set_index("iso3")
    lon_min, lat_min, lon_max, lat_max = bounds

    def ok(codes: pd.Series) -> np.ndarray:
        lon, lat = t.loc[codes, "lon"].to_numpy(), t.loc[codes, "lat"].to_numpy()
        return (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)

    return ok(pairs["from"]) & ok(pairs["to"])


def _zoom_box(ax: Axes, m: Basemap, bounds: tuple[float, float, float, float]) -> None:
    """Outline of the zoomed area on the world map."""
    lon_min, lat_min, lon_max, lat_max = bounds
    side = np.linspace(0, 1, 20)
    lon = np.concatenate([lon_min + (lon_max - lon_min) * side, np.full(20, lon_max),
                          lon_max - (lon_max - lon_min) * side, np.full(20, lon_min)])
    lat = np.concatenate([np.full(20, lat_min), lat_min + (lat_max - lat_min) * side,
                          np.full(20, lat_max), lat_max - (lat_max - lat_min) * side])
    x, y = m(lon, lat)
    ax.plot(x, y, color="#555555", lw=0.7, ls=(0, (3, 2)), zorder=3)


def _draw_inset(
    ax: Axes, pairs: pd.DataFrame, bounds: tuple[float, float, float, float], *, ref: float,
    max_width: float, rect: tuple[float, float, float, float],
) -> tuple[Axes, list[Line2D]]:
    iax = ax.inset_axes(rect)
    m = regional_basemap(bounds)
    _draw_base(iax, m)
    # Only moves within the box: arcs passing through or leaving it are on the world map.
    pairs = pairs[_inside(pairs, bounds)]
    arcs, _, _, _ = draw_flows(iax, pairs, m, ref=ref, max_width=max_width)
    pos = _positions(m)
    for code in sorted(set(pairs["from"]) | set(pairs["to"])):
        iax.annotate(code, (pos.loc[code, "x"], pos.loc[code, "y"]), xytext=(4, 3),
                     textcoords="offset points", fontsize=7, color="#222222", zorder=7,
                     bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                           "alpha": 0.7})
    where = "mainland South-East Asia" if bounds == MEKONG else "the dashed box"
    iax.set_title(f"moves within {where}", fontsize=7.5, loc="left", pad=3)
    return iax, arcs


def flow_map(
    ax: Axes,
    events: pd.DataFrame,
    *,
    kinds: Sequence[str] = ("relocation",),
    start_step: int | str | None = None,
    end_step: int | str | None = None,
    min_size: float = 0,
    title: str | None = "Where the compounds moved",
    max_width: float = MAX_FLOW_WIDTH,
    ref: float | None = None,
    legend: bool = True,
    top: int = 5,
    inset: tuple[float, float, float, float] | Literal["auto"] | None = "auto",
    projection: Projection = "robin",
    lon_0: float = 0.0,
) -> FlowArtists:
    """Great-circle arcs of workers moved between countries, one per (from, to) pair.

    Events of ``kinds`` between ``start_step`` and ``end_step`` (inclusive; ints
    or 'YYYY-MM') are summed per pair; pairs below ``min_size`` are dropped.
    Width and opacity grow with the workers moved (width ∝ √workers; ``ref``
    fixes the value drawn at ``max_width``); arrow heads point at destinations.
    ``inset`` adds a zoom of (lon_min, lat_min, lon_max, lat_max) at the right;
    "auto" zooms on mainland South-East Asia when a fifth or more of the workers
    moved within it.
    """
    pairs = flow_pairs(events, kinds=kinds, start_step=start_step, end_step=end_step,
                       min_size=min_size)
    m = draw_background(ax, projection=projection, lon_0=lon_0)
    scale = float(ref) if ref else (float(pairs["size"].iloc[0]) if len(pairs) else 0.0)
    arcs, heads, origins, destinations = draw_flows(ax, pairs, m, ref=scale, max_width=max_width)
    art = FlowArtists(
        ax=ax, pairs=pairs, arcs=arcs, heads=heads, origins=origins, destinations=destinations,
        title=ax.set_title(title or "", loc="left", fontsize=11, fontweight="bold"),
    )
    if pairs.empty:
        what = " or ".join(k.replace("_", " ") + "s" for k in kinds)
        art.note = _note(ax, f"no {what} in this period")
        return art
    if legend:
        art.legend = flow_legend(ax, scale, max_width, len(pairs), loc="upper left",
                                 bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    bounds = inset
    if inset == "auto":
        local = pairs["size"][_inside(pairs, MEKONG)].sum()
        bounds = MEKONG if local >= 0.2 * pairs["size"].sum() else None
    if bounds is not None:
        bounds = tuple(float(b) for b in bounds)
        _zoom_box(ax, m, bounds)
        art.inset, art.inset_arcs = _draw_inset(ax, pairs, bounds, ref=scale,
                                                max_width=max_width,
                                                rect=(1.02, 0.3, 0.2, 0.42))
    if top:
        names = load_table("world").set_index("iso3")["name"]
        lines = [f"{names[a]} → {names[b]}  {fmt_count(s)}"
                 for a, b, s in pairs[["from", "to", "size"]].head(top).itertuples(index=False)]
        more = len(pairs) - min(top, len(pairs))
        tail = f"\n+ {more} smaller flows" if more > 0 else ""
        total = f"\n{fmt_count(pairs['size'].sum())} workers in {len(pairs)} flows"
        art.top_text = ax.text(1.01, 0.0, "largest flows\n" + "\n".join(lines) + tail + total,
                               transform=ax.transAxes, ha="left", va="bottom", fontsize=7.5,
                               color="#222222", linespacing=1.3)
    return art


# --- small multiples -----------------------------------------------------------------------


def small_multiples(
    timeseries: pd.DataFrame,
    dates: Sequence[str],
    *,
    ncols: int = 3,
    column: str = "workers",
    suptitle: str | None = None,
    caption: str | Mapping[str, Any] | None = None,
    scenario: str | None = None,
    panel_width: float = 5.0,
) -> Figure:
    """A grid of world maps, one per month (YYYY-MM), on one shared bubble scale.

    Each panel is titled with its month, the total ``column`` and the number of
    countries with activity. A sweep's table is averaged over its runs.
    ``caption`` is the grey caption text, or a run summary to build it from.
    """
    if not dates:
        raise ValueError("dates: give at least one month (YYYY-MM)")
    ncols = max(1, min(ncols, len(dates)))
    nrows = math.ceil(len(dates) / ncols)
    values = {d: activity_at(timeseries, d, column) for d in dates}
    vmax = max(float(v.max()) for v in values.values())
    panel_h = panel_width * 0.52
    legend_h = 0.6  # inches: two rows of regions, or the biggest reference bubble
    fig = plt.figure(figsize=(ncols * panel_width, nrows * panel_h + legend_h + 0.6),
                     layout="constrained")
    # A last, axis-less row holds the shared legends, so they take part in the layout
    # and never reach the caption (figure "outside" legends ignore the layout rect).
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[panel_h] * nrows + [legend_h])
    axes = [fig.add_subplot(grid[k // ncols, k % ncols]) for k in range(len(dates))]
    key = fig.add_subplot(grid[nrows, :])
    key.set_axis_off()
    # One bubble scale for every panel: same value -> same area everywhere.
    area = MAX_AREA * (panel_width * 0.95 / REFERENCE_WIDTH_IN) ** 2
    regions: set[str] = set()
    for ax, d in zip(axes, dates, strict=True):
        v = values[d]
        active = v[v > 0]
        title = f"{d}  ·  {fmt_count(active.sum())} {column}  ·  {len(active)} countries"
        art = world_map(ax, v, title=title, max_value=vmax, max_area=area, legend=False,
                        top=0, size_label=column)
        art.title.set_fontsize(9.5)
        art.title.set_fontweight("normal")
        regions |= set(_positions(art.basemap).loc[art.iso3, "region"])
    fig.suptitle(suptitle or f"Where the scam-compound {column} are", x=0.01, ha="left",
                 fontsize=12, fontweight="bold")
    by_region = region_legend(key, sorted(regions), loc="upper left", ncols=5,
                              alignment="left", borderaxespad=0.0)
    by_size = size_legend(key, vmax, area, label=column, horizontal=True, loc="upper right",
                          alignment="left", borderaxespad=0.0)
    if by_region is not None and by_size is not None:
        key.add_artist(by_region)
    if caption is None or isinstance(caption, Mapping):
        caption = caption_text(caption, scenario=scenario, replicates=n_runs(timeseries))
    add_caption(fig, caption)
    return fig


# --- animation -----------------------------------------------------------------------------


def _blend(colour: str, alpha: float, background: str) -> tuple[int, int, int]:
    fg, bg = np.array(to_rgba(colour)[:3]), np.array(to_rgba(background)[:3])
    return tuple(round(float(255 * c)) for c in alpha * fg + (1 - alpha) * bg)


def _reserved_colours() -> list[tuple[int, int, int]]:
    """Exact colours a GIF palette must keep (region and flow colours on each background)."""
    plain = ["white", "black", OCEAN, LAND, BORDER, COAST, EDGE, CAPTION_GREY, "#222222",
             "#DDDDDD", FLOW_COLOUR]
    out = [_blend(c, 1.0, "white") for c in plain]
    for c in region_colours().values():
        out += [_blend(c, BUBBLE_ALPHA, bg) for bg in ("white", LAND, OCEAN)]
    for a in (0.4, 0.55, 0.7, 0.9):
        out += [_blend(FLOW_COLOUR, a, bg) for bg in (LAND, OCEAN)]
    return list(dict.fromkeys(out))


class _PaletteGifWriter(animation.PillowWriter):
    """PillowWriter with one shared palette that keeps the data colours exact.

    Pillow's per-frame adaptive palette merges colours covering few pixels, such
    as two regions' bubbles; a shared palette also keeps the GIF small.
    """

    def finish(self) -> None:
        frames = [f.convert("RGB") for f in self._frames]
        reserved = _reserved_colours()
        picks = frames[:: max(1, len(frames) // 6)]
        sample = Image.new("RGB", (picks[0].width, picks[0].height * len(picks)))
        for k, f in enumerate(picks):
            sample.paste(f, (0, k * f.height))
        adaptive = sample.quantize(colors=256 - len(reserved), method=Image.Quantize.MEDIANCUT)
        rgb = adaptive.getpalette()[: 3 * (256 - len(reserved))]
        palette = [v for c in reserved for v in c] + rgb
        palette += [0] * (768 - len(palette))
        pal = Image.new("P", (1, 1))
        pal.putpalette(palette)
        quantized = [f.quantize(palette=pal, dither=Image.Dither.NONE) for f in frames]
        quantized[0].save(self.outfile, save_all=True, append_images=quantized[1:],
                          duration=int(1000 / self.fps), loop=0)


def animate_gif(
    timeseries: pd.DataFrame,
    path: str | os.PathLike,
    *,
    every: int = 3,
    fps: int = 4,
    events: pd.DataFrame | None = None,
    column: str = "workers",
    title: str | None = None,
    caption: str | Mapping[str, Any] | None = None,
    scenario: str | None = None,
    figsize: tuple[float, float] = (10.0, 4.7),
    dpi: int = 100,
) -> Path:
    """Animated GIF of the bubble map, one frame every ``every`` months plus the last month.

    The bubble scale and the legends are fixed over the whole run. With
    ``events``, each frame also shows the relocations since the previous frame.
    A sweep's table is averaged over its runs. Written atomically.
    """
    if every < 1:
        raise ValueError(f"every = {every}; must be at least 1")
    out = Path(path)
    wide = timeseries.pivot_table(index="step", columns="iso3", values=column, aggfunc="mean",
                                  fill_value=0.0).sort_index()
    months = _months(timeseries.drop_duplicates("step").set_index("step")["date"]).sort_index()
    steps = [int(s) for s in wide.index[::every]]
    if steps[-1] != int(wide.index[-1]):
        steps.append(int(wide.index[-1]))  # always end on the final state
    vmax = float(wide.to_numpy().max())

    # A fixed layout: constrained layout would re-run on every frame and let the
    # legend column shift as the text changes.
    fig = plt.figure(figsize=figsize)
    ax = fig.add_axes((0.005, 0.075, 0.76, 0.85))
    if caption is None or isinstance(caption, Mapping):
        caption = caption_text(caption, scenario=scenario, replicates=n_runs(timeseries))
    add_caption(fig, caption)
    art = world_map(ax, wide.loc[steps[0]], title=title or f"Scam-compound {column} by country",
                    max_value=vmax, legend=False, top=0, size_label=column)
    pos = _positions(art.basemap).loc[wide.columns]
    # Every region that appears at some time, so the legend stays put between frames.
    ever = wide.columns[(wide > 0).any(axis=0).to_numpy()]
    regions = region_legend(ax, list(pos.loc[ever, "region"]), loc="upper left",
                            bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    sizes = size_legend(ax, vmax, art.max_area, label=column, loc="lower left",
                        bbox_to_anchor=(1.01, 0.0), borderaxespad=0.0)
    if regions is not None and sizes is not None:
        ax.add_artist(regions)
    label = ax.text(0.0, 0.035, "", transform=ax.transAxes, ha="left", va="bottom",
                    fontsize=16, fontweight="bold", color="#222222", zorder=7)
    sub = ax.text(0.0, 0.0, "", transform=ax.transAxes, ha="left", va="bottom", fontsize=9,
                  color="#333333", zorder=7)
    colours = region_colours()
    face_all = np.array([to_rgba(colours[r], BUBBLE_ALPHA) for r in pos["region"]]).reshape(-1, 4)
    windows: dict[int, pd.DataFrame] = {}
    ref = 0.0
    if events is not None:
        for prev, s in zip([-1, *steps[:-1]], steps, strict=True):
            windows[s] = flow_pairs(events, start_step=prev + 1, end_step=s)
        ref = max((float(w["size"].max()) for w in windows.values() if len(w)), default=0.0)
        ax.text(1.01, 0.5, "arcs: relocations since\nthe previous frame" if every > 1
                else "arcs: relocations\nthis month", transform=ax.transAxes, ha="left",
                va="center", fontsize=8, color=FLOW_COLOUR)
    drawn: list[Any] = []

    def update(step: int) -> list[Any]:
        v = wide.loc[step].to_numpy(float)
        order = np.argsort(-v, kind="stable")
        order = order[v[order] > 0]  # big bubbles first, so small ones stay on top
        art.bubbles.set_offsets(pos[["x", "y"]].to_numpy()[order].reshape(-1, 2))
        art.bubbles.set_sizes(bubble_areas(v[order], vmax, art.max_area))
        art.bubbles.set_facecolors(face_all[order])
        label.set_text(months[step])
        sub.set_text(f"{fmt_count(v.sum())} {column} in {len(order)} countries")
        for a in drawn:
            a.remove()
        drawn.clear()
        if len(windows.get(step, ())):
            arcs, heads, o, d = draw_flows(ax, windows[step], art.basemap, ref=ref, max_width=4.0)
            drawn.extend(a for a in (*arcs, *heads, o, d) if a is not None)
        return [art.bubbles, label, sub, *drawn]

    anim = animation.FuncAnimation(fig, update, frames=steps, blit=False, repeat=False)
    try:
        return save_animation(anim, out, _PaletteGifWriter(fps=fps), dpi=dpi)
    finally:
        plt.close(fig)
