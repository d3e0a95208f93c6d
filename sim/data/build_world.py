"""Build the committed world table ``sim/data/world.csv`` from raw public data.

The raw files are read in their official formats from paths given on the command line
(they are not part of the project):

* World Bank Worldwide Governance Indicators, 2024 update, long format CSV;
* GI-TOC Global Organized Crime Index 2023 CSV (country names only, no ISO codes);
* World Bank WDI GDP, current US$ (NY.GDP.MKTP.CD), wide CSV;
* world-countries-centroids v1 CSV (ISO 3166-1 alpha-2 codes).

Usage::

    python -m sim.data.build_world --data-dir DIR --out sim/data/world.csv
    python -m sim.data.build_world --wgi W.csv --oc OC.csv --gdp G.csv --centroids C.csv

The table has one row per country present in both the WGI and the OC Index (the UN
member states). Everything dropped, unmatched or imputed is printed in a report.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry

SOURCE = "WGI 2024 update; GI-TOC OC Index 2023; WDI NY.GDP.MKTP.CD; world-countries-centroids v1"

DEFAULT_FILES = {
    "wgi": "wgi_1996_2023.csv",
    "oc": "global_oc_index_2023.csv",
    "gdp": "wb_gdp_current_usd.csv",
    "centroids": "country_centroids.csv",
}

DEFAULT_OUT = Path(__file__).with_name("world.csv")

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

# OC Index header (normalised: trailing commas stripped) -> column, in table order.
OC_COLUMNS = {
    "Criminality avg": "oc_criminality",
    "Cyber-dependent crimes": "oc_cyber_crimes",
    "Financial crimes": "oc_financial_crimes",
    "Human trafficking": "oc_human_trafficking",
    "Mafia-style groups": "oc_mafia_groups",
    "Criminal networks": "oc_criminal_networks",
    "State-embedded actors": "oc_state_embedded",
    "Foreign actors": "oc_foreign_actors",
    "Resilience avg": "oc_resilience",
    "Law enforcement": "oc_law_enforcement",
    "International cooperation": "oc_international_cooperation",
    "Anti-money laundering": "oc_anti_money_laundering",
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
    "gdp_usd",
    "gdp_year",
    *DERIVED_COLUMNS,
    "source",
    "notes",
]
# Everything except notes must be non-missing.
REQUIRED_COLUMNS = [c for c in COLUMNS if c != "notes"]

# printf formats chosen to keep the published precision (WGI ranks 1 dp, OC scores
# 2 dp) so the CSV is lossless and byte-identical across runs.
FLOAT_FORMATS = {
    "lat": "%.4f",
    "lon": "%.4f",
    **dict.fromkeys(PERCENTILE_COLUMNS, "%.1f"),
    **dict.fromkeys(OC_VALUE_COLUMNS, "%.2f"),
    "gdp_usd": "%.0f",
    **dict.fromkeys(DERIVED_COLUMNS, "%.4f"),
}


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


def read_wgi(path: str | Path) -> tuple[pd.DataFrame, pd.Series]:
    """Latest WGI percentile rank per country and indicator.

    Returns ``(table, names)``: ``table`` is indexed by ISO3 with one value column per
    indicator and a ``<column>_year`` column each; ``names`` maps every ISO3 in the
    file (including those with no values) to the WGI country name.
    """
    df = _read_csv(path)
    _require(df, ["code", "countryname", "year", "indicator", "pctrank"], f"WGI {path}")
    df["iso3"] = df["code"].str.strip().replace(WGI_CODE_FIXES)
    names = df.drop_duplicates("iso3").set_index("iso3")["countryname"]
    df = df[df["indicator"].isin(list(WGI_INDICATORS))].copy()
    df["value"] = _numeric(df["pctrank"], "WGI pctrank")
    df["year"] = _numeric(df["year"], "WGI year").astype(int)
    latest = (
        df.dropna(subset=["value"])
        .sort_values(["iso3", "indicator", "year"])
        .groupby(["iso3", "indicator"])
        .tail(1)
    )
    values = latest.pivot(index="iso3", columns="indicator", values="value")
    years = latest.pivot(index="iso3", columns="indicator", values="year")
    table = pd.DataFrame(index=names.index)
    for code, column in WGI_INDICATORS.items():
        table[column] = values.get(code)
        table[f"{column}_year"] = years.get(code)
    return table, names


def read_oc(path: str | Path) -> pd.DataFrame:
    """OC Index rows with ``Region``, ``Country`` and the ``oc_*`` columns (floats)."""
    df = _read_csv(path)
    # Some headers are published with a trailing comma ("Criminality avg,").
    df.columns = [c.strip().rstrip(",").strip() for c in df.columns]
    _require(df, ["Region", "Country", *OC_COLUMNS], f"OC Index {path}")
    out = df[["Region", "Country"]].apply(lambda s: s.str.strip())
    for header, column in OC_COLUMNS.items():
        out[column] = _numeric(df[header], f"OC Index {header!r}")
    return out


def read_gdp(path: str | Path) -> pd.DataFrame:
    """Latest non-missing WDI GDP (current US$) per code: ``gdp_usd``, ``gdp_year``."""
    df = _read_csv(path)
    _require(df, ["Country Code"], f"GDP {path}")
    year_columns = [c for c in df.columns if re.fullmatch(r"\d{4}", c.strip())]
    if not year_columns:
        raise WorldBuildError(f"GDP {path}: no year columns found")
    values = pd.DataFrame({int(c): _numeric(df[c], f"GDP {c}") for c in year_columns}).set_axis(
        df["Country Code"].str.strip()
    )
    values = values.where(values > 0)
    latest_year = values.apply(lambda row: row.last_valid_index(), axis=1)
    out = pd.DataFrame(index=values.index)
    out["gdp_year"] = latest_year
    out["gdp_usd"] = [
        np.nan if pd.isna(y) else values.at[code, y]
        for code, y in zip(values.index, latest_year, strict=True)
    ]
    return out.dropna()


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


def _impute_subregion_median(
    df: pd.DataFrame, column: str, observed: pd.Series, decimals: int
) -> pd.Series:
    """Median of ``column`` over observed rows of each row's subregion."""
    medians = df[column].where(observed).groupby(df["subregion"]).median()
    return df["subregion"].map(medians).round(decimals)


