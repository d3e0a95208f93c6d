"""Every model parameter in one typed, documented place.

Each field carries its unit, its meaning and its allowed range in the field
metadata; :func:`check_params` enforces the ranges and the command line, the
Python API and the docs all read them from here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


def _p(default: float | int, lo: float, hi: float, doc: str) -> Any:
    return field(default=default, metadata={"range": (lo, hi), "doc": doc})


@dataclass
class Params:
    """Model parameters (monthly time step, money in current US$)."""

    # --- economy of a compound -------------------------------------------------------------
    productivity_usd: float = _p(
        19_000.0, 100.0, 1e6, "victim losses (revenue) per worker-month at the reference size"
    )
    market_size_workers: float = _p(
        270_000.0, 1e3, 1e8, "industry workforce at which productivity_usd applies"
    )
    saturation: float = _p(
        0.5, 0.0, 5.0, "elasticity of revenue per worker to industry size (victim pool is finite)"
    )
    cost_per_worker_usd: float = _p(
        2_500.0, 0.0, 1e6, "running cost per worker-month (guards, food, rent, equipment)"
    )
    bribe_share: float = _p(0.15, 0.0, 1.0, "share of revenue paid in bribes at protection 1")
    laundering_loss: float = _p(0.10, 0.0, 0.95, "share of profit lost when laundering it")
    payout_rate: float = _p(
        0.30, 0.0, 1.0, "share of capital paid out to the bosses each month (leaves the model)"
    )
    disruption: float = _p(0.7, 0.0, 1.0, "share of revenue lost at enforcement pressure 1")

    # --- workforce -------------------------------------------------------------------------
    compound_size_mean: float = _p(600.0, 10.0, 10_000.0, "mean site capacity of a new compound")
    compound_size_sigma: float = _p(0.5, 0.0, 3.0, "log-normal spread of compound site capacities")
    new_compound_workers: int = _p(50, 1, 10_000, "workers a new (expansion) compound starts with")
    recruit_rate: float = _p(
        0.08, 0.0, 1.0, "maximum monthly growth of a compound's workforce by recruitment (share)"
    )
    recruit_cost_usd: float = _p(
        3_000.0, 0.0, 1e6, "trafficking cost per recruit from a full pool without friction"
    )
    payback_months: float = _p(
        4.0, 0.1, 120.0, "months of net profit a recruit (or a new site) must pay back its cost in"
    )
    recruit_budget_share: float = _p(
        0.5, 0.0, 1.0, "share of a syndicate's capital it may spend on recruitment a month"
    )
    attrition_rate: float = _p(0.01, 0.0, 1.0, "share of workers escaping or released a month")
    relocation_carry: float = _p(
        0.6, 0.0, 1.0, "share of a relocating compound's workers moved to the new site"
    )
    min_workforce: int = _p(30, 1, 10_000, "a compound with fewer workers closes")

    # --- labour pools (source countries) --------------------------------------------------
    pool_share: float = _p(
        1.5e-4, 0.0, 0.1,
        "persons recruitable at a time per online person at income factor 1 (pool level)",
    )
    pool_income_ref_usd: float = _p(
        8_000.0, 100.0, 1e6, "GDP per capita at which the income factor of a pool is 1/2"
    )
    pool_recovery_rate: float = _p(
        0.03, 0.0, 1.0, "monthly rate at which a depleted pool refills toward its level"
    )
    pool_cost_elasticity: float = _p(
        1.5, 0.0, 10.0, "recruitment cost grows as (pool level / pool) ^ elasticity"
    )
    pool_cost_cap: float = _p(
        30.0, 1.0, 1000.0, "largest multiple of recruit_cost_usd a depleted pool can cost"
    )
    recruit_distance_km: float = _p(
        1_610.0, 10.0, 1e5, "distance scale of brokers' reach from a source to a host"
    )
    friction_recruit_weight: float = _p(
        1.5, 0.0, 20.0, "how much travel friction (visa required = 1) cuts brokers' reach"
    )
    friction_cost_share: float = _p(
        1.0, 0.0, 10.0, "extra share of the recruit cost at travel friction 1 (visas, smuggling)"
    )
    retraffic_rate: float = _p(
        0.01, 0.0, 1.0, "monthly share of returned workers who become recruitable again"
    )

    # --- enforcement ----------------------------------------------------------------------
    baseline_pressure: float = _p(0.02, 0.0, 1.0, "enforcement pressure everywhere at rest")
    capacity_pressure: float = _p(
        0.10, 0.0, 1.0, "extra resting pressure per unit of enforcement capacity"
    )
    response_gain: float = _p(
        0.8, 0.0, 10.0, "maximum reactive pressure per unit of effective capacity"
    )
    response_scale_workers: float = _p(
        5_000.0, 1.0, 1e7, "observed workforce at which the reaction reaches 63% of its maximum"
    )
    pressure_adapt_rate: float = _p(
        0.25, 0.0, 1.0, "monthly rate at which pressure moves toward its target"
    )
    detection_lag: int = _p(3, 0, 60, "months before agencies see where activity is")
    raid_rate: float = _p(
        0.25, 0.0, 1.0, "raid probability per seen compound-month at pressure 1, if uncongested"
    )
    raid_budget: float = _p(
        759.0, 0.0, 1e5, "raids a month an agency can mount at pressure 1 per unit of capacity"
    )
    raid_budget_floor: float = _p(
        0.1, 0.0, 1.0, "capacity added to every agency's raid budget (police, militias)"
    )
    protection_effect: float = _p(
        0.744, 0.0, 1.0, "raid failure probability at protection 1 (tip-offs, bribed officials)"
    )
    raid_shrink: float = _p(
        0.637, 0.0, 1.0, "share of a compound's workers a successful raid frees (mean)"
    )
    raid_close_rate: float = _p(
        0.517, 0.0, 10.0,
        "closure probability of a raided compound per (share freed × (1 + pressure))",
    )
    seize_share: float = _p(0.03, 0.0, 1.0, "share of the owner's capital seized per raid")
    intel_boost: float = _p(
        3.0, 0.0, 20.0, "extra pressure per unit of capacity on new arrivals where intel is shared"
    )
    intel_window: int = _p(12, 0, 120, "months a compound counts as newly arrived")
    political_gain: float = _p(
        0.4, 0.0, 1.0,
        "pressure a host adds when victim states press it fully (times willingness)",
    )
    political_scale_usd: float = _p(
        2.78e9, 1.0, 1e13,
        "weighted foreign losses (decayed sum, US$) at which the reaction is half",
    )
    political_steepness: float = _p(
        3.0, 0.5, 20.0, "Hill exponent of the host's reaction to political pressure (flip)"
    )
    political_memory: float = _p(
        0.95, 0.0, 0.999, "monthly retention of the accumulated foreign losses"
    )

    # --- learning -------------------------------------------------------------------------
    memory_decay: float = _p(0.85, 0.0, 1.0, "monthly retention of risk evidence")
    observe_weight: float = _p(0.2, 0.0, 1.0, "weight of other syndicates' raids in learning")
    prior_risk: float = _p(0.01, 0.0, 1.0, "prior raid risk a syndicate assumes anywhere")
    prior_strength: float = _p(10.0, 0.1, 1e4, "pseudo-observations behind the prior risk")
    risk_tolerance_mean: float = _p(
        0.192, 0.0, 1.0, "mean monthly raid risk a syndicate tolerates before moving out"
    )
    risk_tolerance_spread: float = _p(
        0.5, 0.0, 1.0, "tolerances are uniform on mean*(1±spread)"
    )

    # --- decisions ------------------------------------------------------------------------
    relocation_rate: float = _p(
        0.4, 0.0, 1.0, "share of compounds in a too-risky jurisdiction moved out a month"
    )
    expansion_rate: float = _p(
        0.1, 0.0, 1.0, "monthly expansion probability at a return on investment of 1 or more"
    )
    setup_cost_usd: float = _p(3e6, 0.0, 1e10, "cost of opening a compound")
    relocation_cost_per_1000km_usd: float = _p(
        3e5, 0.0, 1e9, "moving cost per 1,000 km, cut by tie_discount × criminal ties there"
    )
    beta_weakness: float = _p(
        10.0, 0.0, 100.0, "utility weight of regulatory weakness × sqrt(operability)"
    )
    beta_operability: float = _p(2.0, 0.0, 50.0, "utility weight of operability on its own")
    beta_ties: float = _p(3.0, 0.0, 50.0, "utility weight of criminal ties")
    beta_agglomeration: float = _p(
        0.4, 0.0, 10.0, "utility weight of log(1 + compounds already there)"
    )
    beta_pressure: float = _p(8.0, 0.0, 100.0, "utility weight of enforcement pressure")
    beta_risk: float = _p(30.0, 0.0, 1000.0, "utility weight of perceived raid risk")
    beta_capacity: float = _p(4.0, 0.0, 50.0, "utility weight of enforcement capacity")
    beta_distance: float = _p(0.35, 0.0, 10.0, "utility cost per 1,000 km of relocation")
    beta_labour: float = _p(
        1.0, 0.0, 20.0, "utility cost per unit of log recruitment-cost index of a destination"
    )
    tie_discount: float = _p(
        0.5, 0.0, 1.0, "share of the distance cost saved per unit of criminal ties"
    )
    exit_utility: float = _p(
        5.0, -50.0, 50.0, "utility of giving up instead of moving (outside option)"
    )

    # --- regeneration ---------------------------------------------------------------------
    split_threshold: float = _p(
        0.25, 0.0, 1.0, "share of its compounds lost in a month that may split a syndicate"
    )
    split_prob: float = _p(0.5, 0.0, 1.0, "probability that such a hit syndicate splits")
    min_capital_usd: float = _p(2e5, 0.0, 1e10, "a syndicate with less capital dissolves")

    # --- victims and initial state --------------------------------------------------------
    victim_distance_km: float = _p(
        3_000.0, 10.0, 1e5, "distance scale of victim targeting (language, time zone)"
    )
    syndicates: int = _p(60, 1, 10_000, "syndicates at the start")
    initial_capital_months: float = _p(
        3.0, 0.0, 120.0, "starting capital, in months of the syndicate's profit"
    )


PARAM_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Params))


def param_info() -> list[dict[str, Any]]:
    """Name, default, range, type and doc of every parameter (for docs and errors)."""
    out = []
    for f in dataclasses.fields(Params):
        lo, hi = f.metadata["range"]
        out.append(
            {
                "name": f.name,
                "default": f.default,
                "min": lo,
                "max": hi,
                "type": type(f.default).__name__,
                "doc": f.metadata["doc"],
            }
        )
    return out
