"""Report of a calibration folder: targets against the posterior predictive, the posterior,
the generations, and the targets the model cannot reach together.

Reads what :func:`sim.analysis.calibration.calibrate` wrote (``calibration.json``,
``targets.csv``, ``posterior.csv``, ``predictive.csv``, ``generations.csv``) and writes
``calibration_report.html`` (figures embedded) and ``calibration_report.md`` beside them,
with the figures in ``figures/``. Needs no pyabc.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.report import Report
from sim.paramsets import weighted_quantile
from sim.viz.style import CONDITION_COLOURS, PALETTE, caption, caption_text, save_png, style

PREDICTIVE_LEVEL = 0.9  # central predictive interval shown beside each band
X_LIMITS = (-4.0, 5.0)  # band coordinates shown in the targets figure
PAIR_PLOT_MAX = 6  # parameters in the pairwise plot (the most narrowed by the data)
MIN_SUPPORT = 0.05  # a pair is judged only if each target is reached by this share of runs


def inside(values: np.ndarray, low: float, high: float, bound: str) -> np.ndarray:
    """Whether values lie in the band (only above ``low`` for a lower-bound target)."""
    v = np.asarray(values, float)
    ok = np.isfinite(v) & (v >= low)
    return ok & (v <= high) if bound != "lower" else ok


def load(folder: str | os.PathLike) -> dict[str, object]:
    """The tables of a calibration folder."""
    d = Path(folder)
    return {
        "meta": json.loads((d / "calibration.json").read_text()),
        "targets": pd.read_csv(d / "targets.csv", keep_default_na=False),
        "posterior": pd.read_csv(d / "posterior.csv"),
        "predictive": pd.read_csv(d / "predictive.csv"),
        "generations": pd.read_csv(d / "generations.csv"),
    }


def _fmt(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.3g}bn"
    if a >= 1e3:
        return f"{v / 1e3:.3g}k"
    return f"{v:.3g}"


def target_table(targets: pd.DataFrame, predictive: pd.DataFrame) -> pd.DataFrame:
    """Each target's band beside the posterior predictive interval, and a plain verdict."""
    lo_q, hi_q = (1 - PREDICTIVE_LEVEL) / 2, 1 - (1 - PREDICTIVE_LEVEL) / 2
    rows = []
    for t in targets.to_dict("records"):
        p = predictive[predictive["target"] == t["id"]]
        v, w = p["value"].to_numpy(float), p["weight"].to_numpy(float)
        med = weighted_quantile(v, w, 0.5)
        lo, hi = weighted_quantile(v, w, lo_q), weighted_quantile(v, w, hi_q)
        share = float(w[inside(v, t["low"], t["high"], t["bound"])].sum() / w.sum()) \
            if len(w) and w.sum() > 0 else math.nan
        upper = t["high"] if t["bound"] != "lower" else math.inf
        if not np.isfinite(med):
            verdict = "miss: the statistic is undefined in the runs"
        elif t["low"] <= med <= upper:
            verdict = "hit"
        elif hi >= t["low"] and lo <= upper:
            verdict = "partial: the interval overlaps the band, the median is outside"
        else:
            verdict = "miss: too low" if med < t["low"] else "miss: too high"
        band = f"[{_fmt(t['low'])}, {_fmt(t['high'])}]" + (" (lower bound only)"
                                                           if t["bound"] == "lower" else "")
        rows.append({"target": t["id"], "band": band, "weight": t["weight"],
                     "median": _fmt(med),
                     f"{PREDICTIVE_LEVEL:.0%} predictive": f"[{_fmt(lo)}, {_fmt(hi)}]",
                     "runs in band": f"{share:.0%}" if np.isfinite(share) else "n/a",
                     "verdict": verdict})
    return pd.DataFrame(rows)


