"""Build the committed world tables in ``sim/data`` from raw public data.

The raw files are read in their official formats from the raw data folder given on the
command line (they are not part of the project). Three tables are written:

* ``world.csv``: one row per country (the UN member states in both the WGI and the OC
  Index), every published value with its year, and the derived indicators;
* ``world_years.csv``: the time-varying indicators per country and calendar year
  (``YEARS``), which the model interpolates by month;
* ``world_travel_friction.csv``: the passport x destination visa friction matrix (2025).

Sources: World Bank WGI (2024 update), GI-TOC Global Organized Crime Index 2021 and
2023, WDI GDP, population, internet use (ITU) and fixed broadband, the passport index
(2019 and 2025 snapshots), AidData GCDF 3.0, UN DESA International Migrant Stock 2024,
CEPII GeoDist languages and the world-countries-centroids v1 file. See docs/data.md.

Usage::

    python -m sim.data.build_world --data-dir DIR --out sim/data/world.csv
    python -m sim.data.build_world --data-dir DIR --wgi OTHER_WGI.csv   # override one file

Everything dropped, unmatched or imputed is printed in a report.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry

SOURCE = (
    "WGI 2024 update; GI-TOC OC Index 2021+2023; WDI GDP, SP.POP.TOTL, IT.NET.BBND.P2; "
    "ITU internet use via OWID; Passport Index 2019-12+2025-01; AidData GCDF 3.0; "
    "UN DESA IMS 2024; CEPII GeoDist; world-countries-centroids v1"
)

# Key -> file path inside the raw data folder (the folder's own layout).
DEFAULT_FILES = {
    "wgi": "wgi_1996_2023.csv",
    "oc": "global_oc_index_2023.csv",
    "gdp": "wb_gdp_current_usd.csv",
    "centroids": "country_centroids.csv",
    "oc2021": "extra/global_oc_index_2021/global_oc_index_2021_dataset_from_xlsx.csv",
    "population": "extra/wb_population_sp_pop_totl/population.csv",
    "internet": "extra/internet_users_itu_wdi/share-of-individuals-using-the-internet.csv",
    "broadband": "extra/internet_users_itu_wdi/wdi_it.net.bbnd.p2/data.csv",
    "passport": "extra/passport_index/passport-index-tidy-iso3.csv",
    "passport2019": "extra/passport_index/legacy_2019-12-17/passport-index-tidy-iso3.csv",
    "gcdf": "extra/aiddata_gcdf3_country_commitments/gcdf_country_commitments_from_rda.csv",
    "migrants": "extra/un_desa_migrant_stock_2024/undesa_stocks_2024_from_rda.csv",
    "cepii": "extra/cepii_geo/geo_cepii.xls",
}

DEFAULT_OUT = Path(__file__).with_name("world.csv")

# Calendar years of world_years.csv. The model starts in 2023; earlier years serve
# history runs and calibration. Outside its data range an ingredient is held constant.
YEARS = tuple(range(2000, 2026))

# WGI indicator code -> column; dict order is the column order in the table.
WGI_INDICATORS = {
    "rl": "rule_of_law",
    "rq": "regulatory_quality",
    "cc": "control_of_corruption",
    "pv": "political_stability",
    "ge": "government_effectiveness",
}

# The WGI still uses a few pre-ISO World Bank codes; without this they would not
# join with the OC Index and would be excluded as "WGI only".
WGI_CODE_FIXES = {
    "ADO": "AND",  # Andorra
    "ROM": "ROU",  # Romania
    "ZAR": "COD",  # Congo, Dem. Rep.
    "TMP": "TLS",  # Timor-Leste
    "WBG": "PSE",  # West Bank and Gaza
    "KSV": "XKX",  # Kosovo (user-assigned code, as in WDI)
}

# OC Index header (normalised: trailing commas and " avg" stripped) -> column. The 2021
# edition publishes the averages without " avg" and lacks the three 2023-only indicators.
OC_COLUMNS = {
    "Criminality": "oc_criminality",
    "Cyber-dependent crimes": "oc_cyber_crimes",
    "Financial crimes": "oc_financial_crimes",
    "Human trafficking": "oc_human_trafficking",
    "Mafia-style groups": "oc_mafia_groups",
    "Criminal networks": "oc_criminal_networks",
    "State-embedded actors": "oc_state_embedded",
    "Foreign actors": "oc_foreign_actors",
    "Private sector actors": "oc_private_sector",
    "Resilience": "oc_resilience",
    "Law enforcement": "oc_law_enforcement",
    "International cooperation": "oc_international_cooperation",
    "Anti-money laundering": "oc_anti_money_laundering",
}
OC_2023_ONLY = ("Cyber-dependent crimes", "Financial crimes", "Private sector actors")
OC_EDITIONS = (2021, 2023)

# Passport requirement -> travel friction in [0, 1]. 0: no barrier (own country or
# visa-free for any number of days); an electronic travel authorisation or a visa on
# arrival is a formality at the border or online (0.25); an e-visa must be applied
# for and can be refused (0.5); a consular visa or no admission is a real barrier (1).
FRICTION_2025 = {
    "-1": 0.0,
    "visa free": 0.0,
    "eta": 0.25,
    "visa on arrival": 0.25,
    "e-visa": 0.5,
    "visa required": 1.0,
    "no admission": 1.0,
}
# The 2019 snapshot codes eTA and e-visa together (code 1): the midpoint of the two.
FRICTION_2019 = {"-1": 0.0, "3": 0.0, "2": 0.25, "1": 0.375, "0": 1.0}
PASSPORT_YEARS = (2019, 2025)

# Whose entry matters: compound managers and their staff are mostly Chinese nationals,
# with Thai, Vietnamese and Malaysian (often ethnic Chinese) nationals in the ranks
# (UNODC 2023, 2024; USIP 2024). Chinese passports get the largest weight.
MANAGER_PASSPORTS = {"CHN": 0.4, "THA": 0.2, "VNM": 0.2, "MYS": 0.2}
VISA_COLUMNS = {code: f"visa_{code.lower()}" for code in MANAGER_PASSPORTS}

# CEPII GeoDist still uses a few old codes; Serbia and Montenegro share one row.
CEPII_CODE_FIXES = {"ZAR": ["COD"], "ROM": ["ROU"], "TMP": ["TLS"], "YUG": ["SRB", "MNE"]}
# Members missing from geo_cepii: official languages from their constitutions.
LANGUAGE_FIXES = {
    "LIE": ("German",),
    "MCO": ("French",),
    "SSD": ("English",),
}

# Names pycountry does not resolve (or resolves wrongly), keyed by _name_key(). The OC
# Index CSV writes "Dem. Rep." as "Dem, Rep," so punctuation is ignored in the key.
OC_NAME_ALIASES = {
    "korea dpr": "PRK",
    "korea dem rep": "PRK",
    "korea dem people s rep": "PRK",
    "north korea": "PRK",
    "korea rep": "KOR",
    "south korea": "KOR",
    "congo dem rep": "COD",
    "democratic republic of the congo": "COD",
    "congo rep": "COG",
    "republic of the congo": "COG",
    "st kitts and nevis": "KNA",
    "st lucia": "LCA",
    "st vincent and the grenadines": "VCT",
    "micronesia federated states of": "FSM",
    "micronesia fed sts": "FSM",
    "turkey": "TUR",
    "turkiye": "TUR",
    "cote d ivoire": "CIV",
    "ivory coast": "CIV",
    "cabo verde": "CPV",
    "cape verde": "CPV",
    "swaziland": "SWZ",
    "eswatini": "SWZ",
    "timor leste": "TLS",
    "east timor": "TLS",
    "laos": "LAO",
    "lao pdr": "LAO",
}

# pycountry's official names for these are inverted or long ("Korea, Republic of").
DISPLAY_NAMES = {
    "BRN": "Brunei",
    "COD": "DR Congo",
    "COG": "Republic of the Congo",
    "FSM": "Micronesia",
    "KOR": "South Korea",
    "PRK": "North Korea",
    "PSE": "Palestine",
    "RUS": "Russia",
}

# OC Index "Region" (published string) -> model region.
REGION_GROUPS = {
    "Eastern Asia": "East & South-East Asia",
    "South-Eastern Asia": "East & South-East Asia",
    "Southern Asia": "South Asia",
    "Central Asia and the Caucasus": "Central Asia & Caucasus",
    "Western Asia": "Middle East",
    "North Africa": "Africa",
    "West Africa": "Africa",
    "Central Africa": "Africa",
    "East Africa": "Africa",
    "Southern Africa": "Africa",
    "Central & Eastern Europe": "Europe",
    "Western Europe": "Europe",
    "Southern Europe": "Europe",
    "Northern Europe": "Europe",
    "North America": "North America",
    "Caribbean & Central": "Central America & Caribbean",
    "South America": "South America",
    "Melanesia": "Pacific",
    "Micronesia": "Pacific",
    "Polynesia": "Pacific",
    "Australia and New Zealand": "Pacific",
}
REGIONS = tuple(dict.fromkeys(REGION_GROUPS.values()))


PERCENTILE_COLUMNS = list(WGI_INDICATORS.values())
OC_VALUE_COLUMNS = list(OC_COLUMNS.values())
DERIVED_COLUMNS = [
    "regulatory_weakness",
    "enforcement_capacity",
    "criminal_ties",
    "protection",
    "operability",
]
# Time-varying attributes that are not utility indicators (read by other mechanisms).
VARYING_COLUMNS = [
    "cooperation",
    "manager_entry",
    "internet_share",
    "population",
    "gdp_per_capita_usd",
]
COLUMNS = [
    "iso3",
    "name",
    "region",
    "subregion",
    "lat",
    "lon",
    *PERCENTILE_COLUMNS,
    "wgi_year",
    *OC_VALUE_COLUMNS,
    "oc_year",
    "gdp_usd",
    "gdp_year",
    "population",
    "population_year",
    "gdp_per_capita_usd",
    "internet_share",
    "internet_year",
    "broadband_per100",
    "broadband_year",
    "china_born",
    "china_born_year",
    "china_born_share",
    "chinese_finance_usd",
    "chinese_finance_gdp_share",
    "chinese_finance_years",
    "official_english",
    "official_chinese",
    "languages",
    *VISA_COLUMNS.values(),
    "visa_year",
    "manager_entry",
    "cooperation",
    *DERIVED_COLUMNS,
    "source",
    "notes",
]
# Everything except notes must be non-missing.
REQUIRED_COLUMNS = [c for c in COLUMNS if c != "notes"]
YEAR_COLUMNS = ["iso3", "year", *DERIVED_COLUMNS, *VARYING_COLUMNS, "filled"]

# printf formats chosen to keep the published precision (WGI ranks 1 dp, OC scores
# 2 dp) so the CSV is lossless and byte-identical across runs.
FLOAT_FORMATS = {
    "lat": "%.4f",
    "lon": "%.4f",
    **dict.fromkeys(PERCENTILE_COLUMNS, "%.1f"),
    **dict.fromkeys(OC_VALUE_COLUMNS, "%.2f"),
    "gdp_usd": "%.0f",
    "population": "%.0f",
    "gdp_per_capita_usd": "%.2f",
    "internet_share": "%.4f",
    "broadband_per100": "%.4f",
    "china_born": "%.0f",
    "china_born_share": "%.6f",
    "chinese_finance_usd": "%.0f",
    "chinese_finance_gdp_share": "%.6f",
    **dict.fromkeys(VISA_COLUMNS.values(), "%.3f"),
    "manager_entry": "%.4f",
    "cooperation": "%.4f",
    **dict.fromkeys(DERIVED_COLUMNS, "%.4f"),
}
YEAR_FORMATS = {c: FLOAT_FORMATS[c] for c in [*DERIVED_COLUMNS, *VARYING_COLUMNS]}


class WorldBuildError(RuntimeError):
    """Raised when the raw data cannot produce a complete, consistent world table."""


# --------------------------------------------------------------------------- readers


def _read_csv(path: str | Path) -> pd.DataFrame:
    # All columns as text and no NA guessing: Namibia's ISO2 "NA" must survive, and
    # "utf-8-sig" strips the BOM the World Bank files start with.
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise WorldBuildError(f"{what}: missing column(s) {missing}; got {list(df.columns)}")


def _numeric(values: pd.Series, what: str) -> pd.Series:
    text = values.str.strip().replace({"..": "", "NA": ""})
    try:
        return pd.to_numeric(text.replace("", np.nan), errors="raise").astype(float)
    except (ValueError, TypeError) as exc:
        raise WorldBuildError(f"{what}: non-numeric value ({exc})") from exc


def _wide(codes: pd.Series, years: pd.Series, values: pd.Series) -> pd.DataFrame:
    """ISO3 x year table of observed values (NaN where none), years as int columns."""
    long = pd.DataFrame({"iso3": codes.to_numpy(), "year": years.to_numpy(), "v": values})
    long = long.dropna(subset=["v"]).drop_duplicates(["iso3", "year"], keep="last")
    wide = long.pivot(index="iso3", columns="year", values="v")
    wide.columns = [int(c) for c in wide.columns]
    return wide.sort_index(axis=1)


def read_wgi_series(path: str | Path) -> tuple[dict[str, pd.DataFrame], pd.Series]:
    """Every WGI percentile rank by indicator column (ISO3 x year), and WGI names."""
    df = _read_csv(path)
    _require(df, ["code", "countryname", "year", "indicator", "pctrank"], f"WGI {path}")
    df["iso3"] = df["code"].str.strip().replace(WGI_CODE_FIXES)
    names = df.drop_duplicates("iso3").set_index("iso3")["countryname"]
    df["value"] = _numeric(df["pctrank"], "WGI pctrank")
    df["year"] = _numeric(df["year"], "WGI year").astype(int)
    series = {}
    for code, column in WGI_INDICATORS.items():
        part = df[df["indicator"] == code]
        series[column] = _wide(part["iso3"], part["year"], part["value"]).reindex(names.index)
    return series, names


def read_oc(path: str | Path, edition: int = 2023) -> pd.DataFrame:
    """OC Index rows with ``Region``, ``Country`` and the ``oc_*`` columns (floats).

    The 2021 edition has no cyber-dependent or financial crimes: those columns are NaN.
    """
    df = _read_csv(path)
    # Headers are published as "Criminality avg," in 2023 and "Criminality" in 2021.
    df.columns = [re.sub(r"\s+avg$", "", c.strip().rstrip(",").strip()) for c in df.columns]
    expected = [h for h in OC_COLUMNS if edition != 2021 or h not in OC_2023_ONLY]
    _require(df, ["Region", "Country", *expected], f"OC Index {edition} {path}")
    out = df[["Region", "Country"]].apply(lambda s: s.str.strip())
    for header, column in OC_COLUMNS.items():
        out[column] = _numeric(df[header], f"OC Index {header!r}") if header in expected else np.nan
    return out


def read_gdp_series(path: str | Path) -> pd.DataFrame:
    """WDI GDP (current US$) by code x year, positive values only, whole dollars."""
    df = _read_csv(path)
    _require(df, ["Country Code"], f"GDP {path}")
    year_columns = [c for c in df.columns if re.fullmatch(r"\d{4}", c.strip())]
    if not year_columns:
        raise WorldBuildError(f"GDP {path}: no year columns found")
    values = pd.DataFrame({int(c): _numeric(df[c], f"GDP {c}") for c in year_columns})
    values.index = df["Country Code"].str.strip()
    return values.where(values > 0).round(0)


def _read_wb_long(path: str | Path, what: str, value: str = "Value") -> pd.DataFrame:
    """A World Bank long file (``Country Code``, ``Year``, value) as code x year."""
    df = _read_csv(path)
    _require(df, ["Country Code", "Year", value], f"{what} {path}")
    return _wide(
        df["Country Code"].str.strip(),
        _numeric(df["Year"], f"{what} year").astype(int),
        _numeric(df[value], what),
    )


def read_population(path: str | Path) -> pd.DataFrame:
    """Population (persons) by code x year (WDI SP.POP.TOTL)."""
    return _read_wb_long(path, "population").round(0)


def read_broadband(path: str | Path) -> pd.DataFrame:
    """Fixed broadband subscriptions per 100 people by code x year (WDI IT.NET.BBND.P2)."""
    return _read_wb_long(path, "broadband").round(4)


def read_internet(path: str | Path) -> pd.DataFrame:
    """Share of individuals using the internet (0-1) by code x year (ITU via OWID)."""
    df = _read_csv(path)
    _require(df, ["Code", "Year"], f"internet {path}")
    value = [c for c in df.columns if c.startswith("Individuals using the Internet")]
    if len(value) != 1:
        raise WorldBuildError(f"internet {path}: no single value column in {list(df.columns)}")
    share = _numeric(df[value[0]], "internet share") / 100.0
    years = _numeric(df["Year"], "internet year").astype(int)
    return _wide(df["Code"].str.strip(), years, share).round(4)


def read_china_born(path: str | Path) -> pd.DataFrame:
    """China-born migrant stock (both sexes) by destination x year (UN DESA 2024)."""
    df = _read_csv(path)
    _require(df, ["geo", "t", "from", "sex", "n"], f"migrant stock {path}")
    df = df[df["from"].str.strip() == "CHN"]
    df = df.assign(n=_numeric(df["n"], "migrant stock"), t=_numeric(df["t"], "year").astype(int))
    total = df.groupby(["geo", "t"], as_index=False)["n"].sum()
    return _wide(total["geo"], total["t"], total["n"])


def read_gcdf(path: str | Path) -> pd.Series:
    """Chinese official finance committed 2000-2021 (constant 2021 US$) by ISO3."""
    df = _read_csv(path)
    _require(df, ["iso3c", "total_commitments_bn"], f"GCDF {path}")
    values = _numeric(df["total_commitments_bn"], "GCDF commitments") * 1e9
    return pd.Series(values.round(0).to_numpy(), index=df["iso3c"].str.strip()).dropna()


def read_languages(path: str | Path) -> pd.Series:
    """Official languages (tuple of names) by ISO3 from CEPII's geo_cepii.xls."""
    try:
        import xlrd  # only the build needs it: the file is legacy Excel
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise WorldBuildError("reading geo_cepii.xls needs the 'xlrd' package") from exc
    sheet = xlrd.open_workbook(str(path)).sheet_by_index(0)
    header = [str(v).strip() for v in sheet.row_values(0)]
    _require(pd.DataFrame(columns=header), ["iso3", "langoff_1"], f"CEPII {path}")
    lang_columns = [header.index(c) for c in header if c.startswith("langoff_")]
    out: dict[str, tuple[str, ...]] = {}
    for r in range(1, sheet.nrows):
        row = sheet.row_values(r)
        langs = tuple(
            str(row[i]).strip() for i in lang_columns if str(row[i]).strip() not in ("", ".")
        )
        code = str(row[header.index("iso3")]).strip()
        for iso in CEPII_CODE_FIXES.get(code, [code]):
            out.setdefault(iso, langs)
    return pd.Series(out, dtype=object)


