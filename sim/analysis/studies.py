"""The canonical studies of MODEL.md §6: one sweep, figures, tables and a report each.

Each study runs its sweep through ``scamsim --multirun`` (so finished runs are
reused and the aggregate is built the same way as any sweep), then draws its
figures, writes its tables and a short report stating the finding with 95%
confidence intervals into ``results/<study>/``.

    python experiments/displacement.py [--quick] [--world world] [--replicates 20]
    python experiments/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.report import Report, fmt_ci
from sim.analysis.sweep import bootstrap_ci
from sim.resources import results_root
from sim.results import atomic_write_text

# Where studies write: None means the results root (setting ``results_dir``:
# $SCAMSIM_RESULTS_DIR, else ./results of the current directory).
RESULTS: Path | None = None
FULL_REPLICATES = 20
QUICK_REPLICATES = 3
HUBS = ("MMR", "KHM", "LAO", "PHL")
FAR_REGIONS = ("Africa", "Pacific", "South America", "Middle East", "Europe")
# Metrics shown in the tables, with readable names.
METRICS = {
    "wdq": "WDQ",
    "total_net_effect": "total net effect (workers)",
    "local_change": "change in the targets",
    "global_change": "global change",
    "recovery_months": "months to recover",
    "new_jurisdictions_end": "new host countries at the end",
    "workers_end": "workers at the end",
    "victim_losses_esea_per_year_usd": "ESEA losses (US$/yr)",
    "rescued_total": "workers rescued",
}


@dataclass
class StudyData:
    """A study's sweep, loaded: one row per run, the time series, the summary."""

    name: str
    folder: Path
    runs: pd.DataFrame
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    world: str
    sweep: Path  # the sweep's folder (its runs/ hold each run's files)

    def run_file(self, run_dir: str, name: str) -> Path:
        """A file of one run (``run_dir`` as in runs.parquet), e.g. ``events.parquet``."""
        return self.sweep / run_dir / name

    @property
    def replicates(self) -> int:
        """Smallest number of runs of any condition."""
        return int(self.runs.groupby("cfg.scenario").size().min())

    def caption(self) -> str:
        """Caption line: scenarios, replicates, world."""
        scen = ", ".join(self.scenarios())
        return f"{scen} · {self.replicates} replicates per scenario · world {self.world}"

    def scenarios(self) -> list[str]:
        """Scenarios in the sweep, in their order of first appearance."""
        return list(dict.fromkeys(self.runs["cfg.scenario"]))

    def row(self, scenario: str) -> pd.Series:
        """The summary.csv row of a scenario."""
        return self.summary[self.summary["scenario"] == scenario].iloc[0]

    def ci(self, scenario: str, metric: str, pct: bool = False, digits: int = 2) -> str:
        """'mean [low, high]' of a metric for a scenario."""
        r = self.row(scenario)
        return fmt_ci(r[f"{metric}_mean"], r[f"{metric}_ci_low"], r[f"{metric}_ci_high"],
                      digits=digits, pct=pct)

    def paired_difference(self, a: str, b: str, metric: str) -> tuple[float, float, float]:
        """Mean and 95% bootstrap CI of metric(b) − metric(a) over runs with the same seed."""
        x = self.runs[self.runs["cfg.scenario"] == a].set_index("cfg.seed")[metric]
        y = self.runs[self.runs["cfg.scenario"] == b].set_index("cfg.seed")[metric]
        common = x.index.intersection(y.index)
        return bootstrap_ci((y.loc[common] - x.loc[common]).to_numpy(float))

    def table(self, metrics: list[str]) -> pd.DataFrame:
        """Per scenario: runs and each metric as 'mean [95% CI]'."""
        rows = []
        for s in self.scenarios():
            r = self.row(s)
            row = {"scenario": s, "runs": int(r["runs"])}
            for m in metrics:
                pct = m in ("global_change", "local_change")
                digits = 0 if m in ("total_net_effect", "workers_end", "rescued_total") else 2
                if m == "victim_losses_esea_per_year_usd":
                    row[METRICS[m] + " bn"] = fmt_ci(
                        r[f"{m}_mean"] / 1e9, r[f"{m}_ci_low"] / 1e9, r[f"{m}_ci_high"] / 1e9, 1
                    )
                    continue
                row[METRICS.get(m, m)] = fmt_ci(
                    r[f"{m}_mean"], r[f"{m}_ci_low"], r[f"{m}_ci_high"], digits, pct
                )
            rows.append(row)
        return pd.DataFrame(rows)


