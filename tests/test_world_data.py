"""Hand-computed checks of the world-data building blocks and the monthly look-up."""

from __future__ import annotations

import timeit

import numpy as np
import pandas as pd
import pytest

from sim.config import load_group
from sim.core.world import DERIVED, VARYING, World, load_table, month_index
from sim.data.build_world import (
    WorldBuildError,
    _at_years,
    _fill_labels,
    friction_of,
    indicators,
)


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("-1", 0.0),  # own country
        ("90", 0.0),  # visa-free days
        ("360", 0.0),
        ("visa free", 0.0),
        ("eta", 0.25),
        ("visa on arrival", 0.25),
        ("e-visa", 0.5),
        ("visa required", 1.0),
        ("no admission", 1.0),
    ],
)
def test_friction_mapping_2025(requirement: str, expected: float) -> None:
    assert friction_of(requirement, 2025) == expected


@pytest.mark.parametrize(
    ("code", "expected"), [("-1", 0.0), ("3", 0.0), ("2", 0.25), ("1", 0.375), ("0", 1.0)]
)
def test_friction_mapping_2019(code: str, expected: float) -> None:
    assert friction_of(code, 2019) == expected


def test_unknown_requirement_stops_the_build() -> None:
    with pytest.raises(WorldBuildError):
        friction_of("covid ban", 2025)
    with pytest.raises(WorldBuildError):
        friction_of("4", 2019)


def test_yearly_interpolation_and_holding() -> None:
    obs = pd.DataFrame({2021: [2.0, np.nan], 2023: [6.0, 5.0]}, index=["A", "B"])
    at = _at_years(obs, [2019, 2021, 2022, 2023, 2025])
    assert at.loc["A"].tolist() == [2.0, 2.0, 4.0, 6.0, 6.0]  # held, observed, midpoint
    assert at.loc["B"].tolist() == [5.0] * 5  # a single observation is held everywhere
    labels = _fill_labels(obs, [2019, 2022, 2023, 2025], "oc")
    assert labels.loc["A"].tolist() == ["oc 2021", "oc 2021-2023", "", "oc 2023"]
    assert labels.loc["B"].tolist() == ["oc 2023", "oc 2023", "", "oc 2023"]


def _ingredients(**overrides: float) -> pd.DataFrame:
    base = {
        "rule_of_law": 40.0,
        "regulatory_quality": 60.0,
        "control_of_corruption": 50.0,
        "political_stability": 50.0,
        "government_effectiveness": 50.0,
        **dict.fromkeys(
            [
                "oc_cyber_crimes",
                "oc_financial_crimes",
                "oc_human_trafficking",
                "oc_mafia_groups",
                "oc_criminal_networks",
                "oc_foreign_actors",
                "oc_state_embedded",
                "oc_private_sector",
                "oc_law_enforcement",
                "oc_international_cooperation",
                "oc_anti_money_laundering",
            ],
            5.5,
        ),
        "gdp_usd": 10**10.75,  # size_gdp = 0.5
        "population": 10**6.6,  # size_pop = 0.5
        "internet_share": 0.6,
        "broadband_per100": 40.0,  # full score
        "chinese_finance_gdp_share": 0.1,  # 0.5
        "china_born_share": 0.005,  # 0.5
        "official_chinese": 0.0,
        "visa_chn": 1.0,
        "visa_tha": 0.0,
        "visa_vnm": 0.5,
        "visa_mys": 0.25,
    }
    base.update(overrides)
    return pd.DataFrame({k: [v] for k, v in base.items()})


def test_indicators_hand_computed() -> None:
    out = indicators(_ingredients()).iloc[0]
    # 1 - (0.4*1 + 0.2*0 + 0.2*0.5 + 0.2*0.25) = 0.45
    assert out["manager_entry"] == pytest.approx(0.45)
    assert out["cooperation"] == pytest.approx(0.5)
    # mean(1 - 0.4, 1 - 0.6, 1 - 0.5)
    assert out["regulatory_weakness"] == pytest.approx(0.5)
    # size 0.5 x skill mean(0.5, 0.5)
    assert out["enforcement_capacity"] == pytest.approx(0.25)
    # mean(actors 0.5, markets 0.5, chinese mean(0.5, 0.5, 0))
    assert out["criminal_ties"] == pytest.approx((0.5 + 0.5 + 1 / 3) / 3, abs=1e-4)
    assert out["protection"] == pytest.approx(0.5)
    # mean(0.6, 1.0, 0.5, 0.45)
    assert out["operability"] == pytest.approx(0.6375, abs=1e-4)