def _passport_codes(df: pd.DataFrame, value: str, what: str) -> pd.DataFrame:
    _require(df, ["Passport", "Destination", value], f"passport {what}")
    return df.assign(
        Passport=df["Passport"].str.strip(),
        Destination=df["Destination"].str.strip(),
        req=df[value].str.strip().str.lower(),
    )


def friction_of(requirement: str, year: int = 2025) -> float:
    """Travel friction in [0, 1] of one passport-index requirement (see FRICTION_2025)."""
    text = str(requirement).strip().lower()
    if year == 2019:
        if text not in FRICTION_2019:
            raise WorldBuildError(f"unknown 2019 passport code {requirement!r}")
        return FRICTION_2019[text]
    if text.isdigit():  # a number of visa-free days
        return 0.0
    if text not in FRICTION_2025:
        raise WorldBuildError(f"unknown passport requirement {requirement!r}")
    return FRICTION_2025[text]


def read_passport(path: str | Path, year: int) -> pd.DataFrame:
    """Friction matrix (rows: passport ISO3, columns: destination ISO3) of a snapshot."""
    value = "Code" if year == 2019 else "Requirement"
    df = _passport_codes(_read_csv(path), value, f"{year} {path}")
    mapping = {r: friction_of(r, year) for r in df["req"].unique()}
    df["friction"] = df["req"].map(mapping)
    matrix = df.pivot(index="Passport", columns="Destination", values="friction")
    for code in matrix.index.intersection(matrix.columns):
        matrix.loc[code, code] = 0.0  # own country, whatever the file says
    return matrix


