"""Exact top-k selection for the bulk job: the positive part of `matcher._top_k`.

Both functions give the first k of (score descending, position ascending) among positive
scores, the order `Matcher.search_many` returns, however the selection visits the values.
"""

from __future__ import annotations

import numpy as np


def first_k(vals: np.ndarray, k: int) -> np.ndarray:
    """Indices into `vals` of its `k` best positive values, best first, ties by index."""
    idx = np.flatnonzero(vals > 0)
    v = vals[idx]
    if len(idx) > k:
        kth = v[np.argpartition(-v, k - 1)[:k]].min()
        above = v > kth
        tied = np.flatnonzero(v == kth)[: k - int(np.count_nonzero(above))]
        keep = np.sort(np.concatenate([np.flatnonzero(above), tied]))
        idx, v = idx[keep], v[keep]
    return idx[np.argsort(-v, kind="stable")]  # type: ignore[no-any-return]


def best_positive(row: np.ndarray, k: int) -> np.ndarray:
    """Positions of the `k` best positive scores of `row`, best first, equal scores by
    position: the positive part of `matcher._top_k(row, k)`, without partitioning the row.

    The k-th best of a strided sample of the row is at most the k-th best of the row, so every
    position of the answer (ties at the k-th place included) scores at least that much: only
    those candidates, a few thousand rather than the whole row, are partitioned.
    """
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    n = len(row)
    step = max(1, n // (16 * k))
    sample = row[::step]
    threshold = -np.inf
    if step > 1 and len(sample) > k:
        threshold = np.partition(sample, len(sample) - k)[len(sample) - k]
    cand = np.flatnonzero(row >= threshold) if threshold > 0 else np.flatnonzero(row > 0)
    return cand[first_k(row[cand], k)]  # type: ignore[no-any-return]
