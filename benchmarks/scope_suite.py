"""A judged Chinese suite of the product's own kind of pair: a university patent against a real
enterprise's registered business scope (经营范围), graded 0/1/2 by reading each pair.

Why: the dev suites judge owner retrieval, where an "enterprise" is the text of its own
patents. The platform's enterprises are business scopes, much shorter and listing several
trades, so a match level calibrated on owner retrieval alone read every demo push as weak.
This suite lets the calibration (benchmarks/calibrate.py) and the quality runs see that kind
of pair.

    .venv/bin/python benchmarks/scope_suite.py build --out /tmp/scope      # BEIR suites
    .venv/bin/python benchmarks/scope_suite.py pool --out /tmp/pool.jsonl  # pairs to judge

The texts are read from ../shared/data/samples (the SYSU CNKI export and the 2002 enterprise
registrations); only ids and grades are kept here, in benchmarks/judged/zh-scope-*.tsv.
`build` writes four suites (SYSU patent → enterprise over 20,000 enterprises; enterprise →
patent over the SYSU patents; English NVIDIA patent → the same Chinese enterprises; Chinese
computing and electronics makers → the English patents) with the
judged grades as qrels; pairs nobody judged count as
not relevant, as in any pooled judgement. `pool` lists, for every query, the engine's top 10
and plain BM25's top 10 (jieba words) that are not judged yet, with both texts, for a person
to grade.

Grades (what the judge answered): 2 — the enterprise's scope names the patent's product,
material or process, or the trade that would make or directly use it, so it could adopt the
patent; 1 — the same industry or supply chain (sells such products, a neighbouring product or
process), a plausible lead; 0 — no real link, or only generic words (技术、服务、开发、系统).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shuanglian.engine.matcher import Matcher
from shuanglian.engine.records import Record

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "samples"
PATENTS_CSV = SAMPLES / "cn_patents_sysu_cnki_export_1467.csv"
ENTERPRISES_CSV = SAMPLES / "cn_enterprises_2002_business_scope.csv"
DEMO_PATENTS = Path(__file__).resolve().parents[1] / "demo" / "patents_sysu_cnki.csv"
JUDGED = Path(__file__).resolve().parent / "judged"
EN_PATENTS_CSV = SAMPLES / "en_patents_nvidia_sample150.csv"
P2E = "zh-scope-patent-to-enterprise"
E2P = "zh-scope-enterprise-to-patent"
# English patents against the same Chinese scopes: what a foreign holder's push looks like.
XL_P2E = "zh-scope-xl-patent-to-enterprise"
# Chinese makers in computing and electronics against the English patents: what such a firm's
# 为您推荐 list shows of a foreign holder's catalogue.
XL_E2P = "zh-scope-xl-enterprise-to-patent"
N_PATENT_QUERIES = 60
N_EN_PATENT_QUERIES = 25
N_ENTERPRISE_QUERIES = 48
N_XL_ENTERPRISE_QUERIES = 30
N_ENTERPRISES = 20_000
# An enterprise query should be one that could take up a university patent at all.
_MAKER = re.compile(r"制造|生产|研发|研制|加工|技术开发")
# ... and one that could take up an English computing patent (the sample is NVIDIA's).
_COMPUTING = re.compile(r"计算机|软件|电子|通信|芯片|集成电路|图像|视频|显示|网络|信息技术")
_IPC = re.compile(r"^[A-H]\d{2}[A-Z]\s*\d+/\d+")


def _rank_key(key: str) -> str:
    """A fixed pseudo-random order that does not depend on the file's order."""
    return hashlib.md5(key.encode("utf-8")).hexdigest()


def _publication_key(number: str) -> str:
    """A CN publication number without its kind code: an A and its B grant are one patent."""
    return re.sub(r"[A-Z]\d?$", "", number.strip())


def read_patents() -> list[Record]:
    """The SYSU export, one record per publication number (A and B of one invention kept once)."""
    seen: dict[str, Record] = {}
    with PATENTS_CSV.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            number = (row.get("PubNo-公开号") or "").strip()
            if not number:
                continue
            key = _publication_key(number)
            codes = [c.strip() for c in (row.get("CLC-中图分类号") or "").split(";")]
            seen[key] = Record(
                id=key,
                title=(row.get("Title-题名") or "").strip(),
                text=(row.get("Summary-摘要") or "").strip(),
                ipc=tuple(c for c in codes if _IPC.match(c)),
            )
    return list(seen.values())


def read_en_patents() -> list[Record]:
    """The English (NVIDIA) sample: title, abstract and the CPC groups that are IPC-shaped."""
    with EN_PATENTS_CSV.open(encoding="utf-8", newline="") as fh:
        return [
            Record(
                id=f"US{row['patent_id'].strip()}",
                title=row["title"].strip(),
                text=row["abstract"].strip(),
                ipc=tuple(
                    c.strip()
                    for c in row["cpc_groups"].replace(",", ";").split(";")
                    if _IPC.match(c.strip())
                ),
            )
            for row in csv.DictReader(fh)
        ]


def read_enterprises() -> list[Record]:
    """N_ENTERPRISES registrations with a scope of 12+ characters, in a fixed sample."""
    rows: list[Record] = []
    with ENTERPRISES_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = (row.get("统一社会信用代码") or "").strip()
            scope = (row.get("经营范围") or "").strip()
            if len(code) == 18 and len(scope) >= 12:
                rows.append(Record(id=code, title=(row.get("企业名称") or "").strip(), text=scope))
    unique = {r.id: r for r in rows}
    return sorted(unique.values(), key=lambda r: _rank_key(r.id))[:N_ENTERPRISES]


