"""Checks on the committed world tables in ``sim/data`` and their build script."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
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
    VARYING_COLUMNS,
    VISA_COLUMNS,
    YEAR_COLUMNS,
    YEARS,
    build_tables,
    companion_paths,
    friction_csv_text,
    oc_name_to_iso3,
    read_oc,
    to_csv_text,
    years_csv_text,
)

WORLD_CSV = Path(__file__).parents[1] / "sim" / "data" / "world.csv"
YEARS_CSV, FRICTION_CSV = companion_paths(WORLD_CSV)

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
    share_columns = ["internet_share", "manager_entry", "cooperation", "china_born_share"]
    assert world[share_columns + list(VISA_COLUMNS.values())].stack().between(0, 1).all()
    assert world["lat"].between(-90, 90).all()
    assert world["lon"].between(-180, 180).all()
    assert (world["gdp_usd"] > 0).all()
    assert (world["population"] >= 5_000).all()  # Tuvalu, the smallest member, ~10,000
    assert world["population"].max() < 2e9
    assert world["gdp_per_capita_usd"].between(100, 300_000).all()
    assert world["wgi_year"].between(1996, 2100).all()
    assert world["gdp_year"].between(1960, 2100).all()
    assert set(world["oc_year"]) == {2023}
    assert set(world["visa_year"]) == {2025}
    assert world["internet_year"].between(2000, 2100).all()
    assert set(world["official_english"]) <= {0, 1}
    assert (world["chinese_finance_usd"] >= 0).all()


def test_values_carry_their_year(world: pd.DataFrame) -> None:
    # Every value column from a dated source has a year column next to it.
    for value, year in [
        ("gdp_usd", "gdp_year"),
        ("population", "population_year"),
        ("internet_share", "internet_year"),
        ("broadband_per100", "broadband_year"),
        ("china_born", "china_born_year"),
        ("visa_chn", "visa_year"),
    ]:
        assert COLUMNS.index(year) > COLUMNS.index(value)
        assert world[year].notna().all()
    assert set(world["chinese_finance_years"]) == {"2000-2021"}


def test_manager_entry_formula(indexed: pd.DataFrame) -> None:
    # manager_entry = 1 - (0.4 CHN + 0.2 THA + 0.2 VNM + 0.2 MYS passport friction).
    visa = indexed[list(VISA_COLUMNS.values())].to_numpy()
    expected = 1 - visa @ np.array([0.4, 0.2, 0.2, 0.2])
    assert indexed["manager_entry"].to_numpy() == pytest.approx(expected, abs=1e-4)
    # China is the managers' own country for the heaviest passport.
    assert indexed.at["CHN", "visa_chn"] == 0.0


def test_derived_indicators_are_not_near_duplicates(world: pd.DataFrame) -> None:
    r = world[DERIVED_COLUMNS].corr().to_numpy()
    off = np.abs(r[~np.eye(len(DERIVED_COLUMNS), dtype=bool)])
    assert off.max() < 0.8, world[DERIVED_COLUMNS].corr().round(3)


def test_year_table_matches_world_table(world: pd.DataFrame) -> None:
    years = pd.read_csv(YEARS_CSV, keep_default_na=False)
    assert list(years.columns) == YEAR_COLUMNS
    assert sorted(set(years["year"])) == list(YEARS)
    assert len(years) == len(world) * len(YEARS)
    assert set(years["iso3"]) == set(world["iso3"])
    values = years[[*DERIVED_COLUMNS, *VARYING_COLUMNS]]
    assert values.notna().all().all()
    assert (
        years[[*DERIVED_COLUMNS, "cooperation", "manager_entry", "internet_share"]]
        .stack()
        .between(0, 1)
        .all()
    )
    # Every ingredient is held after its last year, so the last year is the static table.
    last = years[years["year"] == YEARS[-1]].set_index("iso3").loc[world["iso3"]]
    columns = [*DERIVED_COLUMNS, "cooperation", "manager_entry", "internet_share"]
    assert last[columns].to_numpy() == pytest.approx(world[columns].to_numpy(), abs=1e-4)


def test_travel_friction_matrix(world: pd.DataFrame) -> None:
    friction = pd.read_csv(FRICTION_CSV, keep_default_na=False).set_index("passport")
    assert list(friction.index) == list(world["iso3"])
    assert list(friction.columns) == list(world["iso3"])
    values = friction.to_numpy(float)
    assert set(np.unique(values)) <= {0.0, 0.25, 0.5, 1.0}
    assert (np.diag(values) == 0).all()
    # The manager passports' rows are the visa columns of the world table.
    for passport, column in VISA_COLUMNS.items():
        assert friction.loc[passport].to_numpy() == pytest.approx(world[column].to_numpy())


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
def test_build_reproduces_committed_tables() -> None:
    assert RAW_DIR is not None
    pytest.importorskip("xlrd", reason="the build reads CEPII's .xls with xlrd")
    paths = {key: RAW_DIR / name for key, name in DEFAULT_FILES.items()}
    built = build_tables(paths)
    assert to_csv_text(built.world) == WORLD_CSV.read_bytes().decode("utf-8")
    assert years_csv_text(built.years) == YEARS_CSV.read_bytes().decode("utf-8")
    assert friction_csv_text(built.friction) == FRICTION_CSV.read_bytes().decode("utf-8")


@needs_raw
def test_every_oc_country_maps_to_one_iso3() -> None:
    assert RAW_DIR is not None
    for key, edition in [("oc", 2023), ("oc2021", 2021)]:
        oc = read_oc(RAW_DIR / DEFAULT_FILES[key], edition)
        codes = {name: oc_name_to_iso3(name)[0] for name in oc["Country"]}
        unmatched = [name for name, code in codes.items() if code is None]
        assert not unmatched
        assert len(codes) == len(oc)
        assert len(set(codes.values())) == len(oc)
