"""Which hits of a bulk block are weak (level 低), so the bulk push keeps only a patent's
closest few of them, as a push round does (`inventory.push.WEAK_PUSHES`).

A hit's level comes from the calibrated match its explanation would show (query and document
coverage and the raw IPC cosine, `engine.calibrate`). The bulk job explains no hit, so this
computes that number alone, through the explanation's own steps
(`Matcher.match_probabilities`), and only for hits with evidence: the others are skipped
before any level matters. A query's terms are read from its stored form where the ranking
read them (`bulk_query.StoredQueries`), so no patent is tokenised twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shuanglian.engine.bulk import RankedBlock, _counts_by_passage, bulk_ranker
from shuanglian.engine.calibrate import MEDIUM
from shuanglian.engine.matcher import Matcher
from shuanglian.engine.records import Record


def block_weak(matcher: Matcher, queries: Sequence[Record], block: RankedBlock) -> np.ndarray:
    """One bit per hit of `block` (ranked by `rank_block` from `queries`): whether its match
    level is 低. False for hits without evidence (`block.evidence`), which are not pushed."""
    stored = bulk_ranker(matcher).stored
    positions = matcher._positions()
    by_id = {q.id: q for q in queries}
    out = np.zeros(len(block.doc_ids), dtype=bool)
    for i, query_id in enumerate(block.query_ids):
        lo, hi = int(block.offsets[i]), int(block.offsets[i + 1])
        todo = np.arange(lo, hi)
        if block.evidence is not None:
            todo = todo[block.evidence[lo:hi]]
        if not len(todo):
            continue
        query = by_id[query_id]
        terms = None
        if stored is not None and not _counts_by_passage(query, matcher.params):
            form = stored.form(query)
            if form is not None:
                names = stored.source.terms
                ids, counts = form
                terms = [
                    names[t] for t, n in zip(ids.tolist(), counts.tolist(), strict=True)
                    for _ in range(n)
                ]  # fmt: skip
        match = matcher.match_probabilities(
            query, [positions[block.doc_ids[k]] for k in todo.tolist()], terms=terms
        )
        out[todo] = match < MEDIUM
    return out
