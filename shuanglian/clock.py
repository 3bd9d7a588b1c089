"""The zone people read times in (`SHUANGLIAN_TIMEZONE`, default Asia/Shanghai).

The database keeps UTC (SQLite hands it back without a zone, which is UTC too) and the API
answers ISO moments with their offset; pages, the audit log and e-mails show the same moment
in this zone, labelled so nobody has to guess which clock it is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"
# Zones people in China call 北京时间 (the IANA names of China Standard Time).
_BEIJING = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "PRC"})


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ValueError naming it when the system has no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name, e.g. Asia/Shanghai)") from None


def as_utc(at: datetime) -> datetime:
    """A stored moment with its zone: a naive one is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def in_zone(at: datetime, name: str) -> datetime:
    """The stored moment `at` on the clock of zone `name`."""
    return as_utc(at).astimezone(zone(name))


def zone_label(name: str, at: datetime | None = None, *, lang: str = "zh") -> str:
    """The clock's name beside a time: 北京时间 UTC+8 (Beijing time UTC+8 in English), or
    Europe/Berlin UTC+1 (the offset on `at`'s day, so summer time shows as it is)."""
    moment = in_zone(at or datetime.now(UTC), name)
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    utc = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    if name in _BEIJING:
        return f"Beijing time {utc}" if lang == "en" else f"北京时间 {utc}"
    return f"{name} {utc}"