def read_centroids(path: str | Path, report: list[str]) -> pd.DataFrame:
    """Centroids indexed by ISO3 with ``lat``, ``lon``; odd or duplicate ISO2 reported."""
    df = _read_csv(path)
    _require(df, ["longitude", "latitude", "COUNTRY", "ISO"], f"centroids {path}")
    df["lat"] = _numeric(df["latitude"], "centroid latitude")
    df["lon"] = _numeric(df["longitude"], "centroid longitude")
    df["ISO"] = df["ISO"].str.strip().str.upper()
    affiliation = df["COUNTRYAFF"] if "COUNTRYAFF" in df.columns else df["COUNTRY"]
    iso3 = []
    is_main = []
    for iso2, country, aff in zip(df["ISO"], df["COUNTRY"], affiliation, strict=True):
        match = pycountry.countries.get(alpha_2=iso2) if iso2 else None
        if match is None:
            report.append(f"centroid ISO2 not mappable to ISO3: {iso2!r} ({country})")
            iso3.append(None)
            is_main.append(False)
            continue
        iso3.append(match.alpha_3)
        # Several rows can share an ISO2 (Spain + Canarias, French Southern
        # Territories + islands); the row named after the country itself is the one
        # to keep.
        own_names = {match.name, getattr(match, "common_name", match.name)}
        is_main.append(country == aff or country in own_names)
    df["iso3"] = iso3
    df["is_main"] = is_main
    df = df.dropna(subset=["iso3"])
    df = df.sort_values(["iso3", "is_main"], ascending=[True, False], kind="stable")
    for iso, group in df.groupby("iso3"):
        if len(group) > 1:
            dropped = ", ".join(group["COUNTRY"].iloc[1:])
            report.append(
                f"centroid {iso}: {len(group)} rows, kept {group['COUNTRY'].iloc[0]!r}, "
                f"ignored {dropped}"
            )
    return df.drop_duplicates("iso3").set_index("iso3")[["lat", "lon"]]


