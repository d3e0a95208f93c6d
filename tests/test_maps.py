"""World maps (sim/maps.py): the matplotlib objects drawn, not the pixels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("mpl_toolkits.basemap")

import matplotlib.pyplot as plt
from matplotlib.colors import to_rgba
from matplotlib.legend import Legend
from PIL import Image

import sim
from sim.core.world import load_table
from sim.results import package_version
from sim.viz import maps
from sim.viz.style import REGION_ORDER, region_colours


@pytest.fixture(scope="module")
def teach():
    """Mekong crackdown on the teaching world, 40 months (2023-01 to 2026-05)."""
    return sim.run("mekong_crackdown", world="teaching", seed=1, steps=40)


@pytest.fixture(scope="module")
def world():
    """Mekong crackdown on the full world table, three years."""
    return sim.run("mekong_crackdown", world="world", seed=1, steps=36)


@pytest.fixture
def ax():
    fig, ax = maps.map_figure()
    yield ax
    plt.close(fig)


def _valid_png(path) -> None:
    assert path.stat().st_size > 0
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.size[0] > 500 and im.size[1] > 300


def _no_temp_files(directory) -> None:
    assert not [p.name for p in directory.iterdir() if p.name.startswith(".")]


# --- bubble map ----------------------------------------------------------------------------


def test_world_map_one_bubble_per_active_country_area_proportional(world, ax):
    act = maps.activity_at(world.timeseries, "2025-12")
    active = act[act > 0]
    art = maps.world_map(ax, act, title="Workers, 2025-12")

    assert len(art.bubbles.get_offsets()) == len(active) == len(art.iso3)
    assert set(art.iso3) == set(active.index)
    values = active.loc[art.iso3].to_numpy(float)
    np.testing.assert_allclose(art.values, values)
    sizes = art.bubbles.get_sizes()
    np.testing.assert_allclose(sizes / values, art.max_area / values.max())
    assert sizes.max() == pytest.approx(art.max_area)
    # Bubbles sit on the projected centroids.
    table = load_table("world").set_index("iso3").loc[art.iso3]
    x, y = art.basemap(table["lon"].to_numpy(), table["lat"].to_numpy())
    np.testing.assert_allclose(art.bubbles.get_offsets(), np.column_stack([x, y]))
    assert art.title.get_text() == "Workers, 2025-12"


def test_world_map_region_colours_and_legends(world, ax):
    act = maps.activity_at(world.timeseries, "2025-12")
    art = maps.world_map(ax, act)
    regions = load_table("world").set_index("iso3").loc[art.iso3, "region"]
    colours = region_colours()
    expected = [to_rgba(colours[r], maps.BUBBLE_ALPHA) for r in regions]
    np.testing.assert_allclose(art.bubbles.get_facecolors(), expected)

    labels = [t.get_text() for t in art.region_legend.get_texts()]
    assert labels == [r for r in REGION_ORDER if r in set(regions)]
    assert art.region_legend.get_title().get_text() == "region"
    assert art.colorbar is None

    size_labels = [t.get_text() for t in art.size_legend.get_texts()]
    assert 2 <= len(size_labels) <= 3
    # The largest reference is the round value just below the largest country (hand check
    # of the rule: 1, 2 or 5 times a power of ten).
    top = float(act.max())
    exp = 10 ** np.floor(np.log10(top))
    expected_top = max(m * exp for m in (1, 2, 5) if m * exp <= top)
    assert size_labels[-1] == maps.fmt_count(expected_top)
    assert art.size_legend.get_title().get_text() == "workers (bubble area)"
    # Reference bubbles use the map's scale: marker size² / value is the bubbles' ratio.
    refs = maps.size_references(art.max_value, art.max_area)
    areas = [h.get_markersize() ** 2 for h in art.size_legend.legend_handles]
    np.testing.assert_allclose(np.array(areas) / refs, art.max_area / art.max_value)
    # Both legends are drawn (the second ax.legend() would otherwise replace the first).
    assert art.size_legend in ax.artists or ax.get_legend() is art.size_legend
    assert ax.get_legend() in (art.region_legend, art.size_legend)
    assert "Cambodia" in art.top_text.get_text()


def test_world_map_pressure_colorbar(teach, ax):
    ts = teach.timeseries
    act = maps.activity_at(ts, "2026-05")
    pressure = maps.activity_at(ts, "2026-05", "pressure")
    art = maps.world_map(ax, act, color_by="pressure", pressure=pressure)
    assert art.region_legend is None
    assert art.colorbar is not None
    assert art.colorbar.ax.get_ylabel() == "enforcement pressure"
    assert (art.colorbar.norm.vmin, art.colorbar.norm.vmax) == (0.0, 1.0)
    np.testing.assert_allclose(art.bubbles.get_array(), pressure.loc[art.iso3].to_numpy())
    assert art.size_legend is not None


def test_world_map_zero_activity_does_not_crash(teach, tmp_path):
    fig, ax = maps.map_figure()
    zeros = pd.Series(0.0, index=["KHM", "LAO", "MMR"])
    art = maps.world_map(ax, zeros, title="Nothing")
    assert len(art.bubbles.get_offsets()) == 0
    assert "no workers" in art.note.get_text()
    assert art.size_legend is None and art.region_legend is None
    maps.save(fig, tmp_path / "empty.png")
    _valid_png(tmp_path / "empty.png")

    fig, ax = maps.map_figure()
    art = maps.world_map(ax, {}, color_by="pressure", pressure={}, max_value=1e5)
    assert len(art.bubbles.get_offsets()) == 0
    assert art.colorbar is not None and art.size_legend is not None
    plt.close(fig)


def test_world_map_fixed_scale(ax):
    art = maps.world_map(ax, {"KHM": 1000, "LAO": 500, "THA": 0}, max_value=4000, max_area=800)
    assert art.iso3 == ["KHM", "LAO"]  # zero activity: no bubble
    np.testing.assert_allclose(art.bubbles.get_sizes(), [200.0, 100.0])


def test_world_map_rejects_bad_input(ax):
    with pytest.raises(ValueError, match="color_by"):
        maps.world_map(ax, {"KHM": 1}, color_by="gdp")
    with pytest.raises(ValueError, match="pressure"):
        maps.world_map(ax, {"KHM": 1}, color_by="pressure")
    with pytest.raises(ValueError, match="unknown ISO3"):
        maps.world_map(ax, {"XXX": 1})


def test_activity_at_averages_runs(teach):
    ts = teach.timeseries
    doubled = ts.assign(workers=ts["workers"] * 3)
    sweep = pd.concat([ts.assign(run_id="a"), doubled.assign(run_id="b")])
    one = maps.activity_at(ts, "2026-05")
    pd.testing.assert_series_equal(maps.activity_at(sweep, "2026-05"), one * 2)
    with pytest.raises(ValueError, match="covers 2023-01 to 2026-05"):
        maps.activity_at(ts, "2030-01")


# --- flow map ------------------------------------------------------------------------------


def test_flow_pairs_aggregates_moves_between_countries(teach):
    ev = teach.events
    pairs = maps.flow_pairs(ev)
    rel = ev[(ev["kind"] == "relocation") & (ev["from"] != ev["to"])]
    expected = rel.groupby(["from", "to"])["size"].sum()
    expected = expected[expected > 0]
    got = pairs.set_index(["from", "to"])["size"]
    pd.testing.assert_series_equal(got.sort_index(), expected.astype(float).sort_index(),
                                   check_names=False)
    assert pairs["size"].is_monotonic_decreasing
    # Months and steps select the same period (2025-02 is step 25).
    by_month = maps.flow_pairs(ev, start_step="2025-02", end_step="2025-12")
    by_step = maps.flow_pairs(ev, start_step=25, end_step=35)
    pd.testing.assert_frame_equal(by_month, by_step)
    assert len(by_month) < len(pairs) or by_month["size"].sum() < pairs["size"].sum()
    big = maps.flow_pairs(ev, min_size=1000)
    assert (big["size"] >= 1000).all() and len(big) < len(pairs)
    both = maps.flow_pairs(ev, kinds=("relocation", "expansion"))
    assert both["size"].sum() >= pairs["size"].sum()


def test_flow_map_one_arc_per_pair(teach, ax):
    art = maps.flow_map(ax, teach.events, title="Relocations")
    pairs = maps.flow_pairs(teach.events)
    assert len(art.arcs) == len(pairs) == len(art.heads)
    gids = [f"arc:{a}->{b}" for a, b in zip(pairs["from"], pairs["to"], strict=True)]
    assert [a.get_gid() for a in art.arcs] == gids
    widths = np.array([a.get_linewidth() for a in art.arcs])
    alphas = np.array([a.get_alpha() for a in art.arcs])
    assert np.all(np.diff(widths) <= 0) and np.all(np.diff(alphas) <= 0)  # largest first
    assert widths[0] == pytest.approx(maps.MAX_FLOW_WIDTH)
    assert widths[0] > widths[-1]
    assert len(art.origins.get_offsets()) == pairs["from"].nunique()
    assert len(art.destinations.get_offsets()) == pairs["to"].nunique()
    labels = [t.get_text() for t in art.legend.get_texts()]
    assert labels[-2:] == ["origin", "destination"]
    assert any(lab.endswith("workers") for lab in labels)
    assert "width" in art.legend.get_title().get_text()
    assert art.title.get_text() == "Relocations"
    # Most of the teaching world's moves are Mekong-local: the zoom shows those.
    local = maps._inside(pairs, maps.MEKONG)
    assert art.inset is not None
    assert len(art.inset_arcs) == local.sum() and 0 < local.sum() < len(pairs)


def test_flow_map_no_events(teach, ax):
    art = maps.flow_map(ax, teach.events, start_step=0, end_step=1)
    assert art.arcs == [] and art.pairs.empty
    assert art.note.get_text() == "no relocations in this period"
    fig, ax2 = maps.map_figure()
    art = maps.flow_map(ax2, teach.events.iloc[:0], inset=None)
    assert art.arcs == [] and art.note is not None
    plt.close(fig)


def test_flow_arc_crossing_the_map_edge_is_split(ax):
    events = pd.DataFrame({
        "step": [3], "date": [pd.Timestamp("2023-04-01")], "kind": ["relocation"],
        "syndicate": [1], "from": ["PHL"], "to": ["MEX"], "size": [500],
    })
    art = maps.flow_map(ax, events, inset=None)
    (arc,) = art.arcs
    x = arc.get_xdata()
    assert np.isnan(x).sum() == 1  # one break, at the dateline
    m = maps.basemap()
    finite = x[np.isfinite(x)]
    assert finite.min() >= m.xmin - 1 and finite.max() <= m.xmax + 1
    assert np.nanmax(np.abs(np.diff(x))) < 0.1 * (m.xmax - m.xmin)  # no streak across


# --- small multiples and animation ---------------------------------------------------------


def test_small_multiples_panels_share_one_scale(world, tmp_path):
    dates = ["2023-06", "2025-01", "2025-12"]
    fig = maps.small_multiples(world.timeseries, dates, ncols=2, suptitle="Three months",
                               caption=world.summary)
    panels = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert len(panels) == len(dates)
    ratios = []
    for ax, d in zip(panels, dates, strict=True):
        act = maps.activity_at(world.timeseries, d)
        active = act[act > 0]
        title = ax.get_title(loc="left")
        assert title.startswith(d)
        assert f"{maps.fmt_count(active.sum())} workers" in title
        assert title.endswith(f"{len(active)} countries")
        (bubbles,) = ax.collections[-1:]
        sizes = bubbles.get_sizes()
        assert len(sizes) == len(active)
        ratios.append(sizes.max() / active.max())
    np.testing.assert_allclose(ratios, ratios[0])  # the same area per worker everywhere
    assert fig._suptitle.get_text() == "Three months"
    key = [ax for ax in fig.axes if not ax.axison and not ax.get_title(loc="left")]
    assert len(key) == 1  # the legend row
    legends = [a for a in key[0].get_children() if isinstance(a, Legend)]
    titles = {leg.get_title().get_text() for leg in legends}
    assert titles == {"region", "workers (bubble area)"}
    captions = [t.get_text() for t in fig.texts]
    assert any("mekong_crackdown" in c and f"scamsim {package_version()}" in c
               for c in captions)
    out = maps.save(fig, tmp_path / "panels.png")
    _valid_png(out)
    _no_temp_files(tmp_path)


def test_small_multiples_rejects_unknown_month(world):
    with pytest.raises(ValueError, match="no rows for '1999-01'"):
        maps.small_multiples(world.timeseries, ["1999-01"])


def test_animate_gif_frames(teach, tmp_path):
    path = maps.animate_gif(teach.timeseries, tmp_path / "run.gif", every=6, fps=5,
                            events=teach.events, caption=teach.summary)
    # Steps 0, 6, ..., 36 and the final step 40.
    with Image.open(path) as im:
        assert im.format == "GIF"
        assert im.n_frames == 8
        assert im.info["duration"] == 200
    assert path.stat().st_size < 2_000_000
    _no_temp_files(tmp_path)


def test_save_writes_a_png_atomically(teach, tmp_path):
    fig, ax = maps.map_figure()
    maps.world_map(ax, maps.activity_at(teach.timeseries, "2024-12"))
    maps.add_caption(fig, maps.caption_text(teach.summary))
    out = maps.save(fig, tmp_path / "map.png")
    _valid_png(out)
    with Image.open(out) as im:
        assert round(im.info["dpi"][0]) == 130
    assert not plt.fignum_exists(fig.number)
    _no_temp_files(tmp_path)


def test_caption_text():
    version = package_version()
    assert maps.caption_text(scenario="baseline", replicates=20) == (
        f"scenario baseline · mean of 20 replicates · scamsim {version}"
    )
    summary = {"scenario": "baseline", "world": "world", "seed": 1, "version": version,
               "git_revision": None}
    text = maps.caption_text(summary, replicates=5)
    assert "scenario baseline" in text and "mean of 5 replicates" in text
    assert f"scamsim {version}" in text


def test_size_references_and_counts():
    assert maps.size_references(161_258, 1300) == [1000, 10_000, 100_000]
    assert maps.size_references(0, 1300) == []
    assert maps.fmt_count(950) == "950"
    assert maps.fmt_count(1234) == "1.2k"
    assert maps.fmt_count(146_627) == "147k"
