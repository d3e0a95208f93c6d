"""Common random numbers: uniforms keyed by purpose, month, draw and stable agent id.

Each purpose (raids, movement, recruitment) has its own PCG64 generator spawned from
the run's seed. The number agent ``uid`` gets for draw ``k`` of month ``t`` is the
``uid``-th double after position ``t × STEP_STRIDE + k × DRAW_STRIDE`` of that
generator (PCG64 jumps there in logarithmic time), so it depends on the seed, the
purpose, the month, the draw and the agent only, never on which other agents exist
or what they drew. Two scenarios run with the same seed thus give every agent they
share the same draws in every month, whatever an intervention changed elsewhere; only
what the intervention itself changed (who is raided, who moves, how many workers a
compound holds) differs (Starsim's common random numbers, with a counter-based jump
in place of its per-step reseeding).

Binomial draws are made by inversion of one such uniform (:func:`binomial_inverse`), so
a compound's count depends on its own uniform and size only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

import numpy as np

STEP_STRIDE = 1 << 40  # positions per month
DRAW_STRIDE = 1 << 32  # positions per draw within a month (ids below 2^32)
MAX_DRAWS = STEP_STRIDE // DRAW_STRIDE
# Width of the binomial inversion window, in standard deviations (plus a margin) on each
# side of the mean: the mass outside it is far below one in 10^15.
TAIL_SD, TAIL_MARGIN = 9.0, 10.0

SHARED_TABLES = 64  # binomial tables kept per process (a calibration varies p per particle)
BLOCK_ROWS = 256  # rows of a binomial table computed together

Draws = Callable[[int, np.ndarray], np.ndarray]  # (draw, rows) -> uniforms of those rows


class Stream:
    """Uniforms of one purpose, keyed by (month, draw, agent id)."""

    def __init__(self, seed: np.random.SeedSequence) -> None:
        self._bitgen = np.random.PCG64(seed)
        self._gen = np.random.Generator(self._bitgen)
        self._origin = self._bitgen.state
        self._at = 0  # position of the generator (doubles drawn since the origin)
        # Set to a list to keep every draw as (month, draw, ids, uniforms), for checks.
        self.log: list[tuple[int, int, np.ndarray, np.ndarray]] | None = None

    def uniform(self, step: int, draw: int, ids: np.ndarray) -> np.ndarray:
        """One uniform in [0, 1) per id for draw ``draw`` of month ``step``."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return np.zeros(0)
        return self._uniform(step, draw, ids, int(ids.min()), int(ids.max()))

    def _uniform(self, step: int, draw: int, ids: np.ndarray, first: int, last: int) -> np.ndarray:
        """:meth:`uniform` for ids within ``first .. last`` (any bounds around them)."""
        if not 0 <= draw < MAX_DRAWS:
            raise ValueError(f"draw must be in [0, {MAX_DRAWS}), got {draw}")
        # Only the doubles from ``first`` to ``last`` are generated: the jump skips the
        # ones before (one double per position, so the values are the same).
        target = int(step) * STEP_STRIDE + int(draw) * DRAW_STRIDE + first
        if target < self._at:  # behind: back to the origin (draws mostly come in order)
            self._bitgen.state = self._origin
            self._at = 0
        self._bitgen.advance(target - self._at)
        count = last - first + 1
        u = self._gen.random(count)[ids - first if first else ids]
        self._at = target + count
        if self.log is not None:
            self.log.append((int(step), int(draw), ids.copy(), u.copy()))
        return u

    def normal(self, step: int, draw: int, ids: np.ndarray) -> np.ndarray:
        """Standard normal per id (Box-Muller from draws ``draw`` and ``draw + 1``)."""
        u1 = self.uniform(step, draw, ids)
        u2 = self.uniform(step, draw + 1, ids)
        return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * math.pi * u2)

    def draws(self, step: int, ids: np.ndarray) -> Draws:
        """``draws(k, rows)``: the uniforms of draw ``k`` for ``ids[rows]`` this month."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return lambda draw, rows: np.zeros(0)
        first, last = int(ids.min()), int(ids.max())  # bounds of every subset's ids

        def draw_rows(draw: int, rows: np.ndarray) -> np.ndarray:
            if len(rows) == 0:
                return np.zeros(0)
            return self._uniform(step, draw, ids[rows], first, last)

        return draw_rows


def generator_draws(rng: np.random.Generator) -> Draws:
    """Draws from a plain generator, in order (no common random numbers; for tests)."""
    return lambda draw, rows: rng.random(len(rows))


def binomial_inverse(u: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """``Binomial(n, p)`` by inversion: the smallest ``k`` with ``F(k) >= u``, per element.

    The probabilities are summed over a window of ``TAIL_SD`` standard deviations (plus
    ``TAIL_MARGIN``) around the mean, where all but a negligible mass lies, from the
    recursion ``f(k + 1) / f(k) = (n − k) / (k + 1) × p / (1 − p)`` and normalised over
    the window; vectorised over the elements (for a few elements at a time: many draws
    with the same ``p`` are faster with :class:`BinomialTable`).
    """
    n = np.asarray(n, dtype=np.int64)
    u = np.asarray(u, dtype=float)
    if n.size == 0:
        return np.zeros(0, dtype=np.int64)
    if p <= 0.0:
        return np.zeros(n.shape, dtype=np.int64)
    if p >= 1.0:
        return n.copy()
    lo, hi = _window(n, p)
    cdf = _window_cdf_products(n, p, lo, int((hi - lo).max()) + 1)
    j = (cdf < u[:, None]).sum(axis=1)
    return np.minimum(lo + j, n)


def _window(n: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray]:
    """First and last count of each element's inversion window."""
    mean = n * p
    sd = np.sqrt(mean * (1.0 - p))
    lo = np.maximum(np.floor(mean - TAIL_SD * sd - TAIL_MARGIN), 0.0).astype(np.int64)
    hi = np.minimum(np.ceil(mean + TAIL_SD * sd + TAIL_MARGIN).astype(np.int64), n)
    return lo, hi


