"""IPC (International Patent Classification) codes: one canonical spelling, titles, WIPO fields.

Canonical form (what :func:`normalize_ipc` returns), by level:

==============  ===============  ==========================================================
level           canonical        notes
==============  ===============  ==========================================================
section         ``G``
class           ``G06``
subclass        ``G06F``
main group      ``G06F 16/00``   subclass, one space, group number without leading zeros
subgroup        ``G06F 16/35``   subgroup digits without trailing zeros, at least two digits
==============  ===============  ==========================================================

This is the spelling of the printed IPC scheme and of most CNIPA and EPO displays. Accepted
input spellings (all give the same canonical code):

* ``G06F 16/35``, ``G06F16/35``, ``G06F  16/35`` (any spaces), ``g06f16/35``;
* full-width characters (``Ｇ０６Ｆ１６／３５``);
* the 14-character machine format ``G06F0016350000`` (4-digit group, 6-digit subgroup, zero
  padded) used in WIPO and PatentsView files;
* a trailing IPC version such as ``(2019.01)`` or ``(2006.01)I`` as CNIPA prints it;
* ``G06F 16`` (no slash) for the main group ``G06F 16/00``.

Subgroup digits are read as the IPC reads them, as a decimal fraction (the 14-character format
pads them on the right), so ``/350`` and ``/35`` are the same subgroup and a one-digit ``/5``
becomes ``/50``. Sections A–H are IPC; Y is accepted too because CPC codes (which share this
syntax) carry it. Anything else raises ValueError with the offending text in the message.

Titles come from the shipped WIPO scheme table, which stops at main groups; WIPO technology
fields come from the WIPO IPC → 35 fields concordance (Schmoch), longest prefix wins.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache

from shuanglian.reference._files import read_table
from shuanglian.text.normalize import fold_width

TITLES_FILE = "ipc_en_titles_to_maingroup.csv.gz"
# Chinese titles of the sections, all classes and the commonest subclasses: our own short
# translation of the WIPO titles (PROVENANCE.md), not the official CNIPA text.
ZH_TITLES_FILE = "ipc_zh_titles.csv"
FIELDS_FILE = "wipo_ipc_technology_35fields.csv"

_SECTIONS = "ABCDEFGHY"
# A trailing version/edition tag: "(2019.01)", "（2006.01）I", "(2006.01) A"
_VERSION = re.compile(r"[(（]\s*\d{4}\s*\.\s*\d{1,2}\s*[)）]\s*[A-Z]{0,2}\s*$")
_MACHINE = re.compile(r"([A-HY]\d\d[A-Z])(\d{4})(\d{6})")
_GENERAL = re.compile(r"([A-HY])(?:(\d\d)(?:([A-Z])(?:(\d{1,4})(?:/(\d{1,6}))?)?)?)?")
_CANONICAL = re.compile(r"[A-HY](\d\d([A-Z]( [1-9]\d{0,3}/(\d\d|\d{2,5}[1-9]))?)?)?")
_SPLIT = re.compile(r"[;；,，、\n\r\t|]+")


def _garbage(text: object, why: str) -> ValueError:
    return ValueError(f"无法识别的 IPC 分类号 (not an IPC code: {why}): {text!r}")


@lru_cache(maxsize=1 << 16)
def normalize_ipc(text: str) -> str:
    """The canonical IPC spelling of `text` (see module docstring); ValueError for garbage."""
    if not isinstance(text, str):
        raise _garbage(text, "expected text")
    compact = fold_width(text).upper().strip()
    compact = _VERSION.sub("", compact)
    compact = re.sub(r"\s+", "", compact)
    if not compact:
        raise _garbage(text, "empty")
    machine = _MACHINE.fullmatch(compact)
    if machine:
        subclass, group, subgroup = machine.groups()
        return _assemble(text, subclass, group, subgroup)
    # "G06F 16" typed without the slash: the main group
    if re.fullmatch(r"[A-HY]\d\d[A-Z]\d{1,4}", compact):
        return _assemble(text, compact[:4], compact[4:], "00")
    general = _GENERAL.fullmatch(compact)
    if not general:
        raise _garbage(text, "expected e.g. G06F 16/35")
    section, klass, letter, group, subgroup = general.groups()
    if group is not None and subgroup is None:
        raise _garbage(text, "group without subgroup")
    if group is None:
        return section + (klass or "") + (letter or "")
    return _assemble(text, section + klass + letter, group, subgroup)


def _assemble(text: str, subclass: str, group: str, subgroup: str) -> str:
    group_number = int(group)
    if group_number == 0:
        raise _garbage(text, "main group number 0")
    digits = subgroup.rstrip("0").ljust(2, "0")
    return f"{subclass} {group_number}/{digits}"


def try_normalize_ipc(text: str) -> str | None:
    """Like :func:`normalize_ipc` but None instead of ValueError, for lenient imports."""
    try:
        return normalize_ipc(text)
    except ValueError:
        return None


def split_ipc_list(text: str) -> list[str]:
    """Canonical codes from a CNIPA-style list (``B64U20/80;B64U101/30``), order kept, no repeats.

    Raises ValueError naming the first part that is not an IPC code.
    """
    seen: dict[str, None] = {}
    for part in _SPLIT.split(fold_width(text or "")):
        if part.strip():
            seen.setdefault(normalize_ipc(part), None)
    return list(seen)


def ipc_level(code: str) -> str:
    """section / class / subclass / main_group / subgroup for any accepted spelling."""
    canonical = normalize_ipc(code)
    if len(canonical) == 1:
        return "section"
    if len(canonical) == 3:
        return "class"
    if len(canonical) == 4:
        return "subclass"
    return "main_group" if canonical.endswith("/00") else "subgroup"


def _at_least(code: str, length: int, what: str) -> str:
    canonical = normalize_ipc(code)
    if len(canonical) < length:
        raise ValueError(f"IPC 分类号层级不足，无法取{what} (too short for its {what}): {code!r}")
    return canonical


def ipc_section(code: str) -> str:
    """The section letter: ``G06F 16/35`` → ``G``."""
    return normalize_ipc(code)[0]


def ipc_class3(code: str) -> str:
    """The 3-character class: ``G06F 16/35`` → ``G06``; ValueError for a bare section."""
    return _at_least(code, 3, "大类 class")[:3]


def ipc_subclass(code: str) -> str:
    """The 4-character subclass: ``G06F 16/35`` → ``G06F``; ValueError above subclass level."""
    return _at_least(code, 4, "小类 subclass")[:4]


def ipc_main_group(code: str) -> str:
    """The main group: ``G06F 16/35`` → ``G06F 16/00``; ValueError above main-group level."""
    canonical = _at_least(code, 5, "大组 main group")
    return canonical.split("/", 1)[0] + "/00"


@cache
def _titles() -> dict[str, str]:
    titles: dict[str, str] = {}
    for row in read_table(TITLES_FILE):
        raw = row["ipc"].strip()
        # Main groups are stored compact ("A01B1/00"); inserting the space directly is 5x faster
        # than the general parser, which stays the fallback for anything unexpected.
        key = f"{raw[:4]} {raw[4:]}" if row["level"] == "main_group" and raw[4:5] != " " else raw
        if not _CANONICAL.fullmatch(key):
            key = normalize_ipc(raw)
        # The table lists some subgroup titles under their main group's key; the first row for
        # a key is the entry's own title, so later ones are skipped.
        titles.setdefault(key, row["title_en"].strip())
    return titles


def ipc_title_count() -> int:
    """How many codes (sections to main groups) have a title in the shipped scheme."""
    return len(_titles())


def _strip_references(title: str) -> str:
    """Drop parenthesised cross-references ("(mowers A01D)") that clutter a display title."""
    out: list[str] = []
    depth = 0
    for ch in title:
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return re.sub(r"\s+", " ", "".join(out)).strip(" ;,")


def ipc_title(code: str, *, with_references: bool = False) -> str | None:
    """English title of a section, class, subclass or main group; None when not in the table.

    A subgroup gets its main group's title (the shipped scheme stops at main groups).
    Parenthesised cross-references are removed unless `with_references` is true.
    """
    canonical = try_normalize_ipc(code)
    if canonical is None:
        return None
    if "/" in canonical:
        canonical = ipc_main_group(canonical)
    title = _titles().get(canonical)
    if title is None or with_references:
        return title
    return _strip_references(title) or title


@cache
def _zh_titles() -> dict[str, str]:
    return {row["ipc"].strip(): row["title_zh"].strip() for row in read_table(ZH_TITLES_FILE)}


def ipc_title_zh(code: str) -> str | None:
    """Chinese title of a section, class or subclass (a main group or subgroup gets its
    subclass's); None when the shipped table has none (callers fall back to `ipc_title`).

    The table is a short translation made for this project (see PROVENANCE.md): sections,
    all 130-odd classes and the subclasses patents most often carry.
    """
    canonical = try_normalize_ipc(code)
    if canonical is None:
        return None
    return _zh_titles().get(canonical[:4] if len(canonical) > 4 else canonical)


def ipc_title_for(code: str, *, lang: str = "zh") -> str | None:
    """The title to show a reader: Chinese for 'zh' where the table has one, else English."""
    if lang == "zh":
        zh = ipc_title_zh(code)
        if zh:
            return zh
    return ipc_title(code)


@dataclass(frozen=True, slots=True)
class _Fields:
    by_prefix: dict[str, int]  # "F21H" or "H04N 3/" → field number
    names: dict[int, str]
    sectors: dict[int, str]
    subclass_mix: dict[str, tuple[tuple[int, float], ...]]


@cache
def _fields() -> _Fields:
    by_prefix: dict[str, int] = {}
    names: dict[int, str] = {}
    sectors: dict[int, str] = {}
    per_subclass: dict[str, Counter[int]] = {}
    for row in read_table(FIELDS_FILE):
        number = int(row["Field_number"])
        names[number] = row["Field_en"].strip()
        sectors[number] = row["Sector_en"].strip()
        pattern = row["IPC_code"].strip().rstrip("%")
        if "/" in pattern:
            # "H04N   3/%": every subgroup of main group H04N 3 → stored as "H04N 3/"
            subclass, group = pattern.split("/", 1)[0][:4], pattern.split("/", 1)[0][4:]
            prefix = f"{subclass} {int(group)}/"
        else:
            prefix = normalize_ipc(pattern)
        by_prefix[prefix] = number
        per_subclass.setdefault(prefix[:4], Counter())[number] += 1
    # A subclass split between fields at main-group level (H04N, G01N, A61K, ...) gets the
    # fields in proportion to how many of its main-group patterns each one covers.
    subclass_mix = {
        sub: tuple((num, cnt / sum(counts.values())) for num, cnt in counts.most_common())
        for sub, counts in per_subclass.items()
    }
    return _Fields(by_prefix, names, sectors, subclass_mix)


def technology_field(code: str) -> tuple[int, str] | None:
    """WIPO technology field (number 1–35, English name) for an IPC code; None if unmapped.

    The longest matching pattern wins: ``H04N 5/232`` matches ``H04N 5/%`` before ``H04N%``.
    A subclass whose main groups fall in different fields (H04N, G01N, A61K, C13B, B01D, E01F)
    has no single field, so a bare subclass or class code there returns None.
    """
    canonical = try_normalize_ipc(code)
    if canonical is None:
        return None
    table = _fields()
    candidates = [canonical[:4], canonical[:3], canonical[:1]]
    if "/" in canonical:
        candidates.insert(0, canonical.split("/", 1)[0] + "/")
    for prefix in candidates:
        number = table.by_prefix.get(prefix)
        if number is not None:
            return number, table.names[number]
    return None


def technology_field_mix(code: str) -> tuple[tuple[int, float], ...]:
    """WIPO field numbers with shares for a code: its one field, or a split subclass's mix.

    Used where every code needs some field (the industry link); () when nothing maps.
    """
    single = technology_field(code)
    if single is not None:
        return ((single[0], 1.0),)
    canonical = try_normalize_ipc(code)
    if canonical is None or len(canonical) < 4:
        return ()
    return _fields().subclass_mix.get(canonical[:4], ())


def technology_field_names() -> dict[int, str]:
    """All 35 WIPO technology fields: number → English name."""
    return dict(_fields().names)


@cache
def known_subclasses() -> tuple[str, ...]:
    """Every subclass in the shipped scheme or the WIPO field table, sorted."""
    codes = {c for c in _titles() if len(c) == 4}
    codes.update(prefix[:4] for prefix in _fields().by_prefix)
    return tuple(sorted(codes))


@cache
def known_classes() -> tuple[str, ...]:
    """Every 3-character class in the shipped scheme, sorted."""
    return tuple(sorted(c for c in _titles() if len(c) == 3))


ZH_FIELDS_FILE = "wipo_35_fields_zh.csv"


@cache
def _zh_field_names() -> dict[int, str]:
    names = {
        int(row["Field_number"]): row["Field_zh"].strip() for row in read_table(ZH_FIELDS_FILE)
    }
    english = _fields().names
    # The two tables must name the same 35 fields: a renumbering upstream fails loudly here.
    for number, name in names.items():
        if number not in english:
            raise RuntimeError(f"{ZH_FIELDS_FILE}: field {number} ({name}) not in {FIELDS_FILE}")
    return names


def technology_field_names_zh() -> dict[int, str]:
    """All 35 WIPO technology fields: number → Chinese name (计算机技术)."""
    return dict(_zh_field_names())


def technology_field_zh(name_or_number: str | int) -> str | None:
    """The Chinese name of a WIPO field given its number or English name; None if unknown.

    Listings store the English name (`Listing.tech_field`); pages show this instead.
    """
    if isinstance(name_or_number, int) or str(name_or_number).strip().isdigit():
        return _zh_field_names().get(int(name_or_number))
    wanted = str(name_or_number).strip().lower()
    for number, english in _fields().names.items():
        if english.lower() == wanted:
            return _zh_field_names().get(number)
    return None