def _add_note(notes: pd.Series, mask: pd.Series, text: pd.Series | str) -> pd.Series:
    text = text if isinstance(text, pd.Series) else pd.Series(text, index=notes.index)
    joined = np.where(notes == "", text, notes + "; " + text)
    return notes.where(~mask, pd.Series(joined, index=notes.index))


def _derive(df: pd.DataFrame) -> pd.DataFrame:
    """Model-facing indices in [0, 1] from the published values."""

    def oc01(column: str) -> pd.Series:
        return (df[column] - 1.0) / 9.0

    governance = df[["rule_of_law", "regulatory_quality", "control_of_corruption"]]
    size = ((np.log10(df["gdp_usd"]) - 8.0) / 5.5).clip(0.0, 1.0)
    skill = 0.5 * oc01("oc_law_enforcement") + 0.5 * df["government_effectiveness"] / 100
    derived = pd.DataFrame(
        {
            "regulatory_weakness": 0.75 * (1 - governance.mean(axis=1) / 100)
            + 0.25 * (1 - oc01("oc_resilience")),
            "enforcement_capacity": size * skill,
            "criminal_ties": pd.concat(
                [oc01("oc_mafia_groups"), oc01("oc_criminal_networks"), oc01("oc_foreign_actors")],
                axis=1,
            ).mean(axis=1),
            "protection": 0.5 * oc01("oc_state_embedded")
            + 0.5 * (1 - df["control_of_corruption"] / 100),
            "operability": 0.5 * df["government_effectiveness"] / 100
            + 0.5 * df["political_stability"] / 100,
        },
        index=df.index,
    )
    # "+ 0.0" turns -0.0 into 0.0 so the CSV never shows "-0.0000".
    return derived.clip(0.0, 1.0).round(4) + 0.0


