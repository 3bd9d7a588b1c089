"""The platform's own technical Chinese ↔ English glossary, read before CC-CEDICT.

A general dictionary gives a technical word its everyday sense first, or none at all: CC-CEDICT
translates `cathode` as 负极 (a battery's cathode is 正极), `wafer` as 威化 (a biscuit),
`treatment` as 对待, 逆变器 as "reverse", 电机 as "electric machinery" and knows no 钙钛矿 or
储能. A foreign R&D lead who searches `cathode material` must find 正极材料, not 负极材料.

`data/tech_glossary.tsv` holds one Chinese word per line with its English renderings, main
sense first (`负极<TAB>anode; negative electrode`). `text.bilingual` reads it both ways as an
override: a listed Chinese word translates to exactly its renderings, and an English rendering
listed anywhere translates to exactly the Chinese words that list it. Hand-written for this
platform (no third-party word list).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

_HAN_WORD = re.compile(r"^[\u3400-\u9fff]{2,}$")
_RENDERING = re.compile(r"^[a-z0-9][a-z0-9 \-]*[a-z0-9]$")
# Renderings of more words than this are definitions, not translations (as in text.bilingual).
MAX_RENDERING_WORDS = 3


class GlossaryError(ValueError):
    """A line of the glossary that cannot be read; names the line."""


def parse_glossary(text: str) -> dict[str, tuple[str, ...]]:
    """Chinese word → its English renderings, main sense first, from the glossary's text.

    Strict, because the file ships with the code: a malformed, repeated or untranslated line
    is a mistake to fix, not to skip.
    """
    out: dict[str, tuple[str, ...]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, tab, renderings = line.partition("\t")
        word = word.strip()
        if not tab or not _HAN_WORD.match(word):
            raise GlossaryError(f"line {number}: expected 中文词<TAB>english; english: {raw!r}")
        if word in out:
            raise GlossaryError(f"line {number}: {word} is listed twice")
        english = tuple(dict.fromkeys(r.strip().lower() for r in renderings.split(";")))
        for r in english:
            if not _RENDERING.match(r) or len(r.split()) > MAX_RENDERING_WORDS:
                raise GlossaryError(f"line {number}: {word}: not a rendering: {r!r}")
        out[word] = english
    return out


@lru_cache(maxsize=1)
def tech_glossary() -> dict[str, tuple[str, ...]]:
    """The shipped glossary (`data/tech_glossary.tsv`), parsed once per process."""
    ref = resources.files("shuanglian.text").joinpath("data/tech_glossary.tsv")
    return parse_glossary(ref.read_text(encoding="utf-8"))
