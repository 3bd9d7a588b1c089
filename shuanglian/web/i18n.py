"""Language choice for pages: zh-CN first, English on request.

Templates carry both languages side by side (`L("专利", "Patents")`), which keeps each string
next to its translation; this module only decides which one a request gets.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.requests import Request

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_COOKIE = "lang"


def pick_lang(request: Request) -> str:
    """`?lang=` wins, then the `lang` cookie, then zh."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGS:
        return cookie
    return DEFAULT_LANG


def chooser(lang: str) -> Callable[[str, str], str]:
    """A function `L(zh, en)` that returns the text in `lang`."""

    def choose(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    return choose


# "中文说明 (English gloss)" and "名称 (gloss): data" are the shapes of the project's error
# messages and service-made sentences (reasons, refusals), which the API and the CLI show whole.
# A page shows the half in its language.
_CJK = re.compile(r"[\u3400-\u9fff]")
_LABELLED = re.compile(
    r"^(?P<zh>[^()]*[\u3400-\u9fff][^()]*?)\s*\((?P<en>[^()\u3400-\u9fff]+)\)\s*[:：]\s*(?P<rest>.*)$",
    re.S,
)


def _trailing_gloss(text: str) -> tuple[str, str] | None:
    """("中文", "English") when `text` ends in a bracketed English gloss (brackets inside it,
    as in "Approve (college)", allowed), else None."""
    # Full-width brackets (validators write "校验位错误（check character should be B）") count
    # too, when what they hold is an English phrase, not a bracketed code like （CSV）.
    full_width = text.endswith("）")
    if not (text.endswith(")") or full_width):
        return None
    scan = text.replace("（", "(").replace("）", ")")  # same length: indices carry over
    depth = 0
    for i in range(len(scan) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(scan[i], 0)
        if depth == 0:
            zh, en = text[:i].rstrip(), text[i + 1 : -1].strip()
            if full_width and " " not in en:
                return None
            if _CJK.search(zh) and en and not _CJK.search(en):
                return zh, en
            return None
    return None


def in_language(message: str, lang: str) -> str:
    """The zh half of "中文 (English)" for zh, the English half for en ("名称 (gloss): data"
    keeps its data either way); other text unchanged."""
    text = message.strip()
    labelled = _LABELLED.match(text)
    if labelled is not None:
        if lang == "en":
            return f"{labelled.group('en').strip()}: {labelled.group('rest')}"
        return f"{labelled.group('zh').rstrip()}：{labelled.group('rest')}"
    halves = _trailing_gloss(text)
    if halves is None:
        return message
    zh, en = halves
    return en[:1].upper() + en[1:] if lang == "en" else zh
