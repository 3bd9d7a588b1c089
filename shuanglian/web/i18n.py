"""Language choice for pages: zh-CN first, English on request.

Templates carry both languages side by side (`L("专利", "Patents")`), which keeps each string
next to its translation; this module only decides which one a request gets.
"""

from __future__ import annotations

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
