"""Benchmark: the bulk job's ranking (`engine.bulk.BulkRanker`) against `Matcher.search_many`.

Both directions over `benchmarks/scale_mix.py` records (seed 16): an index of N enterprises
ranked for Q patents (p2e) and an index of N patents ranked for Q enterprises (e2p), with the
real industry link. Each path ranks the same queries (top 60: the job's top 20 × overfetch 3);
the blocks must be identical (ids, scores, signal parts). Timed in CPU seconds of this process
(`time.process_time`), because the machine is shared: wall time would measure the neighbours.
No database: this is the ranking alone, what the job's worker processes do.

    nice .venv/bin/python benchmarks/bulk_rank_speed.py --docs 20000 --queries 1000

Results are merged into benchmarks/results/bulk_rank_speed.json (one entry per size).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "benchmarks"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

RESULTS = ROOT / "benchmarks/results/bulk_rank_speed.json"
SEED = 16
TOP = 60


def _records(kind: str, n: int, *, seed: int, offset: int = 0) -> list[Any]:
    from benchmarks.scale_mix import generate_enterprises, generate_patents
    from shuanglian.engine.records import Record

    if kind == "patent":
        return [
            Record(id=str(i), title=p["title"], text=p["abstract"], ipc=tuple(p["ipc"]))
            for i, p in enumerate(generate_patents(n + offset, seed=seed), start=1)
            if i > offset
        ]
    return [
        Record(id=str(i), title=e["name"], text=e["scope"], industry=e["industry"])
        for i, e in enumerate(generate_enterprises(n + offset, seed=seed), start=1)
        if i > offset
    ]


def measure(docs: int, queries: int) -> list[dict[str, Any]]:
    import numpy as np

    from shuanglian.engine.bulk import bulk_ranker, rank_block_reference
    from shuanglian.engine.matcher import Matcher
    from shuanglian.matching.service import industry_link

    out = []
    for direction, doc_kind, query_kind in (("p2e", "enterprise", "patent"),
                                            ("e2p", "patent", "enterprise")):  # fmt: skip
        matcher = Matcher.build(_records(doc_kind, docs, seed=SEED), link=industry_link())
        # Queries from the same generator with another seed.
        qs = _records(query_kind, queries, seed=SEED + 1)
        ranker = bulk_ranker(matcher)
        ranker.rank(qs[:32], top=TOP)  # warm: memory-mapped pages, caches of the matcher
        rank_block_reference(matcher, qs[:32], top=TOP)
        started = time.process_time()
        reference = rank_block_reference(matcher, qs, top=TOP)
        ref_s = time.process_time() - started
        started = time.process_time()
        fast = ranker.rank(qs, top=TOP)
        fast_s = time.process_time() - started
        identical = (
            fast.doc_ids == reference.doc_ids
            and np.array_equal(fast.offsets, reference.offsets)
            and np.array_equal(fast.scores, reference.scores)
            and np.array_equal(fast.signals, reference.signals)
        )
        row = {
            "direction": direction,
            "documents": docs,
            "queries": queries,
            "top": TOP,
            "search_many_ms_per_query": round(ref_s / queries * 1e3, 3),
            "bulk_ms_per_query": round(fast_s / queries * 1e3, 3),
            "speedup": round(ref_s / fast_s, 2),
            "identical": identical,
            "hits": len(fast.doc_ids),
        }
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    rows = measure(args.docs, args.queries)
    out: dict[str, Any] = {}
    if args.output.exists():
        out = json.loads(args.output.read_text(encoding="utf-8"))
    out.update(
        benchmark="bulk_rank_speed",
        machine={
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },  # fmt: skip
    )
    entry = {
        "documents": args.docs,
        "queries": args.queries,
        "directions": rows,
        "command": "python benchmarks/bulk_rank_speed.py " + " ".join(argv or sys.argv[1:]),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
    }
    kept = [e for e in out.get("sizes", []) if e["documents"] != args.docs]
    out["sizes"] = sorted([*kept, entry], key=lambda e: e["documents"])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
