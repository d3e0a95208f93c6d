"""Outcome metrics for scamsim: spread, concentration and displacement of activity.

All functions are pure and depend on NumPy only.

Conventions
-----------
``activity`` is a non-negative float array shaped ``(T, n)`` (``T`` monthly steps,
``n`` jurisdictions) or ``(n,)`` for a single step; an activity measure is e.g. the
number of workers or compounds per jurisdiction.  Lists are accepted wherever arrays
are.  Row-wise metrics work along the last axis and return a NumPy array for 2-D
input and a Python scalar for 1-D input.  Division by zero never emits a warning: the
undefined cases are masked explicitly and documented per function (``nan``).
"""

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "active_jurisdictions",
    "counts_by_region",
    "displacement_summary",
    "displacement_vs_control",
    "evenness",
    "ever_active_new",
    "global_local_change",
    "hhi",
    "moved_removed",
    "new_jurisdictions",
    "period_mean",
    "recovery_time",
    "relative_change",
    "shannon_entropy",
    "shares",
    "total_net_effect",
    "wdq",
]


def _as_float(activity: ArrayLike) -> np.ndarray:
    return np.asarray(activity, dtype=float)


def _scalar_if_0d(x: np.ndarray) -> np.ndarray | float | int:
    """Return a Python scalar for 0-d results, the array otherwise."""
    x = np.asarray(x)
    if x.ndim == 0:
        return x.item()
    return x


# ---------------------------------------------------------------------------
# Spread: where is there activity?
# ---------------------------------------------------------------------------


def active_jurisdictions(activity: ArrayLike) -> np.ndarray | int:
    """Number of jurisdictions with activity > 0: ``k = #{i : a_i > 0}``.

    Counted along the last axis: an int array of length ``T`` for ``(T, n)`` input,
    an ``int`` for ``(n,)`` input.
    """
    a = _as_float(activity)
    return _scalar_if_0d(np.count_nonzero(a > 0, axis=-1).astype(int))


def new_jurisdictions(activity: ArrayLike) -> np.ndarray:
    """Per step ``t``, number of jurisdictions active at ``t`` but not at step 0.

    ``new_t = #{i : a[t, i] > 0 and a[0, i] <= 0}``; ``new_0`` is always 0.
    A 1-D input is treated as a single step (result ``[0]``).
    """
    a = np.atleast_2d(_as_float(activity))
    if a.ndim != 2:
        raise ValueError(f"activity must be 1-D or 2-D, got shape {a.shape}")
    active = a > 0
    return np.count_nonzero(active & ~active[0], axis=1).astype(int)


def ever_active_new(activity: ArrayLike) -> np.ndarray:
    """Boolean mask over jurisdictions active at some step but not at step 0.

    ``new_i = (max_t a[t, i] > 0) and not (a[0, i] > 0)``.
    """
    a = np.atleast_2d(_as_float(activity))
    if a.ndim != 2:
        raise ValueError(f"activity must be 1-D or 2-D, got shape {a.shape}")
    active = a > 0
    return active.any(axis=0) & ~active[0]


def counts_by_region(mask: ArrayLike, regions: Sequence[str]) -> dict[str, int]:
    """Number of ``True`` entries of ``mask`` per region label.

    Every label present in ``regions`` appears in the result (in order of first
    appearance), with 0 where the mask has no ``True`` entry in that region.
    """
    m = np.asarray(mask, dtype=bool).reshape(-1)
    labels = list(regions)
    if m.shape[0] != len(labels):
        raise ValueError(f"mask has {m.shape[0]} entries but regions has {len(labels)}")
    counts: dict[str, int] = {}
    for flag, label in zip(m, labels, strict=True):
        counts[label] = counts.get(label, 0) + int(flag)
    return counts


# ---------------------------------------------------------------------------
# Concentration
# ---------------------------------------------------------------------------