def _window_cdf(n: np.ndarray, p: float, lo: np.ndarray, width: int) -> np.ndarray:
    """(elements, width) CDF over counts ``lo .. lo + width − 1``, 1 from ``n`` on."""
    k = lo[:, None] + np.arange(width)[None, :]
    # log f(k+1)/f(k) for every step of the window; -inf past n (no mass there).
    with np.errstate(divide="ignore"):
        step = np.log(np.maximum(n[:, None] - k, 0) / (k + 1.0)) + math.log(p / (1.0 - p))
    logf = np.zeros(k.shape)
    np.cumsum(step[:, :-1], axis=1, out=logf[:, 1:])
    logf -= logf.max(axis=1, keepdims=True)
    f = np.exp(logf, out=logf)
    cdf = np.cumsum(f, axis=1)
    cdf /= cdf[:, -1:]
    return cdf


def _window_cdf_products(n: np.ndarray, p: float, lo: np.ndarray, width: int) -> np.ndarray:
    """As :func:`_window_cdf`, with ``f(k) / f(lo)`` as running products of the ratios.

    No logarithm or exponential per count (the window's cost is then a few
    multiplications); the window starts ``TAIL_SD`` standard deviations below the mean,
    so the products stay far below overflow, and where they would not (extreme ``p``)
    the log form is used.
    """
    k = lo[:, None] + np.arange(width - 1)[None, :]
    ratio = np.maximum(n[:, None] - k, 0) / (k + 1.0)  # 0 past n: no mass there
    ratio *= p / (1.0 - p)
    f = np.empty((len(n), width))
    f[:, 0] = 1.0
    np.cumprod(ratio, axis=1, out=f[:, 1:])
    cdf = np.cumsum(f, axis=1, out=f)
    total = cdf[:, -1:]
    if not np.isfinite(total).all():
        return _window_cdf(n, p, lo, width)
    cdf /= total
    return cdf


