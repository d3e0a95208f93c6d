"""Figures of the canonical studies (sim.analysis.studies), from sim.viz.figures and maps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sim.viz import figures, maps
from sim.viz.style import caption, caption_text, save_png

if TYPE_CHECKING:
    from sim.analysis.report import Report
    from sim.analysis.studies import StudyData


def _one(data: StudyData, scenario: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs = data.runs[data.runs["cfg.scenario"] == scenario]
    return runs, data.timeseries[data.timeseries["run_id"].isin(runs["run_id"])]


def _summary(data: StudyData, scenario: str | None = None) -> pd.DataFrame:
    """The study's summary.csv rows (bootstrap CIs), all or one scenario's."""
    if scenario is None or "scenario" not in data.summary.columns:
        return data.summary
    return data.summary[data.summary["scenario"].astype(str) == scenario]


def _events(data: StudyData) -> list:
    return figures.merge_events(figures.scenario_events(data.runs))


def comparison_figures(data: StudyData, report: Report, out: Path,
                       metrics: tuple[str, ...]) -> None:
    """World total per scenario with CI bands, hubs vs rest, forest plot of the metrics."""
    s = report.section("Figures")
    ax = figures.series_by_condition(data.timeseries, data.runs, events=_events(data),
                                     title="Scam-compound workforce, world total")
    s.figures.append((save_png(ax.figure, out / "world_total.png"),
                      "World workforce per scenario: mean over replicates with 95% CI band"))
    fig = figures.hub_vs_rest(data.timeseries, data.runs, events=_events(data))
    s.figures.append((save_png(fig, out / "hubs_vs_rest.png"),
                      "Starting hubs and the rest of the world, per scenario (95% CI bands)"))
    fig = figures.forest_plot(_summary(data), list(metrics))
    s.figures.append((save_png(fig, out / "forest.png"),
                      "Mean and 95% bootstrap CI of the study's metrics per scenario"))


def displacement_figures(data: StudyData, report: Report, out: Path) -> None:
    """Hub vs rest, forest plot of WDQ and net effect, map of the new host countries."""
    s = report.section("Figures")
    fig = figures.hub_vs_rest(data.timeseries, data.runs, events=_events(data))
    s.figures.append((save_png(fig, out / "hubs_vs_rest.png"),
                      "Starting hubs and the rest of the world, with and without the "
                      "crackdown (mean over replicates, 95% CI bands)"))
    fig = figures.forest_plot(_summary(data, "mekong_crackdown"),
                              ["wdq", "total_net_effect", "global_change"])
    s.figures.append((save_png(fig, out / "forest.png"),
                      "WDQ, total net effect and global change of the crackdown (95% CIs)"))
    s.figures.append((new_hosts_map(data, "mekong_crackdown", out / "new_hosts_map.png"),
                      "Countries that host compounds at the end but did not in 2023: mean "
                      "workers over replicates, coloured by region"))
    fig = figures.regional_stacked(data.timeseries, data.runs, "mekong_crackdown",
                                   events=figures.scenario_events(data.runs,
                                                                  "mekong_crackdown"))
    s.figures.append((save_png(fig.figure, out / "regions.png"),
                      "Workforce by region after the crackdown (mean over replicates)"))


def new_hosts_map(data: StudyData, scenario: str, path: Path) -> Path:
    """Bubble map of the countries newly hosting compounds at the end (mean over runs)."""
    runs, ts = _one(data, scenario)
    first, last = ts["step"].min(), ts["step"].max()
    start = ts[ts["step"] == first].groupby("iso3")["workers"].mean()
    end = ts[ts["step"] == last].groupby("iso3")["workers"].mean()
    new = end[(start.reindex(end.index).fillna(0) == 0) & (end > 0)]
    fig, ax = maps.map_figure()
    maps.world_map(ax, new, title=f"New host countries at the end: {len(new)} countries in at "
                   f"least one of {len(runs)} replicates (mean workers)")
    caption(fig, caption_text(scenario=scenario, world=data.world,
                                            replicates=len(runs)))
    return save_png(fig, path)


def whack_a_mole_figures(data: StudyData, report: Report, out: Path) -> None:
    """Small-multiple maps over time, the animated GIF, flows, and the world total."""
    s = report.section("Figures")
    runs, ts = _one(data, "whack_a_mole")
    seed_run = runs.sort_values("cfg.seed").iloc[0]
    one = ts[ts["run_id"] == seed_run["run_id"]]
    dates = ["2025-01", "2026-01", "2027-01", "2028-06", "2030-06", "2032-12"]
    months = set(pd.to_datetime(one["date"]).dt.strftime("%Y-%m"))
    dates = [d for d in dates if d in months] or sorted(months)[-1:]
    fig = maps.small_multiples(one, dates, scenario="whack_a_mole",
                               suptitle="Do the roots migrate? Yearly crackdowns on the largest "
                               f"host (seed {int(seed_run['cfg.seed'])})")
    s.figures.append((save_png(fig, out / "maps_over_time.png"),
                      "Workers per country at six dates of one replicate (same bubble scale)"))
    ev = pd.read_parquet(data.run_file(seed_run["run_dir"], "events.parquet"))
    gif = maps.animate_gif(one, out / "whack_a_mole.gif", events=ev, scenario="whack_a_mole")
    s.figures.append((gif, "Animation: workers per country every three months, with that "
                      "month's relocations"))
    fig, ax = maps.map_figure()
    maps.flow_map(ax, ev, start_step=25, title="Relocations from 2025-02 to the end "
                  f"(seed {int(seed_run['cfg.seed'])})")
    caption(fig, caption_text(scenario="whack_a_mole", world=data.world,
                                            seed=int(seed_run["cfg.seed"])))
    s.figures.append((save_png(fig, out / "flows.png"),
                      "Where the compounds moved: great-circle arcs weighted by workers"))
    ax = figures.series_by_condition(data.timeseries, data.runs,
                                     title="Scam-compound workforce, world total")
    s.figures.append((save_png(ax.figure, out / "world_total.png"),
                      "World workforce with and without the crackdowns (95% CI bands)"))
