"""Sweep figures: the matplotlib objects drawn from a small real sweep (not pixels)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.dates import DateFormatter
from PIL import Image
from scipy import stats

import sim
from sim.analysis.sweep import aggregate, summary_table
from sim.identity import run_dir_name
from sim.results import package_version
from sim.viz import figures
from sim.viz.style import REGION_ORDER, region_colours

SCENARIOS = ("baseline", "mekong_crackdown")
SEEDS = (1, 2, 3)
GRID = {"raid_rate": (0.2, 0.35), "exit_utility": (3.0, 6.0)}
HUBS = ("MMR", "KHM", "LAO", "PHL")


def _write(root, scenario, seed, **params):
    res = sim.run(scenario, world="teaching", seed=seed, steps=60, **params)
    res.write(root / "runs" / run_dir_name(res.config))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Two scenarios x three seeds on the teaching world, aggregated like a real sweep."""
    root = tmp_path_factory.mktemp("sweep")
    for scenario in SCENARIOS:
        for seed in SEEDS:
            _write(root, scenario, seed)
    aggregate(root)
    runs, ts, summary = figures.load_sweep(root)
    return {"root": root, "runs": runs, "ts": ts, "summary": summary}


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A 2 x 2 parameter grid of the Mekong crackdown, two seeds per cell."""
    root = tmp_path_factory.mktemp("grid")
    for rate in GRID["raid_rate"]:
        for exit_u in GRID["exit_utility"]:
            for seed in SEEDS[:2]:
                _write(root, "mekong_crackdown", seed, raid_rate=rate, exit_utility=exit_u)
    aggregate(root)
    runs, _, _ = figures.load_sweep(root)
    return {"root": root, "runs": runs}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _bands(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def _labelled_lines(ax):
    return [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]


def _legend_texts(legend):
    return [t.get_text() for t in legend.get_texts()]


def _caption(fig):
    return [t.get_text() for t in fig.texts if t.get_gid() == figures.CAPTION_GID]


def test_condition_labels_and_order(sweep, grid):
    assert figures.condition_order(sweep["runs"]) == list(SCENARIOS)
    # cfg.scenario does not tell grid cells apart: the short condition label is used.
    order = figures.condition_order(grid["runs"])
    assert len(order) == 4 and order[0] == "raid_rate=0.2, exit_utility=3.0"
    assert order[-1] == "raid_rate=0.35, exit_utility=6.0"  # numbers sorted as numbers
    assert figures.label_source(grid["runs"]) == "condition"
    assert figures.short_label("scenario=baseline") == "baseline"


def test_series_by_condition_lines_bands_axes(sweep):
    fig, ax = plt.subplots()
    when = pd.Timestamp("2025-02-01")
    out = figures.series_by_condition(sweep["ts"], sweep["runs"], ax=ax, title="Workforce",
                                events=[(when, "crackdown")])
    assert out is ax
    lines = _labelled_lines(ax)
    assert [ln.get_label() for ln in lines] == list(SCENARIOS)
    assert len({ln.get_color() for ln in lines}) == len(SCENARIOS)
    assert len(_bands(ax)) == len(SCENARIOS)
    assert ax.get_ylabel() == "workers in compounds (thousands)"
    assert ax.get_title("left") == "Workforce"
    assert isinstance(ax.xaxis.get_major_formatter(), DateFormatter)
    assert ax.get_xlabel() == "year"
    legend = ax.get_legend()
    assert _legend_texts(legend) == list(SCENARIOS)
    assert legend.get_bbox_to_anchor().x0 > ax.bbox.x1 - 1  # outside, right of the data
    (marker,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    assert pd.Timestamp(marker.get_xdata()[0]) == when
    assert "crackdown" in [t.get_text() for t in ax.texts]
    assert not _caption(fig)  # a caller's figure: the caller captions it


def test_series_numbers_are_mean_and_t_interval(sweep):
    ts, runs = sweep["ts"], sweep["runs"]
    data = figures.condition_series(ts, runs)
    ids = runs.loc[runs["cfg.scenario"] == "mekong_crackdown", "run_id"]
    last = ts["date"].max()
    per_run = ts[ts["run_id"].isin(ids) & (ts["date"] == last)].groupby("run_id")["workers"].sum()
    row = data[(data["label"] == "mekong_crackdown") & (data["date"] == last)].iloc[0]
    half = stats.t.ppf(0.975, len(per_run) - 1) * per_run.std(ddof=1) / np.sqrt(len(per_run))
    assert row["n"] == len(SEEDS)
    assert row["mean"] == pytest.approx(per_run.mean())
    assert row["ci_high"] - row["mean"] == pytest.approx(half)
    # Hubs and the rest of the world add up to the world.
    hubs = figures.condition_series(ts, runs, where=set(HUBS))
    rest = figures.condition_series(ts, runs, where=lambda f: ~f["iso3"].isin(HUBS))
    np.testing.assert_allclose(hubs["mean"] + rest["mean"], data["mean"])


def test_series_own_figure_has_caption(sweep):
    ax = figures.series_by_condition(sweep["ts"], sweep["runs"], value="compounds", scale=1)
    assert ax.get_ylabel() == "compounds"
    (text,) = _caption(ax.figure)
    assert "scenarios baseline, mekong_crackdown" in text
    assert f"{len(SEEDS)} replicates per condition" in text
    assert f"scamsim {package_version()}" in text


def test_hub_vs_rest(sweep):
    fig = figures.hub_vs_rest(sweep["ts"], sweep["runs"], HUBS,
                        events=[(pd.Timestamp("2025-02-01"), "crackdown")])
    top, bottom = fig.axes
    assert top.get_title("left") == f"Starting hubs ({', '.join(HUBS)})"
    assert bottom.get_title("left") == "Rest of the world"
    for ax in (top, bottom):
        assert len(_labelled_lines(ax)) == len(SCENARIOS)
        assert len(_bands(ax)) == len(SCENARIOS)
        assert "thousands" in ax.get_ylabel()
    assert _legend_texts(top.get_legend()) == list(SCENARIOS)
    assert bottom.get_legend() is None
    assert [t.get_text() for t in top.texts] == ["crackdown"] and not bottom.texts
    assert _caption(fig)


def test_regional_stacked(sweep):
    ts, runs = sweep["ts"], sweep["runs"]
    ax = plt.subplots()[1]
    figures.regional_stacked(ts, runs, "mekong_crackdown", ax)
    ids = runs.loc[runs["cfg.scenario"] == "mekong_crackdown", "run_id"]
    active = ts[ts["run_id"].isin(ids)].groupby("region")["workers"].max()
    present = [r for r in REGION_ORDER if active.get(r, 0) > 0]
    assert len(ax.collections) == len(present)
    colours = region_colours()
    for coll, region in zip(ax.collections, present, strict=True):
        assert matplotlib.colors.to_hex(coll.get_facecolor()[0]) == colours[region].lower()
    assert _legend_texts(ax.get_legend()) == present[::-1]  # top of the stack first
    assert ax.get_title("left").endswith("mekong_crackdown")
    assert "thousands" in ax.get_ylabel()
    # The full condition name selects the same runs.
    ax2 = figures.regional_stacked(ts, runs, "scenario=mekong_crackdown")
    assert len(ax2.collections) == len(present) and _caption(ax2.figure)
    with pytest.raises(ValueError, match="not in the runs"):
        figures.regional_stacked(ts, runs, "no_such_scenario")


def test_forest_plot_from_summary_and_runs(sweep):
    fig = figures.forest_plot(sweep["summary"], ("wdq", "total_net_effect"))
    axes = fig.axes
    assert len(axes) == 2
    assert axes[0].get_xlabel().startswith("WDQ (negative = displacement")
    assert "thousand workers" in axes[1].get_xlabel()
    assert [t.get_text() for t in axes[0].get_yticklabels()] == list(SCENARIOS)
    for ax in axes:
        bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(bars) == 1  # baseline has no crackdown: WDQ and TNE undefined
        assert "not defined" in [t.get_text() for t in ax.texts]
        assert any(np.all(np.asarray(ln.get_xdata()) == 0) for ln in ax.get_lines())
    wdq = sweep["summary"].set_index("condition").loc["scenario=mekong_crackdown"]
    point = next(c for c in axes[0].containers if isinstance(c, ErrorbarContainer))
    assert point.lines[0].get_xdata()[0] == pytest.approx(wdq["wdq_mean"])
    assert _caption(fig)
    # From runs: the same bootstrap as summary.csv, hence the same point.
    fig2 = figures.forest_plot(sweep["runs"], ("wdq",), summarise=summary_table)
    point2 = next(c for c in fig2.axes[0].containers if isinstance(c, ErrorbarContainer))
    np.testing.assert_allclose(np.asarray(point2.lines[0].get_xdata(), float),
                               np.asarray(point.lines[0].get_xdata(), float))
    with pytest.raises(ValueError, match="not in the data"):
        figures.forest_plot(sweep["summary"], ("no_such_metric",))


def test_heatmap_2d(grid):
    runs = grid["runs"]
    ax = plt.subplots(layout="constrained")[1]
    figures.heatmap_2d(runs, "cfg.params.raid_rate", "cfg.params.exit_utility", "wdq", ax)
    (image,) = ax.get_images()
    arr = np.asarray(image.get_array())
    ny, nx = len(GRID["exit_utility"]), len(GRID["raid_rate"])
    assert arr.shape == (ny, nx)
    assert len(ax.texts) == nx * ny
    expect = runs.groupby(["cfg.params.exit_utility", "cfg.params.raid_rate"])["wdq"].mean()
    assert arr[0, 1] == pytest.approx(expect.loc[(3.0, 0.35)])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.2", "0.35"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["3", "6"]
    assert ax.get_xlabel().startswith("raid_rate")
    assert ax.get_ylabel().startswith("exit_utility")
    colorbar = image.colorbar
    assert colorbar.ax.get_ylabel().startswith("mean WDQ")
    assert image.get_cmap().name == "cividis"  # WDQ is negative everywhere here


def test_heatmap_diverging_when_both_signs(grid):
    runs = grid["runs"].copy()
    runs["wdq"] = runs["wdq"] - runs["wdq"].mean()
    ax = figures.heatmap_2d(runs, annotate=False)
    (image,) = ax.get_images()
    assert image.get_cmap().name == "RdBu"
    assert image.norm.vmin == pytest.approx(-image.norm.vmax)
    assert not ax.texts and _caption(ax.figure)


def _sobol_frame():
    rows = []
    for out in ("wdq", "global_change"):
        for k, par in enumerate(("raid_rate", "exit_utility", "beta_distance")):
            rows.append(("sobol", out, par, "S1", 0.1 * k, 0.05))
            rows.append(("sobol", out, par, "ST", 0.15 * k + 0.05, 0.04))
    return pd.DataFrame(rows, columns=["method", "output", "parameter", "index", "value", "conf"])


def test_sobol_bars():
    fig = figures.sobol_bars(_sobol_frame())
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert len(ax.patches) == 2 * 3
        bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(bars) == 2  # ST and S1, one error bar per parameter each
        assert all(len(b.lines[2][0].get_segments()) == 3 for b in bars)
        # Largest ST at the top.
        assert [t.get_text() for t in ax.get_yticklabels()][-1] == "beta_distance"
        assert ax.get_xlabel() == "share of the output's variance"
    assert fig.axes[0].get_title("left") == "weighted displacement quotient (WDQ)"
    (legend,) = fig.legends
    assert _legend_texts(legend)[0].startswith("S1")
    assert _caption(fig)


def test_save_writes_png_and_closes(tmp_path, sweep):
    fig = figures.hub_vs_rest(sweep["ts"], sweep["runs"])
    path = figures.save(fig, tmp_path / "sub" / "hubs.png")
    assert path.stat().st_size > 10_000
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.info["dpi"][0] == pytest.approx(figures.DPI, abs=1)
        assert img.size[0] == pytest.approx(fig.get_figwidth() * figures.DPI, abs=2)
    assert not plt.fignum_exists(fig.number)
    assert not list(tmp_path.rglob("*.tmp"))


def test_caption_replaces_and_style_applies():
    with figures.style():
        fig = plt.figure(layout="constrained")
        assert plt.rcParams["axes.spines.top"] is False
    figures.caption(fig, "first")
    figures.caption(fig, "second")
    assert _caption(fig) == ["second"]
    assert fig.texts[-1].get_color() == figures.CAPTION_COLOUR


def test_sweep_figures(grid, tmp_path):
    written = figures.sweep_figures(grid["root"], tmp_path, max_regional=1)
    names = sorted(p.name for p in written)
    assert names == sorted(["workers_by_condition.png", "hubs_vs_rest.png", "forest.png",
                            "heatmap_wdq.png", "regions_raid_rate_0.2_exit_utility_3.0.png"])
    assert all(p.stat().st_size > 0 for p in written)
