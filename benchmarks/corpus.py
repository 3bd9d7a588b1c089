"""Realistic benchmark corpora of any size (100k, 1M ...) recombined from REAL texts only.

Why recombine: the speed of a retrieval engine depends on vocabulary size, posting-list lengths
and document lengths, so a benchmark on random words or on one document copied a million times
measures the wrong thing. Nothing here is invented: every title, sentence and clause is a piece
of a real public record from ../shared (see its data/README.md for sources and licences).

Sources
    English patent titles + IPC   bench/dev/drones-*/corpus.jsonl (Lens.org, 10.8k patents)
    English abstracts + CPC       data/samples/en_patents_nvidia_sample150.csv (USPTO PatentsView)
    English enterprise profiles   bench/dev/drones-patent-to-enterprise/corpus.jsonl (490 firms)
    Chinese patents               data/samples/cn_patents_research_institute_sample10.csv (CNIPA)
    Chinese enterprises           data/samples/cn_enterprises_2002_business_scope.csv (101,818)

Method (one fixed seed, so a corpus is the same bytes on every machine)
    patent, English   a real title with its real IPC codes; its text is 4-8 sentences drawn from
                      real abstracts of the same IPC subclass (USPTO, via CPC subclass) where there
                      are any, the rest real titles of other patents of the same subclass (widened
                      to class → section only when the subclass has under 20 titles).
    patent, Chinese   a real CNIPA title with its IPC codes; text = 2-4 sentences of real CNIPA
                      abstracts, same subclass first. Only 10 Chinese patents are shared, so the
                      Chinese share is small (default 5%) to avoid unrealistically long postings.
    enterprise, CN    the real 101,818 records first (name + 经营范围); past that, a real name with
                      clauses from the scopes of 2-3 real enterprises of the same province.
    enterprise, EN    a real firm name with its IPC codes and 3-10 real titles of its subclass.
    queries           real records, never recombined: patent→enterprise queries are real patents
                      (title + abstract where there is one); enterprise→patent queries are real
                      enterprise profiles (English firms and Chinese name + scope).

Output (under benchmarks/work/, git-ignored; built once and reused while the manifest matches)
    corpus/patents-<N>-s<seed>.jsonl       {"_id","title","text","metadata":{"kind","ipc","lang"}}
    corpus/enterprises-<N>-s<seed>.jsonl   same shape (kind "enterprise")
    corpus/queries-<direction>-<N>-s<seed>.jsonl
    each with a `.manifest.json` beside it (counts, seed, generator version, seconds).

Usage: `python benchmarks/corpus.py --patents 1000000 --enterprises 100000 --queries 1000`
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHUANGLIAN_SHARED", ROOT.parent / "shared"))
WORK = ROOT / "benchmarks" / "work" / "corpus"
GENERATOR_VERSION = 1
DIRECTIONS = ("patent-to-enterprise", "enterprise-to-patent")

_EN_SENT = re.compile(r"(?<=[.;])\s+(?=[A-Z(])")
_ZH_SENT = re.compile(r"(?<=[。；;])")
_ZH_CLAUSE = re.compile(r"[，,；;、。]+")
_BRACKET_NOTE = re.compile(r"[【\[（(][^】\]）)]*(?:批准|许可|审批)[^】\]）)]*[】\]）)]")
_CPC_SUBCLASS = re.compile(r"^[A-HY]\d{2}[A-Z]")


@dataclass
class Sources:
    """Every real text the generator draws from, grouped for sampling."""

    en_titles: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    en_sentences: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    en_title_by_key: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    en_patent_queries: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    en_firms: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    zh_patents: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    zh_sentences: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    zh_firms: list[tuple[str, str, str]] = field(default_factory=list)
    zh_clauses_by_province: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def files(self) -> list[Path]:
        """The shared files read (their sizes go into the manifest as a change check)."""
        return [
            SHARED / "bench/dev/drones-enterprise-to-patent/corpus.jsonl",
            SHARED / "bench/dev/drones-patent-to-enterprise/corpus.jsonl",
            SHARED / "data/samples/en_patents_nvidia_sample150.csv",
            SHARED / "data/samples/cn_patents_research_institute_sample10.csv",
            SHARED / "data/samples/cn_enterprises_2002_business_scope.csv",
        ]


def _keys(code: str) -> list[str]:
    """Sampling keys from narrow to wide: subclass 'H04N', class 'H04', section 'H', '*'."""
    code = code.replace(" ", "").upper()
    if not _CPC_SUBCLASS.match(code):
        return ["*"]
    return [code[:4], code[:3], code[:1], "*"]


def _en_sentences(text: str) -> list[str]:
    return [s.strip() for s in _EN_SENT.split(text or "") if len(s.strip()) > 20]


def _zh_sentences(text: str) -> list[str]:
    return [s.strip() for s in _ZH_SENT.split(text or "") if len(s.strip()) > 6]


def _scope_clauses(scope: str) -> list[str]:
    """Business-scope items ('电子产品的研发', '五金工具'), legal boilerplate notes removed."""
    scope = _BRACKET_NOTE.sub("", scope or "")
    return [c.strip() for c in _ZH_CLAUSE.split(scope) if len(c.strip()) >= 2]


def load_sources(shared: Path = SHARED) -> Sources:
    """Read every source file once and index its pieces by IPC key or province."""
    src = Sources()
    seen_titles: set[str] = set()
    for line in (shared / "bench/dev/drones-enterprise-to-patent/corpus.jsonl").open(
        encoding="utf-8"
    ):
        doc = json.loads(line)
        title = doc["title"].strip()
        ipc = tuple(doc["metadata"].get("ipc") or ())
        if not title or title.lower() in seen_titles:
            continue
        seen_titles.add(title.lower())
        src.en_titles.append((title, ipc))
        for key in _keys(ipc[0] if ipc else ""):
            src.en_title_by_key[key].append(title)
        src.en_patent_queries.append((title, "", ipc))
    for line in (shared / "bench/dev/drones-patent-to-enterprise/corpus.jsonl").open(
        encoding="utf-8"
    ):
        doc = json.loads(line)
        src.en_firms.append(
            (doc["title"].strip(), doc["text"].strip(), tuple(doc["metadata"].get("ipc") or ()))
        )
    with (shared / "data/samples/en_patents_nvidia_sample150.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            cpc = tuple(c.strip() for c in row["cpc_groups"].split(";") if c.strip())
            title, abstract = row["title"].strip(), row["abstract"].strip()
            src.en_titles.append((title, cpc))
            src.en_patent_queries.append((title, abstract, cpc))
            for key in _keys(cpc[0] if cpc else ""):
                src.en_title_by_key[key].append(title)
                src.en_sentences[key].extend(_en_sentences(abstract))
    with (shared / "data/samples/cn_patents_research_institute_sample10.csv").open(
        encoding="utf-8-sig"
    ) as fh:
        for row in csv.DictReader(fh):
            ipc = tuple(c.strip() for c in row["分类号"].split(";") if c.strip())
            ipc = ipc or (row["主分类号"].strip(),)
            title, abstract = row["专利名称"].strip(), row["申请摘要"].strip()
            src.zh_patents.append((title, abstract, ipc))
            for key in _keys(ipc[0]):
                src.zh_sentences[key].extend(_zh_sentences(abstract))
    with (shared / "data/samples/cn_enterprises_2002_business_scope.csv").open(
        encoding="utf-8-sig"
    ) as fh:
        for row in csv.DictReader(fh):
            name, scope = row["企业名称"].strip(), row["经营范围"].strip()
            if not name or not scope:
                continue
            src.zh_clauses_by_province[row["所在省份"].strip() or "*"].append(len(src.zh_firms))
            src.zh_firms.append((name, scope, row["所在省份"].strip()))
    return src


def _pick(rng: np.random.Generator, items: Sequence[str], k: int) -> list[str]:
    if not items or k <= 0:
        return []
    idx = rng.integers(0, len(items), size=k)
    # Drawn with replacement for speed, then de-duplicated: a sentence never repeats in a doc.
    return [items[i] for i in dict.fromkeys(idx.tolist())]


def _pool(table: dict[str, list[str]], code: str, minimum: int, *, depth: int = 4) -> list[str]:
    """The narrowest key's pool with at least `minimum` pieces (subclass → class → section → *).

    `depth` stops the widening early: abstract sentences are only borrowed within the same
    subclass (depth 1); even one class up (H04W → H04N) the topic no longer fits the title.
    """
    best: list[str] = []
    for key in _keys(code)[:depth]:
        best = table.get(key, [])
        if len(best) >= minimum:
            return best
    return best


def _doc(doc_id: str, title: str, text: str, kind: str, ipc: Sequence[str], lang: str) -> str:
    meta = {"kind": kind, "ipc": list(ipc), "lang": lang}
    return json.dumps(
        {"_id": doc_id, "title": title, "text": text, "metadata": meta}, ensure_ascii=False
    )


def generate_patents(src: Sources, n: int, *, seed: int, zh_share: float = 0.05) -> Iterator[str]:
    """n patent documents as JSON lines (see the module docstring for the method)."""
    rng = np.random.default_rng(seed)
    is_zh = rng.random(n) < zh_share
    title_idx = rng.integers(0, len(src.en_titles), size=n)
    zh_idx = rng.integers(0, max(1, len(src.zh_patents)), size=n)
    lengths = rng.integers(4, 9, size=n)
    for i in range(n):
        if is_zh[i] and src.zh_patents:
            title, _, ipc = src.zh_patents[zh_idx[i]]
            pool = _pool(src.zh_sentences, ipc[0], 6)
            text = "".join(_pick(rng, pool, int(lengths[i]) // 2))
            yield _doc(f"p{i:07d}", title, text, "patent", ipc, "zh")
            continue
        title, ipc = src.en_titles[title_idx[i]]
        code = ipc[0] if ipc else ""
        k = int(lengths[i])
        abstracts = _pool(src.en_sentences, code, 1, depth=1)
        n_abs = min(k // 2, len(abstracts)) if abstracts else 0
        pieces = _pick(rng, abstracts, n_abs)
        pieces += [
            t.rstrip(".") + "." for t in _pick(rng, _pool(src.en_title_by_key, code, 20), k - n_abs)
        ]
        yield _doc(f"p{i:07d}", title, " ".join(pieces), "patent", ipc, "en")


def generate_enterprises(
    src: Sources, n: int, *, seed: int, en_share: float = 0.2
) -> Iterator[str]:
    """n enterprise documents: the real Chinese records first, then recombined ones."""
    rng = np.random.default_rng(seed + 1)
    order = rng.permutation(len(src.zh_firms))
    is_en = rng.random(n) < en_share
    en_order = rng.permutation(len(src.en_firms))
    zh_used = en_used = 0
    for i in range(n):
        if is_en[i]:
            name, text, ipc = src.en_firms[en_order[en_used % len(en_order)]]
            if en_used >= len(en_order):
                pool = _pool(src.en_title_by_key, ipc[0] if ipc else "", 20)
                text = "\n".join(_pick(rng, pool, int(rng.integers(3, 11))))
            en_used += 1
            yield _doc(f"e{i:07d}", name, text, "enterprise", ipc, "en")
            continue
        if zh_used < len(order):
            name, scope, _ = src.zh_firms[order[zh_used]]
        else:
            name, _, province = src.zh_firms[order[zh_used % len(order)]]
            peers = src.zh_clauses_by_province.get(province) or src.zh_clauses_by_province["*"]
            clauses: list[str] = []
            for j in rng.integers(0, len(peers), size=int(rng.integers(2, 4))):
                clauses += _scope_clauses(src.zh_firms[peers[j]][1])
            keep = rng.random(len(clauses)) < 0.6
            scope = "，".join(c for c, k in zip(clauses, keep, strict=True) if k) or clauses[0]
        zh_used += 1
        yield _doc(f"e{i:07d}", name, scope, "enterprise", (), "zh")


def generate_queries(
    src: Sources, direction: str, n: int, *, seed: int, zh_share: float = 0.3
) -> Iterator[str]:
    """n real query records for a direction (patents for patent→enterprise, else firms)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}: {direction!r}")
    rng = np.random.default_rng(seed + 2 + DIRECTIONS.index(direction))
    is_zh = rng.random(n) < zh_share
    for i in range(n):
        if direction == "patent-to-enterprise":
            if is_zh[i]:
                title, text, ipc = src.zh_patents[int(rng.integers(0, len(src.zh_patents)))]
                kind, lang = "patent", "zh"
            else:
                pick = int(rng.integers(0, len(src.en_patent_queries)))
                title, text, ipc = src.en_patent_queries[pick]
                kind, lang = "patent", "en"
        elif is_zh[i]:
            title, text, _ = src.zh_firms[int(rng.integers(0, len(src.zh_firms)))]
            ipc, kind, lang = (), "enterprise", "zh"
        else:
            title, text, ipc = src.en_firms[int(rng.integers(0, len(src.en_firms)))]
            kind, lang = "enterprise", "en"
        yield _doc(f"q{i:05d}", title, text, kind, ipc, lang)


