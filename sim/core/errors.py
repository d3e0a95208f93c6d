"""The exceptions users see for bad input and broken results, and the checks behind them."""

from __future__ import annotations

import math
import re
from typing import Any

from sim.core.timeline import parse_month

# Names that become folder names (scenario, world, sweep): no separators, no dots,
# so a name can never climb out of the results folder or out of configs/.
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


class ConfigError(ValueError):
    """A configuration value is unknown, of the wrong type or out of range.

    ``str(err)`` is one line naming the key and what is allowed.
    """

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = " ".join(str(problem).split())  # one line, whatever went in
        super().__init__(f"config error: {key} {self.problem}")


class RunFilesError(ValueError):
    """A run folder's files are missing, truncated or do not match its manifest.

    ``str(err)`` is one line naming the run and the file.
    """

    def __init__(self, run: str, problem: str) -> None:
        self.run = run
        self.problem = " ".join(str(problem).split())
        super().__init__(f"error: run {run}: {self.problem}")


class LeverWarning(UserWarning):
    """A lever that is legitimate but will not act (fully or partly) in this run."""


def show(value: Any, limit: int = 60) -> str:
    """A short, one-line rendering of a user's value for error messages."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and abs(value) >= 10**15:
        if abs(value) < 10**308:
            return f"{float(value):.3g}"
        # str() of a huge int is slow or refused (sys.set_int_max_str_digits).
        return f"a {int(value.bit_length() * 0.30103) + 1}-digit number"
    if isinstance(value, float) and math.isfinite(value) and abs(value) >= 1e15:
        return f"{value:.3g}"
    text = repr(value.item() if hasattr(value, "item") and not isinstance(value, str) else value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_value(key: str, value: Any, kind: type, lo: Any = None, hi: Any = None) -> Any:
    """Coerce and range-check one value; ConfigError naming ``key`` otherwise."""
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"must be true or false, got {show(value)}")
        return value
    if kind is int:
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or (isinstance(value, float) and not math.isfinite(value))
                or value != int(value)):
            raise ConfigError(key, f"must be an integer, got {show(value)}")
        value = int(value)
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, f"must be a number, got {show(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(key, f"must be a finite number, got {show(value)}")
        try:
            value = float(value)
        except OverflowError:  # an integer too large for a float
            problem = f"= {show(value)} is out of range; allowed {lo} to {hi}"
            raise ConfigError(key, problem) from None
    elif kind is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"must be a string, got {show(value)}")
        if "\x00" in value:
            raise ConfigError(key, "must not contain a NUL character")
        return value
    if lo is not None and not (lo <= value <= hi):
        raise ConfigError(key, f"= {show(value)} is out of range; allowed {lo} to {hi}")
    return value


def check_month(key: str, value: Any) -> str:
    """A calendar month 'YYYY-MM' (year 0001 to 9999); ConfigError naming ``key`` otherwise."""
    try:
        if not isinstance(value, str):
            raise ValueError
        parse_month(value)
    except ValueError:
        raise ConfigError(
            key, f"must be a month YYYY-MM (year 0001 to 9999), got {show(value)}"
        ) from None
    return value


def check_name(key: str, value: Any) -> str:
    """A name that becomes a folder name: letters, digits, - and _ only."""
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise ConfigError(
            key, f"= {show(value)} is not a valid name; use letters, digits, - and _ only "
            "(1 to 100 characters)"
        )
    return value
