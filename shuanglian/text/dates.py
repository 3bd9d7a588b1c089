"""Parse the date forms found in patent and enterprise exports into `datetime.date`.

Accepted (after folding full-width digits and punctuation to half-width):

* `20221202` — CNIPA and PatentsView compact form (also `20221202.0`, an Excel number cell);
* `2022-12-02`, `2022/12/2`, `2022.12.02` — year first, any of - / . as separator;
* `2022年12月2日` — Chinese form (`日` optional);
* `02.12.2022` — day.month.year, the European dotted form (only with dots: `02/12/2022`
  is ambiguous between day-first and month-first, so it is rejected rather than guessed);
* datetime strings such as `2022-12-02 00:00:00` or `2022-12-02T08:30:00+08:00` (how Excel
  date cells arrive once turned into text) — the time part is dropped.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from shuanglian.text.normalize import fold_width

ACCEPTED_FORMS = "20221202、2022-12-02、2022/12/2、2022.12.02、2022年12月2日、02.12.2022"

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:\.0+)?")
_YEAR_FIRST = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME)
_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_DAY_FIRST = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")

# Patents filed before 1800 or dated after 2200 are typos, not records.
_MIN_YEAR, _MAX_YEAR = 1800, 2200


def parse_date(text: str | date | None) -> date | None:
    """None for empty; ValueError (message says the accepted forms) for garbage."""
    if text is None:
        return None
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    raw = fold_width(str(text)).strip()
    if not raw:
        return None
    for pattern, order in (
        (_COMPACT, (1, 2, 3)),
        (_YEAR_FIRST, (1, 3, 4)),
        (_CHINESE, (1, 2, 3)),
        (_DAY_FIRST, (3, 2, 1)),
    ):
        match = pattern.fullmatch(raw)
        if match:
            year, month, day = (int(match.group(i)) for i in order)
            return _checked(year, month, day, raw)
    raise ValueError(
        f"无法识别的日期“{_short(raw)}”，可用格式：{ACCEPTED_FORMS}"
        f"（unrecognised date; accepted forms: {ACCEPTED_FORMS.replace('、', ', ')}）"
    )


def _checked(year: int, month: int, day: int, raw: str) -> date:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise ValueError(
            f"日期“{_short(raw)}”的年份不合理（year {year} is outside {_MIN_YEAR}–{_MAX_YEAR}）"
        )
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(
            f"日期“{_short(raw)}”不存在（no such calendar day: {year}-{month:02d}-{day:02d}）"
        ) from exc


def _short(raw: str) -> str:
    return raw if len(raw) <= 40 else raw[:40] + "…"