def build_world(
    wgi: str | Path,
    oc: str | Path,
    gdp: str | Path,
    centroids: str | Path,
    report: list[str] | None = None,
) -> pd.DataFrame:
    """Build the world table from the four raw files (paths).

    Report lines (exclusions, unmatched names, imputations) are appended to ``report``
    when a list is given. Raises :class:`WorldBuildError` when the table would be
    incomplete or inconsistent.
    """
    report = [] if report is None else report

    oc_df = read_oc(oc)
    oc_df["iso3"] = map_oc_countries(oc_df, report)
    unknown_regions = sorted(set(oc_df["Region"]) - set(REGION_GROUPS))
    if unknown_regions:
        raise WorldBuildError(f"OC Index regions with no model region: {unknown_regions}")
    oc_df["region"] = oc_df["Region"].map(REGION_GROUPS)
    oc_df = oc_df.rename(columns={"Region": "subregion"}).set_index("iso3")

    wgi_df, wgi_names = read_wgi(wgi)
    for code in sorted(set(wgi_names.index) - set(oc_df.index)):
        report.append(f"WGI only, not in OC Index, excluded: {wgi_names[code]} ({code})")
    for code in sorted(set(oc_df.index) - set(wgi_names.index)):
        report.append(f"OC Index only, not in WGI, excluded: {oc_df.at[code, 'Country']} ({code})")

    df = oc_df.join(wgi_df, how="inner")
    df["name"] = [
        display_name(code, name) for code, name in zip(df.index, df["Country"], strict=True)
    ]
    notes = pd.Series("", index=df.index)

    for column in PERCENTILE_COLUMNS:
        missing = df[column].isna()
        if missing.any():
            df.loc[missing, column] = _impute_subregion_median(df, column, ~missing, 1)
            notes = _add_note(
                notes, missing, f"{column}: no WGI value, imputed as subregion median"
            )
    year_columns = [f"{c}_year" for c in PERCENTILE_COLUMNS]
    df["wgi_year"] = df[year_columns].min(axis=1)

    gdp_df = read_gdp(gdp)
    df = df.join(gdp_df, how="left")
    df["gdp_usd"] = df["gdp_usd"].round(0)
    for code, (value, year, source) in GDP_ESTIMATES.items():
        if code in df.index and pd.isna(df.at[code, "gdp_usd"]):
            df.loc[code, ["gdp_usd", "gdp_year"]] = [value, year]
            notes = _add_note(notes, df.index == code, f"gdp: no WDI value; {source}")
    missing = df["gdp_usd"].isna()
    if missing.any():
        df.loc[missing, "gdp_usd"] = _impute_subregion_median(df, "gdp_usd", ~missing, 0)
        peer_year = df["gdp_year"].groupby(df["subregion"]).max()
        df.loc[missing, "gdp_year"] = df.loc[missing, "subregion"].map(peer_year)
        notes = _add_note(
            notes,
            missing,
            "gdp: no WDI value in any year, imputed as median of subregion "
            + df["subregion"]
            + " (gdp_year = latest peer year)",
        )

    df = df.join(read_centroids(centroids, report), how="left")
    no_centroid = df.index[df["lat"].isna() | df["lon"].isna()].tolist()
    if no_centroid:
        raise WorldBuildError(f"no centroid for: {no_centroid}")

    df = df.join(_derive(df))
    df["source"] = SOURCE
    df["notes"] = notes
    df = df.reset_index().sort_values("iso3").reset_index(drop=True)

    for _, row in df[df["notes"] != ""].iterrows():
        report.append(f"imputed {row['iso3']} ({row['name']}): {row['notes']}")

    gaps = [
        f"{iso}.{column}"
        for column in REQUIRED_COLUMNS
        for iso in df.loc[df[column].isna(), "iso3"]
    ]
    if gaps:
        raise WorldBuildError(f"missing required values: {gaps}")

    df["wgi_year"] = df["wgi_year"].astype(int)
    df["gdp_year"] = df["gdp_year"].astype(int)
    return df[COLUMNS]


def to_csv_text(df: pd.DataFrame) -> str:
    """The exact text written to ``world.csv`` (fixed per-column float formats)."""
    out = df[COLUMNS].copy()
    for column, fmt in FLOAT_FORMATS.items():
        out[column] = [fmt % value for value in out[column]]
    return out.to_csv(index=False, lineterminator="\n")


# --------------------------------------------------------------------------- CLI


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sim.data.build_world", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data-dir", type=Path, help="directory holding the four raw files")
    for key, filename in DEFAULT_FILES.items():
        parser.add_argument(
            f"--{key}", type=Path, help=f"path to {filename} (overrides --data-dir)"
        )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output CSV path")
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
        df = build_world(args.wgi, args.oc, args.gdp, args.centroids, report=report)
    except (WorldBuildError, OSError) as exc:
        print("\n".join(report), file=sys.stderr)
        print(f"build_world failed: {exc}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_csv_text(df), encoding="utf-8", newline="")
    print(f"world table: {len(df)} rows written to {args.out}")
    for line in report:
        print(f"  {line}")
    if not any(line.startswith("imputed ") for line in report):
        print("  no imputations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
