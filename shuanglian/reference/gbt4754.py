"""GB/T 4754-2017 国民经济行业分类 (Industrial classification for national economic activities).

The standard has four levels, each with its own code shape:

=======  ==========  =============================  =========
level    English     code                           count
=======  ==========  =============================  =========
门类     section     one letter ``A``..``T``        20
大类     division    two digits ``13``              97
中类     group       three digits ``131``           473
小类     class       four digits ``1311``           1,381
=======  ==========  =============================  =========

Codes accepted by :func:`normalize_industry_code` (and so by every lookup here):

* the bare forms above: ``C``, ``13``, ``131``, ``1311``;
* the digits prefixed with their 门类 letter, as many registers and statistical yearbooks write
  them: ``C13``, ``C131``, ``C1311`` → the bare digits. The letter must be the 门类 the
  digits belong to (``A13`` is rejected: 13 农副食品加工业 belongs to C 制造业);
* lower case, full-width characters and surrounding or inner spaces (``ｃ 13``).

Nothing else is guessed: a 3-digit ``111`` is the 中类 111, never a mistyped ``0111``.

The table is loaded on first use and kept for the life of the process; lookups are dict hits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from shuanglian.reference._files import read_table
from shuanglian.text.normalize import fold_width, to_simplified

TABLE_FILE = "gbt4754_2017_industry.csv"

#: Level names from the top of the hierarchy down; an Industry's `level` is one of these.
LEVELS: tuple[str, ...] = ("门类", "大类", "中类", "小类")
_LEVEL_ALIASES: dict[str, str] = {
    "门类": "门类",
    "section": "门类",
    "大类": "大类",
    "division": "大类",
    "中类": "中类",
    "group": "中类",
    "小类": "小类",
    "class": "小类",
}
_DIGITS_TO_LEVEL = {2: "大类", 3: "中类", 4: "小类"}
_CODE_SHAPE = re.compile(r"([A-T])?(\d{2,4})?")


@dataclass(frozen=True, slots=True)
class Industry:
    """One entry of GB/T 4754-2017."""

    code: str
    name: str
    level: str  # 门类 / 大类 / 中类 / 小类
    parent_code: str | None
    description: str  # 说明 from the standard; empty where the standard gives none

    @property
    def section(self) -> str:
        """The 门类 letter this entry falls under (its own code for a 门类)."""
        return self.code if self.level == "门类" else _tables().section_of_division[self.code[:2]]

    @property
    def label(self) -> str:
        """``code name`` for display, e.g. ``30 非金属矿物制品业``."""
        return f"{self.code} {self.name}"


@dataclass(frozen=True, slots=True)
class _Tables:
    by_code: dict[str, Industry]
    by_level: dict[str, tuple[Industry, ...]]
    section_of_division: dict[str, str]
    children_of: dict[str, tuple[Industry, ...]]


@cache
def _tables() -> _Tables:
    by_code: dict[str, Industry] = {}
    for row in read_table(TABLE_FILE):
        code = row["code"].strip()
        item = Industry(
            code=code,
            name=row["name"].strip(),
            level=LEVELS[int(row["level"])],
            parent_code=row["parent_code"].strip() or None,
            description=row["description"].strip(),
        )
        if code in by_code:
            raise RuntimeError(f"GB/T 4754 表中代码重复 (duplicate code in {TABLE_FILE}): {code}")
        by_code[code] = item
    by_level = {level: tuple(i for i in by_code.values() if i.level == level) for level in LEVELS}
    section_of_division = {i.code: i.parent_code or "" for i in by_level["大类"]}
    kids: dict[str, list[Industry]] = {}
    for item in by_code.values():
        if item.parent_code:
            kids.setdefault(item.parent_code, []).append(item)
    children_of = {code: tuple(items) for code, items in kids.items()}
    return _Tables(by_code, by_level, section_of_division, children_of)


def _clean(code: str) -> str:
    return re.sub(r"\s+", "", fold_width(str(code))).upper()


def normalize_industry_code(code: str) -> str:
    """The bare GB/T 4754-2017 code for any accepted spelling; ValueError when not a code."""
    text = _clean(code)
    match = _CODE_SHAPE.fullmatch(text)
    tables = _tables()
    if text and match:
        letter, digits = match.groups()
        if digits is None:
            if letter in tables.by_code:
                return letter
        elif digits in tables.by_code and (
            letter is None or tables.section_of_division.get(digits[:2]) == letter
        ):
            return digits
    raise ValueError(
        f"不是有效的 GB/T 4754-2017 行业代码 (not a GB/T 4754-2017 industry code): {code!r}；"
        "应为门类字母 (A–T) 或 2–4 位数字代码，可带门类字母前缀，如 C、13、C1311"
    )


def is_valid_industry_code(code: str) -> bool:
    """True when `code` names an entry of GB/T 4754-2017 in any accepted spelling."""
    try:
        normalize_industry_code(code)
    except ValueError:
        return False
    return True


def industry(code: str) -> Industry | None:
    """The entry for `code` (any accepted spelling), or None when there is no such entry."""
    try:
        return _tables().by_code[normalize_industry_code(code)]
    except ValueError:
        return None


def parent_chain(code: str) -> list[Industry]:
    """The entry and its ancestors from the 门类 down, e.g. C → 13 → 131 → 1311; [] if unknown."""
    tables = _tables()
    item = industry(code)
    chain: list[Industry] = []
    while item is not None:
        chain.append(item)
        item = tables.by_code.get(item.parent_code) if item.parent_code else None
    chain.reverse()
    return chain


def division_of(code: str) -> str | None:
    """The 大类 (2-digit) code an entry falls under; None for a 门类 or an unknown code."""
    item = industry(code)
    if item is None or item.level == "门类":
        return None
    return item.code[:2]


def industries_at_level(level: str) -> tuple[Industry, ...]:
    """Every entry at one level (门类/大类/中类/小类 or their English names), in code order."""
    key = _LEVEL_ALIASES.get(str(level).strip().lower())
    if key is None:
        raise ValueError(f"未知的行业分类层级 (unknown level): {level!r}；应为 {'/'.join(LEVELS)}")
    return _tables().by_level[key]


def children(code: str) -> tuple[Industry, ...]:
    """The entries directly below `code` (a 门类's 大类, a 大类's 中类, ...); () if none."""
    item = industry(code)
    if item is None:
        return ()
    return _tables().children_of.get(item.code, ())


def search_industries(query: str, *, level: str | None = None, limit: int = 20) -> list[Industry]:
    """Entries whose name (then 说明) contains `query`, best first; Traditional input is folded.

    Ranking: exact name, name starting with the query, name containing it, and last 说明
    containing it; within a tier shorter names (more specific wording) and then codes come first.
    """
    needle = to_simplified(re.sub(r"\s+", "", fold_width(query)))
    if not needle:
        return []
    pool = industries_at_level(level) if level else tuple(_tables().by_code.values())
    ranked: list[tuple[int, int, str, Industry]] = []
    for item in pool:
        if item.name == needle:
            tier = 0
        elif item.name.startswith(needle):
            tier = 1
        elif needle in item.name:
            tier = 2
        elif needle in item.description:
            tier = 3
        else:
            continue
        ranked.append((tier, len(item.name), item.code, item))
    ranked.sort(key=lambda entry: entry[:3])
    return [entry[3] for entry in ranked[:limit]]


def lookup_industries(query: str, *, level: str | None = None, limit: int = 50) -> list[Industry]:
    """What a person typing into a lookup box means: entries whose name or 说明 contains the
    words, or, when none does, the entry whose code it is (``C38``, ``3841``).

    The admin reference page and the JSON API both answer with this.
    """
    query = query.replace("\x00", "")
    found = search_industries(query, level=level, limit=limit)
    if not found:
        exact = industry(query.strip())
        if exact is not None and (
            level is None or exact.level == _LEVEL_ALIASES[level.strip().lower()]
        ):
            found = [exact]
    return found
