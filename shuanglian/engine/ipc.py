"""IPC codes as retrieval tokens: subclass ('H04N') and main group ('H04N5') levels.

Two records that share IPC codes share technology even when their words differ (a patent's
title vs an enterprise's scope). Codes are parsed leniently, and an unparseable code is simply
ignored: IPC is a bonus signal, never a reason to fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

# Section letter, two-digit class, subclass letter, then an optional main group / subgroup.
# Y is CPC's tagging section (Y02E: climate-change mitigation); exports mix CPC into IPC lists.
_IPC = re.compile(r"^([A-HY])\s*(\d{2})\s*([A-Z])\s*(?:0*(\d{1,4})\s*(?:/\s*(\d{1,6}))?)?")

LEVELS: tuple[str, ...] = ("class", "subclass", "group", "subgroup")


# Cached: a national push round parses the same few thousand codes for every one of 100k
# patents and every explanation (measured: the regex was ~15% of an engine round).
@lru_cache(maxsize=1 << 16)
def parse_ipc(code: str) -> tuple[str, str | None, str | None] | None:
    """('H04N', '5', '232') for 'H04N 5/232' (subclass, main group, subgroup); None when the
    text is not an IPC code."""
    m = _IPC.match((code or "").strip().upper())
    if not m:
        return None
    subclass = f"{m.group(1)}{m.group(2)}{m.group(3)}"
    return subclass, m.group(4), m.group(5)


def ipc_subclass(code: str) -> str | None:
    """The 4-character subclass of a code ('H04N'), or None."""
    parsed = parse_ipc(code)
    return parsed[0] if parsed else None


def ipc_tokens(codes: Iterable[str], *, levels: Sequence[str] = ("subclass", "group")) -> list[str]:
    """IPC tokens at the requested levels, each code counted once per level.

    Levels: 'class' → 'H04', 'subclass' → 'H04N', 'group' → 'H04N5',
    'subgroup' → 'H04N5/232'.
    """
    out: list[str] = []
    for code in codes:
        parsed = parse_ipc(code)
        if not parsed:
            continue
        sub, group, subgroup = parsed
        if "class" in levels:
            out.append(sub[:3])
        if "subclass" in levels:
            out.append(sub)
        if "group" in levels and group is not None:
            out.append(f"{sub}{int(group)}")
        if "subgroup" in levels and group is not None and subgroup is not None:
            out.append(f"{sub}{int(group)}/{subgroup}")
    return out