class BinomialTable:
    """``Binomial(n, p)`` by inversion for one ``p`` and many elements: the CDF of every
    ``n`` up to the largest seen, computed once (rows grow on demand), searched at once.

    Rows are laid end to end with row ``n`` offset by ``2n`` (a CDF lies in (0, 1], so
    rows never overlap), and one ``searchsorted`` inverts all elements; the offset costs
    the CDF some precision (below 2 × 10^-12 for rows under 5,000), far below any effect
    on a count. A row keeps only its entries below ``2n + 1``: the others (the CDF
    rounded to 1) are never below a key ``2n + u``, so dropping them changes no count
    and halves the table.
    """

    _shared: ClassVar[dict[float, BinomialTable]] = {}  # one per p in a process (see of)

    def __init__(self, p: float) -> None:
        self.p = float(p)
        # (largest n tabulated, first position of each row, rows end to end), replaced
        # whole when it grows, so threads sharing the table read one consistent version.
        self._data: tuple[int, np.ndarray, np.ndarray] = (
            -1, np.zeros(0, dtype=np.int64), np.zeros(0)
        )

    @classmethod
    def of(cls, p: float) -> BinomialTable:
        """The process's table for ``p`` (models with the same rate share it; a table
        depends on ``p`` only, so sharing changes no draw)."""
        table = cls._shared.get(float(p))
        if table is None:
            if len(cls._shared) >= SHARED_TABLES:
                cls._shared.clear()
            table = cls._shared[float(p)] = cls(p)
        return table

    def _build(self, n_max: int) -> tuple[int, np.ndarray, np.ndarray]:
        """Add the rows up to at least ``n_max`` (the rows already there are kept)."""
        done, first, flat = self._data
        rows = max(n_max, 2 * done, 64)
        firsts, parts, at = [first], [flat], len(flat)
        # In blocks of rows, each only as wide as its own rows' windows: a row's entries
        # do not depend on the width it is computed with (the mass past its window is far
        # below the rounding of its total), so blocks give the rows a table built at once
        # would, at a fraction of the cost (a calibration builds one table per rate).
        for start in range(done + 1, rows + 1, BLOCK_ROWS):
            n = np.arange(start, min(start + BLOCK_ROWS, rows + 1), dtype=np.int64)
            width = int(_window(n, self.p)[1].max()) + 1
            shifted = _window_cdf(n, self.p, np.zeros(len(n), dtype=np.int64), width)
            shifted += 2.0 * n[:, None]  # F(k) from 0, offset by 2n
            # Rows are non-decreasing: the entries below 2n + 1 are a prefix of each row.
            keep = shifted < (2.0 * n + 1.0)[:, None]
            lengths = keep.sum(axis=1)
            firsts.append(at + np.cumsum(lengths) - lengths)  # where each row starts
            at += int(lengths.sum())
            parts.append(shifted[keep])
        self._data = (rows, np.concatenate(firsts), np.concatenate(parts))
        return self._data

    def inverse(self, u: np.ndarray, n: np.ndarray) -> np.ndarray:
        """One draw per element from its uniform ``u`` and size ``n``."""
        n = np.asarray(n, dtype=np.int64)
        if n.size == 0:
            return np.zeros(0, dtype=np.int64)
        if self.p <= 0.0:
            return np.zeros(n.shape, dtype=np.int64)
        if self.p >= 1.0:
            return n.copy()
        data = self._data
        if int(n.max()) > data[0]:
            data = self._build(int(n.max()))
        _, first, flat = data
        key = 2.0 * n + np.asarray(u, dtype=float)
        # Sorted keys let the search reuse its last position (twice as fast here).
        order = np.argsort(key)  # equal keys find the same position: any order will do
        pos = np.empty(len(key), dtype=np.int64)
        pos[order] = np.searchsorted(flat, key[order], side="left")
        return np.minimum(pos - first[n], n)
