"""Figures of one run (sim.viz.run_figures): the matplotlib objects drawn, and the files."""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("mpl_toolkits.basemap")

import matplotlib.pyplot as plt
from matplotlib.colors import to_hex
from PIL import Image

import sim
from sim.results import EVENT_COLUMNS, RunResult, atomic_write_bytes, package_version, read_run
from sim.viz import maps, run_figures, style

STEPS = 48


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """Mekong crackdown on the teaching world, four years, written as a run folder."""
    d = tmp_path_factory.mktemp("run")
    sim.run("mekong_crackdown", world="teaching", seed=1, steps=STEPS).write(d)
    return d


@pytest.fixture(scope="module")
def result(run_dir):
    return read_run(run_dir)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _caption(fig) -> list[str]:
    return [t.get_text() for t in fig.texts if t.get_gid() == style.CAPTION_GID]


def _write_events(directory, events: pd.DataFrame) -> None:
    buf = events.to_parquet(index=False)
    atomic_write_bytes(directory / "events.parquet", buf)


def _copy_run(src, dst):
    dst.mkdir()
    for p in src.iterdir():
        if p.is_file():
            (dst / p.name).write_bytes(p.read_bytes())
    return dst


def test_plot_run_writes_three_pngs_next_to_the_data(run_dir, monkeypatch):
    drawn = {}

    def keep(fig, path, dpi=style.DPI):
        drawn[path.name] = fig
        return style.save_png(fig, path, dpi)

    monkeypatch.setattr(run_figures, "save_png", keep)
    paths = run_figures.plot_run(run_dir)
    assert [p.name for p in paths] == ["activity_by_region.png", "map_end.png", "flows.png"]
    for p in paths:
        assert p.parent == run_dir
        with Image.open(p) as im:
            assert im.format == "PNG"
            assert round(im.info["dpi"][0]) == style.DPI
            assert im.size[0] > 1000 and im.size[1] > 600
    assert set(drawn) == set(run_figures.FIGURE_CAPTIONS)
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".")]  # atomic
    version = f"scamsim {package_version()}"
    for fig in drawn.values():
        (text,) = _caption(fig)
        assert "scenario mekong_crackdown" in text and "seed 1" in text and version in text
        assert not plt.fignum_exists(fig.number)  # saved and closed


def test_end_map_one_bubble_per_host_country(result):
    _, art = run_figures.end_map_figure(result)
    ts = result.timeseries
    last = ts[ts["step"] == ts["step"].max()]
    hosts = last.loc[last["workers"] > 0].set_index("iso3")["workers"]
    assert len(art.bubbles.get_offsets()) == len(hosts) == len(art.iso3)
    assert len(hosts) == result.summary["active_jurisdictions_end"]
    assert set(art.iso3) == set(hosts.index)
    # Areas proportional to the workers of the last month.
    sizes = pd.Series(art.bubbles.get_sizes(), index=art.iso3)
    ratio = sizes / hosts.loc[art.iso3].astype(float)
    assert ratio.max() == pytest.approx(ratio.min())
    title = art.title.get_text()
    assert pd.Timestamp(last["date"].iloc[0]).strftime("%Y-%m") in title
    assert title.endswith(f"in {len(hosts)} countries")
    assert maps.fmt_count(hosts.sum()) in title
    assert art.region_legend is not None and art.size_legend is not None


def test_flow_map_one_arc_per_origin_destination_pair(result):
    _, art = run_figures.flows_figure(result)
    ev = result.events
    moves = ev[ev["kind"].isin(run_figures.MOVE_KINDS) & (ev["from"] != ev["to"])
               & (ev["size"] > 0)]
    pairs = set(zip(moves["from"], moves["to"], strict=True))
    assert len(pairs) > 1
    assert len(art.arcs) == len(pairs) == len(art.heads)
    assert {a.get_gid() for a in art.arcs} == {f"arc:{a}->{b}" for a, b in pairs}
    # The arcs carry every worker moved between countries, relocations and expansions alike.
    assert art.pairs["size"].sum() == pytest.approx(moves["size"].sum())
    assert set(moves["kind"]) >= {"relocation", "expansion"}
    title = art.title.get_text()
    n_rel = int((moves["kind"] == "relocation").sum())
    assert f"{n_rel} relocations" in title and "expansions abroad" in title
    assert art.note is None and art.legend is not None


def test_activity_figure_stacks_regions_and_marks_the_levers(result):
    fig = run_figures.activity_figure(result)
    top, bottom = fig.axes[:2]
    ts = result.timeseries
    active = ts.groupby("region")["workers"].max()
    present = [r for r in style.REGION_ORDER if active.get(r, 0) > 0]
    assert len(top.collections) == len(present)
    colours = style.region_colours()
    for coll, region in zip(top.collections, present, strict=True):
        assert to_hex(coll.get_facecolor()[0]) == colours[region].lower()
    # The three levers of the scenario start together in 2025-02: one line, three labels.
    labels = [ev["label"] for ev in result.config["scenario"]["events"]]
    assert sorted(t.get_text() for t in top.texts) == sorted(labels)
    markers = [ln for ln in top.get_lines() if ln.get_linestyle() == ":"]
    assert {pd.Timestamp(ln.get_xdata()[0]) for ln in markers} == {pd.Timestamp("2025-02-01")}
    assert not bottom.texts  # the lower panel has the lines, not the labels
    hubs = list(result.config["world"]["initial_presence"])
    assert [ln.get_label() for ln in bottom.get_lines() if ln.get_linestyle() == "-"] == [
        *hubs, "rest of world"]


def test_levers_come_from_the_summary_when_present(result):
    summary = dict(result.summary)
    summary["levers"] = [{"kind": "crackdown", "label": "", "start": "2026-03",
                          "targets": ["KHM"]},
                         {"kind": "cooperation", "label": "Joint task force",
                          "start": "2026-03", "targets": ["CHN", "KHM"]}]
    marks = run_figures.run_levers(summary, result.config)
    assert marks == [(pd.Timestamp("2026-03-01"), "crackdown"),
                     (pd.Timestamp("2026-03-01"), "Joint task force")]
    other = RunResult(result.timeseries, result.events, summary, result.config)
    fig = run_figures.activity_figure(other)
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["Joint task force", "crackdown"]
    # Without the summary's list: the scenario's events, label or else kind.
    config = {"scenario": {"events": [{"kind": "financial_squeeze", "start": "2025-06"}]}}
    assert run_figures.run_levers({}, config) == [(pd.Timestamp("2025-06-01"),
                                                   "financial_squeeze")]


def test_run_without_events_or_moves_gets_an_annotated_flow_map(run_dir, tmp_path):
    ev = read_run(run_dir).events
    for name, events in (("no_events", ev.iloc[:0]),
                         ("no_moves", ev[~ev["kind"].isin(run_figures.MOVE_KINDS)])):
        d = _copy_run(run_dir, tmp_path / name)
        _write_events(d, events[list(EVENT_COLUMNS)])
        paths = run_figures.plot_run(d)
        assert [p.name for p in paths] == ["activity_by_region.png", "map_end.png",
                                           "flows.png"]
        assert all(p.stat().st_size > 10_000 for p in paths)
        fig, art = run_figures.flows_figure(read_run(d))
        assert art.arcs == [] and art.pairs.empty
        assert "no compound relocated or expanded" in art.note.get_text()
        assert "no moves between countries" in art.title.get_text()
        assert _caption(fig)