def shares(activity: ArrayLike) -> np.ndarray:
    """Shares of activity along the last axis: ``s_i = a_i / sum_j a_j``.

    Rows whose total is 0 give all-zero shares (no NaN, no warning).
    """
    a = _as_float(activity)
    total = a.sum(axis=-1, keepdims=True)
    nonzero = total != 0
    safe_total = np.where(nonzero, total, 1.0)
    return np.where(nonzero, a / safe_total, 0.0)


def hhi(activity: ArrayLike) -> np.ndarray | float:
    """Herfindahl-Hirschman index ``HHI = sum_i s_i**2`` on shares in [0, 1].

    Not scaled by 10,000.  For ``k`` active jurisdictions ``1/k <= HHI <= 1``.
    Rows with no activity (total 0) give NaN: concentration is undefined there.
    References: Hirschman (1945); Herfindahl (1950); Rhoades (1993),
    Federal Reserve Bulletin 79:188-189.
    """
    a = _as_float(activity)
    s = shares(a)
    out = np.where(a.sum(axis=-1) != 0, np.sum(s * s, axis=-1), np.nan)
    return _scalar_if_0d(out)


def shannon_entropy(activity: ArrayLike) -> np.ndarray | float:
    """Shannon entropy of shares ``H = -sum_{s_i > 0} s_i ln s_i`` (natural log).

    Rows with no activity (total 0) give NaN.
    Reference: Shannon (1948), Bell System Technical Journal 27:379-423.
    """
    a = _as_float(activity)
    s = shares(a)
    pos = s > 0
    log_s = np.log(np.where(pos, s, 1.0))  # log(1) = 0 -> zero terms contribute 0
    h = -np.sum(np.where(pos, s * log_s, 0.0), axis=-1)
    out = np.where(a.sum(axis=-1) != 0, h + 0.0, np.nan)  # + 0.0 turns -0.0 into 0.0
    return _scalar_if_0d(out)


def evenness(activity: ArrayLike) -> np.ndarray | float:
    """Pielou's evenness ``J = H / ln k``, ``k`` = number of active jurisdictions.

    ``J`` is in [0, 1] (1 = activity spread equally over the active jurisdictions).
    By convention ``J = 0`` when ``k == 1`` (everything in one place) and ``J = NaN``
    when ``k == 0`` (no activity).
    Reference: Pielou (1966), Journal of Theoretical Biology 13:131-144.
    """
    a = _as_float(activity)
    h = np.asarray(shannon_entropy(a), dtype=float)
    k = np.count_nonzero(a > 0, axis=-1)
    log_k = np.log(np.maximum(k, 1).astype(float))
    safe_log_k = np.where(k > 1, log_k, 1.0)
    out = np.where(k > 1, h / safe_log_k, np.where(k == 1, 0.0, np.nan))
    return _scalar_if_0d(out)


# ---------------------------------------------------------------------------
# Displacement (Bowers & Johnson 2003)
# ---------------------------------------------------------------------------


def wdq(
    r_before: float,
    r_after: float,
    d_before: float,
    d_after: float,
    c_before: float = 1.0,
    c_after: float = 1.0,
) -> float:
    """Weighted Displacement Quotient.

    ``WDQ = (Da/Ca - Db/Cb) / (Ra/Ca - Rb/Cb)`` with R = target (intervention)
    area, D = buffer/displacement area, C = control area, b/a = before/after.
    The denominator is the success measure (negative when R fell relative to C);
    the quotient is meaningful only then.  WDQ < 0 indicates displacement,
    WDQ > 0 diffusion of benefits.  Returns NaN when the denominator is 0 (target
    area unchanged relative to control: undefined) or when ``Cb`` or ``Ca`` is 0.
    Reference: Bowers & Johnson (2003), Journal of Quantitative Criminology
    19(3):275-301.
    """
    rb, ra, db, da, cb, ca = (
        float(x) for x in (r_before, r_after, d_before, d_after, c_before, c_after)
    )
    if cb == 0 or ca == 0:
        return float("nan")
    denominator = ra / ca - rb / cb
    if denominator == 0:
        return float("nan")
    return (da / ca - db / cb) / denominator