def joint_hits(targets: pd.DataFrame, predictive: pd.DataFrame) -> tuple[pd.DataFrame,
                                                                           np.ndarray]:
    """Per run (particle × seed): which targets it lands inside; and the runs' weights."""
    wide = predictive.pivot_table(index=["particle", "run"], columns="target",
                                  values="value", aggfunc="first")
    weights = predictive.groupby(["particle", "run"])["weight"].first().reindex(wide.index)
    hits = pd.DataFrame(index=wide.index)
    for t in targets.to_dict("records"):
        if t["id"] in wide:
            hits[t["id"]] = inside(wide[t["id"]].to_numpy(), t["low"], t["high"], t["bound"])
    w = weights.to_numpy(float)
    return hits, w / w.sum() if w.sum() > 0 else w


def conflicts(targets: pd.DataFrame, predictive: pd.DataFrame) -> tuple[list[str], pd.DataFrame]:
    """Paragraphs and a table on the targets the posterior cannot reach together."""
    hits, w = joint_hits(targets, predictive)
    if hits.empty:
        return ["No runs in the posterior predictive."], pd.DataFrame()
    share = {c: float(w[hits[c].to_numpy()].sum()) for c in hits}
    never = [c for c, s in share.items() if s == 0]
    all_hit = float(w[hits.all(axis=1).to_numpy()].sum())
    rows = []
    for a, b in itertools.combinations(hits.columns, 2):
        if share[a] < MIN_SUPPORT or share[b] < MIN_SUPPORT:
            continue
        both = float(w[(hits[a] & hits[b]).to_numpy()].sum())
        if both < 0.25 * share[a] * share[b]:
            rows.append({"target A": a, "target B": b, "A reached": f"{share[a]:.0%}",
                         "B reached": f"{share[b]:.0%}", "both": f"{both:.0%}",
                         "if independent": f"{share[a] * share[b]:.0%}"})
    text = [f"{all_hit:.0%} of the posterior's runs (by weight) land inside every band at "
            "once."]
    if never:
        text.append("No run of the posterior reaches: " + ", ".join(never) + ".")
    if rows:
        text.append(f"These pairs are each reached by at least {MIN_SUPPORT:.0%} of the runs "
                    "but (almost) never together: "
                    "both together in less than a quarter of what independence would give. "
                    "The model trades one against the other; reaching both would need a "
                    "mechanism it lacks, or one of the two figures is off.")
    else:
        text.append("No pair of targets reached by at least "
                    f"{MIN_SUPPORT:.0%} of the runs excludes each other in the posterior.")
    return text, pd.DataFrame(rows)


def _band_coords(values: np.ndarray, low: float, high: float, scale: str) -> np.ndarray:
    v = np.asarray(values, float)
    if scale == "log":
        v = np.log(np.maximum(v, 1e-3 * low))
        low, high = math.log(low), math.log(high)
    return (v - low) / (high - low)


def plot_targets(targets: pd.DataFrame, predictive: pd.DataFrame, path: Path,
                 caption_line: str) -> Path:
    """Every band as [0, 1] on its own scale, with the predictive median and interval."""
    import matplotlib.pyplot as plt

    n = len(targets)
    with style():
        fig, ax = plt.subplots(figsize=(8.0, 0.42 * n + 1.4), layout="constrained")
        for k, t in enumerate(targets.to_dict("records")):
            y = n - 1 - k
            p = predictive[predictive["target"] == t["id"]]
            x = _band_coords(p["value"].to_numpy(float), t["low"], t["high"], t["scale"])
            w = p["weight"].to_numpy(float)
            ax.barh(y, 1.0 if t["bound"] != "lower" else 3.0, left=0.0, height=0.6,
                    color=PALETTE[9], alpha=0.6, zorder=1)
            lo_q = (1 - PREDICTIVE_LEVEL) / 2
            q = [weighted_quantile(x, w, a) for a in (lo_q, 0.5, 1 - lo_q)]
            if np.isfinite(q[1]):
                lo, mid, hi = np.clip(q, X_LIMITS[0] + 0.1, X_LIMITS[1] - 0.1)
                ax.plot([lo, hi], [y, y], color=CONDITION_COLOURS[0], lw=2, zorder=2)
                off = q[1] < X_LIMITS[0] or q[1] > X_LIMITS[1]  # off the chart: an arrow
                mark = ("<" if q[1] < 0 else ">") if off else "o"
                ax.plot(mid, y, mark, color=CONDITION_COLOURS[1], zorder=3)
        ax.set_yticks(range(n), list(targets["id"])[::-1])
        ax.set_xlim(*X_LIMITS)
        ax.set_xlabel("position relative to the band (band = 0..1; log scale for amounts; "
                      "arrows: off the chart)")
        ax.set_title(f"Targets (grey) and the posterior predictive ({PREDICTIVE_LEVEL:.0%}, "
                     "median)")
        caption(fig, caption_line)
        return save_png(fig, path)


