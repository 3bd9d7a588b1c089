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


# --------------------------------------------------------------------------- names and pickers


def parse_industry_input(text: str) -> str:
    """The bare code for what a person typed or picked in an industry field.

    Accepts a code in any spelling of `normalize_industry_code` (38, C38, ｃ３８), a picker's
    label (`C38 电气机械和器材制造业`) and an exact name, Simplified or Traditional
    (电气机械和器材制造业). ValueError otherwise, with the accepted forms.
    """
    raw = (text or "").strip()
    try:
        return normalize_industry_code(raw)
    except ValueError:
        pass
    head = raw.split(maxsplit=1)[0] if raw else ""
    if head and head != raw:
        try:
            return normalize_industry_code(head)
        except ValueError:
            pass
    key = _name_key(raw)
    for level in LEVELS:
        item = _keys_by_level()[level].get(key)
        if item is not None:
            return item.code
    raise ValueError(
        f"不是有效的 GB/T 4754-2017 行业 (not a GB/T 4754-2017 industry): {text!r}；"
        "可填代码（C38 或 38）或完整名称（电气机械和器材制造业）"
    )


def lettered_code(code: str) -> str:
    """The code with its 门类 letter, as registers and pickers show it: 38 → C38, C → C.

    ValueError (from `normalize_industry_code`) when `code` is not in the standard.
    """
    bare = normalize_industry_code(code)
    if bare.isalpha():
        return bare
    return _tables().section_of_division[bare[:2]] + bare


def industry_label(code: str | None) -> str:
    """``C38 电气机械和器材制造业`` for any accepted spelling; the text as given when unknown."""
    if not code:
        return ""
    item = industry(code)
    if item is None:
        return str(code)
    return f"{lettered_code(item.code)} {item.name}"


_LEVEL_ORDER = {"门类": 0, "大类": 1, "中类": 2, "小类": 3}


def suggest_industries(query: str, *, limit: int = 10) -> list[Industry]:
    """What an industry picker offers for a typed word or code, best first.

    A person typing 通信 means the 大类 where communication services or equipment sit, even
    when the word is only in a 小类's 说明 (63 电信、广播电视和卫星传输服务: "固定通信业务"), so
    hits below the 大类 level also offer their 大类. Order: a code typed exactly; 门类/大类
    whose own name has the word; 大类 reached through their 中类/小类; then the 中类/小类 hits.
    """
    text = query.replace("\x00", "").strip()
    if not text:
        return []
    exact = industry(text) if re.fullmatch(r"[A-Za-z]?\d{0,4}", text.replace(" ", "")) else None
    hits = search_industries(text, limit=400)
    tables = _tables()
    ranked: dict[str, tuple[int, int, int, Industry]] = {}

    def offer(item: Industry, tier: int, position: int) -> None:
        key = (tier, _LEVEL_ORDER[item.level], position, item)
        if item.code not in ranked or key[:3] < ranked[item.code][:3]:
            ranked[item.code] = key

    if exact is not None:
        offer(exact, 0, 0)
    for position, item in enumerate(hits):
        direct = item.level in ("门类", "大类") and text_in_name(item, text)
        offer(item, 1 if direct else 3, position)
        if item.level in ("中类", "小类"):
            offer(tables.by_code[item.code[:2]], 2, position)
    ordered = sorted(ranked.values(), key=lambda entry: entry[:3])
    return [entry[3] for entry in ordered[:limit]]


def text_in_name(item: Industry, text: str) -> bool:
    """Whether the (Simplified, width-folded) words appear in the entry's own name."""
    return to_simplified(re.sub(r"\s+", "", fold_width(text))) in item.name


# Punctuation and joining words that registers drop or add when they copy a name by hand
# (电力、热力、燃气、及水 vs 电力、热力、燃气及水).
_NAME_NOISE = re.compile(r"[\s、，,;；·()（）\-—_/及和与的]")


def _name_key(name: str) -> str:
    key = _NAME_NOISE.sub("", to_simplified(fold_width(name)))
    return key[:-1] if key.endswith("业") and len(key) > 2 else key


@cache
def _keys_by_level() -> dict[str, dict[str, Industry]]:
    return {
        level: {_name_key(item.name): item for item in items}
        for level, items in _tables().by_level.items()
    }


def industry_by_name(
    name: str, *, level: str | None = None, within: str | None = None
) -> Industry | None:
    """The entry a hand-copied name means, or None when nothing is close enough.

    Exact names first, then the name without punctuation, joining words (及, 和) and a final
    业, then the closest name by difflib ratio (≥ 0.75) — real exports write
    `计算机、通信和其他电子设备制造` (no 业), `煤炭开发和洗选业` (for 开采) or
    `酒、饮料喝精制茶制造业` (a typo). `within` restricts the search to one entry's descendants
    (a 门类 letter for a 大类 name), `level` to one level.
    """
    import difflib

    wanted = _name_key(name)
    if not wanted:
        return None
    levels = [_LEVEL_ALIASES[level]] if level else list(LEVELS)
    parent = industry(within) if within else None

    def inside(item: Industry) -> bool:
        if parent is None:
            return True
        if parent.level == "门类":
            return item.section == parent.code
        return item.code.startswith(parent.code) and item.code != parent.code

    for lvl in levels:
        item = _keys_by_level()[lvl].get(wanted)
        if item is not None and inside(item):
            return item
    best: tuple[float, Industry] | None = None
    for lvl in levels:
        for key, item in _keys_by_level()[lvl].items():
            if not inside(item):
                continue
            ratio = difflib.SequenceMatcher(None, wanted, key).ratio()
            if best is None or ratio > best[0]:
                best = (ratio, item)
    return best[1] if best is not None and best[0] >= 0.75 else None


def industries_from_classification(text: str) -> list[Industry]:
    """Entries named by a platform's classification text, most specific first.

    Understands `门类——大类` (`制造业——医药制造业` → 27), a bare 门类 or 大类 name, and 门类
    names run together without a separator, as some exports write several choices
    (`制造业电力、热力、燃气、及水生产和供应业建筑业` → C, D, E).
    """
    text = (text or "").strip()
    if not text:
        return []
    parts = [p for p in re.split(r"—+|－+|-{2,}|>|/", text) if p.strip()]
    if len(parts) >= 2:
        section = industry_by_name(parts[0], level="门类")
        # The platform's 门类 is sometimes wrong (科技推广和应用服务业 filed under 信息传输…):
        # the 大类 name is looked for in the named 门类 first, then anywhere.
        division = industry_by_name(
            parts[-1], level="大类", within=section.code if section else None
        ) or industry_by_name(parts[-1], level="大类")
        if division is not None:
            section = industry(division.section)
        found = [i for i in (division, section) if i is not None]
        if found:
            return found
    single = industry_by_name(text, level="门类") or industry_by_name(text, level="大类")
    if single is not None and _name_key(single.name) == _name_key(text):
        return [single]
    return _run_together_sections(text) or ([single] if single is not None else [])


def _run_together_sections(text: str) -> list[Industry]:
    """门类 names concatenated without separators, read greedily from the left."""
    keys = _keys_by_level()["门类"]
    rest = _NAME_NOISE.sub("", to_simplified(fold_width(text)))
    found: list[Industry] = []
    while rest:
        for length in range(len(rest), 1, -1):
            head = rest[:length]
            item = keys.get(head[:-1] if head.endswith("业") else head)
            if item is not None:
                found.append(item)
                rest = rest[length:]
                break
        else:
            return found
    return found