def _write_cached(path: Path, lines: Iterator[str], meta: dict[str, object]) -> Path:
    """Write JSONL atomically with a manifest; reuse the file when the manifest matches."""
    manifest = path.with_suffix(".manifest.json")
    if path.exists() and manifest.exists():
        try:
            old = json.loads(manifest.read_text(encoding="utf-8"))
        except ValueError:
            old = {}
        if all(old.get(k) == v for k, v in meta.items()):
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    started = time.perf_counter()
    count = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line)
            fh.write("\n")
            count += 1
    os.replace(tmp, path)
    info = dict(meta, written=count, seconds=round(time.perf_counter() - started, 2))
    manifest.write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _meta(src: Sources, kind: str, n: int, seed: int) -> dict[str, object]:
    return {
        "kind": kind,
        "n": n,
        "seed": seed,
        "version": GENERATOR_VERSION,
        "sources": {str(p.relative_to(SHARED)): p.stat().st_size for p in src.files()},
    }


def build_corpus(
    *, patents: int, enterprises: int, queries: int, seed: int = 42, work: Path = WORK
) -> dict[str, Path]:
    """Build (or reuse) the patent, enterprise and query files; returns their paths by name."""
    src = load_sources()
    out = {
        "patents": _write_cached(
            work / f"patents-{patents}-s{seed}.jsonl",
            generate_patents(src, patents, seed=seed),
            _meta(src, "patents", patents, seed),
        ),
        "enterprises": _write_cached(
            work / f"enterprises-{enterprises}-s{seed}.jsonl",
            generate_enterprises(src, enterprises, seed=seed),
            _meta(src, "enterprises", enterprises, seed),
        ),
    }
    for direction in DIRECTIONS:
        out[direction] = _write_cached(
            work / f"queries-{direction}-{queries}-s{seed}.jsonl",
            generate_queries(src, direction, queries, seed=seed),
            _meta(src, f"queries:{direction}", queries, seed),
        )
    return out


def iter_docs(path: Path, limit: int | None = None) -> Iterator[dict]:
    """The JSON objects of a corpus file, in order (the first `limit` when given)."""
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if limit is not None and i >= limit:
                return
            yield json.loads(line)


def iter_records(path: Path, limit: int | None = None) -> Iterator[object]:
    """The corpus as engine `Record`s (title, text, IPC codes)."""
    from shuanglian.engine.records import Record

    for doc in iter_docs(path, limit):
        yield Record(
            id=doc["_id"],
            title=doc.get("title", ""),
            text=doc.get("text", ""),
            ipc=tuple(doc.get("metadata", {}).get("ipc") or ()),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patents", type=int, default=100_000)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    paths = build_corpus(
        patents=args.patents, enterprises=args.enterprises, queries=args.queries, seed=args.seed
    )
    for name, path in paths.items():
        print(f"{name:24s} {path}  ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