def total_net_effect(
    r_before: float,
    r_after: float,
    d_before: float,
    d_after: float,
    c_before: float = 1.0,
    c_after: float = 1.0,
) -> float:
    """Total net effect ``TNE = [Rb*(Ca/Cb) - Ra] + [Db*(Ca/Cb) - Da]``.

    Expected-minus-observed activity in target (R) and buffer (D) areas, with the
    expectation scaled by the control trend ``Ca/Cb``.  Positive = net reduction of
    activity (benefit), negative = net increase.  NaN when ``Cb`` is 0.
    Reference: Bowers & Johnson (2003), Journal of Quantitative Criminology
    19(3):275-301.
    """
    rb, ra, db, da, cb, ca = (
        float(x) for x in (r_before, r_after, d_before, d_after, c_before, c_after)
    )
    if cb == 0:
        return float("nan")
    trend = ca / cb
    return (rb * trend - ra) + (db * trend - da)


# ---------------------------------------------------------------------------
# Before/after comparisons of time series
# ---------------------------------------------------------------------------


def period_mean(series: ArrayLike, start: int, length: int) -> float:
    """Mean of ``series[start:start+length]`` with the window clipped to the array.

    The window is ``[max(start, 0), min(start + length, T))``, so a window that
    starts before 0 simply loses its first steps (no wrap-around as with negative
    Python indices).  NaN if the clipped window is empty.
    """
    x = _as_float(series)
    if x.ndim != 1:
        raise ValueError(f"series must be 1-D, got shape {x.shape}")
    lo = max(int(start), 0)
    hi = min(int(start) + int(length), x.shape[0])
    if hi <= lo:
        return float("nan")
    return float(x[lo:hi].mean())


def relative_change(before: float, after: float) -> float:
    """Relative change ``(after - before) / before``; NaN if ``before == 0``."""
    b, a = float(before), float(after)
    if b == 0:
        return float("nan")
    return (a - b) / b


def global_local_change(
    global_series: ArrayLike,
    local_series: ArrayLike,
    t0: int,
    window: int = 12,
    lag: int = 12,
) -> dict[str, float]:
    """Before/after means and relative changes of a global and a local series.

    before = mean of ``series[t0-window : t0]``; after = mean of
    ``series[t0+lag : t0+lag+window]`` (both clipped to the series, see
    :func:`period_mean`); change = ``(after - before) / before`` as a fraction.
    Typical use: local = activity in the targeted jurisdiction(s), global = total
    activity, to tell a local crackdown effect from global displacement.
    """
    out: dict[str, float] = {}
    for name, series in (("local", local_series), ("global", global_series)):
        before = period_mean(series, t0 - window, window)
        after = period_mean(series, t0 + lag, window)
        out[f"{name}_before"] = before
        out[f"{name}_after"] = after
        out[f"{name}_change"] = relative_change(before, after)
    return out


def recovery_time(global_series: ArrayLike, t0: int, window: int = 12) -> float:
    """Steps after ``t0`` until the series first returns to its pre-intervention level.

    Pre level ``L = mean(series[t0-window : t0])`` (clipped, see :func:`period_mean`).
    Let ``f`` be the first index ``>= t0`` with ``series[f] < L`` and ``r`` the first
    index ``> f`` with ``series[r] >= L``; the result is ``r - t0``.
    Returns 0.0 if the series never falls below ``L`` from ``t0`` on, NaN if it falls
    and never recovers within the series (right-censored), NaN if ``L`` is undefined
    (empty pre window).
    Example: ``[10]*12 + [8, 6, 9, 10, 11]``, ``t0 = 12`` -> ``L = 10``, ``f = 12``,
    ``r = 15`` -> 3.0.
    """
    x = _as_float(global_series)
    if x.ndim != 1:
        raise ValueError(f"global_series must be 1-D, got shape {x.shape}")
    level = period_mean(x, t0 - window, window)
    if np.isnan(level):
        return float("nan")
    start = max(int(t0), 0)
    below = np.flatnonzero(x[start:] < level)
    if below.size == 0:
        return 0.0
    fall = start + int(below[0])
    back = np.flatnonzero(x[fall + 1 :] >= level)
    if back.size == 0:
        return float("nan")
    return float(fall + 1 + int(back[0]) - t0)


