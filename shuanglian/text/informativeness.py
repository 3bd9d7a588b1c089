"""How much a Chinese search term says, judged by its frequency in general Chinese text.

BM25's idf comes from the index being searched, and a small or one-field index estimates it
badly: over 54 company profiles, 分析, 评估, 建立, 根据, 是否 occur in few profiles and get the
idf of a technical term, so a patent whose abstract says 分析 and 评估 can rank a firm that also
"analyses" and "evaluates" above the firm that shares its 隔离开关 and 拓扑 (seen on the zh-owner
dev suite). General-language frequency is a second, corpus-independent estimate of
the same thing: the word frequencies jieba ships with its dictionary (dict.txt, counted over a
large general Chinese corpus; jieba is a declared dependency, so nothing is downloaded) give
every common word a background idf, ln(total / (count + 1)).

`informativeness(term)` is that background idf as a share of its largest possible value
(a word the dictionary never saw), in (0, 1]: 高 0.39, 分析 0.48, 结构 0.47, 故障 0.65,
开关 0.67, 采样 0.76, 锂电池 0.92, an out-of-dictionary technical word 1.0. The engine
multiplies a query term's weight by it raised to `FusionParams.background_idf` (0 turns it
off). Only Han terms are judged: Latin terms (stemmed English, codes like d2d) have no
background table here and keep 1.0, so English matching is unchanged. A phrase pair (a_b)
is as informative as its more informative word; a character-bigram term (·电池) is judged as
the two-character word when the dictionary has it; a pair across a word boundary keeps 1.0
unless one of its characters is a function word (·型的 is judged as 型).
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources

from shuanglian.text.tokenize import BIGRAM_MARK, stopwords_zh


@lru_cache(maxsize=1)
def _background() -> tuple[dict[str, int], float]:
    """(word → count, ln(total count)) from jieba's dictionary."""
    counts: dict[str, int] = {}
    text = resources.files("jieba").joinpath("dict.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    total = sum(counts.values())
    return counts, math.log(max(total, 2))


def _has_han(word: str) -> bool:
    return any(
        0x4E00 <= ord(ch) <= 0x9FFF or 0x3400 <= ord(ch) <= 0x4DBF or 0xF900 <= ord(ch) <= 0xFAFF
        for ch in word
    )


def _word_share(word: str) -> float:
    if not _has_han(word):
        return 1.0
    counts, log_total = _background()
    count = counts.get(word, 0)
    return min(max((log_total - math.log(count + 1)) / log_total, 0.0), 1.0)


@lru_cache(maxsize=200_000)
def informativeness(term: str) -> float:
    """Background idf of a search term as a share of the largest, in (0, 1] (see module)."""
    if term.startswith(BIGRAM_MARK):
        pair = term[len(BIGRAM_MARK) :]
        counts, _ = _background()
        if pair in counts or len(pair) != 2:
            return _word_share(pair)
        # A pair across a word boundary is kept at full weight (it matches technical words the
        # segmenter cut differently on the two sides), unless one character is a function
        # word (的, 与, 和 ...): ·型的 of 成型的 says no more than 型.
        stop = stopwords_zh()
        if pair[1] in stop:
            return _word_share(pair[0])
        if pair[0] in stop:
            return _word_share(pair[1])
        return 1.0
    parts = [part for part in term.split("_") if part]
    if len(parts) > 1:
        return max(_word_share(part) for part in parts)
    return _word_share(term)


def query_factor(term: str, power: float) -> float:
    """informativeness(term) ** power (1.0 when power is 0: the weighting is off)."""
    if power <= 0:
        return 1.0
    return float(informativeness(term) ** power)