def _demo_patent_keys() -> set[str]:
    with DEMO_PATENTS.open(encoding="utf-8-sig", newline="") as fh:
        return {_publication_key(row.get("PubNo-公开号") or "") for row in csv.DictReader(fh)}


def suite_parts() -> dict[str, tuple[list[Record], list[Record]]]:
    """{suite name: (queries, corpus)} for both directions, fixed by the sample files."""
    patents = read_patents()
    enterprises = read_enterprises()
    demo = _demo_patent_keys()
    held = sorted(
        (p for p in patents if p.id not in demo and p.text), key=lambda p: _rank_key(p.id)
    )
    makers = sorted(
        (e for e in enterprises if _MAKER.search(e.text) and len(e.text) >= 30),
        key=lambda e: _rank_key("q" + e.id),
    )
    english = sorted(read_en_patents(), key=lambda p: _rank_key(p.id))
    computing = [e for e in makers if _COMPUTING.search(e.text)]
    return {
        P2E: (held[:N_PATENT_QUERIES], enterprises),
        E2P: (makers[:N_ENTERPRISE_QUERIES], patents),
        XL_P2E: (english[:N_EN_PATENT_QUERIES], enterprises),
        XL_E2P: (computing[:N_XL_ENTERPRISE_QUERIES], english),
    }


def read_judged(name: str) -> dict[str, dict[str, int]]:
    """The committed grades of one suite ({query id: {doc id: grade}}); empty when none yet."""
    path = JUDGED / f"{name}.tsv"
    judged: dict[str, dict[str, int]] = {}
    if path.exists():
        with path.open(encoding="utf-8") as fh:
            for row in csv.reader(fh, delimiter="\t"):
                if row and row[0] != "query-id":
                    judged.setdefault(row[0], {})[row[1]] = int(row[2])
    return judged


def _beir(record: Record) -> dict[str, Any]:
    meta = {"ipc": list(record.ipc)} if record.ipc else {}
    return {"_id": record.id, "title": record.title, "text": record.text, "metadata": meta}


def build(out: Path) -> None:
    for name, (queries, corpus) in suite_parts().items():
        folder = out / name
        (folder / "qrels").mkdir(parents=True, exist_ok=True)
        for file, rows in (("queries.jsonl", queries), ("corpus.jsonl", corpus)):
            with (folder / file).open("w", encoding="utf-8") as fh:
                for r in rows:
                    fh.write(json.dumps(_beir(r), ensure_ascii=False) + "\n")
        judged = read_judged(name)
        with (folder / "qrels" / "test.tsv").open("w", encoding="utf-8") as fh:
            fh.write("query-id\tcorpus-id\tscore\n")
            for qid, docs in judged.items():
                for did, grade in docs.items():
                    fh.write(f"{qid}\t{did}\t{grade}\n")
        info = {
            "name": name,
            "direction": "enterprise-to-patent"
            if name in (E2P, XL_E2P)
            else "patent-to-enterprise",
            "query_language": "en" if name == XL_P2E else "zh",
            "corpus_language": "en" if name == XL_E2P else "zh",
            "source": "shared/data/samples: SYSU CNKI export, NVIDIA sample, 2002 enterprise "
            "registrations; grades in benchmarks/judged",
        }
        (folder / "suite.json").write_text(json.dumps(info, ensure_ascii=False, indent=2), "utf-8")
        print(
            f"{folder}: {len(queries)} queries, {len(corpus)} documents, "
            f"{sum(len(d) for d in judged.values())} judged pairs"
        )


def _bm25_top(queries: list[Record], corpus: list[Record], k: int) -> list[list[str]]:
    from quality import zh_bm25_top  # benchmarks/ is on sys.path

    ranked = zh_bm25_top(
        [f"{q.title} {q.text}" for q in queries], [f"{d.title} {d.text}" for d in corpus], k
    )
    return [[corpus[i].id for i, _ in top] for top in ranked]


def _pool(name: str, queries: list[Record], corpus: list[Record]) -> Iterator[dict[str, Any]]:
    judged = read_judged(name)
    by_id = {d.id: d for d in corpus}
    matcher = Matcher.build(corpus)
    engine = [[h.doc_id for h in hs] for hs in matcher.search_many(queries, top=10)]
    for q, mine, plain in zip(queries, engine, _bm25_top(queries, corpus, 10), strict=True):
        for did in dict.fromkeys(mine + plain):
            if did not in judged.get(q.id, {}):
                d = by_id[did]
                yield {
                    "suite": name,
                    "query_id": q.id,
                    "doc_id": did,
                    "query": f"{q.title}：{q.text[:400]}",
                    "doc": f"{d.title}：{d.text[:400]}",
                }


def pool(out: Path) -> None:
    count = 0
    with out.open("w", encoding="utf-8") as fh:
        for name, (queries, corpus) in suite_parts().items():
            for pair in _pool(name, queries, corpus):
                fh.write(json.dumps(pair, ensure_ascii=False) + "\n")
                count += 1
    print(f"{out}: {count} pairs to judge")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("command", choices=("build", "pool"))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.out)
    else:
        pool(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
