"""The shared words of a match, marked where they stand in a patent's title and abstract.

A reason line says 「双方都涉及：锂电池、正极材料」; a reader then looks for those words in the
patent. The words are surface forms (engine.reasons: as each text writes them), so they are
found as written; Latin words case-insensitively. Text is escaped before anything is marked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlencode

from markupsafe import Markup, escape

# Words marked at most (a reason line lists up to six) and the longest word accepted from a
# link's ?hl= parameter.
MAX_MARKED = 8
MAX_WORD_CHARS = 40
# Characters of abstract shown around the first marked word in a list.
SNIPPET_CHARS = 70


def clean_words(words: Iterable[str]) -> list[str]:
    """Distinct non-empty words as first written (GPU and gpu are one), longest first
    (正极材料 before 材料), at most MAX_MARKED."""
    seen: dict[str, str] = {}
    for word in words:
        word = (word or "").strip()
        if word and len(word) <= MAX_WORD_CHARS:
            seen.setdefault(word.lower(), word)
    return sorted(seen.values(), key=len, reverse=True)[:MAX_MARKED]


def _pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    kept = clean_words(words)
    if not kept:
        return None
    return re.compile("|".join(re.escape(w) for w in kept), re.IGNORECASE)


def mark_words(text: str | None, words: Sequence[str]) -> Markup:
    """`text`, escaped, with each occurrence of `words` in <mark> (longest word wins)."""
    text = text or ""
    pattern = _pattern(words)
    if pattern is None:
        return Markup(escape(text))
    out: list[str] = []
    last = 0
    for found in pattern.finditer(text):
        out.append(str(escape(text[last : found.start()])))
        out.append(f"<mark>{escape(found.group(0))}</mark>")
        last = found.end()
    out.append(str(escape(text[last:])))
    # Adjacent words read as one mark: 电子元器件, not 电子 | 元器件.
    return Markup("".join(out).replace("</mark><mark>", ""))


def snippet(text: str | None, words: Sequence[str], width: int = SNIPPET_CHARS) -> Markup:
    """About `width` characters of `text` from a little before its first shared word, marked;
    the opening of the text when no word is in it."""
    text = " ".join((text or "").split())
    if not text:
        return Markup("")
    pattern = _pattern(words)
    found = pattern.search(text) if pattern is not None else None
    start = max(0, found.start() - width // 4) if found else 0
    end = min(len(text), start + width)
    piece = text[start:end]
    return Markup(
        ("…" if start > 0 else "") + mark_words(piece, words) + ("…" if end < len(text) else "")
    )


def highlight_query(words: Sequence[str]) -> str:
    """`?hl=锂电池,正极材料` for a link to the patent page, which marks them (or "")."""
    kept = clean_words(words)
    return "?" + urlencode({"hl": ",".join(kept)}) if kept else ""


def words_from_query(value: str | None) -> list[str]:
    """The words of a `?hl=` parameter (comma-separated, as `highlight_query` writes them)."""
    return clean_words((value or "").split(","))
