"""Evaluate the engine on BEIR-format suites (contract: DESIGN.md "Contracts").

A suite folder holds `corpus.jsonl`, `queries.jsonl`, `qrels/test.tsv` and an optional
`suite.json` (`name`, `direction`). Each suite is indexed from scratch into a temporary folder
and read back memory-mapped (the production path), every query retrieves its top 100, and
ir-measures computes nDCG@10 (graded), R@10, RR@10 and R@100, averaged over the queries in the
qrels (a judged query with no result counts as zero). With an encoder the corpus is embedded
once as the suite's index is built (stored with it, as `index build` does) and each query's
short list is re-ranked with the dense signal.
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from shuanglian.engine.calibrate import LEVELS_FIRST_DEPTH, levels_first
from shuanglian.engine.dense import Encoder
from shuanglian.engine.fusion import FusionParams, load_params
from shuanglian.engine.index import load_index, save_index
from shuanglian.engine.matcher import Matcher
from shuanglian.engine.prior import IndustryLink
from shuanglian.engine.records import Hit, Record

METRICS: tuple[str, ...] = ("nDCG@10", "R@10", "RR@10", "R@100")
RUN_DEPTH = 100
RUN_TAG = "shuanglian"
# `drop_ipc`: which side's IPC codes an evaluation ignores (a Chinese demand carries none).
DROP_IPC: tuple[str, ...] = ("query", "corpus", "both")


class SuiteError(ValueError):
    """A suite folder that is missing files or has unreadable rows."""


def suite_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of one suite file (corpus.jsonl, queries.jsonl); SuiteError names the file and
    line of a row that is not JSON."""
    if not path.exists():
        raise SuiteError(f"评测集缺少文件 (suite file missing): {path}")
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SuiteError(f"{path}:{n}: JSON 无法解析 (bad JSON): {exc}") from exc


def record_from_beir(row: dict[str, Any]) -> Record:
    """A corpus or query row as a Record: title, text, metadata.ipc, metadata.industry."""
    meta = row.get("metadata") or {}
    ipc = meta.get("ipc") or ()
    if isinstance(ipc, str):
        ipc = [c for c in ipc.replace(",", ";").split(";") if c.strip()]
    industry = meta.get("industry") or meta.get("industry_code")
    return Record(
        id=str(row["_id"]),
        title=str(row.get("title") or ""),
        text=str(row.get("text") or ""),
        ipc=tuple(str(c) for c in ipc),
        industry=str(industry) if industry else None,
    )


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """qrels/test.tsv (header `query-id corpus-id score`) as {qid: {docid: grade}}."""
    if not path.exists():
        raise SuiteError(f"评测集缺少文件 (suite file missing): {path}")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(float(row[2]))
    return qrels


def suite_info(path: Path) -> dict[str, str]:
    """name, direction and languages of a suite (suite.json; the folder name when it has no
    name). `query_language` / `corpus_language` default to `language` (e.g. 'zh'); a
    cross-lingual suite names both (zh → en) and its all-one-language twin (`cross_lingual_of`).
    """
    meta_file = path / "suite.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
    info = {"name": str(meta.get("name") or path.name), "direction": str(meta.get("direction", ""))}
    lang = str(meta.get("language") or "")
    info["query_language"] = str(meta.get("query_language") or lang.split("-")[0])
    info["corpus_language"] = str(meta.get("corpus_language") or lang.split("-")[-1])
    if meta.get("cross_lingual_of"):
        info["cross_lingual_of"] = str(meta["cross_lingual_of"])
    return info


def _check_drop_ipc(drop_ipc: str | None) -> None:
    if drop_ipc is not None and drop_ipc not in DROP_IPC:
        raise SuiteError(
            f"drop_ipc 必须是 {'|'.join(DROP_IPC)} (drop_ipc must be one of {DROP_IPC}): "
            f"{drop_ipc!r}"
        )


