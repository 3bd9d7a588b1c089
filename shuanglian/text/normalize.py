"""Normalise text for search: Traditional → Simplified, full-width → half-width, clean spaces.

The original text is always kept by the caller; only search fields go through here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
# str.translate runs in C: ~50x faster than a per-character loop, which importers call on
# every title and abstract.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


@lru_cache(maxsize=4)
def _converter(config: str):  # type: ignore[no-untyped-def]
    # OpenCC's C++ converter: ~100x faster than the pure-Python port, which matters at 1M rows.
    import opencc

    return opencc.OpenCC(config)


# Hong Kong words that OpenCC's Taiwan phrase table does not know, mapped to the Taiwan word it
# does (which tw2sp then takes to the mainland one): 鐳射 → 雷射 → 激光. OpenCC ships no HK
# phrase table (hk2s converts characters only: 鐳射 → 镭射, which never meets 激光).
_HK_TO_TW = {
    "鐳射": "雷射",
    "解像度": "解析度",
    "短訊": "簡訊",
    "流動電話": "行動電話",
    "手提電話": "手機",
    "熒幕": "螢幕",
    "私隱": "隱私",
}
_HK_WORDS = re.compile("|".join(sorted(map(re.escape, _HK_TO_TW), key=len, reverse=True)))


def to_simplified(text: str) -> str:
    """Traditional Chinese → mainland Simplified, phrase-aware; other scripts unchanged.

    Text that has no Traditional character (t2s leaves it as it is) is returned untouched.
    Text that has one goes through OpenCC's `hk2t` (Hong Kong variant characters → standard
    Traditional), the few Hong Kong words of `_HK_TO_TW` (鐳射 → 雷射), then `tw2sp` (Taiwan →
    mainland, with phrases), so Taiwan and Hong Kong usage reaches the mainland word, not only
    the mainland characters: 軟體 → 软件, 資訊 → 信息, 網路 → 网络, 雷射/鐳射 → 激光 (character
    by character, t2s gives 软体/资讯/网路/雷射/镭射, which never match). Why not tw2sp on
    everything: its phrase table also rewrites Simplified strings (程式化 → 程序化), and costs
    ~3x t2s; the check costs one t2s.
    """
    if not text:
        return text
    simple = _converter("t2s").convert(text)
    if simple == text:
        return text
    standard = _HK_WORDS.sub(lambda m: _HK_TO_TW[m.group()], _converter("hk2t").convert(text))
    return _converter("tw2sp").convert(standard)  # type: ignore[no-any-return]


def fold_width(text: str) -> str:
    """Full-width ASCII letters, digits and punctuation (ＡＢＣ１２３) → half-width.

    Only the U+FF01..U+FF5E block and the ideographic space are folded; Chinese punctuation
    such as ，。 carries meaning for segmentation and stays.
    """
    return text.translate(_HALF_WIDTH)


def strip_control(text: str) -> str:
    """Remove control characters (keeps tab/newline) that break exports and terminals."""
    return _CONTROL.sub("", text)


def clean_cell(value: object) -> str:
    """A spreadsheet/CSV cell as trimmed text with control characters removed."""
    if value is None:
        return ""
    text = strip_control(str(value))
    return text.strip()


def normalize_for_search(text: str) -> str:
    """The search form: NFKC-safe width folding, Simplified, single spaces, lower-case Latin."""
    if not text:
        return ""
    text = strip_control(text)
    text = fold_width(text)
    text = unicodedata.normalize("NFC", text)
    text = to_simplified(text)
    return _SPACES.sub(" ", text).strip().lower()


def is_storable(text: str) -> bool:
    """Whether both databases can store `text`.

    PostgreSQL refuses NUL in text, and a lone surrogate (which Python strings can hold, e.g.
    from a mis-decoded form) cannot be encoded as UTF-8: both would fail deep in a write.
    """
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
