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
_CJK = "\u3400-\u9fff"
_GLOSS = re.compile(rf"^(?P<zh>.*[{_CJK}\uff09\u3002\u201d].*?)\s*\((?P<en>[^(){_CJK}]+)\)$", re.S)
_LABELLED = re.compile(
    rf"^(?P<zh>[^()]*[{_CJK}][^()]*?)\s*\((?P<en>[^(){_CJK}]+)\)\s*[:：]\s*(?P<rest>.*)$", re.S
)


def in_language(message: str, lang: str) -> str:
    """The zh half of "中文 (English)" for zh, the English half for en ("名称 (gloss): data"
    keeps its data either way); other text unchanged."""
    text = message.strip()
    labelled = _LABELLED.match(text)
    if labelled is not None:
        if lang == "en":
            return f"{labelled.group('en').strip()}: {labelled.group('rest')}"
        return f"{labelled.group('zh').rstrip()}：{labelled.group('rest')}"
    found = _GLOSS.match(text)
    if found is None:
        return message
    if lang == "en":
        en = found.group("en").strip()
        return en[:1].upper() + en[1:]
    return found.group("zh").rstrip()
