"""Patents and enterprises of any size for the national-scale push, Chinese and English (issue 16).

A sibling of `scale_data.py` (which fills the catalogue's tables): this one makes the two sides
of a push — pooled patents and enterprises — recombined from REAL records only, with the
Chinese samples carrying most of the weight, as in a Chinese national inventory. Nothing is
invented; every title, sentence, scope clause and IPC code comes from a file in ../shared.

Sources (../shared/data/README.md has their provenance and licences)
    CNKI export      samples/cn_patents_sysu_cnki_export_1467.csv: title, 摘要, IPC (CLC column)
    CNIPA sample     samples/cn_patents_research_institute_sample10.csv (via benchmarks/corpus.py)
    listings         samples/cn_tech_achievements_2020_2946.jsonl (科技成果: name, context,
                     GB/T 4754 门类——大类 names)
    demands          samples/cn_enterprise_demands_2020_1915.jsonl (企业技术需求: name, context)
    enterprises      samples/cn_enterprises_2002_business_scope.csv (101,818: name, 经营范围)
    English          the Lens.org / USPTO titles, abstracts and firm profiles of corpus.py

Method (numpy Generator with the given seed: the same seed gives the same records anywhere)
    patent, Chinese  (`zh_share`, default 0.6) a real title with its real IPC codes (CNKI or
                     CNIPA); its abstract keeps the real record's first sentence and adds real
                     sentences of other abstracts of the same IPC subclass (widened to class,
                     section), as many as a randomly drawn real abstract has — so lengths, terms
                     and the IPC mix follow the real records. A `listing_share` (default 0.1) of
                     the Chinese ones are 科技成果 listings instead: a real listing name and
                     sentences of listings of the same 大类, with no IPC (as listings have none).
    patent, English  `corpus.generate_patents` (a real title and IPC, real same-subclass text).
    enterprise       `corpus.generate_enterprises` (the real Chinese records first, then a real
                     name with scope clauses of real enterprises of the same province; 5% real
                     English firm profiles); the industry (GB/T 4754 大类) is read from the
                     scope's keywords (`benchmarks/push_round.SCOPE_KEYWORDS`, an approximation);
                     a `demand_share` (default 0.03) also post a real technical demand, appended
                     to their text as "技术需求：name。context".

    python benchmarks/scale_mix.py --patents 1000 --enterprises 1000 [--seed 16] [--sample 3]
prints counts, the Chinese share, mean lengths and the most common IPC sections, and with
--sample N the first N records of each side.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from benchmarks import corpus  # noqa: E402
from benchmarks.push_round import SCOPE_KEYWORDS  # noqa: E402

SAMPLES = corpus.SHARED / "data" / "samples"
_ZH_SENT = re.compile(r"(?<=[。；;！!？?])")


@dataclass
class ChineseSources:
    """The Chinese pieces, grouped for sampling by IPC key or industry."""

    patents: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    sentences: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    sentence_counts: list[int] = field(default_factory=list)
    listings: list[tuple[str, str]] = field(default_factory=list)  # (name, 大类 key)
    listing_sentences: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    demands: list[tuple[str, str]] = field(default_factory=list)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _ZH_SENT.split(text or "") if len(s.strip()) > 6]


def _ipc_keys(code: str) -> list[str]:
    return corpus._keys(code)


@lru_cache(maxsize=1)
def chinese_sources() -> ChineseSources:
    """Read the CNKI export, the CNIPA sample, listings and demands once per process."""
    src = ChineseSources()
    with (SAMPLES / "cn_patents_sysu_cnki_export_1467.csv").open(encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            title, summary = row["Title-题名"].strip(), row["Summary-摘要"].strip()
            ipc = tuple(c.strip() for c in row["CLC-中图分类号"].split(";") if c.strip())
            if title and ipc:
                src.patents.append((title, summary, ipc))
    for title, abstract, ipc in corpus.load_sources().zh_patents:
        src.patents.append((title, abstract, ipc))
    for _title, summary, ipc in src.patents:
        parts = _sentences(summary)
        src.sentence_counts.append(max(1, len(parts)))
        for key in _ipc_keys(ipc[0]):
            src.sentences[key].extend(parts)
    with (SAMPLES / "cn_tech_achievements_2020_2946.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            key = (row.get("classification") or "*").split("——")[-1] or "*"
            name = (row.get("name") or "").strip()
            if name:
                src.listings.append((name, key))
                for k in (key, "*"):
                    src.listing_sentences[k].extend(_sentences(row.get("context") or ""))
    with (SAMPLES / "cn_enterprise_demands_2020_1915.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if (row.get("name") or "").strip() and (row.get("context") or "").strip():
                src.demands.append((row["name"].strip(), row["context"].strip()))
    return src


def _pool(table: dict[str, list[str]], keys: list[str], minimum: int) -> list[str]:
    best: list[str] = []
    for key in keys:
        best = table.get(key) or best
        if len(best) >= minimum:
            return best
    return best or table.get("*", [])


def generate_patents(
    n: int, *, seed: int, zh_share: float = 0.6, listing_share: float = 0.1
) -> Iterator[dict[str, Any]]:
    """n patents as {"title", "abstract", "ipc", "lang"} (see the module docstring)."""
    zh = chinese_sources()
    rng = np.random.default_rng(seed)
    is_zh = rng.random(n) < zh_share
    is_listing = rng.random(n) < listing_share
    pick = rng.integers(0, len(zh.patents), size=n)
    listing_pick = rng.integers(0, len(zh.listings), size=n)
    length_pick = rng.integers(0, len(zh.sentence_counts), size=n)
    n_en = int((~is_zh).sum())
    english = corpus.generate_patents(corpus.load_sources(), n_en, seed=seed, zh_share=0.0)
    for i in range(n):
        if not is_zh[i]:
            doc = json.loads(next(english))
            yield {"title": doc["title"], "abstract": doc["text"],
                   "ipc": list(doc["metadata"]["ipc"]), "lang": "en"}  # fmt: skip
            continue
        want = zh.sentence_counts[int(length_pick[i])]
        if is_listing[i]:
            name, key = zh.listings[int(listing_pick[i])]
            pool = _pool(zh.listing_sentences, [key, "*"], 8)
            text = "".join(corpus._pick(rng, pool, want))
            yield {"title": name, "abstract": text, "ipc": [], "lang": "zh"}
            continue
        title, summary, ipc = zh.patents[int(pick[i])]
        own = _sentences(summary)[:1]
        pool = _pool(zh.sentences, _ipc_keys(ipc[0]), 10)
        more = [s for s in corpus._pick(rng, pool, want) if s not in own]
        text = "".join(own + more[: max(0, want - len(own))])
        yield {"title": title, "abstract": text, "ipc": list(ipc), "lang": "zh"}


def industry_of(scope: str) -> str | None:
    """A GB/T 4754 大类 from business-scope keywords (first match; approximate)."""
    return next((code for word, code in SCOPE_KEYWORDS if word in scope), None)


def generate_enterprises(
    n: int, *, seed: int, en_share: float = 0.05, demand_share: float = 0.03
) -> Iterator[dict[str, Any]]:
    """n enterprises as {"name", "scope", "industry", "ipc", "lang"}."""
    zh = chinese_sources()
    rng = np.random.default_rng(seed + 7)
    posts = rng.random(n) < demand_share
    demand_pick = rng.integers(0, len(zh.demands), size=n)
    docs = corpus.generate_enterprises(corpus.load_sources(), n, seed=seed, en_share=en_share)
    for i, line in enumerate(docs):
        doc = json.loads(line)
        scope = doc["text"]
        if posts[i]:
            name, context = zh.demands[int(demand_pick[i])]
            scope = f"{scope}。技术需求：{name}。{context}"
        lang = doc["metadata"]["lang"]
        yield {
            "name": doc["title"],
            "scope": scope,
            "industry": industry_of(scope) if lang == "zh" else None,
            "ipc": list(doc["metadata"].get("ipc") or []),
            "lang": lang,
        }


def describe(patents: list[dict[str, Any]], enterprises: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and distributions, to compare a generated corpus with its sources."""
    sections = Counter(p["ipc"][0][0] for p in patents if p["ipc"])
    return {
        "patents": len(patents),
        "patents_zh_share": round(
            sum(p["lang"] == "zh" for p in patents) / max(len(patents), 1), 3
        ),
        "patents_without_ipc": sum(not p["ipc"] for p in patents),
        "patent_abstract_chars_mean": round(
            float(np.mean([len(p["abstract"]) for p in patents])) if patents else 0.0, 1
        ),
        "ipc_sections": dict(sections.most_common()),
        "enterprises": len(enterprises),
        "enterprises_with_industry": sum(bool(e["industry"]) for e in enterprises),
        "enterprises_with_demand": sum("技术需求：" in e["scope"] for e in enterprises),
        "enterprise_scope_chars_mean": round(
            float(np.mean([len(e["scope"]) for e in enterprises])) if enterprises else 0.0, 1
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patents", type=int, default=1000)
    parser.add_argument("--enterprises", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--sample", type=int, default=0)
    args = parser.parse_args(argv)
    pats = list(generate_patents(args.patents, seed=args.seed))
    ents = list(generate_enterprises(args.enterprises, seed=args.seed))
    print(json.dumps(describe(pats, ents), ensure_ascii=False, indent=1))
    for row in pats[: args.sample] + ents[: args.sample]:
        print(json.dumps(row, ensure_ascii=False)[:400])
    return 0


if __name__ == "__main__":
    sys.exit(main())