def _log_axis(axis: object) -> None:
    """A log axis with a few major labels and no minor ones."""
    from matplotlib.ticker import LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(numticks=3))
    axis.set_minor_formatter(NullFormatter())


def _weighted_hist(ax: object, x: np.ndarray, w: np.ndarray, lo: float, hi: float,
                   log: bool) -> None:
    bins = np.geomspace(lo, hi, 16) if log else np.linspace(lo, hi, 16)
    ax.hist(x, bins=bins, weights=w, color=CONDITION_COLOURS[0], alpha=0.8)
    if log:
        ax.set_xscale("log")
        _log_axis(ax.xaxis)
    ax.set_xlim(lo, hi)


def _prior_bounds(meta: dict, names: Sequence[str]) -> dict[str, tuple[float, float, bool]]:
    table = {p["name"]: p for p in meta.get("priors", [])}
    out = {}
    for n in names:
        p = table.get(n)
        out[n] = (p["low"], p["high"], p["scale"] == "log") if p else (math.nan, math.nan,
                                                                       False)
    return out


def narrowing(posterior: pd.DataFrame, bounds: dict[str, tuple[float, float, bool]]
              ) -> pd.Series:
    """Posterior spread over the prior's (1 = not narrowed), on the prior's scale."""
    w = posterior["weight"].to_numpy(float)
    out = {}
    for n, (lo, hi, log) in bounds.items():
        x = posterior[n].to_numpy(float)
        if log:
            x, lo, hi = np.log(x), math.log(lo), math.log(hi)
        mean = np.sum(w * x) / w.sum()
        sd = math.sqrt(np.sum(w * (x - mean) ** 2) / w.sum())
        out[n] = sd / ((hi - lo) / math.sqrt(12)) if hi > lo else math.nan
    return pd.Series(out).sort_values()


EDGE = 0.05  # the first and last 5% of a prior's range (on its scale): its ends
EDGE_FLAG = 0.2  # a posterior with this much weight in one end presses against the bound


def end_weights(posterior: pd.DataFrame, bounds: dict[str, tuple[float, float, bool]]
                ) -> pd.DataFrame:
    """Posterior weight in the lowest and highest ``EDGE`` of each prior's range (a flat
    posterior has ``EDGE`` in each): where the record pushes a parameter to a bound."""
    w = posterior["weight"].to_numpy(float)
    w = w / w.sum()
    rows = []
    for n, (lo, hi, log) in bounds.items():
        x = posterior[n].to_numpy(float)
        if log:
            x, lo, hi = np.log(x), math.log(lo), math.log(hi)
        span = (hi - lo) * EDGE
        rows.append({"parameter": n, "low_end": float(w[x <= lo + span].sum()),
                     "high_end": float(w[x >= hi - span].sum())})
    return pd.DataFrame(rows).set_index("parameter")


