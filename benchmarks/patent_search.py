"""Benchmark: `/api/v1/patents?q=` before and after the term index (issue 10).

Runs each query against a filled database (`benchmarks/scale_data.py --sqlite`) two ways: the
old plan (a substring scan of every patent's `search_text` for a page, and a COUNT of all
matches) and `patents.service.search_patents` (the `patent_terms` posting lists, a count
capped at COUNT_CAP). Five runs each; the median is reported with what each found (page size,
total, capped). The two differ by design as well as in speed: the index matches the words of
the titles (in either language) and caps the count; the scan matched any substring of title
and abstract.

    .venv/bin/python benchmarks/patent_search.py --db benchmarks/work/scale/<key>/<db>/shuanglian.db
        [--queries method 电池] [--output benchmarks/results/patent_search.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.web_load import machine_info  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "patent_search.json"
QUERIES = ["method", "neural network", "电池", "无人机", "quantum entanglement"]
RUNS = 5


def main() -> None:
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.orm import Session

    from shuanglian.patents.models import Patent
    from shuanglian.patents.service import search_patents
    from shuanglian.text.normalize import normalize_for_search

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="a filled SQLite database")
    parser.add_argument("--queries", nargs="+", default=QUERIES)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    engine = create_engine(f"sqlite:///{args.db}")
    results: dict[str, Any] = {}
    with Session(engine) as session:
        total = session.scalar(select(func.count(Patent.id)))

        def scan(q: str) -> list[Any]:
            hit = Patent.search_text.contains(normalize_for_search(q), autoescape=True)
            order = (Patent.filing_date.desc().nulls_last(), Patent.id)
            page = list(session.scalars(select(Patent).where(hit).order_by(*order).limit(20)))
            return [len(page), session.scalar(select(func.count(Patent.id)).where(hit))]

        def index(q: str) -> list[Any]:
            found = search_patents(session, q=q, limit=20)
            return [len(found.items), found.total, found.capped]

        for q in args.queries:
            row: dict[str, Any] = {}
            plans: dict[str, Callable[[str], list[Any]]] = {
                "substring_scan": scan,
                "term_index": index,
            }
            for name, plan in plans.items():
                times = []
                for _ in range(RUNS):
                    started = time.perf_counter()
                    found = plan(q)
                    times.append(time.perf_counter() - started)
                row[name] = {
                    "median_ms": round(statistics.median(times) * 1000, 1),
                    "page_total": found,
                }
            results[q] = row
            print(q, json.dumps(row, ensure_ascii=False), flush=True)
    out = {
        "benchmark": "patent_search",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "benchmarks/patent_search.py " + " ".join(sys.argv[1:]),
        "patents": total,
        "runs": RUNS,
        "machine": machine_info(),
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    print(f"结果 (results): {args.output}")


if __name__ == "__main__":
    main()
