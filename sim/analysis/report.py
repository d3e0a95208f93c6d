"""Self-contained reports: one HTML file (figures embedded) and a Markdown twin.

A report is a title, a lead paragraph and sections; a section holds paragraphs,
figures (PNG/GIF files) and tables (DataFrames). The HTML embeds every figure
as a data URI, so it can be mailed or archived on its own; the Markdown links
the same files by relative path.
"""

from __future__ import annotations

import base64
import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.results import atomic_write_text, git_revision, package_version

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.7em;margin-bottom:.2em} h2{margin-top:1.8em;border-bottom:1px solid #ddd}
.lead{font-size:1.08em;color:#333} .meta{color:#666;font-size:.85em}
figure{margin:1.2em 0} figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}
table{border-collapse:collapse;font-size:.9em;margin:1em 0}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f4f4f4} td:first-child,th:first-child{text-align:left}
"""


@dataclass
class Section:
    """A heading with paragraphs, figures and tables, in that order."""

    heading: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[tuple[Path, str]] = field(default_factory=list)  # (file, caption)
    tables: list[tuple[pd.DataFrame, str]] = field(default_factory=list)  # (table, caption)


@dataclass
class Report:
    """A report to write as HTML and Markdown into one folder."""

    title: str
    lead: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, heading: str) -> Section:
        """Add and return a new section."""
        s = Section(heading)
        self.sections.append(s)
        return s

    def figures(self) -> list[Path]:
        """Every figure file referenced."""
        return [f for s in self.sections for f, _ in s.figures]

    def write(self, folder: str | os.PathLike, stem: str = "report") -> tuple[Path, Path]:
        """Write ``<stem>.html`` and ``<stem>.md`` into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        html_path, md_path = folder / f"{stem}.html", folder / f"{stem}.md"
        atomic_write_text(html_path, self.to_html())
        atomic_write_text(md_path, self.to_markdown(folder))
        return html_path, md_path

    def _meta(self) -> str:
        rev = git_revision() or "no git revision"
        return f"scamsim {package_version()} ({rev})"

    def to_markdown(self, folder: Path) -> str:
        """Markdown with figures linked relative to ``folder``."""
        out = [f"# {self.title}", "", f"*{self._meta()}*", ""]
        if self.lead:
            out += [self.lead, ""]
        for s in self.sections:
            out += [f"## {s.heading}", ""]
            for p in s.paragraphs:
                out += [p, ""]
            for fig, cap in s.figures:
                rel = os.path.relpath(fig, folder)
                out += [f"![{cap}]({rel})", "", f"*{cap}*", ""]
            for table, cap in s.tables:
                out += [f"*{cap}*", "", markdown_table(table), ""]
        return "\n".join(out).rstrip() + "\n"

    def to_html(self) -> str:
        """One HTML document with every figure embedded."""
        esc = html.escape
        body = [f"<h1>{esc(self.title)}</h1>", f'<p class="meta">{esc(self._meta())}</p>']
        if self.lead:
            body.append(f'<p class="lead">{esc(self.lead)}</p>')
        for s in self.sections:
            body.append(f"<h2>{esc(s.heading)}</h2>")
            body += [f"<p>{esc(p)}</p>" for p in s.paragraphs]
            for fig, cap in s.figures:
                mime = "image/gif" if fig.suffix.lower() == ".gif" else "image/png"
                data = base64.b64encode(Path(fig).read_bytes()).decode()
                body.append(
                    f'<figure><img src="data:{mime};base64,{data}" alt="{esc(cap)}">'
                    f"<figcaption>{esc(cap)}</figcaption></figure>"
                )
            for table, cap in s.tables:
                body.append(f"<p><em>{esc(cap)}</em></p>")
                body.append(table.to_html(index=False, border=0, escape=True))
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(self.title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(body)
            + "\n</body></html>\n"
        )


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency)."""
    cols = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table.itertuples(index=False):
        cells = [str(v).replace("|", "\\|") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def fmt_ci(mean: float, low: float, high: float, digits: int = 2, pct: bool = False) -> str:
    """'mean [low, high]' (as percentages if ``pct``); 'n/a' when undefined."""
    if mean is None or pd.isna(mean):
        return "n/a"
    k = 100.0 if pct else 1.0
    unit = "%" if pct else ""
    if low is None or pd.isna(low):
        return f"{mean * k:.{digits}f}{unit}"
    return f"{mean * k:.{digits}f}{unit} [{low * k:.{digits}f}, {high * k:.{digits}f}]"


KEY_METRICS = (
    "wdq",
    "total_net_effect",
    "global_change",
    "recovery_months",
    "active_jurisdictions_end",
    "new_jurisdictions_end",
    "workers_end",
    "victim_losses_esea_per_year_usd",
    "rescued_total",
)


def run_report(directory: str | os.PathLike) -> tuple[Path, Path]:
    """Report of one run folder: its figure, its metrics and its settings."""
    from sim.results import read_run
    from sim.viz.run_figures import FIGURE_CAPTIONS, plot_run

    d = Path(directory)
    result = read_run(d)
    s = result.summary
    rep = Report(
        title=f"scamsim run: {s['scenario']} on {s['world']}, seed {s['seed']}",
        lead=str(result.config.get("scenario", {}).get("description", "")),
    )
    sec = rep.section("Activity")
    for fig in plot_run(d):
        sec.figures.append((fig, FIGURE_CAPTIONS.get(fig.name, fig.stem)))
    rows = [{"metric": k, "value": s.get(k)} for k in KEY_METRICS if k in s]
    rows.append({"metric": "new regions", "value": ", ".join(s.get("new_regions", []))})
    rep.section("Metrics").tables.append((pd.DataFrame(rows), "summary.json (selection)"))
    settings = pd.DataFrame(
        [{"setting": k, "value": v} for k, v in result.config.items() if k != "params"]
        + [{"setting": f"params.{k}", "value": v} for k, v in result.config["params"].items()]
    )
    settings["value"] = settings["value"].astype(str)
    rep.section("Settings").tables.append((settings, "resolved_config.yaml"))
    return rep.write(d)


def sweep_report(directory: str | os.PathLike) -> tuple[Path, Path]:
    """Report of a sweep folder: the standard figures and the per-condition metrics."""
    from sim.analysis.sweep import aggregate
    from sim.viz.figures import sweep_figures

    d = Path(directory)
    if not (d / "runs.parquet").exists():
        aggregate(d)
    record = json.loads((d / "sweep.json").read_text()) if (d / "sweep.json").exists() else {}
    rep = Report(
        title=f"scamsim sweep: {d.name}",
        lead=f"{record.get('runs', '?')} runs in {record.get('conditions', '?')} condition(s); "
        "means with 95% bootstrap confidence intervals over replicates.",
    )
    sec = rep.section("Figures")
    for fig in sweep_figures(d):
        sec.figures.append((fig, fig.stem.replace("_", " ")))
    summary = pd.read_csv(d / "summary.csv")
    rows = []
    for _, r in summary.iterrows():
        row = {"condition": r["condition"], "runs": int(r["runs"])}
        for m in KEY_METRICS:
            if f"{m}_mean" in r:
                row[m] = fmt_ci(r[f"{m}_mean"], r[f"{m}_ci_low"], r[f"{m}_ci_high"])
        rows.append(row)
    rep.section("Metrics by condition").tables.append(
        (pd.DataFrame(rows), "Mean [95% bootstrap CI] (summary.csv)")
    )
    return rep.write(d)