def _as_mask(selection: ArrayLike | None, n: int, name: str) -> np.ndarray:
    """Boolean mask of length ``n`` from a bool mask, an index list or ``None``."""
    mask = np.zeros(n, dtype=bool)
    if selection is None:
        return mask
    sel = np.asarray(selection)
    if sel.size == 0:
        return mask
    if sel.dtype == bool:
        if sel.shape != (n,):
            raise ValueError(f"{name} mask must have shape ({n},), got {sel.shape}")
        return sel.copy()
    if not np.issubdtype(sel.dtype, np.integer):
        raise TypeError(f"{name} must be a boolean mask or a list of integer indices")
    mask[sel.reshape(-1)] = True
    return mask


def displacement_summary(
    activity: ArrayLike,
    targets: ArrayLike,
    t0: int,
    control: ArrayLike | None = None,
    window: int = 12,
    lag: int = 12,
) -> dict[str, float]:
    """WDQ and total net effect of an intervention at step ``t0`` on ``targets``.

    Groups (by jurisdiction): R = ``targets``; C = ``control`` (bool mask or index
    list); D = every jurisdiction in neither R nor C.  If ``control`` is None, C is
    taken as 1 before and after (no control trend adjustment).  For each group the
    activity is summed over its jurisdictions, then averaged over the before window
    ``[t0-window, t0)`` and the after window ``[t0+lag, t0+lag+window)``.

    Windows that run past the data are shrunk (clipped) to the available steps, as
    in :func:`period_mean`: e.g. ``t0 < window`` uses ``[0, t0)``.  A window with no
    steps left gives NaN for the corresponding means and for ``wdq`` and
    ``total_net_effect``.  R and C must not overlap, and a ``control`` that selects
    no jurisdiction is rejected (ValueError); pass ``None`` for "no control".

    Returns ``{"wdq", "total_net_effect", "r_before", "r_after", "d_before",
    "d_after", "c_before", "c_after"}``.
    Reference: Bowers & Johnson (2003), Journal of Quantitative Criminology
    19(3):275-301.
    """
    a = _as_float(activity)
    if a.ndim != 2:
        raise ValueError(f"activity must be 2-D (T, n), got shape {a.shape}")
    n = a.shape[1]
    r_mask = _as_mask(targets, n, "targets")
    c_mask = _as_mask(control, n, "control")
    if np.any(r_mask & c_mask):
        raise ValueError("targets and control overlap")
    if control is not None and not c_mask.any():
        raise ValueError("control selects no jurisdiction; use control=None instead")
    d_mask = ~(r_mask | c_mask)

    def before_after(mask: np.ndarray) -> tuple[float, float]:
        series = a[:, mask].sum(axis=1)
        return period_mean(series, t0 - window, window), period_mean(series, t0 + lag, window)

    r_b, r_a = before_after(r_mask)
    d_b, d_a = before_after(d_mask)
    if control is None:
        c_b, c_a = 1.0, 1.0
    else:
        c_b, c_a = before_after(c_mask)
    return {
        "wdq": wdq(r_b, r_a, d_b, d_a, c_b, c_a),
        "total_net_effect": total_net_effect(r_b, r_a, d_b, d_a, c_b, c_a),
        "r_before": r_b,
        "r_after": r_a,
        "d_before": d_b,
        "d_after": d_a,
        "c_before": c_b,
        "c_after": c_a,
    }


