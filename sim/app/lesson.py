"""The numbers of the lesson plan (docs/teaching.md), computed from the model.

``python -m sim.app.lesson`` prints the table that docs/teaching.md quotes
between its ``lesson-table`` markers (``--write docs/teaching.md`` replaces it
there): for each lesson preset, what the page
shows at 2024-07 and 2027-07, as the middle of seeds 1-5 ± a tolerance that
covers all five. The browser test reads the same numbers from the page for
seeds 1-5 and checks them against the table, so after a model change the
table is regenerated, never edited by hand.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sim.app.adapter import PRESETS, start_preset

MONTHS = ("2024-07", "2027-07")
SEEDS = (1, 2, 3, 4, 5)
COLUMNS = {"myanmar": "Myanmar", "hubs": "4 hubs", "rest": "rest of world",
           "total": "total", "countries": "countries"}
BEGIN, END = "<!-- lesson-table: begin -->", "<!-- lesson-table: end -->"


@dataclass(frozen=True)
class Expected:
    """One row of the table: a preset at a month, each column as (value, tolerance)."""

    preset: str
    month: str
    values: dict[str, tuple[float, float]]


def _nice(x: float) -> float:
    exp = 10.0 ** math.floor(math.log10(max(x, 1.0)))
    return next(f * exp for f in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if f * exp >= x)


def _cell(column: str, values: Sequence[int]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if column == "countries":
        mid = round((lo + hi) / 2)
        return mid, max(1, math.ceil(max(hi - mid, mid - lo) * 1.25))
    mid = round((lo + hi) / 2, -3)
    return mid, _nice(max(hi - mid, mid - lo) * 1.25 + 500)


def compute(seeds: Sequence[int] = SEEDS) -> list[Expected]:
    """Run every preset for ``seeds`` and summarise the page's numbers at :data:`MONTHS`."""
    rows = []
    for preset in PRESETS:
        seen: dict[str, dict[str, list[int]]] = {m: {c: [] for c in COLUMNS} for m in MONTHS}
        for seed in seeds:
            model = start_preset(preset, seed)
            for month in MONTHS:
                while model.steps < model.month_step(month):
                    model.step()
                summary = model.summary()
                for c in COLUMNS:
                    seen[month][c].append(summary[c])
        for month in MONTHS:
            rows.append(Expected(preset.key, month,
                                 {c: _cell(c, v) for c, v in seen[month].items()}))
    return rows


def _fmt(value: float) -> str:
    return f"{int(value):,}"


def markdown_table(rows: Sequence[Expected]) -> str:
    """The table as docs/teaching.md shows it, between its markers."""
    labels = {p.key: p.label for p in PRESETS}
    head = ["preset", "month", *COLUMNS.values()]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [f"{_fmt(v)} ± {_fmt(t)}" for v, t in r.values.values()]
        lines.append(f"| {labels[r.preset]} | {r.month} | " + " | ".join(cells) + " |")
    return "\n".join([BEGIN, *lines, END])


def parse(text: str) -> list[Expected]:
    """The rows of the table in ``text`` (docs/teaching.md)."""
    body = text.split(BEGIN, 1)[1].split(END, 1)[0]
    keys = {p.label: p.key for p in PRESETS}
    rows = []
    for line in body.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        pairs = [re.fullmatch(r"([\d,]+) ± ([\d,]+)", c) for c in cells[2:]]
        values = {c: (float(m[1].replace(",", "")), float(m[2].replace(",", "")))
                  for c, m in zip(COLUMNS, pairs, strict=True) if m}
        rows.append(Expected(keys[cells[0]], cells[1], values))
    return rows


def write(path: str) -> None:
    """Replace the table between the markers of ``path`` (docs/teaching.md) in place."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + markdown_table(compute()) + tail)


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--write"] and len(sys.argv) == 3:
        write(sys.argv[2])
    else:
        print(markdown_table(compute()))
