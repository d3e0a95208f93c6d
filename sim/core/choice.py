"""Destination choice: a multinomial logit over all jurisdictions plus an outside option.

For M movers and n jurisdictions the utilities form one (M, n + 1) array; the
last column is the outside option (give up: dissolve the compound, or do not
expand). Probabilities are a row-wise softmax, draws use one uniform per mover.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def static_utility(
    weakness: np.ndarray, operability: np.ndarray, capacity: np.ndarray, params: Any
) -> np.ndarray:
    """Attractiveness of each jurisdiction from its (policy-adjusted) attributes.

    Weak regulation only attracts where compounds can run: power, internet and calm
    surroundings. A war zone is weak but not attractive, so weakness is gated by
    operability; strong enforcement capacity repels.
    """
    return (
        params.beta_weakness * weakness * np.sqrt(operability)
        + params.beta_operability * operability
        - params.beta_capacity * capacity
    )


@dataclass(frozen=True)
class Landscape:
    """Per-jurisdiction terms of the utility, shared by all movers this step."""

    static: np.ndarray  # weakness, operability and capacity terms (n,)
    ties: np.ndarray  # criminal ties (n,)
    pressure: np.ndarray  # current enforcement pressure (n,)
    compounds: np.ndarray  # compounds hosted now (n,)
    distance_km: np.ndarray  # (n, n)
    labour: np.ndarray | None = None  # log recruitment-cost index (n,); None = no labour term
    per_km: np.ndarray | None = None  # distance cost per km (n,), if known (see distance_cost)


def utilities(
    land: Landscape,
    origin: np.ndarray,
    risk: np.ndarray,
    tie_weight: np.ndarray,
    *,
    beta_ties: float,
    beta_agglomeration: float,
    beta_pressure: float,
    beta_risk: float,
    beta_distance: float,
    tie_discount: float,
    exit_utility: float,
    exclude_origin: bool,
    beta_labour: float = 0.0,
) -> np.ndarray:
    """Utility of every destination (and the outside option) for every mover.

    Args:
        land: jurisdiction terms of this step.
        origin: (M,) index of each mover's current jurisdiction.
        risk: (M, n) perceived raid risk of each mover's syndicate.
        tie_weight: (M,) the syndicate's affinity for partner groups.
        exclude_origin: forced movers cannot stay where they are.
        beta_labour: weight of the destination's log recruitment-cost index (scarce or
            costly labour repels; exhausted pools everywhere make giving up likelier).

    Returns:
        (M, n + 1) utilities; excluded options are ``-inf``.
    """
    m = len(origin)
    # The terms shared by all movers are summed once per jurisdiction, then broadcast.
    shared = (
        land.static + beta_agglomeration * np.log1p(land.compounds) - beta_pressure * land.pressure
    )
    if land.labour is not None and beta_labour:
        shared = shared - beta_labour * land.labour
    per_km = land.per_km
    if per_km is None:
        per_km = distance_cost(land.ties, beta_distance=beta_distance, tie_discount=tie_discount)
    u = np.empty((m, land.static.shape[0] + 1))
    body = u[:, :-1]
    np.multiply(land.distance_km[origin], per_km[None, :], out=body)
    np.subtract(shared[None, :], body, out=body)
    body += (beta_ties * tie_weight)[:, None] * land.ties[None, :]
    body -= beta_risk * risk
    u[:, -1] = exit_utility
    if exclude_origin:
        u[np.arange(m), origin] = -np.inf
    return u


def distance_cost(ties: np.ndarray, *, beta_distance: float, tie_discount: float) -> np.ndarray:
    """Utility lost per km travelled to each destination, cheaper with partners there
    (the same for every mover)."""
    return (beta_distance / 1000.0) * (1.0 - tie_discount * ties)


def probabilities(u: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large utilities and ``-inf`` entries."""
    top = np.max(u, axis=1, keepdims=True)
    e = np.exp(u - top)
    return e / e.sum(axis=1, keepdims=True)


def draw_from_utilities(u: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """:func:`draw` from :func:`probabilities` of ``u`` without normalising the rows.

    The inverse CDF scales each mover's uniform by its row total, so the softmax's
    division by that total is not needed (one uniform per mover, as in :func:`draw`).
    """
    e = np.exp(u - np.max(u, axis=1, keepdims=True))
    return draw(e, uniforms)


def draw(p: np.ndarray, uniforms: np.ndarray | np.random.Generator) -> np.ndarray:
    """One choice per row by inverse CDF; index ``n`` is the outside option.

    ``uniforms``: one uniform in [0, 1) per row (the model's keyed draws), or a
    generator to draw them from.
    """
    cum = np.cumsum(p, axis=1)
    if isinstance(uniforms, np.random.Generator):
        uniforms = uniforms.random(p.shape[0])
    u = uniforms * cum[:, -1]
    idx = (cum < u[:, None]).sum(axis=1)
    return np.minimum(idx, p.shape[1] - 1)
