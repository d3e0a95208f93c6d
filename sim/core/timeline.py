"""Calendar months <-> model steps (step 0 is the start month)."""

from __future__ import annotations

import re
from datetime import date

import numpy as np

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> tuple[int, int]:
    """Parse 'YYYY-MM' into (year, month); ValueError if malformed."""
    m = _MONTH.match(str(text).strip())
    # Year 0000 does not exist in the calendar (datetime refuses it).
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise ValueError(f"not a month in YYYY-MM form: {text!r}")
    return int(m.group(1)), int(m.group(2))


def month_index(start: str, when: str) -> int:
    """Number of months from ``start`` to ``when`` (the step at which ``when`` begins)."""
    y0, m0 = parse_month(start)
    y1, m1 = parse_month(when)
    return (y1 - y0) * 12 + (m1 - m0)


def month_label(start: str, offset: int) -> str:
    """'YYYY-MM' of the month ``offset`` months after ``start`` (negative allowed)."""
    y0, m0 = parse_month(start)
    k = y0 * 12 + (m0 - 1) + offset
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def step_dates(start: str, steps: int) -> np.ndarray:
    """First day of the month of every step 0..steps, as numpy datetime64[D]."""
    y0, m0 = parse_month(start)
    first = np.datetime64(date(y0, m0, 1), "M")
    return (first + np.arange(steps + 1)).astype("datetime64[D]")
