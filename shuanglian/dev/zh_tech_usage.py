"""Build `text/data/zh_tech_usage.tsv`: in how many Chinese technical texts each Chinese word
that an English word can translate to appears.

Why: CC-CEDICT lists every Chinese word that has an English word among its glosses, with no
hint of which one a technical text means. `image` reaches 图像 and 成像 but also 形象 (a public
image: 企业形象策划 in thousands of business scopes); `train` reaches 训练 but also 列车 and
培训 (training courses); `generation` reaches 世世代代. `text.bilingual` weighs an English
term's Chinese words by how often Chinese technical writing uses each, read from this file.

The texts are the real samples in `shared/data/samples`: one university's CNKI patent export
(title, abstract, main claim), the 科技成果 listings and the enterprise technical demands —
all written by or for technical people, none of them business scopes. A word counts once per
text it appears in (as a substring: the dictionary's headwords, not the tokenizer's cuts).

    .venv/bin/python -m shuanglian.dev.zh_tech_usage ../shared/data/samples

writes the file (only words that English glosses reach, and only those seen at least once).
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterator
from pathlib import Path

from shuanglian.text.bilingual import reverse_targets

OUT = Path(__file__).resolve().parents[1] / "text" / "data" / "zh_tech_usage.tsv"
PATENTS = "cn_patents_sysu_cnki_export_1467.csv"
PATENT_FIELDS = ("Title-题名", "Summary-摘要", "Claims-主权项")
# The written fields of a listing or demand (the others are categories: 面议, 已有样品 …).
TEXT_FIELDS = ("name", "context", "scope", "earlyApplication")
# Longer headwords are idioms and set phrases, not technical words.
LONGEST = 8
LISTS = ("cn_tech_achievements_2020_2946.jsonl", "cn_enterprise_demands_2020_1915.jsonl")


def technical_texts(samples: Path) -> Iterator[str]:
    """Each technical text of the samples folder, as one string."""
    with (samples / PATENTS).open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            yield " ".join(row.get(k) or "" for k in PATENT_FIELDS)
    for name in LISTS:
        with (samples / name).open(encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                yield " ".join(str(record.get(k) or "") for k in TEXT_FIELDS)


def count(samples: Path) -> tuple[int, dict[str, int]]:
    """(texts, word → texts holding it) for the Chinese words English glosses reach."""
    words = reverse_targets()
    longest = min(max(map(len, words)), LONGEST)
    counts: dict[str, int] = {}
    n = 0
    for text in technical_texts(samples):
        n += 1
        seen = {
            text[i : i + k]
            for i in range(len(text))
            for k in range(2, longest + 1)
            if text[i : i + k] in words
        }
        for word in seen:
            counts[word] = counts.get(word, 0) + 1
    return n, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("samples", type=Path, help="the shared/data/samples folder")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    n, counts = count(args.samples)
    lines = [
        "# Chinese words English glosses reach, and how many of "
        f"{n} Chinese technical texts hold each",
        "# (python -m shuanglian.dev.zh_tech_usage ../shared/data/samples; see that module).",
    ]
    lines += [f"{w}\t{c}" for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(counts)} words over {n} texts -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
