"""docs/ODD.md must not go stale: parameter table, intervention kinds and scenarios."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from sim.core.interventions import REGISTRY
from sim.core.params import PARAM_NAMES, Params

ROOT = Path(__file__).parents[1]
ODD = ROOT / "docs" / "ODD.md"
SCENARIO_DIR = ROOT / "configs" / "scenario"


@pytest.fixture(scope="module")
def odd_text() -> str:
    return ODD.read_text(encoding="utf-8")


def _section(text: str, number: int) -> str:
    """Body of the top-level section ``## <number> ...`` up to the next ``## ``."""
    match = re.search(rf"^## {number}\b.*?$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/ODD.md has no section '## {number}'"
    return match.group(1)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _parameter_rows(text: str) -> list[tuple[str, str, str]]:
    """(name, default, range) of every row of the parameter table in section 10."""
    lines = [ln for ln in _section(text, 10).splitlines() if ln.lstrip().startswith("|")]
    assert len(lines) > 2, "section 10 has no Markdown table"
    header = [c.lower() for c in _cells(lines[0])]
    assert header[:4] == ["name", "default", "range", "meaning"], header
    assert set(lines[1].replace("|", "").strip()) <= set("-: "), "second line is not a separator"
    rows = []
    for line in lines[2:]:
        cells = _cells(line)
        assert len(cells) >= 4, f"short table row: {line!r}"
        rows.append((cells[0].strip("`"), cells[1], cells[2]))
    return rows


def _number(text: str) -> float:
    return float(text.strip().strip("`"))


def test_parameter_table_lists_every_parameter_in_order(odd_text):
    names = [name for name, _, _ in _parameter_rows(odd_text)]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    assert not duplicated, f"listed twice in docs/ODD.md: {duplicated}"
    assert set(names) == set(PARAM_NAMES), (
        f"missing from docs/ODD.md: {sorted(set(PARAM_NAMES) - set(names))}; "
        f"not parameters: {sorted(set(names) - set(PARAM_NAMES))}"
    )
    assert names == list(PARAM_NAMES), "the table is not in declaration order"


def test_parameter_table_defaults_and_ranges_match_the_code(odd_text):
    fields = {f.name: f for f in dataclasses.fields(Params)}
    for name, default, allowed in _parameter_rows(odd_text):
        f = fields[name]
        assert _number(default) == float(f.default), (
            f"{name}: docs say {default}, code default is {f.default!r}"
        )
        bounds = re.fullmatch(r"\[\s*([^,\]]+)\s*,\s*([^\]]+?)\s*\]", allowed.strip("`"))
        assert bounds, f"{name}: range {allowed!r} is not written as [lo, hi]"
        lo, hi = f.metadata["range"]
        assert (_number(bounds.group(1)), _number(bounds.group(2))) == (float(lo), float(hi)), (
            f"{name}: docs say {allowed}, code range is {(lo, hi)}"
        )


def test_every_intervention_kind_is_documented(odd_text):
    missing = [kind for kind in REGISTRY if f"`{kind}`" not in odd_text]
    assert not missing, f"intervention kinds not mentioned in docs/ODD.md: {missing}"


def test_every_scenario_is_documented(odd_text):
    scenarios = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
    assert scenarios, "no scenario configs found"
    missing = [name for name in scenarios if f"`{name}`" not in odd_text]
    assert not missing, f"scenarios not mentioned in docs/ODD.md: {missing}"


def test_series_table_matches_the_declaration(odd_text):
    from sim.core.series import SERIES

    rows = {}
    for line in _section(odd_text, 9).splitlines():
        cells = _cells(line)
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells
    assert list(rows) == [s.name for s in SERIES], "docs/ODD.md 9.1 series table is stale"
    for s in SERIES:
        _, dtype, unit, doc = rows[s.name]
        assert (dtype, unit, doc) == (s.dtype.__name__, s.unit, s.doc), s.name


def test_readme_layout_lists_every_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Layout$(.*?)(?=^## |\Z)", readme, re.M | re.S)
    assert match, "README.md has no '## Layout' section"
    layout = match.group(1)
    package = ROOT / "sim"
    missing = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if rel.name == "__init__.py" and rel.parent != Path("."):
            continue  # a layer's folder is listed by its name
        if rel.name not in layout:
            missing.append(rel.as_posix())
    assert not missing, f"modules missing from README's layout: {missing}"