# --------------------------------------------------------------------------- mapping


def _name_key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def oc_name_to_iso3(name: str) -> tuple[str | None, str]:
    """Map an OC Index country name to ``(iso3, method)``.

    ``method`` is ``"alias"`` (explicit table), ``"lookup"``, ``"fuzzy"`` (pycountry)
    or ``"unmatched"`` (``iso3`` is then None).
    """
    alias = OC_NAME_ALIASES.get(_name_key(name))
    if alias:
        return alias, "alias"
    try:
        return pycountry.countries.lookup(name).alpha_3, "lookup"
    except LookupError:
        pass
    try:
        return pycountry.countries.search_fuzzy(name)[0].alpha_3, "fuzzy"
    except LookupError:
        return None, "unmatched"


def display_name(iso3: str, fallback: str) -> str:
    """Readable common English name for ``iso3`` (``fallback`` if pycountry lacks it)."""
    if iso3 in DISPLAY_NAMES:
        return DISPLAY_NAMES[iso3]
    country = pycountry.countries.get(alpha_3=iso3)
    if country is None:
        return fallback
    return getattr(country, "common_name", None) or country.name


def map_oc_countries(oc: pd.DataFrame, report: list[str]) -> pd.Series:
    """ISO3 for each OC row (same index); fails on unmatched names or duplicate ISO3."""
    iso3 = []
    unmatched = []
    for name in oc["Country"]:
        code, method = oc_name_to_iso3(name)
        if method == "fuzzy":
            matched = pycountry.countries.get(alpha_3=code)
            report.append(f"OC name fuzzy-matched: {name!r} -> {code} ({matched.name})")
        if code is None:
            unmatched.append(name)
        iso3.append(code)
    if unmatched:
        report.append(f"OC names not mappable to ISO3: {unmatched}")
        raise WorldBuildError(
            f"OC Index names not mappable to ISO3 (add them to OC_NAME_ALIASES): {unmatched}"
        )
    codes = pd.Series(iso3, index=oc.index, name="iso3")
    duplicated = codes[codes.duplicated(keep=False)]
    if not duplicated.empty:
        pairs = sorted(zip(duplicated, oc.loc[duplicated.index, "Country"], strict=True))
        raise WorldBuildError(f"several OC Index rows map to the same ISO3: {pairs}")
    return codes


