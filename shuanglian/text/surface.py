"""Search terms back to the words a person wrote: `batteri` → "batteries", 数据_采集 → 数据采集.

Explanations must show the shared words as they appear in each text, never the stems or
joined pairs the index works with; this finds a term's first occurrence in the original text.
"""

from __future__ import annotations

import re

from shuanglian.text.normalize import fold_width, to_simplified
from shuanglian.text.tokenize import stem_words, stopwords_en

_WORD = re.compile(r"[A-Za-z0-9]+")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _latin_surface(term: str, text: str) -> str | None:
    parts = term.split("_")
    stop = stopwords_en()
    words = [m for m in _WORD.finditer(text) if len(m.group()) > 1]
    words = [m for m in words if m.group().lower() not in stop]
    if not words:
        return None
    stems = stem_words([m.group().lower() for m in words])
    n = len(parts)
    for i in range(len(words) - n + 1):
        if stems[i : i + n] == parts:
            return text[words[i].start() : words[i + n - 1].end()]
    return None


def surface_form(term: str, text: str) -> str | None:
    """How `term` (a `tokenize` output) is written in `text`, or None when it is not there.

    A Chinese word is found in the Simplified form of the text and returned as written there
    (軟體 for 软件 in a Taiwan text); a Chinese pair must be written together (数据采集); an
    English stem or stem pair returns the original word(s) (`lithium_batteri` → "lithium
    batteries").
    """
    if not term or not text:
        return None
    if _HAN.match(term[0]):
        folded = fold_width(text)
        simple = to_simplified(folded).lower()
        word = term.replace("_", "")
        at = simple.find(word)
        if at < 0:
            return None
        # Conversion kept the length (almost always): the original characters at that place.
        return folded[at : at + len(word)] if len(simple) == len(folded) else word
    return _latin_surface(term, fold_width(text))
