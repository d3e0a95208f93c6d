"""Studies and reports: a quick study end to end, report contents, plot/report commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

import sim
from sim.analysis import studies
from sim.analysis.report import Report, fmt_ci, markdown_table
from sim.analysis.sweep import aggregate
from sim.identity import run_dir_name


def test_fmt_ci_and_markdown_table_hand_checked():
    assert fmt_ci(-0.8312, -0.845, -0.81) == "-0.83 [-0.84, -0.81]"
    assert fmt_ci(-0.071, -0.0755, -0.068, digits=1, pct=True) == "-7.1% [-7.5, -6.8]"
    assert fmt_ci(float("nan"), 0, 0) == "n/a"
    assert fmt_ci(3.0, float("nan"), float("nan")) == "3.00"
    table = pd.DataFrame({"a": [1, 2], "b": ["x|y", "z"]})
    assert markdown_table(table) == "| a | b |\n|---|---|\n| 1 | x\\|y |\n| 2 | z |"


def test_report_embeds_every_figure(tmp_path):
    png = tmp_path / "f.png"
    Image.new("RGB", (4, 3), "white").save(png)
    rep = Report("T", lead="L")
    sec = rep.section("S")
    sec.paragraphs.append("p < q")
    sec.figures.append((png, "cap"))
    sec.tables.append((pd.DataFrame({"x": [1]}), "tab"))
    html_path, md_path = rep.write(tmp_path / "out")
    html = html_path.read_text()
    assert html.count("data:image/png;base64,") == 1 and "p &lt; q" in html
    assert "<table" in html and "scamsim" in html
    md = md_path.read_text()
    assert "![cap](../f.png)" in md and "| x |" in md


@pytest.fixture(scope="module")
def quick_displacement(tmp_path_factory):
    root = tmp_path_factory.mktemp("studies")
    mp = pytest.MonkeyPatch()
    mp.setattr(studies, "RESULTS", root)
    mp.chdir(root)
    try:
        report = studies.run_study(studies.STUDIES["displacement"], quick=True, jobs=2)
    finally:
        mp.undo()
    return root / "displacement", report


def test_quick_study_end_to_end(quick_displacement):
    out, report = quick_displacement
    for name in ("report.html", "report.md", "table.csv", "study.json", "hubs_vs_rest.png",
                 "forest.png", "new_hosts_map.png", "regions.png"):
        assert (out / name).stat().st_size > 0, name
    for fig in report.figures():
        Image.open(fig).verify()
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(report.figures())
    md = (out / "report.md").read_text()
    for fig in report.figures():
        assert f"({fig.name})" in md


def test_stated_numbers_match_the_tables(quick_displacement):
    out, report = quick_displacement
    summary = pd.read_csv(out / "sweep-teaching" / "summary.csv")
    row = summary[summary["scenario"] == "mekong_crackdown"].iloc[0]
    finding = " ".join(report.sections[0].paragraphs)
    wdq = fmt_ci(row["wdq_mean"], row["wdq_ci_low"], row["wdq_ci_high"])
    assert f"baseline is {wdq}" in finding
    table = pd.read_csv(out / "table.csv")
    assert table.loc[table["scenario"] == "mekong_crackdown", "WDQ"].item() == wdq
    runs = pd.read_parquet(out / "sweep-teaching" / "runs.parquet")
    mk = runs[runs["cfg.scenario"] == "mekong_crackdown"]
    assert len(mk) == studies.QUICK_REPLICATES
    assert row["wdq_mean"] == pytest.approx(mk["wdq"].mean())
    m = re.search(r"means over (\d+) replicates", finding)
    assert m and int(m.group(1)) == studies.QUICK_REPLICATES


def test_plot_and_report_commands(tmp_path):
    run = sim.run("mekong_crackdown", world="teaching", seed=2, steps=48)
    run_dir = run.write(tmp_path / "run")
    root = tmp_path / "sweep"
    for scenario in ("baseline", "mekong_crackdown"):
        for seed in (1, 2):
            res = sim.run(scenario, world="teaching", seed=seed, steps=48)
            res.write(root / "runs" / run_dir_name(res.config))
    aggregate(root)
    for target, expect in ((run_dir, "activity_by_region.png"), (root, "forest.png")):
        proc = subprocess.run([sys.executable, "-m", "sim", "plot", str(target)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert expect in proc.stdout
        proc = subprocess.run([sys.executable, "-m", "sim", "report", str(target)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        html = (target / "report.html").read_text()
        assert html.count("data:image/png;base64,") >= 1
        assert (target / "report.md").exists()
    bad = subprocess.run([sys.executable, "-m", "sim", "report", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "neither a finished run nor a sweep" in bad.stderr


def test_whack_a_mole_with_posterior_draws_reads_its_own_sweep(tmp_path, monkeypatch):
    # The study that reads each run's events: with --posterior its runs live in the
    # sweep-<world>-posterior folder, and the report says what its intervals carry.
    from sim import paramsets

    sample = tmp_path / "posterior.csv"
    pd.DataFrame({"raid_budget": [30.0, 90.0], "weight": [0.5, 0.5]}).to_csv(sample,
                                                                             index=False)
    monkeypatch.setenv(paramsets.POSTERIOR_ENV, str(sample))
    monkeypatch.setattr(studies, "RESULTS", tmp_path)
    monkeypatch.chdir(tmp_path)
    paramsets.posterior_sample.cache_clear()
    try:
        studies.run_study(studies.STUDIES["whack_a_mole"], quick=True, jobs=2, posterior=True)
    finally:
        paramsets.posterior_sample.cache_clear()
    out = tmp_path / "whack_a_mole"
    assert (out / "sweep-teaching-posterior" / "runs.parquet").exists()
    assert not (out / "sweep-teaching").exists()
    assert (out / "whack_a_mole.gif").stat().st_size > 0
    md = (out / "report.md").read_text()
    assert studies.interval_kind(True) in md and "Most frequent sequence of targets" in md


def _study_data(recovery, wdq_low, wdq_high):
    runs = pd.DataFrame({"cfg.scenario": "x", "cfg.seed": range(len(recovery)),
                         "recovery_months": recovery})
    finite = [v for v in recovery if v == v]
    mean = sum(finite) / len(finite) if finite else float("nan")
    summary = pd.DataFrame([{"scenario": "x", "wdq_mean": (wdq_low + wdq_high) / 2,
                             "wdq_ci_low": wdq_low, "wdq_ci_high": wdq_high,
                             "recovery_months_mean": mean, "recovery_months_ci_low": mean,
                             "recovery_months_ci_high": mean}])
    return studies.StudyData("t", Path("."), runs, pd.DataFrame(), summary, "teaching",
                             Path("."))


@pytest.mark.parametrize(("low", "high", "says"), [
    (-0.5, -0.1, "displacement"), (0.1, 0.3, "diffusion of benefits"),
    (-0.1, 0.2, "no clear displacement")])
def test_the_displacement_finding_follows_the_interval(low, high, says):
    assert says in studies._displacement_verdict(_study_data([3.0], low, high), "x")


def test_the_recovery_sentence_counts_replicates_that_never_return():
    nan = float("nan")
    assert "does not return" in studies._recovery(_study_data([nan, nan], -1, 1), "x")
    assert "in 1 of 2 replicates" in studies._recovery(_study_data([12.0, nan], -1, 1), "x")
    assert "after 12 [12, 12] months" in studies._recovery(_study_data([12.0, 12.0], -1, 1),
                                                           "x")
    assert "never falls below" in studies._recovery(_study_data([0.0, 0.0], -1, 1), "x")