@dataclass
class Study:
    """A named study: its scenarios and how to analyse them."""

    name: str
    title: str
    question: str
    scenarios: tuple[str, ...]
    analyse: Callable[[StudyData, Report, Path], None]


def results() -> Path:
    """The folder every study writes into."""
    return RESULTS if RESULTS is not None else results_root()


def interval_kind(posterior: bool) -> str:
    """What a study's intervals carry, said in its report."""
    if posterior:
        return ("95% bootstrap CIs over parameter-seed pairs drawn from the posterior: they "
                "carry parameter uncertainty as well as chance")
    return ("95% bootstrap CIs over seeds at the default parameters: they carry chance only, "
            "not parameter uncertainty (run with --posterior for both)")


def run_sweep(
    name: str, scenarios: tuple[str, ...], *, world: str, replicates: int, jobs: int | None,
    posterior: bool = False,
) -> Path:
    """Run (or resume) a study's sweep with the scamsim command; returns the sweep folder."""
    folder = results() / name / (f"sweep-{world}" + ("-posterior" if posterior else ""))
    cmd = [
        sys.executable, "-m", "sim", "--multirun", f"scenario={','.join(scenarios)}",
        f"world={world}", f"replicates={replicates}", f"sweep_name={name}",
        f"hydra.sweep.dir={folder}", f"posterior={str(posterior).lower()}",
    ]
    if jobs:
        cmd.append(f"hydra.launcher.n_jobs={jobs}")
    subprocess.run(cmd, check=True)
    return folder


def load(name: str, folder: Path, scenarios: tuple[str, ...], world: str) -> StudyData:
    """Read a study's aggregate, keeping only its scenarios."""
    runs = pd.read_parquet(folder / "runs.parquet")
    runs = runs[runs["cfg.scenario"].isin(scenarios)].copy()
    rank = runs["cfg.scenario"].map({s: i for i, s in enumerate(scenarios)})
    runs = runs.assign(_rank=rank).sort_values(["_rank", "cfg.seed"]).drop(columns="_rank")
    runs = runs.reset_index(drop=True)
    ts = pd.read_parquet(folder / "timeseries.parquet")
    ts = ts[ts["run_id"].isin(runs["run_id"])]
    summary = pd.read_csv(folder / "summary.csv")
    return StudyData(name, folder.parent, runs, ts, summary, world, folder)