# --------------------------------------------------------------------------- building


# Published estimates for members the WDI has no GDP for: a subregion median would be
# absurd for them (North Korea's peers are China, Japan and South Korea).
GDP_ESTIMATES: dict[str, tuple[float, int, str]] = {
    "PRK": (2.84e10, 2022, "Bank of Korea estimate of nominal GNI 2022 (about US$28 bn)"),
}

# Constants of the derived indicators (docs/data.md gives the reasons).
GDP_SIZE = (8.0, 5.5)  # log10 GDP: 0 at US$100 m, 1 at about US$32 tn
POP_SIZE = (4.0, 5.2)  # log10 population: 0 at 10,000 people, 1 at about 1.6 bn
BROADBAND_FULL = 40.0  # fixed broadband per 100 people that counts as full coverage
FINANCE_HALF = 0.10  # Chinese official finance 2000-2021 / GDP that scores 0.5
DIASPORA_HALF = 0.005  # China-born share of the population that scores 0.5


def _impute_subregion_median(
    values: pd.Series, observed: pd.Series, subregion: pd.Series, decimals: int
) -> pd.Series:
    """Median of ``values`` over observed rows of each row's subregion."""
    medians = values.where(observed).groupby(subregion).median()
    return subregion.map(medians).round(decimals)


def _add_note(notes: pd.Series, mask: pd.Series | np.ndarray, text: pd.Series | str) -> pd.Series:
    text = text if isinstance(text, pd.Series) else pd.Series(text, index=notes.index)
    joined = np.where(notes == "", text, notes + "; " + text)
    return notes.where(~np.asarray(mask), pd.Series(joined, index=notes.index))


