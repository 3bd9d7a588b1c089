"""The judged scope suites rebuild from the shared samples with every graded pair in them.

The grades (benchmarks/judged) name queries and documents by id only; if the sample files or
the selection in benchmarks/scope_suite.py changed, grades would silently point at nothing
and the suite would score a different task. This catches that.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.scope_suite import E2P, P2E, build, read_judged
from shuanglian.engine.evaluate import read_qrels, suite_info


def _ids(path: Path) -> set[str]:
    with path.open(encoding="utf-8") as fh:
        return {json.loads(line)["_id"] for line in fh if line.strip()}


def test_every_graded_pair_is_in_the_rebuilt_suite(tmp_path: Path) -> None:
    build(tmp_path)
    for name in (P2E, E2P):
        folder = tmp_path / name
        judged = read_judged(name)
        queries, corpus = _ids(folder / "queries.jsonl"), _ids(folder / "corpus.jsonl")
        assert judged, name
        # Every query was judged (its pool), and every graded pair names a real row.
        assert set(judged) == queries, name
        for qid, docs in judged.items():
            assert docs.keys() <= corpus, (name, qid)
            assert set(docs.values()) <= {0, 1, 2}
        assert read_qrels(folder / "qrels" / "test.tsv") == judged
        assert suite_info(folder)["query_language"] == "zh"
    # The enterprise side is the same sample in both directions.
    assert _ids(tmp_path / E2P / "queries.jsonl") <= _ids(tmp_path / P2E / "corpus.jsonl")
