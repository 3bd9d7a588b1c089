"""Jinja2 environment and the one `render` helper every page uses."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from shuanglian.clock import DEFAULT_TIMEZONE, as_utc, in_zone, zone_label
from shuanglian.engine.reasons import WEAK_SHOWN, list_notice
from shuanglian.labels import label
from shuanglian.web.i18n import chooser, in_language, pick_lang
from shuanglian.web.security import CSRF_FIELD, csrf_token

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


@lru_cache(maxsize=1)
def templates() -> Jinja2Templates:
    """The template set (built on first use, not at import)."""
    tpl = Jinja2Templates(directory=str(TEMPLATE_DIR))
    tpl.env.filters["num"] = format_number
    tpl.env.filters["local_time"] = local_time
    tpl.env.filters["local_date"] = local_date
    from shuanglian.notifications import unread_for  # the bell's count in every header

    tpl.env.globals["unread_for"] = unread_for
    tpl.env.filters["industry"] = industry_label
    tpl.env.filters["field_zh"] = field_name_zh
    tpl.env.filters["lettered"] = lettered
    tpl.env.filters["in_lang"] = message_in_language
    tpl.env.filters["match_percent"] = match_percent
    from shuanglian.web.highlight import highlight_query, mark_words, snippet

    tpl.env.filters["marked"] = mark_words
    tpl.env.filters["snippet"] = snippet
    tpl.env.globals["highlight_query"] = highlight_query
    tpl.env.globals["match_list"] = match_list
    tpl.env.globals["industry_options"] = industry_options
    from shuanglian.supermarket.service import price_words  # one price on every page

    tpl.env.globals["price_words"] = price_words
    from shuanglian.enterprises import service as enterprises

    tpl.env.globals["demand_status"] = enterprises.DEMAND_STATUS_LABELS
    tpl.env.globals["demand_visibility"] = enterprises.DEMAND_VISIBILITY
    tpl.env.globals["demand_company_shown"] = enterprises.demand_company_shown
    return tpl


def industry_label(code: str | None) -> str:
    """`38` or `C38` → "C38 电气机械和器材制造业": pages show names, not bare codes."""
    from shuanglian.reference.gbt4754 import industry_label as label

    return label(code)


def match_percent(value: float | None) -> str:
    """A calibrated match probability as a whole percent, or nothing below 1 % ("低 0%" read
    as "no match at all"; the level word already says it is weak)."""
    if value is None:
        return ""
    pct = round(float(value) * 100)
    return f"{pct}%" if pct >= 1 else ""


@pass_context
def match_list(context: Any, matches: list[Any]) -> tuple[list[Any], str | None]:
    """(the matches a page lists, the weak-list notice or None): when no match is at least
    'medium', 「暂无高度匹配的成果…」 and only the closest few (`engine.reasons`)."""
    if not matches:
        return [], None
    notice = list_notice(
        [m.explanation.level for m in matches],
        lang=context.get("lang") or "zh",
        enterprises=matches[0].kind == "enterprise",
    )
    return (list(matches[:WEAK_SHOWN]) if notice else list(matches)), notice


@pass_context
def message_in_language(context: Any, message: str | None) -> str:
    """A "中文 (English)" message as the page's language shows it (see i18n.in_language)."""
    return in_language(str(message or ""), context.get("lang") or "zh")


def lettered(code: str | None) -> str:
    """A stored code as an input shows it: 38 → C38 (the text unchanged if unknown)."""
    from shuanglian.reference.gbt4754 import lettered_code

    if not code:
        return ""
    try:
        return lettered_code(code)
    except ValueError:
        return code


def field_name_zh(name: str | None) -> str:
    """A WIPO field's English name (as listings store it) → its Chinese name."""
    from shuanglian.reference.ipc import technology_field_zh

    if not name:
        return ""
    return technology_field_zh(name) or name


@lru_cache(maxsize=1)
def industry_options() -> tuple[tuple[str, str], ...]:
    """(lettered code, name) of every 门类 and 大类: the industry pickers' static datalist,
    which browsers filter by code and name as one types (HTMX adds 中类/小类 matches)."""
    from shuanglian.reference.gbt4754 import industries_at_level, lettered_code

    entries = [*industries_at_level("门类"), *industries_at_level("大类")]
    return tuple((lettered_code(item.code), item.name) for item in entries)


def _zone_of(context: Any) -> str:
    request = context.get("request")
    settings = getattr(getattr(getattr(request, "app", None), "state", None), "settings", None)
    return getattr(settings, "timezone", DEFAULT_TIMEZONE)


@pass_context
def local_time(context: Any, value: datetime | None) -> Markup:
    """A stored moment on the configured clock, labelled: 2026-12-05 18:55 (北京时间 UTC+8)."""
    if value is None:
        return Markup("—")
    name = _zone_of(context)
    shown = in_zone(value, name).strftime("%Y-%m-%d %H:%M")
    return Markup('<time datetime="{}">{} <small>({})</small></time>').format(
        as_utc(value).isoformat(), shown, zone_label(name, value, lang=context.get("lang") or "zh")
    )


@pass_context
def local_date(context: Any, value: datetime | None) -> str:
    """The day a stored moment fell on, on the configured clock (YYYY-MM-DD)."""
    if value is None:
        return "—"
    return in_zone(value, _zone_of(context)).strftime("%Y-%m-%d")


def format_number(value: Decimal | float | int | None) -> str:
    """12.5000 → "12.5", 1E+2 → "100", thousands grouped: amounts read at a glance."""
    if value is None:
        return ""
    number = Decimal(str(value)).normalize()
    if number == number.to_integral():
        return f"{number.quantize(Decimal(1)):,}"
    return f"{number:,f}"


def query_with(request: Request, **changes: Any) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


def htmx_available() -> bool:
    """Whether `make install` put HTMX in static/vendor; pages work without it."""
    return (STATIC_DIR / "vendor" / "htmx.min.js").is_file()


class LazyCsrfToken:
    """The session's CSRF token, created only when a template prints it (a form is shown).

    Pages without forms then set no session cookie for anonymous visitors, which keeps the
    public catalogue cookie-free and cacheable.
    """

    def __init__(self, request: Request) -> None:
        self._request = request

    def __str__(self) -> str:
        if "session" not in self._request.scope:
            return ""  # error pages rendered outside the session middleware
        return csrf_token(self._request)

    def __html__(self) -> str:
        return str(self)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render a page with the language, user, CSRF token and helpers every template needs."""
    lang = pick_lang(request)
    ctx: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "L": chooser(lang),
        "enum_label": lambda enum, value: label(enum, value, lang),
        "user": getattr(request.state, "user", None),
        "csrf_field": CSRF_FIELD,
        "csrf_token": LazyCsrfToken(request),
        "query_with": lambda **kw: query_with(request, **kw),
        "has_htmx": htmx_available(),
    }
    if context:
        ctx.update(context)
    return templates().TemplateResponse(request, name, ctx, status_code=status_code)