def _latest(obs: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Latest observed value of each row and its year."""
    year = obs.apply(lambda row: row.last_valid_index(), axis=1)
    value = pd.Series(
        [np.nan if pd.isna(y) else obs.at[i, y] for i, y in year.items()], index=obs.index
    )
    return value, year


def _at_years(obs: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """Each row linearly interpolated between its observed years, held outside them."""
    out = np.empty((len(obs), len(years)))
    for k, (_, row) in enumerate(obs.iterrows()):
        seen = row.dropna()
        if seen.empty:
            raise WorldBuildError(f"no observation at all for {row.name}")
        out[k] = np.interp(years, seen.index.to_numpy(float), seen.to_numpy(float))
    return pd.DataFrame(out, index=obs.index, columns=list(years))


def _fill_labels(obs: pd.DataFrame, years: Sequence[int], tag: str) -> pd.DataFrame:
    """Per row and year: '' if observed, else ``tag`` with the year(s) the value came from."""
    out = pd.DataFrame("", index=obs.index, columns=list(years))
    for iso, row in obs.iterrows():
        seen = [int(y) for y in row.dropna().index]
        for y in years:
            if y in seen:
                continue
            before = [s for s in seen if s < y]
            after = [s for s in seen if s > y]
            if before and after:
                out.at[iso, y] = f"{tag} {before[-1]}-{after[0]}"
            else:
                out.at[iso, y] = f"{tag} {(before or after)[-1 if before else 0]}"
    return out


def _clip01(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0)


def indicators(f: Mapping[str, np.ndarray | pd.Series]) -> pd.DataFrame:
    """The model-facing indicators in [0, 1] from the ingredient columns ``f``.

    Works row-wise, so the same formulas serve the latest-year table and every year of
    the per-year table. The formulas are documented in docs/data.md.
    """

    def col(name: str) -> np.ndarray:
        return np.asarray(f[name], dtype=float)

    def pct(name: str) -> np.ndarray:  # WGI percentile rank -> [0, 1]
        return col(name) / 100.0

    def oc01(name: str) -> np.ndarray:  # OC Index score 1..10 -> [0, 1]
        return (col(name) - 1.0) / 9.0

    visa = sum(w * col(VISA_COLUMNS[p]) for p, w in MANAGER_PASSPORTS.items())
    manager_entry = 1.0 - visa
    # Absolute size: a capable police force of a small state is still small, and it is
    # swamped by a few compounds of thousands of workers each.
    size = 0.5 * _clip01((np.log10(col("gdp_usd")) - GDP_SIZE[0]) / GDP_SIZE[1]) + 0.5 * _clip01(
        (np.log10(col("population")) - POP_SIZE[0]) / POP_SIZE[1]
    )
    skill = 0.5 * oc01("oc_law_enforcement") + 0.5 * pct("government_effectiveness")
    # Partner networks: the actors, the scam-adjacent markets they already run, and the
    # Chinese business presence (finance, diaspora, language) the syndicates build on.
    actors = (
        oc01("oc_mafia_groups") + oc01("oc_criminal_networks") + oc01("oc_foreign_actors")
    ) / 3
    markets = (
        oc01("oc_cyber_crimes") + oc01("oc_financial_crimes") + oc01("oc_human_trafficking")
    ) / 3
    finance = col("chinese_finance_gdp_share")
    diaspora = col("china_born_share")
    chinese = (
        finance / (finance + FINANCE_HALF)
        + diaspora / (diaspora + DIASPORA_HALF)
        + col("official_chinese")
    ) / 3
    # Log scale: a compound needs some fixed lines, not national coverage.
    broadband = _clip01(np.log1p(col("broadband_per100")) / np.log1p(BROADBAND_FULL))
    out = pd.DataFrame(
        {
            "regulatory_weakness": (
                (1 - pct("rule_of_law"))
                + (1 - pct("regulatory_quality"))
                + (1 - oc01("oc_anti_money_laundering"))
            )
            / 3,
            "enforcement_capacity": size * skill,
            "criminal_ties": (actors + markets + chinese) / 3,
            # Officials and businesses that shelter the compounds: raids leak or stall.
            "protection": 0.5 * oc01("oc_state_embedded") + 0.5 * oc01("oc_private_sector"),
            "operability": (
                col("internet_share") + broadband + pct("political_stability") + manager_entry
            )
            / 4,
            "manager_entry": manager_entry,
            "cooperation": oc01("oc_international_cooperation"),
        },
        index=f["gdp_usd"].index if isinstance(f["gdp_usd"], pd.Series) else None,
    )
    # "+ 0.0" turns -0.0 into 0.0 so the CSV never shows "-0.0000".
    return out.clip(0.0, 1.0).round(4) + 0.0


@dataclass
class WorldTables:
    """The three committed tables built from one raw data folder."""

    world: pd.DataFrame
    years: pd.DataFrame
    friction: pd.DataFrame  # rows: passport (traveller) ISO3, columns: destination ISO3


def _codes_not_in(source: pd.Index, table: pd.Index, what: str, report: list[str]) -> None:
    extra = sorted(set(source) - set(table))
    if extra:
        report.append(
            f"{what}: {len(extra)} codes not in the table ignored (aggregates, territories, "
            f"non-members): {' '.join(map(str, extra))}"
        )


def _complete(obs: pd.DataFrame, what: str) -> None:
    empty = obs.index[obs.isna().all(axis=1)].tolist()
    if empty:
        raise WorldBuildError(f"{what}: no value in any year for {empty}")


def build_tables(paths: Mapping[str, str | Path], report: list[str] | None = None) -> WorldTables:
    """Build the three tables from the raw files (``paths`` keyed like ``DEFAULT_FILES``).

    Report lines (exclusions, unmatched names, imputations) are appended to ``report``
    when a list is given. Raises :class:`WorldBuildError` when a table would be
    incomplete or inconsistent.
    """
    report = [] if report is None else report
    missing_keys = sorted(set(DEFAULT_FILES) - set(paths))
    if missing_keys:
        raise WorldBuildError(f"no path given for {missing_keys}")

    oc_df = read_oc(paths["oc"], 2023)
    oc_df["iso3"] = map_oc_countries(oc_df, report)
    unknown_regions = sorted(set(oc_df["Region"]) - set(REGION_GROUPS))
    if unknown_regions:
        raise WorldBuildError(f"OC Index regions with no model region: {unknown_regions}")
    oc_df["region"] = oc_df["Region"].map(REGION_GROUPS)
    oc_df = oc_df.rename(columns={"Region": "subregion"}).set_index("iso3")

    oc21 = read_oc(paths["oc2021"], 2021)
    oc21["iso3"] = map_oc_countries(oc21, report)
    oc21 = oc21.set_index("iso3")
    for code in sorted(set(oc_df.index) ^ set(oc21.index)):
        report.append(f"OC Index 2021 and 2023 differ in membership: {code}")

    wgi_series, wgi_names = read_wgi_series(paths["wgi"])
    for code in sorted(set(wgi_names.index) - set(oc_df.index)):
        report.append(f"WGI only, not in OC Index, excluded: {wgi_names[code]} ({code})")
    for code in sorted(set(oc_df.index) - set(wgi_names.index)):
        report.append(f"OC Index only, not in WGI, excluded: {oc_df.at[code, 'Country']} ({code})")

    df = oc_df.loc[oc_df.index.isin(wgi_names.index)].sort_index()
    idx = df.index
    df["name"] = [display_name(code, name) for code, name in zip(idx, df["Country"], strict=True)]
    notes = pd.Series("", index=idx)
    obs: dict[str, pd.DataFrame] = {}

    # --- governance (WGI): a member without any value takes its subregion's median
    wgi_last_year = max(int(c) for s in wgi_series.values() for c in s.columns)
    for column in PERCENTILE_COLUMNS:
        series = wgi_series[column].reindex(idx)
        empty = series.isna().all(axis=1)
        if empty.any():
            latest, _ = _latest(series)
            imputed = _impute_subregion_median(latest, ~empty, df["subregion"], 1)
            series.loc[empty, wgi_last_year] = imputed[empty]
            notes = _add_note(notes, empty, f"{column}: no WGI value, imputed as subregion median")
        obs[column] = series

    # --- organised crime (OC Index 2021 and 2023 editions)
    for column in OC_VALUE_COLUMNS:
        series = pd.DataFrame({2021: oc21[column].reindex(idx), 2023: df[column]})
        if series[2023].isna().any():
            raise WorldBuildError(f"OC Index 2023 {column}: missing values")
        obs[column] = series

    # --- size: GDP and population
    gdp = read_gdp_series(paths["gdp"])
    _codes_not_in(gdp.dropna(how="all").index, idx, "GDP", report)
    gdp = gdp.reindex(idx)
    for code, (value, year, source) in GDP_ESTIMATES.items():
        if code in idx and gdp.loc[code].isna().all():
            gdp.loc[code, year] = value
            notes = _add_note(notes, idx == code, f"gdp: no WDI value; {source}")
    empty = gdp.isna().all(axis=1)
    if empty.any():
        latest, years = _latest(gdp)
        imputed = _impute_subregion_median(latest, ~empty, df["subregion"], 0)
        peer_year = years.where(~empty).groupby(df["subregion"]).max()
        for code in idx[empty]:
            gdp.loc[code, int(peer_year[df.at[code, "subregion"]])] = imputed[code]
        notes = _add_note(
            notes,
            empty,
            "gdp: no WDI value in any year, imputed as median of subregion " + df["subregion"],
        )
    obs["gdp_usd"] = gdp

    population = read_population(paths["population"])
    _codes_not_in(population.index, idx, "population", report)
    obs["population"] = population.reindex(idx)
    _complete(obs["population"], "population")
    # Per capita at the GDP years, with the population of the same year.
    pop_at_gdp = _at_years(obs["population"], list(gdp.columns))
    obs["gdp_per_capita_usd"] = (gdp / pop_at_gdp.to_numpy()).round(2)

    # --- connectivity
    internet = read_internet(paths["internet"])
    _codes_not_in(internet.index, idx, "internet use", report)
    obs["internet_share"] = internet.reindex(idx)
    _complete(obs["internet_share"], "internet use")
    broadband = read_broadband(paths["broadband"])
    _codes_not_in(broadband.index, idx, "fixed broadband", report)
    broadband = broadband.reindex(idx)
    empty = broadband.isna().all(axis=1)
    if empty.any():
        # ITU publishes no figure for these; public fixed broadband is negligible there.
        broadband.loc[empty, int(broadband.columns.max())] = 0.0
        notes = _add_note(notes, empty, "broadband: no ITU/WDI value in any year, taken as 0")
    obs["broadband_per100"] = broadband

    # --- Chinese presence: diaspora (share of the population), official finance, language
    born = read_china_born(paths["migrants"])
    _codes_not_in(born.index, idx, "UN DESA China-born stock", report)
    born = born.reindex(idx)
    empty = born.isna().all(axis=1)
    if empty.any():
        born.loc[empty, int(born.columns.max())] = 0.0
        notes = _add_note(
            notes, empty, "china_born: UN DESA gives no China-born figure, taken as 0"
        )
    obs["china_born"] = born
    obs["china_born_share"] = (born / _at_years(obs["population"], list(born.columns))).round(6)

    finance = read_gcdf(paths["gcdf"])
    _codes_not_in(finance.index, idx, "GCDF", report)
    not_recipient = ~idx.isin(finance.index)
    finance = finance.reindex(idx).fillna(0.0)
    notes = _add_note(
        notes,
        not_recipient,
        "chinese_finance: no GCDF 3.0 commitment recorded (high income or none), 0",
    )
    gdp_2021 = _at_years(gdp, [2021])[2021]
    finance_share = (finance / gdp_2021).round(6)

    languages = read_languages(paths["cepii"])
    _codes_not_in(languages.index, idx, "CEPII", report)
    languages = languages.reindex(idx)
    for code, langs in LANGUAGE_FIXES.items():
        if code in idx and not isinstance(languages[code], tuple):
            languages[code] = langs
            notes = _add_note(notes, idx == code, "languages: not in CEPII, from the constitution")
    no_lang = idx[[not isinstance(v, tuple) or not v for v in languages]].tolist()
    if no_lang:
        raise WorldBuildError(f"no official language for {no_lang} (add to LANGUAGE_FIXES)")

    # --- ease of entry for the managers' passports (2019 and 2025 snapshots)
    matrices = {
        y: read_passport(paths[k], y)
        for y, k in zip(PASSPORT_YEARS, ["passport2019", "passport"], strict=True)
    }
    for year, matrix in matrices.items():
        gaps = sorted(set(idx) - set(matrix.columns)) + sorted(set(idx) - set(matrix.index))
        if gaps:
            raise WorldBuildError(
                f"passport {year}: members missing as passport/destination {gaps}"
            )
        _codes_not_in(matrix.columns, idx, f"passport {year} destinations", report)
    for passport, column in VISA_COLUMNS.items():
        series = pd.DataFrame({y: m.loc[passport].reindex(idx) for y, m in matrices.items()})
        if series.isna().any().any():
            raise WorldBuildError(f"passport {passport}: destinations without a requirement")
        obs[column] = series
    friction = matrices[2025].loc[idx, idx]
    if friction.isna().any().any():
        pairs = [(a, b) for a in idx for b in idx if pd.isna(friction.at[a, b])]
        raise WorldBuildError(f"passport 2025: pairs without a requirement: {pairs[:20]}")

    # --- the latest-year table
    for column, series in obs.items():
        value, year = _latest(series)
        df[column] = value
        df[f"_{column}_year"] = year
    df["wgi_year"] = df[[f"_{c}_year" for c in PERCENTILE_COLUMNS]].min(axis=1)
    df["oc_year"] = df[[f"_{c}_year" for c in OC_VALUE_COLUMNS]].min(axis=1)
    for short, column in [
        ("gdp", "gdp_usd"),
        ("population", "population"),
        ("internet", "internet_share"),
        ("broadband", "broadband_per100"),
        ("china_born", "china_born"),
        ("visa", VISA_COLUMNS["CHN"]),
    ]:
        df[f"{short}_year"] = df[f"_{column}_year"]
    df["chinese_finance_usd"] = finance
    df["chinese_finance_gdp_share"] = finance_share
    df["chinese_finance_years"] = "2000-2021"
    df["languages"] = ["; ".join(v) for v in languages]
    df["official_english"] = [int("English" in v) for v in languages]
    df["official_chinese"] = [int("Chinese" in v) for v in languages]

    df = df.join(read_centroids(paths["centroids"], report), how="left")
    no_centroid = idx[df["lat"].isna() | df["lon"].isna()].tolist()
    if no_centroid:
        raise WorldBuildError(f"no centroid for: {no_centroid}")

    derived = indicators(df)
    for column in derived.columns:
        df[column] = derived[column]
    df["source"] = SOURCE
    df["notes"] = notes

    # --- the per-year table: ingredients interpolated by year, then the same formulas
    at = {column: _at_years(series, YEARS) for column, series in obs.items()}
    static = {
        "chinese_finance_gdp_share": finance_share,
        "official_chinese": df["official_chinese"],
    }
    labels = [
        _fill_labels(obs["rule_of_law"], YEARS, "wgi"),
        _fill_labels(obs["oc_criminality"], YEARS, "oc"),
        _fill_labels(obs["oc_cyber_crimes"], YEARS, "oc-2023-only"),
        _fill_labels(obs["gdp_usd"], YEARS, "gdp"),
        _fill_labels(obs["population"], YEARS, "pop"),
        _fill_labels(obs["internet_share"], YEARS, "net"),
        _fill_labels(obs["broadband_per100"], YEARS, "bb"),
        _fill_labels(obs["china_born"], YEARS, "cn-born"),
        _fill_labels(obs[VISA_COLUMNS["CHN"]], YEARS, "visa"),
    ]
    rows = []
    for year in YEARS:
        frame = pd.DataFrame({c: v[year] for c, v in at.items()}, index=idx)
        for column, values in static.items():
            frame[column] = values
        ind = indicators(frame)
        part = pd.DataFrame({"iso3": idx, "year": year}, index=idx)
        for column in DERIVED_COLUMNS:
            part[column] = ind[column]
        part["cooperation"] = ind["cooperation"]
        part["manager_entry"] = ind["manager_entry"]
        part["internet_share"] = frame["internet_share"].round(4)
        part["population"] = frame["population"].round(0)
        part["gdp_per_capita_usd"] = frame["gdp_per_capita_usd"].round(2)
        part["filled"] = [
            "; ".join(t for t in (lab.at[iso, year] for lab in labels) if t) for iso in idx
        ]
        rows.append(part.reset_index(drop=True))
    years_df = pd.concat(rows).sort_values(["iso3", "year"]).reset_index(drop=True)

    last = years_df[years_df["year"] == YEARS[-1]].set_index("iso3")
    check = [*DERIVED_COLUMNS, "cooperation", "manager_entry"]
    if not np.allclose(last[check].to_numpy(), df.loc[last.index, check].to_numpy(), atol=1e-4):
        raise WorldBuildError("the last year of world_years differs from the latest-year table")

    df = df.reset_index().sort_values("iso3").reset_index(drop=True)
    for _, row in df[df["notes"] != ""].iterrows():
        report.append(f"imputed {row['iso3']} ({row['name']}): {row['notes']}")
    gaps = [f"{iso}.{c}" for c in REQUIRED_COLUMNS for iso in df.loc[df[c].isna(), "iso3"]]
    if gaps:
        raise WorldBuildError(f"missing required values: {gaps}")
    for column in COLUMNS:
        if column.endswith("_year") or column in ("official_english", "official_chinese"):
            df[column] = df[column].astype(int)
    friction = friction.loc[df["iso3"], df["iso3"]]
    return WorldTables(df[COLUMNS], years_df[YEAR_COLUMNS], friction)


def build_world(report: list[str] | None = None, **paths: str | Path) -> pd.DataFrame:
    """The latest-year world table only (see :func:`build_tables`)."""
    return build_tables(paths, report).world


def _format(df: pd.DataFrame, formats: Mapping[str, str]) -> pd.DataFrame:
    out = df.copy()
    for column, fmt in formats.items():
        # "+ 0.0" turns -0.0 into 0.0 so the CSV never shows "-0.0000".
        out[column] = [fmt % (value + 0.0) for value in out[column]]
    return out


def to_csv_text(df: pd.DataFrame) -> str:
    """The exact text written to ``world.csv`` (fixed per-column float formats)."""
    return _format(df[COLUMNS], FLOAT_FORMATS).to_csv(index=False, lineterminator="\n")


def years_csv_text(df: pd.DataFrame) -> str:
    """The exact text written to ``world_years.csv``."""
    return _format(df[YEAR_COLUMNS], YEAR_FORMATS).to_csv(index=False, lineterminator="\n")


def friction_csv_text(friction: pd.DataFrame) -> str:
    """The exact text written to ``world_travel_friction.csv`` (a square matrix)."""
    out = friction.map(lambda v: f"{v:g}")
    out.index.name = "passport"
    return out.to_csv(lineterminator="\n")


def companion_paths(out: Path) -> tuple[Path, Path]:
    """Where the per-year and friction tables go next to ``out`` (``<stem>_years.csv``, …)."""
    return (
        out.with_name(f"{out.stem}_years.csv"),
        out.with_name(f"{out.stem}_travel_friction.csv"),
    )


# --------------------------------------------------------------------------- CLI


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sim.data.build_world", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data-dir", type=Path, help="the raw data folder")
    for key, filename in DEFAULT_FILES.items():
        parser.add_argument(
            f"--{key}", type=Path, help=f"path to {filename} (overrides --data-dir)"
        )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output CSV path; <stem>_years.csv and <stem>_travel_friction.csv go beside it",
    )
    args = parser.parse_args(argv)
    for key, filename in DEFAULT_FILES.items():
        if getattr(args, key) is None:
            if args.data_dir is None:
                parser.error(f"give --data-dir or --{key}")
            setattr(args, key, args.data_dir / filename)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    args = _parse_args(argv)
    report: list[str] = []
    try:
        tables = build_tables({k: getattr(args, k) for k in DEFAULT_FILES}, report=report)
    except (WorldBuildError, OSError) as exc:
        print("\n".join(report), file=sys.stderr)
        print(f"build_world failed: {exc}", file=sys.stderr)
        return 1
    years_out, friction_out = companion_paths(args.out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_csv_text(tables.world), encoding="utf-8", newline="")
    years_out.write_text(years_csv_text(tables.years), encoding="utf-8", newline="")
    friction_out.write_text(friction_csv_text(tables.friction), encoding="utf-8", newline="")
    print(f"world table: {len(tables.world)} rows written to {args.out}")
    print(f"per-year table: {len(tables.years)} rows written to {years_out}")
    print(f"travel friction: {tables.friction.shape} written to {friction_out}")
    for line in report:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