def plot_marginals(posterior: pd.DataFrame, bounds: dict[str, tuple[float, float, bool]],
                   path: Path, caption_line: str) -> Path:
    """Weighted histogram of every calibrated parameter over its prior range."""
    import matplotlib.pyplot as plt

    names = list(bounds)
    cols = min(4, len(names))
    rows = math.ceil(len(names) / cols)
    w = posterior["weight"].to_numpy(float)
    with style():
        fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 1.9 * rows + 0.6),
                                 layout="constrained", squeeze=False)
        for ax, n in zip(axes.flat, names, strict=False):
            lo, hi, log = bounds[n]
            _weighted_hist(ax, posterior[n].to_numpy(float), w, lo, hi, log)
            ax.set_title(n, fontsize=8.5)
            ax.set_yticks([])
        for ax in list(axes.flat)[len(names):]:
            ax.set_visible(False)
        fig.suptitle("Posterior marginals (x axis: the prior's range)")
        caption(fig, caption_line)
        return save_png(fig, path)


def plot_pairs(posterior: pd.DataFrame, bounds: dict[str, tuple[float, float, bool]],
               names: Sequence[str], path: Path, caption_line: str) -> Path:
    """Pairwise scatter of the given parameters, point size by weight."""
    import matplotlib.pyplot as plt

    k = len(names)
    w = posterior["weight"].to_numpy(float)
    size = 4 + 60 * w / w.max() if len(w) and w.max() > 0 else 4
    with style():
        fig, axes = plt.subplots(k, k, figsize=(1.9 * k + 0.6, 1.9 * k + 0.6),
                                 layout="constrained", squeeze=False)
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                ax = axes[i, j]
                lo_a, hi_a, log_a = bounds[a]
                lo_b, hi_b, log_b = bounds[b]
                if i == j:
                    _weighted_hist(ax, posterior[a].to_numpy(float), w, lo_a, hi_a, log_a)
                    ax.set_yticks([])
                else:
                    ax.scatter(posterior[b], posterior[a], s=size, color=CONDITION_COLOURS[0],
                               alpha=0.4, linewidths=0)
                    if log_b:
                        ax.set_xscale("log")
                        _log_axis(ax.xaxis)
                    if log_a:
                        ax.set_yscale("log")
                        _log_axis(ax.yaxis)
                    ax.set_xlim(lo_b, hi_b)
                    ax.set_ylim(lo_a, hi_a)
                if i == k - 1:
                    ax.set_xlabel(b, fontsize=7.5)
                if j == 0:
                    ax.set_ylabel(a, fontsize=7.5)
                ax.tick_params(labelsize=6.5)
        fig.suptitle("Pairs of the parameters the targets narrow most")
        caption(fig, caption_line)
        return save_png(fig, path)


def plot_generations(gens: pd.DataFrame, path: Path, caption_line: str) -> Path:
    """Epsilon, acceptance rate and effective sample size per generation."""
    import matplotlib.pyplot as plt

    with style():
        fig, axes = plt.subplots(1, 3, figsize=(9.5, 2.9), layout="constrained")
        for ax, col, title in zip(axes, ("epsilon", "acceptance_rate", "ess"),
                                  ("epsilon", "acceptance rate", "effective sample size"),
                                  strict=True):
            ax.plot(gens["generation"], gens[col], "o-", color=CONDITION_COLOURS[0])
            ax.set_title(title)
            ax.set_xlabel("generation")
        caption(fig, caption_line)
        return save_png(fig, path)