def test_indicators_are_clipped_to_unit_interval() -> None:
    out = indicators(_ingredients(gdp_usd=1e15, population=1e10, broadband_per100=90.0))
    assert out.stack().between(0, 1).all()
    assert out.at[0, "enforcement_capacity"] == pytest.approx(0.5)  # size capped at 1


@pytest.fixture(scope="module")
def world() -> World:
    return World.from_config(load_group("world", "world"))


def _year_rows(world: World, year: int) -> pd.DataFrame:
    years = load_table("world_years")
    return years[years["year"] == year].set_index("iso3").loc[world.iso3]


def test_month_index() -> None:
    assert month_index("2023-01") == 2023 * 12
    assert month_index("2023-12") - month_index("2023-01") == 11
    for bad in ["2023-13", "2023/01", "23-01", "2023-1"]:
        with pytest.raises(ValueError):
            month_index(bad)


def test_derived_at_interpolates_between_mid_years(world: World) -> None:
    y22, y23 = _year_rows(world, 2022), _year_rows(world, 2023)
    exact = world.derived_at("2022-07")
    half = world.derived_at("2023-01")  # six months after 2022-07: the midpoint
    quarter = world.derived_at("2022-10")
    assert set(exact) == set(DERIVED)
    for name in DERIVED:
        assert exact[name] == pytest.approx(y22[name].to_numpy())
        assert half[name] == pytest.approx(0.5 * (y22[name] + y23[name]).to_numpy())
        assert quarter[name] == pytest.approx((0.75 * y22[name] + 0.25 * y23[name]).to_numpy())


def test_derived_at_is_held_outside_the_table(world: World) -> None:
    first, last = _year_rows(world, int(world.years[0])), _year_rows(world, int(world.years[-1]))
    early, late = world.derived_at("1980-01"), world.derived_at("2040-06")
    for name in DERIVED:
        assert early[name] == pytest.approx(first[name].to_numpy())
        assert late[name] == pytest.approx(last[name].to_numpy())
        # The static attributes are the latest-year values.
        assert late[name] == pytest.approx(getattr(world, name), abs=1e-4)


def test_varying_at_and_fresh_arrays(world: World) -> None:
    values = world.varying_at("2024-03")
    assert set(values) == set(DERIVED) | set(VARYING)
    assert (values["population"] > 0).all()
    values["operability"][:] = -1.0  # the caller may scribble on its copy
    assert (world.derived_at("2024-03")["operability"] >= 0).all()


def test_derived_at_is_fast(world: World) -> None:
    calls = 2000
    seconds = timeit.timeit(lambda: world.derived_at("2024-05"), number=calls)
    assert seconds / calls < 50e-6


def test_new_world_attributes_are_aligned(world: World) -> None:
    for name in [
        "population",
        "internet_share",
        "gdp_per_capita_usd",
        "cooperation",
        "manager_entry",
    ]:
        values = getattr(world, name)
        assert values.shape == (world.n,) and np.isfinite(values).all(), name
    for name in ["internet_share", "cooperation", "manager_entry"]:
        assert ((getattr(world, name) >= 0) & (getattr(world, name) <= 1)).all(), name
    f = world.travel_friction
    assert f.shape == (world.n, world.n)
    assert (np.diag(f) == 0).all() and ((f >= 0) & (f <= 1)).all()
    chn, tha = world.index["CHN"], world.index["THA"]
    assert f[chn, tha] == 0.0  # visa-free for Chinese passports in Thailand (2025)


def test_teaching_world_takes_its_slice_of_the_tables(world: World) -> None:
    small = World.from_config(load_group("world", "teaching"))
    rows = [world.index[c] for c in small.iso3]
    assert np.array_equal(small.travel_friction, world.travel_friction[np.ix_(rows, rows)])
    for name, values in small.derived_at("2023-04").items():
        assert values == pytest.approx(world.derived_at("2023-04")[name][rows])
