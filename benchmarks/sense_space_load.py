"""The first English query after an index is opened: sense space stored with it, or built then.

    .venv/bin/python benchmarks/sense_space_load.py [--enterprises 100000] [--runs 3]

Builds an index of N generated enterprise documents (benchmarks/corpus.py: the real business
scopes recombined, a fifth English firms), saves it as `shuanglian index build` does, then opens
it in fresh processes and times the first English patent query (top 20, explained; a real
NVIDIA patent) and the peak RSS of that process: as saved (the main segment's sense space
stored beside it, `engine.index`), and with the space taken out of the saved files, as an index
saved before spaces were stored reads (the space is built on that first query). Medians of
`--runs` processes each. Writes benchmarks/results/sense_space_load.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import SHARED, generate_enterprises, load_sources  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _queries(n: int) -> list[Any]:
    from shuanglian.engine.records import Record

    path = SHARED / "data" / "samples" / "en_patents_nvidia_sample150.csv"
    with path.open(encoding="utf-8-sig") as fh:
        rows = [r for _, r in zip(range(n), csv.DictReader(fh), strict=False)]
    return [Record(id=r["patent_id"], title=r["title"], text=r["abstract"]) for r in rows]


def _open_and_query(root: str, out: Any) -> None:
    """Child process: open the index, time the first English query and four more."""
    from shuanglian.engine.index import load_index
    from shuanglian.text.bilingual import translate_term
    from shuanglian.text.tokenize import tokenize

    queries = _queries(5)
    # What a serving process has loaded already (dictionaries, segmenter): not this index's.
    tokenize("锂电池正极材料 lithium battery cathode")
    translate_term("battery")
    started = time.perf_counter()
    matcher = load_index(Path(root), name="enterprises")
    opened = time.perf_counter()
    matcher.search(queries[0], top=20, explain=True)
    first = time.perf_counter()
    for q in queries[1:]:
        matcher.search(q, top=20, explain=True)
    rest = (time.perf_counter() - first) / (len(queries) - 1)
    out.put(
        {
            "open_ms": (opened - started) * 1000,
            "first_query_ms": (first - opened) * 1000,
            "later_query_ms": rest * 1000,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def _strip_space(base: Path) -> None:
    """Make a saved index read as one saved before spaces were stored."""
    manifest_path = next(p for p in (base / "versions").iterdir() if p.is_dir()) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    main = base / "segments" / manifest["segments"][0]
    meta = json.loads((main / "meta.json").read_text(encoding="utf-8"))
    meta.pop("senses", None)
    (main / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    for name in ("senses_vectors.npy", "senses_terms.json"):
        (main / name).unlink(missing_ok=True)
    files = manifest["files"]
    for rel in [k for k in files if "/senses_" in k]:
        del files[rel]
    rel = (main / "meta.json").relative_to(base).as_posix()
    files[rel]["size"] = (main / "meta.json").stat().st_size
    manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def _measure(root: Path, runs: int) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    samples = []
    for _ in range(runs):
        out = ctx.Queue()
        child = ctx.Process(target=_open_and_query, args=(str(root), out))
        child.start()
        samples.append(out.get())
        child.join()
    return {k: round(statistics.median(s[k] for s in samples), 1) for k in samples[0]}


def main() -> int:
    from shuanglian.engine.index import save_index
    from shuanglian.engine.matcher import Matcher
    from shuanglian.engine.records import Record

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--enterprises", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    docs = [json.loads(d) for d in generate_enterprises(load_sources(), args.enterprises, seed=42)]
    records = [Record(id=d["_id"], title=d["title"], text=d["text"]) for d in docs]
    work = Path(tempfile.mkdtemp(prefix="bench-senses-"))
    try:
        started = time.perf_counter()
        matcher = Matcher.build(records)
        built = time.perf_counter()
        save_index(matcher, work / "stored", name="enterprises")
        saved = time.perf_counter()
        shutil.copytree(work / "stored", work / "older")
        _strip_space(work / "older" / "enterprises")
        result = {
            "command": " ".join(sys.argv),
            "enterprises": args.enterprises,
            "runs": args.runs,
            "build_s": round(built - started, 1),
            "save_s (space built and written)": round(saved - built, 1),
            "space stored": _measure(work / "stored", args.runs),
            "space built on first query": _measure(work / "older", args.runs),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sense_space_load.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
