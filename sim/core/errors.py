"""The one exception users see for bad input."""

from __future__ import annotations

from typing import Any

from sim.core.timeline import parse_month


class ConfigError(ValueError):
    """A configuration value is unknown, of the wrong type or out of range.

    ``str(err)`` is one line naming the key and what is allowed.
    """

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"config error: {key} {problem}")


def check_value(key: str, value: Any, kind: type, lo: Any = None, hi: Any = None) -> Any:
    """Coerce and range-check one value; ConfigError naming ``key`` otherwise."""
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"must be true or false, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise ConfigError(key, f"must be an integer, got {value!r}")
        value = int(value)
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, f"must be a number, got {value!r}")
        value = float(value)
    elif kind is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"must be a string, got {value!r}")
        return value
    if lo is not None and not (lo <= value <= hi):
        raise ConfigError(key, f"= {value} is out of range; allowed {lo} to {hi}")
    return value


def check_month(key: str, value: str) -> str:
    """A calendar month 'YYYY-MM'; ConfigError naming ``key`` otherwise."""
    try:
        parse_month(value)
    except ValueError:
        raise ConfigError(key, f"must be a month YYYY-MM, got {value!r}") from None
    return value