def run_suite(
    path: Path,
    *,
    params: FusionParams | None = None,
    signals: Sequence[str] | None = None,
    link: IndustryLink | None = None,
    drop_ipc: str | None = None,
    query_transform: Callable[[Record], Record] | None = None,
    encoder: Encoder | None = None,
    progress: Callable[[int, int], None] | None = None,
    timing: dict[str, float] | None = None,
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, int]]]:
    """(run {qid: {docid: score}}, qrels) for one suite folder.

    `drop_ipc` ('query', 'corpus' or 'both') removes that side's IPC codes; `query_transform`
    rewrites each query before the search (e.g. into Traditional Chinese). `encoder` embeds
    the corpus at build (`progress(documents, passages)`) and adds the dense re-rank;
    `timing` receives the build and search seconds.
    """
    _check_drop_ipc(drop_ipc)
    qrels = read_qrels(path / "qrels" / "test.tsv")
    corpus = (record_from_beir(r) for r in suite_rows(path / "corpus.jsonl"))
    if drop_ipc in ("corpus", "both"):
        corpus = (replace(r, ipc=()) for r in corpus)
    started = time.perf_counter()
    built = Matcher.build(
        corpus, params=params or load_params(), encoder=encoder, progress=progress
    )
    build_s = time.perf_counter() - started
    queries = [record_from_beir(r) for r in suite_rows(path / "queries.jsonl")]
    queries = [q for q in queries if q.id in qrels]
    if drop_ipc in ("query", "both"):
        queries = [replace(q, ipc=()) for q in queries]
    if query_transform is not None:
        queries = [query_transform(q) for q in queries]
    # Through the disk format, as in production: what is measured is what `index build` serves.
    with tempfile.TemporaryDirectory(prefix="shuanglian-eval-") as tmp:
        save_index(built, Path(tmp), name="suite")
        matcher = load_index(Path(tmp), name="suite", link=link)
        started = time.perf_counter()
        hits = matcher.search_many(queries, top=RUN_DEPTH, signals=signals, encoder=encoder)
        if signals is None and suite_info(path)["direction"] == "enterprise-to-patent":
            # As an enterprise's page orders its patents (matching.service).
            for query, hs in zip(queries, hits, strict=True):
                matcher.explain(query, hs[:LEVELS_FIRST_DEPTH])
            hits = [_as_ranked(levels_first(hs)) for hs in hits]
        if timing is not None:
            timing.update(
                build_s=build_s, search_s=time.perf_counter() - started, queries=len(queries)
            )
    run = {q.id: {h.doc_id: h.score for h in hs} for q, hs in zip(queries, hits, strict=True)}
    return run, qrels


def _as_ranked(hits: list[Hit]) -> list[Hit]:
    """The hits with their scores re-dealt in list order (the highest to the first), so a run
    scored by score keeps the order they were put in."""
    scores = sorted((h.score for h in hits), reverse=True)
    return [replace(h, score=s) for h, s in zip(hits, scores, strict=True)]


def score_run(
    run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]]
) -> dict[str, float]:
    """Mean nDCG@10, R@10, RR@10, R@100 over the queries of `qrels` (ir-measures)."""
    import ir_measures

    measures = [ir_measures.parse_measure(m) for m in METRICS]
    # A query with no results still counts (as zero): ir-measures would skip it otherwise.
    full_run = {qid: run.get(qid) or {"__none__": 0.0} for qid in qrels}
    agg = ir_measures.calc_aggregate(measures, qrels, full_run)
    return {m: round(float(agg[ir_measures.parse_measure(m)]), 4) for m in METRICS}


def write_trec(run: dict[str, dict[str, float]], path: Path, *, tag: str = RUN_TAG) -> None:
    """A TREC run file: `qid Q0 docid rank score tag`, best first, top 100 per query."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for qid, docs in run.items():
            ranked = sorted(docs.items(), key=lambda kv: -kv[1])[:RUN_DEPTH]
            for rank, (doc, score) in enumerate(ranked, start=1):
                fh.write(f"{qid} Q0 {doc} {rank} {score:.6f} {tag}\n")


def evaluate_suites(
    paths: Sequence[Path | str],
    *,
    run_dir: Path | None = None,
    signals: Sequence[str] | None = None,
    params: FusionParams | None = None,
    link: IndustryLink | None = None,
    drop_ipc: str | None = None,
    query_transform: Callable[[Record], Record] | None = None,
    encoder: Encoder | None = None,
    progress: Callable[[str, int, int, int], None] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """`{"suites": [{"name", "direction", "metrics": {...}}]}` for each suite folder (plus the
    suite's `query_language` / `corpus_language`, and `cross_lingual_of` when it has a twin).

    `link` (IPC × industry arrays) enables the industry prior for suites whose records carry
    `metadata.industry`; without it the prior is silent. `drop_ipc` and `query_transform` as
    in `run_suite`. `encoder` adds the dense re-rank (each suite's corpus embedded once, as its
    index is built; `progress(suite, documents, total, passages)`), and each suite's result
    then names the encoder.
    """
    _check_drop_ipc(drop_ipc)
    out: list[dict[str, Any]] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            raise SuiteError(f"评测集目录不存在 (suite folder not found): {path}")
        info = suite_info(path)
        step = None
        if progress is not None:
            total = sum(1 for _ in suite_rows(path / "corpus.jsonl"))
            step = lambda d, p, n=info["name"], t=total: progress(n, d, t, p)  # noqa: E731
        run, qrels = run_suite(
            path,
            params=params,
            signals=signals,
            link=link,
            drop_ipc=drop_ipc,
            query_transform=query_transform,
            encoder=encoder,
            progress=step,
        )
        if run_dir is not None:
            write_trec(run, Path(run_dir) / f"{info['name']}.trec")
        result: dict[str, Any] = {**info, "metrics": score_run(run, qrels)}
        if encoder is not None:
            result["encoder"] = encoder.name
        out.append(result)
    return {"suites": out}