def calibration_report(folder: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``calibration_report.html`` and ``.md`` into a calibration folder."""
    d = Path(folder)
    data = load(d)
    meta, targets = data["meta"], data["targets"]
    posterior, predictive, gens = data["posterior"], data["predictive"], data["generations"]
    s = meta["settings"]
    line = caption_text(scenario=s["scenario"], world=s["world"], seed=s["seed"])
    figs = d / "figures"
    ess = float(gens["ess"].iloc[-1]) if len(gens) else math.nan
    n_runs = int(predictive.groupby(["particle", "run"]).ngroups) if len(predictive) else 0
    rep = Report(
        title=f"scamsim calibration: {s['scenario']} on {s['world']}",
        lead=(f"ABC-SMC (pyabc {meta.get('pyabc_version', '?')}): {s['population']} "
              f"particles, {len(gens)} generation(s), {s['seeds']} run(s) per particle; "
              f"stopped because {meta.get('stop_reason', 'it was interrupted')}. "
              f"Posterior predictive from the {n_runs} runs of the last generation; its "
              f"effective sample size is {ess:.0f} of {s['population']} particles."),
    )
    sec = rep.section("Targets and the posterior predictive")
    sec.paragraphs.append(
        "Each target's band beside the model's posterior predictive: the median and the "
        f"central {PREDICTIVE_LEVEL:.0%} interval of the statistic over the last "
        "generation's runs, weighted by the particles' weights. 'hit': the median is in "
        "the band; 'partial': the interval overlaps the band but the median does not; "
        "'miss': the interval lies outside the band."
    )
    sec.figures.append((plot_targets(targets, predictive, figs / "targets.png", line),
                        "Bands (grey) and posterior predictive intervals"))
    sec.tables.append((target_table(targets, predictive), "Targets: hit or miss"))
    if meta.get("skipped_targets"):
        sec.paragraphs.append("Left out in this world: " + "; ".join(
            f"{k} ({v})" for k, v in meta["skipped_targets"].items()) + ".")
    text, pairs = conflicts(targets, predictive)
    sec = rep.section("Targets the model cannot reach together")
    sec.paragraphs += text
    if len(pairs):
        sec.tables.append((pairs, "Pairs of targets rarely reached together"))
    names = [c for c in posterior.columns if c != "weight"]
    bounds = _prior_bounds(meta, names)
    sec = rep.section("Posterior")
    sec.figures.append((plot_marginals(posterior, bounds, figs / "marginals.png", line),
                        "Posterior marginals"))
    narrow = narrowing(posterior, bounds)
    top = list(narrow.index[: min(PAIR_PLOT_MAX, len(narrow))])
    if len(top) >= 2:
        sec.figures.append((plot_pairs(posterior, bounds, top, figs / "pairs.png", line),
                            "Pairwise posterior of the most narrowed parameters"))
    w = posterior["weight"].to_numpy(float)
    ends = end_weights(posterior, bounds)
    summary = pd.DataFrame([
        {"parameter": n, "prior": f"[{_fmt(bounds[n][0])}, {_fmt(bounds[n][1])}]"
         + (" log" if bounds[n][2] else ""),
         "median": _fmt(weighted_quantile(posterior[n].to_numpy(float), w, 0.5)),
         "90% interval": f"[{_fmt(weighted_quantile(posterior[n].to_numpy(float), w, .05))}, "
                         f"{_fmt(weighted_quantile(posterior[n].to_numpy(float), w, .95))}]",
         "spread / prior's": f"{narrow.get(n, math.nan):.2f}",
         "weight at the ends": f"{ends.loc[n, 'low_end']:.0%} / {ends.loc[n, 'high_end']:.0%}"}
        for n in names])
    sec.tables.append((summary, "Posterior summary (spread / prior's: 1 = not narrowed; "
                                f"weight in the lowest / highest {EDGE:.0%} of the prior's "
                                f"range, {EDGE:.0%} each if flat)"))
    pressed = [(n, side) for n in names for side in ("low", "high")
               if ends.loc[n, f"{side}_end"] >= EDGE_FLAG]
    if pressed:
        sec.paragraphs.append(
            "The record pushes these against a bound of their prior (at least "
            f"{EDGE_FLAG:.0%} of the weight in the last {EDGE:.0%} of the range): "
            + ", ".join(f"{n} ({side})" for n, side in pressed) + ". Their medians depend "
            "on where the prior ends: the targets ask for more than the prior judged "
            "plausible, or the model lacks a mechanism they need.")
    else:
        sec.paragraphs.append("No parameter presses against a bound of its prior.")
    sec = rep.section("Generations")
    sec.figures.append((plot_generations(gens, figs / "generations.png", line),
                        "Epsilon, acceptance rate and effective sample size"))
    table = gens.copy()
    for c in ("epsilon", "acceptance_rate", "ess", "wall_time_s"):
        table[c] = table[c].map(lambda v: f"{v:.4g}")
    sec.tables.append((table, "generations.csv"))
    return rep.write(d, stem="calibration_report")
