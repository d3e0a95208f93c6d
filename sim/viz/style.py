"""The one figure style of scamsim: palette, region order, rc style, caption, PNG and GIF saving.

Every figure, map and the teaching app take their colours, the order of the
regions, the matplotlib settings, the grey caption line and the way a PNG or an
animation is written from here.
"""

from __future__ import annotations

import io
import os
import tempfile
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

from sim.results import atomic_write_bytes, package_version

if TYPE_CHECKING:
    from matplotlib.animation import AbstractMovieWriter, Animation

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
# Condition colours: the darker, well-separated colours of the palette first, so
# that lines stay readable on white; pale cyan and sand only past six conditions.
CONDITION_COLOURS = tuple(PALETTE[i] for i in (0, 6, 2, 4, 7, 8, 1, 3, 5))
DPI = 130
CAPTION_COLOUR = "#555555"
CAPTION_GID = "scamsim-caption"
CAPTION_FONTSIZE = 7.5

STYLE: dict[str, Any] = {
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9.5,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
    "legend.title_fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.prop_cycle": matplotlib.cycler(color=list(CONDITION_COLOURS)),
    "image.cmap": "cividis",
    "figure.titlesize": 12.5,
    "figure.titleweight": "bold",
    "savefig.dpi": DPI,
}


def region_colours() -> dict[str, str]:
    """One fixed colour per region, the same in every figure."""
    return dict(zip(REGION_ORDER, PALETTE, strict=True))


@contextmanager
def style() -> Iterator[None]:
    """Context in which new figures get the common style (fonts, grid, spines)."""
    with plt.rc_context(STYLE):
        yield


def tidy(ax: Axes) -> Axes:
    """Apply the common style to an existing Axes (also one made outside :func:`style`)."""
    # Set explicitly: ticks are created lazily, possibly after the rc context has closed.
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=STYLE["xtick.labelsize"])
    ax.set_axisbelow(True)
    return ax


# --- caption -----------------------------------------------------------------------------


def version_text(version: str | None = None, revision: str | None = None) -> str:
    """'scamsim <version> (<revision>)'; the installed version when none is given."""
    text = f"scamsim {version or package_version()}"
    return text + (f" ({revision})" if revision else "")


def caption_line(summary: Mapping[str, Any]) -> str:
    """The provenance line of a run: scenario, world, seed, scamsim version and revision."""
    rev = summary.get("git_revision") or "no git"
    return (
        f"scenario {summary.get('scenario')} · world {summary.get('world')} · "
        f"seed {summary.get('seed')} · {version_text(summary.get('version'), rev[:10])}"
    )


def caption_text(
    summary: Mapping[str, Any] | None = None,
    *,
    scenario: str | None = None,
    world: str | None = None,
    seed: int | None = None,
    replicates: int | None = None,
) -> str:
    """The grey caption line from a run summary, or from the keywords given.

    Scenario, world, seed, "mean of N replicates" (for N > 1) and the scamsim version.
    """
    if summary is not None:
        text = caption_line(summary)
        if replicates and replicates > 1:
            text = text.replace(" · scamsim", f" · mean of {replicates} replicates · scamsim", 1)
        return text
    parts = []
    if scenario:
        parts.append(f"scenario {scenario}")
    if world:
        parts.append(f"world {world}")
    if seed is not None:
        parts.append(f"seed {seed}")
    if replicates and replicates > 1:
        parts.append(f"mean of {replicates} replicates")
    parts.append(version_text())
    return " · ".join(parts)


def caption(fig: Figure, text: str) -> Text:
    """Small grey caption line at the bottom right of ``fig`` (replaces an earlier one).

    With a constrained layout the bottom of the figure is kept free for it, so
    axes and legends never run into the caption.
    """
    for t in list(fig.texts):
        if t.get_gid() == CAPTION_GID:
            t.remove()
    # About 17 characters per inch at 7.5 pt: wrap rather than run off the left edge.
    lines = textwrap.wrap(text, max(40, int(fig.get_figwidth() * 17)), break_on_hyphens=False)
    label = fig.text(0.99, 0.005, "\n".join(lines), fontsize=CAPTION_FONTSIZE,
                     color=CAPTION_COLOUR, ha="right", va="bottom", gid=CAPTION_GID)
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "set"):
        share = min((0.17 + 0.13 * len(lines)) / fig.get_figheight(), 0.2)
        engine.set(rect=(0, share, 1, 1 - share))  # (left, bottom, width, height)
    return label


# --- saving ------------------------------------------------------------------------------


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """``fig`` rendered as PNG bytes (the figure is left open)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save_png(fig: Figure, path: str | os.PathLike, dpi: int = DPI) -> Path:
    """Write ``fig`` as a PNG atomically (folder created if needed) and close it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = png_bytes(fig, dpi)
    finally:
        plt.close(fig)
    atomic_write_bytes(out, data)
    return out


def save_animation(
    anim: Animation, path: str | os.PathLike, writer: AbstractMovieWriter, dpi: int = DPI
) -> Path:
    """Write ``anim`` with ``writer`` atomically (folder created if needed).

    The writer renders into a private temporary folder next to ``path`` (writers
    pick the format from the suffix, so the name is kept); the bytes then replace
    ``path`` in one rename. The figure is left open.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
        staged = Path(tmp) / out.name
        anim.save(staged, writer=writer, dpi=dpi)
        atomic_write_bytes(out, staged.read_bytes())
    return out
