"""A search cut into its words, each to be looked up on its own.

Catalogue, register and demand searches ask for every word of a query; when nothing holds them
all (锂电池正极材料 is no listing's phrase), the pages look the words up one by one and list
what holds the most of them (`supermarket.service.partial_matches`,
`enterprises.service.partial_demands`, both ranked by `most_words`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from shuanglian.text.bilingual import alternatives, translate_term
from shuanglian.text.normalize import normalize_for_search
from shuanglian.text.tokenize import segment_words, tokenize

MAX_WORDS = 10
# A run of Han characters (CJK unified, extension A, compatibility): the catalogue's too.
HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def query_words(q: str | None) -> list[str]:
    """The words of a search one by one (锂电池正极材料 → 锂电池, 正极材料; English stems, a
    pair the dictionary holds kept together as `lithium batteri`, stopwords dropped)."""
    norm = normalize_for_search(q or "")
    words: list[str] = []
    for run in HAN_RUN.findall(norm):
        words.extend(w for w in segment_words(run) if len(w) >= 2)
    stems = tokenize(HAN_RUN.sub(" ", norm), lang="en")
    i = 0
    while i < len(stems):
        # A pair the dictionary has as one entry stays one word (lithium battery → 锂电池).
        if i + 1 < len(stems) and alternatives(f"{stems[i]}_{stems[i + 1]}"):
            words.append(f"{stems[i]} {stems[i + 1]}")
            i += 2
        else:
            words.append(stems[i])
            i += 1
    return list(dict.fromkeys(words))[:MAX_WORDS]


def chinese_forms(word: str) -> list[str]:
    """What to look for in Chinese text for one word of `query_words`: a Chinese word itself;
    an English stem (or pair) its dictionary translations (`batteri` → 电池, 蓄电池 …) and the
    stem as typed, for text that keeps English words (AGV)."""
    if HAN_RUN.fullmatch(word):
        return [word]
    found = translate_term(word.replace(" ", "_"))
    return [*dict.fromkeys(t for t, _w in found if HAN_RUN.fullmatch(t)), word]


# Where a clause ends, for `holds_word`: two words on either side of it are not one phrase.
_CLAUSE = re.compile(r"[,;:.!?()\[\]，；：。！？（）、]")


def holds_word(word: str, text: str) -> bool:
    """Whether `text` holds one word of `query_words` as a person reads it.

    A Chinese word or an English word's Chinese translation (正极材料 for `cathod materi`) is
    looked for as written. The two halves of a pair are also accepted a little apart: as
    English stems in one clause with at most one word between them (cathode active material,
    lithium-ion battery), or as Chinese translations at most two characters apart (锂离子电池,
    正极活性材料). Why: "a cathode and an anode, and a material" holds both words but is no
    cathode material, and an OLED patent read 高 99% for that search above the 正极材料
    patents.
    """
    forms, near = _word_patterns(word)
    norm = normalize_for_search(text)
    if any(form in norm for form in forms) or (near is not None and near.search(norm)):
        return True
    latin = HAN_RUN.sub(" ", norm)
    halves = word.split()
    if len(halves) == 1:
        return word in tokenize(latin, lang="en")
    first, second = halves[0], halves[-1]
    for clause in _CLAUSE.split(latin):
        stems = tokenize(clause, lang="en")
        if any(s == first and second in stems[i + 1 : i + 3] for i, s in enumerate(stems)):
            return True
    return False


@lru_cache(maxsize=1024)
def _word_patterns(word: str) -> tuple[tuple[str, ...], re.Pattern[str] | None]:
    """What `holds_word` looks for in Chinese text, built once per word rather than per text:
    the word's Chinese forms, and for a pair its two halves' forms at most two characters
    apart."""
    forms = tuple(f for f in chinese_forms(word) if HAN_RUN.fullmatch(f))
    halves = word.split()
    if len(halves) != 2:
        return forms, None
    first, second = ([f for f in chinese_forms(h) if HAN_RUN.fullmatch(f)] for h in halves)
    near = [re.escape(a) + ".{0,2}" + re.escape(b) for a in first for b in second]
    return forms, re.compile("|".join(near)) if near else None


def most_words(found: Iterable[tuple[Sequence[int], int]], everything: int, top: int) -> list[int]:
    """Ids holding the most words, best first: `found` gives each word's ids (those read) and
    how many records it matches in all, of `everything`; a rarer word counts more
    (log(1 + everything / matches)); ties go to the higher id, the newer record."""
    scores: dict[int, float] = {}
    for ids, matches in found:
        if not ids:
            continue
        weight = math.log(1.0 + max(everything, 1) / max(matches, 1))
        for i in ids:
            scores[i] = scores.get(i, 0.0) + weight
    return sorted(scores, key=lambda i: (-scores[i], -i))[:top]