# ---------------------------------------------------------------------------
# Displacement against a control run (same seed, no intervention)
# ---------------------------------------------------------------------------


def _group_means(
    activity: np.ndarray, mask: np.ndarray, t0: int, window: int, lag: int
) -> tuple[float, float]:
    series = activity[:, mask].sum(axis=1)
    return period_mean(series, t0 - window, window), period_mean(series, t0 + lag, window)


def displacement_vs_control(
    activity: ArrayLike,
    control_activity: ArrayLike,
    targets: ArrayLike,
    t0: int,
    buffer: ArrayLike | None = None,
    window: int = 12,
    lag: int = 12,
) -> dict[str, float]:
    """WDQ and total net effect with a control *run* as the counterfactual of every area.

    ``control_activity`` is the same world without the intervention (e.g. the
    ``baseline`` scenario with the same seed), shaped like ``activity``. Each area's
    change is measured against its own change in the control run
    (difference in differences), which removes the trend a before/after comparison
    would mistake for displacement:

        ΔR = (R_a − R_b) − (R^c_a − R^c_b),   ΔD = (D_a − D_b) − (D^c_a − D^c_b)
        WDQ = ΔD / ΔR,   TNE = −(ΔR + ΔD)

    R = ``targets``; D = ``buffer`` (bool mask or indices, e.g. neighbours) or, if
    None, every jurisdiction outside R. Windows as in :func:`displacement_summary`.
    WDQ is NaN when ΔR is 0 (or undefined windows). With common random numbers the
    before-means of the two runs are equal and ``WDQ = (D_a − D^c_a) / (R_a − R^c_a)``.
    Example: R 100→40 (control 100→110), D 200→290 (control 200→230):
    ΔR = −60 − 10 = −70, ΔD = 90 − 30 = 60, WDQ = −6/7, TNE = 10.

    Returns ``{"wdq", "total_net_effect", "delta_r", "delta_d"}``.
    """
    a, c = _as_float(activity), _as_float(control_activity)
    if a.ndim != 2 or a.shape != c.shape:
        raise ValueError(f"activity {a.shape} and control {c.shape} must be equal 2-D shapes")
    n = a.shape[1]
    r_mask = _as_mask(targets, n, "targets")
    d_mask = ~r_mask if buffer is None else _as_mask(buffer, n, "buffer") & ~r_mask
    rb, ra = _group_means(a, r_mask, t0, window, lag)
    db, da = _group_means(a, d_mask, t0, window, lag)
    crb, cra = _group_means(c, r_mask, t0, window, lag)
    cdb, cda = _group_means(c, d_mask, t0, window, lag)
    delta_r = (ra - rb) - (cra - crb)
    delta_d = (da - db) - (cda - cdb)
    ratio = float("nan") if (delta_r == 0 or np.isnan(delta_r)) else delta_d / delta_r
    return {
        "wdq": ratio,
        "total_net_effect": -(delta_r + delta_d),
        "delta_r": delta_r,
        "delta_d": delta_d,
    }


def moved_removed(delta_r: float, delta_d: float) -> dict[str, float]:
    """Of the workforce that left the targets, the share that reappeared elsewhere.

    ``lost = −ΔR`` (workers the targets lost, against the control or before/after) and
    ``gained = ΔD`` (workers the rest of the world gained over the same windows):
    ``moved_share = clip(gained / lost, 0, 1)``, ``removed_share = 1 − moved_share``.
    Both NaN unless the targets lost workers (``lost > 0``). With the default windows
    (the 12 months before ``t0`` against months 12–24 after it) this is what
    reappears elsewhere within 24 months. Example: lost 70, gained 60 → 6/7 moved.
    """
    lost, gained = -float(delta_r), float(delta_d)
    if not lost > 0 or np.isnan(gained):
        return {"moved_share": float("nan"), "removed_share": float("nan")}
    moved = min(max(gained / lost, 0.0), 1.0)
    return {"moved_share": moved, "removed_share": 1.0 - moved}
