"""Bulk ranking: many queries against one memory-mapped index, results as flat arrays.

The job that pushes a national pool (about a million patents to half a million enterprises)
needs only ids, scores and each signal's part per hit; Python `Hit` objects for 30M hits would
not fit in memory, and pickling them between processes would cost more than ranking. So a
block of queries goes through the matcher's own batched search (`Matcher.search_many`, the
same ranking every other caller gets: sparse products over the term-major postings, one
argpartition per batch) and comes back as arrays, ready to be sent to another process or
written to a database in bulk. Explanations are not computed here: the job stores the signal
parts (the compact explanation) and the full one is rendered on demand (`Matcher.explain`).

Each worker process opens the index once (`worker_matcher`): the arrays are memory-mapped, so
the operating system shares their pages among all workers on a machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shuanglian.engine.index import load_index
from shuanglian.engine.matcher import Matcher
from shuanglian.engine.prior import IndustryLink
from shuanglian.engine.records import Record

SIGNAL_COLUMNS = ("bm25", "ipc", "prior")  # the parts stored with each hit, in this order


@dataclass
class RankedBlock:
    """Hits of a block of queries, flattened: query `i` owns rows
    `offsets[i]:offsets[i + 1]` of `doc_ids`, `scores` and `signals` (best first).

    `failed` lists the positions of queries the engine could not rank (they have no rows);
    a whole block never fails because of one record.
    """

    query_ids: list[str]
    offsets: np.ndarray  # int64, len(query_ids) + 1
    doc_ids: list[str]
    scores: np.ndarray  # float64: the fused score, as Hit.score
    signals: np.ndarray  # float32 (hits × len(SIGNAL_COLUMNS)): each signal's weighted part
    failed: list[int]

    def hits_of(self, i: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(doc ids, scores, signal parts) of query `i`, best first."""
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.doc_ids[lo:hi], self.scores[lo:hi], self.signals[lo:hi]


def rank_block(
    matcher: Matcher, queries: Sequence[Record], *, top: int, batch: int = 512
) -> RankedBlock:
    """Top `top` hits of every query, as arrays (see `RankedBlock`).

    Queries go to `search_many` `batch` at a time (it scores them 64 per sparse product); if a
    batch raises, its queries are ranked one by one and only those that still fail are listed
    in `failed`.
    """
    per_query: list[list] = []
    failed: list[int] = []
    for start in range(0, len(queries), batch):
        part = list(queries[start : start + batch])
        try:
            per_query.extend(matcher.search_many(part, top=top))
        except Exception:  # noqa: BLE001 — one bad record must not sink the block
            for k, query in enumerate(part):
                try:
                    per_query.extend(matcher.search_many([query], top=top))
                except Exception:  # noqa: BLE001
                    failed.append(start + k)
                    per_query.append([])
    lengths = np.fromiter((len(h) for h in per_query), dtype=np.int64, count=len(per_query))
    offsets = np.zeros(len(per_query) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    n = int(offsets[-1])
    doc_ids: list[str] = []
    scores = np.empty(n, dtype=np.float64)
    signals = np.zeros((n, len(SIGNAL_COLUMNS)), dtype=np.float32)
    row = 0
    for hits in per_query:
        for hit in hits:
            doc_ids.append(hit.doc_id)
            scores[row] = hit.score
            for c, name in enumerate(SIGNAL_COLUMNS):
                signals[row, c] = hit.signals.get(name, 0.0)
            row += 1
    return RankedBlock(
        query_ids=[q.id for q in queries],
        offsets=offsets,
        doc_ids=doc_ids,
        scores=scores,
        signals=signals,
        failed=failed,
    )


_OPEN: dict[tuple[str, str, str], Matcher] = {}


def worker_matcher(root: Path, *, name: str, version: str, link: IndustryLink | None) -> Matcher:
    """The index `name` at `version`, opened once per process and memory-mapped.

    The version is part of the key and is checked against the index's `current` pointer: a job
    that started on one version must not silently continue on a newer one.
    """
    key = (str(Path(root).resolve()), name, version)
    matcher = _OPEN.get(key)
    if matcher is None:
        current = (Path(root) / name / "current").read_text(encoding="utf-8").strip()
        if current != version:
            raise RuntimeError(
                f"索引 {name} 已更新为 {current}，与任务开始时的 {version} 不同 "
                f"(index {name} changed since the job started)"
            )
        matcher = load_index(Path(root), name=name, mmap=True, link=link)
        _OPEN.clear()  # one index per direction at a time: the other one's pages can go
        _OPEN[key] = matcher
    return matcher
