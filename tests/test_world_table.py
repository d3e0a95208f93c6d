"""Checks on the committed world table ``sim/data/world.csv`` and its build script."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

from sim.data.build_world import (
    COLUMNS,
    DEFAULT_FILES,
    DERIVED_COLUMNS,
    OC_VALUE_COLUMNS,
    PERCENTILE_COLUMNS,
    REGIONS,
    REQUIRED_COLUMNS,
    build_world,
    oc_name_to_iso3,
    read_oc,
    to_csv_text,
)

WORLD_CSV = Path(__file__).parents[1] / "sim" / "data" / "world.csv"

EXPECTED_REGIONS = {
    "East & South-East Asia",
    "South Asia",
    "Central Asia & Caucasus",
    "Middle East",
    "Africa",
    "Europe",
    "North America",
    "Central America & Caribbean",
    "South America",
    "Pacific",
}

# Published 2023 figures: WGI rule-of-law percentile, OC criminality, OC resilience.
MEKONG_FACTS = {
    "MMR": (6.1, 8.15, 1.63),
    "KHM": (23.6, 6.85, 3.63),
    "LAO": (22.6, 6.12, 3.46),
}


def _raw_data_dir() -> Path | None:
    env = os.environ.get("SCAMSIM_RAW_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).parents[2] / "shared" / "data")
    for candidate in candidates:
        if all((candidate / name).is_file() for name in DEFAULT_FILES.values()):
            return candidate
    return None


RAW_DIR = _raw_data_dir()
needs_raw = pytest.mark.skipif(
    RAW_DIR is None,
    reason="raw data not found: set SCAMSIM_RAW_DATA to a directory holding "
    + ", ".join(DEFAULT_FILES.values()),
)


@pytest.fixture(scope="module")
def world() -> pd.DataFrame:
    # keep_default_na=False: Namibia ("NA") and empty notes must stay strings.
    return pd.read_csv(WORLD_CSV, keep_default_na=False)


@pytest.fixture(scope="module")
def indexed(world: pd.DataFrame) -> pd.DataFrame:
    return world.set_index("iso3")


def test_shape_and_keys(world: pd.DataFrame) -> None:
    assert len(world) >= 180
    assert list(world.columns) == COLUMNS
    assert world["iso3"].is_unique
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in world["iso3"])
    assert list(world["iso3"]) == sorted(world["iso3"])


def test_required_values_present(world: pd.DataFrame) -> None:
    for column in REQUIRED_COLUMNS:
        values = world[column]
        assert values.notna().all(), column
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            assert (values.str.strip() != "").all(), column


def test_value_ranges(world: pd.DataFrame) -> None:
    assert world[PERCENTILE_COLUMNS].stack().between(0, 100).all()
    assert world[OC_VALUE_COLUMNS].stack().between(1, 10).all()
    assert world[DERIVED_COLUMNS].stack().between(0, 1).all()
    assert world["lat"].between(-90, 90).all()
    assert world["lon"].between(-180, 180).all()
    assert (world["gdp_usd"] > 0).all()
    assert world["wgi_year"].between(1996, 2100).all()
    assert world["gdp_year"].between(1960, 2100).all()


def test_regions(world: pd.DataFrame) -> None:
    assert set(REGIONS) == EXPECTED_REGIONS
    assert set(world["region"]) <= EXPECTED_REGIONS


@pytest.mark.parametrize("iso3", sorted(MEKONG_FACTS))
def test_mekong_facts(indexed: pd.DataFrame, iso3: str) -> None:
    rule_of_law, criminality, resilience = MEKONG_FACTS[iso3]
    row = indexed.loc[iso3]
    assert row["rule_of_law"] == pytest.approx(rule_of_law, abs=0.05)
    assert row["oc_criminality"] == pytest.approx(criminality, abs=0.005)
    assert row["oc_resilience"] == pytest.approx(resilience, abs=0.005)


def test_enforcement_capacity_ordering(indexed: pd.DataFrame) -> None:
    capacity = indexed["enforcement_capacity"]
    assert capacity["MMR"] < capacity.median()
    assert capacity["USA"] >= capacity.quantile(0.9)


@needs_raw
def test_build_reproduces_committed_table() -> None:
    assert RAW_DIR is not None
    paths = {key: RAW_DIR / name for key, name in DEFAULT_FILES.items()}
    built = build_world(**paths)
    committed = WORLD_CSV.read_bytes().decode("utf-8")
    assert to_csv_text(built) == committed


@needs_raw
def test_every_oc_country_maps_to_one_iso3() -> None:
    assert RAW_DIR is not None
    oc = read_oc(RAW_DIR / DEFAULT_FILES["oc"])
    codes = {name: oc_name_to_iso3(name)[0] for name in oc["Country"]}
    unmatched = [name for name, code in codes.items() if code is None]
    assert not unmatched
    assert len(codes) == len(oc)
    assert len(set(codes.values())) == len(oc)