def run_study(study: Study, *, quick: bool = False, world: str | None = None,
              replicates: int | None = None, jobs: int | None = None,
              posterior: bool = False) -> Report:
    """Run a study end to end and write its report; returns the report."""
    t0 = time.perf_counter()
    world = world or ("teaching" if quick else "world")
    replicates = replicates or (QUICK_REPLICATES if quick else FULL_REPLICATES)
    folder = run_sweep(study.name, study.scenarios, world=world, replicates=replicates,
                       jobs=jobs, posterior=posterior)
    data = load(study.name, folder, study.scenarios, world)
    out = results() / study.name
    report = Report(title=study.title,
                    lead=f"{study.question} Intervals: {interval_kind(posterior)}.")
    study.analyse(data, report, out)
    table = data.table(list(METRICS))
    report.section("Numbers").tables.append(
        (table, f"Mean [95% bootstrap CI] over replicates ({interval_kind(posterior)})"))
    atomic_write_text(out / "table.csv", table.to_csv(index=False, lineterminator="\n"))
    html_path, _ = report.write(out)
    atomic_write_text(out / "study.json", json.dumps({
        "study": study.name, "world": world, "replicates": data.replicates,
        "scenarios": list(study.scenarios), "seconds": round(time.perf_counter() - t0, 1),
        "posterior": posterior, "intervals": interval_kind(posterior),
        "figures": [str(p.relative_to(out)) for p in report.figures()],
    }, indent=2) + "\n")
    print(f"{study.name}: report {html_path} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return report


def _recovery(data: StudyData, scenario: str) -> str:
    """How global activity comes back after the intervention, as the replicates say
    (a replicate that never returns within the run has no recovery month)."""
    runs = data.runs[data.runs["cfg.scenario"] == scenario]
    back = int(np.isfinite(runs["recovery_months"].to_numpy(float)).sum())
    if back == 0:
        return "does not return to its pre-crackdown level by the end of the run"
    if back == len(runs) and (runs["recovery_months"] == 0).all():
        return "never falls below its pre-crackdown level"
    months = data.ci(scenario, "recovery_months", digits=0)
    if back == len(runs):
        return f"is back at its pre-crackdown level after {months} months"
    return (f"is back at its pre-crackdown level in {back} of {len(runs)} replicates, "
            f"after {months} months")


def _displacement_verdict(data: StudyData, scenario: str) -> str:
    """What the WDQ's interval says: displacement, a diffusion of benefits, or neither."""
    r = data.row(scenario)
    if r["wdq_ci_high"] < 0:
        return "part of what left reappears elsewhere (displacement)"
    if r["wdq_ci_low"] > 0:
        return "the rest of the world loses activity too (a diffusion of benefits)"
    return "no clear displacement either way (the interval includes 0)"


def _reach(data: StudyData, scenario: str) -> dict[str, float]:
    """Share of runs in which each far region gained a compound after the crackdown."""
    runs = data.runs[data.runs["cfg.scenario"] == scenario]
    out = {}
    for region in FAR_REGIONS:
        col = f"active_by_region_end.{region}"
        out[region] = float((runs[col] > 0).mean()) if col in runs else float("nan")
    return out


# --- the studies' analyses (figures come from sim.viz.figures and sim.viz.maps) -------------------


def analyse_displacement(data: StudyData, report: Report, out: Path) -> None:
    """Baseline vs Mekong crackdown: displacement, recovery, new host countries."""
    from sim.viz import study_figures as sf

    s = report.section("Finding")
    mk = "mekong_crackdown"
    s.paragraphs.append(
        f"After the 2025-02 Myanmar crackdown, Myanmar's workforce changes by "
        f"{data.ci(mk, 'local_change', pct=True, digits=0)} (12–24 months after vs the "
        f"12 months before), and {_displacement_verdict(data, mk)}: the Weighted "
        f"Displacement Quotient against the same-seed baseline is {data.ci(mk, 'wdq')} "
        f"(negative = displacement; −1 = "
        f"everything that left reappeared elsewhere; positive = a diffusion of benefits) "
        f"and the total net effect is {data.ci(mk, 'total_net_effect', digits=0)} workers. "
        f"Global activity changes by {data.ci(mk, 'global_change', pct=True, digits=1)} and "
        f"{_recovery(data, mk)}. At the end the "
        f"industry runs in {data.ci(mk, 'new_jurisdictions_end', digits=1)} countries it did "
        f"not use in 2023, against {data.ci('baseline', 'new_jurisdictions_end', digits=1)} "
        f"without the crackdown (means over {data.replicates} replicates, 95% bootstrap CIs)."
    )
    reach = _reach(data, mk)
    s.paragraphs.append(
        "Share of replicates hosting compounds at the end, by far region: "
        + ", ".join(f"{r} {100 * v:.0f}%" for r, v in reach.items()) + "."
    )
    sf.displacement_figures(data, report, out)


def analyse_coordination(data: StudyData, report: Report, out: Path) -> None:
    """Unilateral vs ASEAN vs global coordination at equal raid effort."""
    from sim.viz import study_figures as sf

    u, a, g = "hubs_unilateral", "hubs_asean_intel", "hubs_global_intel"
    s = report.section("Finding")
    d_ag = data.paired_difference(u, a, "global_change")
    d_gg = data.paired_difference(u, g, "global_change")
    d_gs = data.paired_difference(u, g, "new_jurisdictions_end")
    s.paragraphs.append(
        "The same crackdown in Myanmar, Cambodia and Laos (equal raid effort), with "
        "nobody else, ASEAN or every state sharing intelligence on arriving compounds. "
        f"Global activity changes by {data.ci(u, 'global_change', pct=True, digits=1)} "
        f"unilaterally, {data.ci(a, 'global_change', pct=True, digits=1)} with ASEAN and "
        f"{data.ci(g, 'global_change', pct=True, digits=1)} with global coordination "
        f"(12–24 months after vs before). Paired by seed, ASEAN coordination changes the "
        f"global change by {fmt_ci(*d_ag, digits=1, pct=True)} points and global "
        f"coordination by {fmt_ci(*d_gg, digits=1, pct=True)} points. WDQ: "
        f"{data.ci(u, 'wdq')} unilateral, {data.ci(a, 'wdq')} ASEAN, {data.ci(g, 'wdq')} "
        f"global (closer to 0 = less displacement). Spread (new host countries at the end): "
        f"{data.ci(u, 'new_jurisdictions_end', digits=1)}, "
        f"{data.ci(a, 'new_jurisdictions_end', digits=1)} and "
        f"{data.ci(g, 'new_jurisdictions_end', digits=1)}; global minus unilateral "
        f"{fmt_ci(*d_gs, digits=1)}."
    )
    sf.comparison_figures(data, report, out, metrics=("global_change", "wdq",
                                                       "new_jurisdictions_end"))


def analyse_capacity(data: StudyData, report: Report, out: Path) -> None:
    """Crackdown with and without capacity building in vulnerable destinations."""
    from sim.viz import study_figures as sf

    m, c = "mekong_crackdown", "capacity_building"
    dw = data.paired_difference(m, c, "workers_end")
    dn = data.paired_difference(m, c, "new_jurisdictions_end")
    dg = data.paired_difference(m, c, "global_change")
    shrinks = dw[2] < 0
    s = report.section("Finding")
    s.paragraphs.append(
        "Does the industry shrink, or only move, when the destinations that attract it most "
        "build enforcement capacity and regulation before and during the Myanmar crackdown? "
        f"Paired by seed, capacity building changes the workforce at the end by "
        f"{fmt_ci(*dw, digits=0)} workers, the number of new host countries by "
        f"{fmt_ci(*dn, digits=1)} and the global change after the crackdown by "
        f"{fmt_ci(*dg, digits=1, pct=True)} points. "
        + ("The interval of the workforce difference lies below zero: the total shrinks. "
           if shrinks else
           "The interval of the workforce difference includes zero or lies above it: the "
           "industry is not smaller, it is kept out of the vulnerable destinations and "
           "concentrates elsewhere. ")
        + f"Spread with capacity building: {data.ci(c, 'new_jurisdictions_end', digits=1)} "
        f"new host countries, without: {data.ci(m, 'new_jurisdictions_end', digits=1)}."
    )
    sf.comparison_figures(data, report, out, metrics=("workers_end", "new_jurisdictions_end",
                                                       "global_change"))


def analyse_whack_a_mole(data: StudyData, report: Report, out: Path) -> None:
    """Sequential unilateral crackdowns that follow the activity."""
    from sim.viz import study_figures as sf

    w = "whack_a_mole"
    seq = _crackdown_sequences(data, w)
    s = report.section("Finding")
    s.paragraphs.append(
        "Every year from 2025-02 the country hosting the largest workforce cracks down on "
        f"its own. At the end the industry runs in "
        f"{data.ci(w, 'new_jurisdictions_end', digits=1)} new host countries "
        f"(baseline {data.ci('baseline', 'new_jurisdictions_end', digits=1)}), with "
        f"{data.ci(w, 'workers_end', digits=0)} workers (baseline "
        f"{data.ci('baseline', 'workers_end', digits=0)}). The WDQ of the first crackdown is "
        f"{data.ci(w, 'wdq')}. Most frequent sequence of targets: {seq}."
    )
    sf.whack_a_mole_figures(data, report, out)


def _crackdown_sequences(data: StudyData, scenario: str) -> str:
    """Most common order of targeted countries across replicates."""
    seqs = []
    for run_dir in data.runs.loc[data.runs["cfg.scenario"] == scenario, "run_dir"]:
        ev = pd.read_parquet(data.run_file(run_dir, "events.parquet"))
        seqs.append(" → ".join(ev.loc[ev["kind"] == "intervention:crackdown", "to"]))
    if not seqs:
        return "none"
    top = pd.Series(seqs).value_counts()
    return f"{top.index[0]} ({top.iloc[0]} of {len(seqs)} replicates)"


def analyse_squeeze(data: StudyData, report: Report, out: Path) -> None:
    """Financial squeeze vs physical raids, and both."""
    from sim.viz import study_figures as sf

    b, r, f, both = "baseline", "mekong_crackdown", "financial_squeeze", "raids_and_squeeze"
    dw_f = data.paired_difference(b, f, "workers_end")
    dw_r = data.paired_difference(b, r, "workers_end")
    dw_b = data.paired_difference(b, both, "workers_end")
    s = report.section("Finding")
    s.paragraphs.append(
        "Crypto and laundering pressure (capital seizures, frozen payments, costlier "
        "laundering for three years) against the physical Myanmar crackdown, and both "
        f"together. Global change 12–24 months after: squeeze "
        f"{data.ci(f, 'global_change', pct=True, digits=1)}, raids "
        f"{data.ci(r, 'global_change', pct=True, digits=1)}, both "
        f"{data.ci(both, 'global_change', pct=True, digits=1)}. Workforce at the end "
        f"compared with the baseline (paired by seed): squeeze {fmt_ci(*dw_f, digits=0)}, "
        f"raids {fmt_ci(*dw_r, digits=0)}, both {fmt_ci(*dw_b, digits=0)}. New host "
        f"countries at the end: squeeze {data.ci(f, 'new_jurisdictions_end', digits=1)}, "
        f"raids {data.ci(r, 'new_jurisdictions_end', digits=1)}. " + _squeeze_verdict(data)
    )
    sf.comparison_figures(data, report, out, metrics=("global_change", "workers_end",
                                                       "new_jurisdictions_end"))


def _squeeze_verdict(data: StudyData) -> str:
    """One sentence comparing squeeze and raids, decided by the confidence intervals."""
    b, r, f = "baseline", "mekong_crackdown", "financial_squeeze"
    shrinks = data.paired_difference(b, f, "workers_end")[2] < 0
    spread_f = data.row(f)["new_jurisdictions_end_ci_high"]
    spread_r = data.row(r)["new_jurisdictions_end_ci_low"]
    spreads_less = spread_f < spread_r
    if shrinks and spreads_less:
        return "The squeeze shrinks the industry and spreads it less than the raids do."
    if shrinks:
        return "The squeeze shrinks the industry, but does not spread it less than the raids."
    if spreads_less:
        return "The squeeze spreads the industry less than the raids, but does not shrink it."
    return "Neither a smaller industry nor less spread can be told apart from the raids."


STUDIES: dict[str, Study] = {
    s.name: s
    for s in (
        Study("displacement", "Displacement after the Mekong crackdown",
              "Does a crackdown on the Myanmar hub remove the industry or move it, where to, "
              "and how fast does global activity come back?",
              ("baseline", "mekong_crackdown"), analyse_displacement),
        Study("coordination", "Unilateral, ASEAN and global coordination",
              "At equal raid effort in the Mekong hubs, does coordination (partners "
              "anticipating arriving compounds) reduce the global industry and its spread?",
              # the baseline is the same-seed control of the WDQ and the global change
              ("baseline", "hubs_unilateral", "hubs_asean_intel", "hubs_global_intel"),
              analyse_coordination),
        Study("capacity_building", "Capacity building in vulnerable destinations",
              "With a crackdown in the hubs, does building capacity where compounds would go "
              "shrink the total or only move it?",
              ("baseline", "mekong_crackdown", "capacity_building"), analyse_capacity),
        Study("whack_a_mole", "Whack-a-mole: do the roots migrate?",
              "What happens when each year the largest host cracks down on its own?",
              ("baseline", "whack_a_mole"), analyse_whack_a_mole),
        Study("financial_squeeze", "Financial squeeze versus physical raids",
              "Does pressure on capital and crypto shrink the industry, compared with raids?",
              ("baseline", "mekong_crackdown", "financial_squeeze", "raids_and_squeeze"),
              analyse_squeeze),
    )
}


def run_sensitivity(quick: bool, jobs: int | None) -> Path:
    """The sensitivity analysis (sim.analysis.sensitivity_study), into <results>/sensitivity."""
    from sim.analysis import sensitivity_study

    out = results() / "sensitivity"
    argv = ["--out", str(out)] + (["--quick"] if quick else []) + (
        ["--jobs", str(jobs)] if jobs else [])
    sensitivity_study.main(argv)
    return out


def sensitivity_section(report: Report, folder: Path) -> None:
    """Add the sensitivity analysis (figures and leading factors) to a report."""
    s = report.section("Sensitivity analysis (SALib: Morris, then Sobol)")
    sobol = folder / "sobol.csv"
    if not sobol.exists():
        s.paragraphs.append("No sensitivity results found; run `scamsim sensitivity`.")
        return
    df = pd.read_csv(sobol)
    st = df[df["index"] == "ST"].sort_values("value", ascending=False)
    lines = []
    for output, group in st.groupby("output", sort=False):
        top = group.head(3)
        lines.append(f"{output}: " + ", ".join(
            f"{r.parameter} {r.value:.2f} ± {r.conf:.2f}" for r in top.itertuples()))
    s.paragraphs.append(
        "Total-order Sobol indices (share of the output variance due to each parameter "
        "with its interactions, ± 95% CI) of the Mekong crackdown; leading parameters: "
        + "; ".join(lines) + ". Details: docs/sensitivity.md."
    )
    for name, cap in (("morris.png", "Morris screening"), ("sobol.png", "Sobol indices")):
        if (folder / name).exists():
            s.figures.append((folder / name, cap))
    s.tables.append((st.round(3), "Total-order Sobol indices with 95% CIs"))


def run_all(argv: list[str] | None = None) -> Path:
    """Every study, the sensitivity analysis, and one report that gathers them."""
    ap = parser("Run every canonical study and the sensitivity analysis.")
    ap.add_argument("--skip-sensitivity", action="store_true",
                    help="do not rerun the sensitivity analysis; report its last results")
    args = ap.parse_args(argv)
    _use_results_dir(args.results_dir)
    _check_posterior(args.posterior)
    t0 = time.perf_counter()
    index = Report(
        title="scamsim: the canonical studies",
        lead="Each study answers one policy question of MODEL.md §6 with a sweep of "
        f"replicated runs; numbers are means with {interval_kind(args.posterior)}.",
    )
    for study in STUDIES.values():
        rep = run_study(study, quick=args.quick, world=args.world,
                        replicates=args.replicates, jobs=args.jobs, posterior=args.posterior)
        s = index.section(study.title)
        s.paragraphs.append(study.question)
        s.paragraphs += rep.sections[0].paragraphs
        figs = [f for sec in rep.sections for f in sec.figures]
        if figs:
            s.figures.append(figs[0])
        s.paragraphs.append(f"Full report: {study.name}/report.html")
    folder = results() / "sensitivity"
    if not args.skip_sensitivity:
        folder = run_sensitivity(args.quick, args.jobs)
    sensitivity_section(index, folder)  # with --skip-sensitivity: the last results, if any
    path, _ = index.write(results())
    print(f"all studies: {path} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return path


def parser(description: str) -> argparse.ArgumentParser:
    """Command-line options shared by every study script."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK_REPLICATES} replicates on the teaching world, for a first look")
    ap.add_argument("--world", default=None, help="world (default: world, teaching if --quick)")
    ap.add_argument("--replicates", type=int, default=None,
                    help=f"replicates per scenario (default {FULL_REPLICATES})")
    ap.add_argument("--jobs", type=int, default=None, help="parallel workers (default: all)")
    ap.add_argument("--results-dir", default=None,
                    help="results root (default: $SCAMSIM_RESULTS_DIR, else ./results)")
    ap.add_argument("--posterior", action="store_true",
                    help="draw each replicate's parameters from the shipped posterior "
                         "(intervals then carry parameter uncertainty)")
    return ap


def _check_posterior(wanted: bool) -> None:
    """With --posterior, refuse in one line (exit 2) before any run if no sample is there."""
    if not wanted:
        return
    from sim.core.errors import ConfigError
    from sim.paramsets import posterior_sample

    try:
        posterior_sample()
    except ConfigError as err:
        print(err, file=sys.stderr)
        raise SystemExit(2) from None


def _use_results_dir(value: str | None) -> None:
    global RESULTS
    if value:
        RESULTS = Path(value)


def main(name: str, argv: list[str] | None = None) -> None:
    """Command line of one study."""
    study = STUDIES[name]
    args = parser(study.question).parse_args(argv)
    _use_results_dir(args.results_dir)
    _check_posterior(args.posterior)
    run_study(study, quick=args.quick, world=args.world, replicates=args.replicates,
              jobs=args.jobs, posterior=args.posterior)

