"""IPC codes: canonical spelling (round trips over many spellings), hierarchy, titles, fields."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuanglian.reference import ipc
from shuanglian.reference.ipc import (
    ipc_class3,
    ipc_level,
    ipc_main_group,
    ipc_section,
    ipc_subclass,
    ipc_title,
    known_classes,
    known_subclasses,
    normalize_ipc,
    split_ipc_list,
    technology_field,
    technology_field_mix,
    technology_field_names,
    try_normalize_ipc,
)

CANONICAL = re.compile(r"[A-HY]\d\d[A-Z] [1-9]\d{0,3}/(\d\d|\d{2,5}[1-9])")

# --- strategies -------------------------------------------------------------------------------

sections = st.sampled_from("ABCDEFGHY")
classes = st.integers(1, 99).map(lambda n: f"{n:02d}")
letters = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
groups = st.integers(1, 9999)
# Subgroup digits as IPC writes them: "00", or 2-6 digits with no trailing zero past the second.
subgroups = st.one_of(
    st.integers(0, 99).map(lambda n: f"{n:02d}"),
    st.integers(2, 5).flatmap(
        lambda k: st.tuples(st.integers(0, 10**k - 1), st.integers(1, 9)).map(
            lambda t: f"{t[0]:0{k}d}{t[1]}"
        )
    ),
)


@st.composite
def canonical_codes(draw: st.DrawFn) -> str:
    subclass = draw(sections) + draw(classes) + draw(letters)
    return f"{subclass} {draw(groups)}/{draw(subgroups)}"


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" for c in text)


def _machine(code: str) -> str:
    subclass, rest = code.split(" ")
    group, subgroup = rest.split("/")
    return f"{subclass}{int(group):04d}{subgroup.ljust(6, '0')}"


spellings = st.sampled_from(
    [
        lambda c: c,
        lambda c: c.replace(" ", ""),
        lambda c: c.replace(" ", "   "),
        lambda c: c.lower(),
        lambda c: c.replace(" ", "").lower(),
        _full_width,
        _machine,
        lambda c: c.replace(" ", "") + "(2019.01)",
        lambda c: c + " (2006.01)I",
        lambda c: f"  {c}\t",
        lambda c: _full_width(c.replace(" ", "")) + "（2016.01）",
    ]
)


# --- normalize_ipc ----------------------------------------------------------------------------


@given(canonical_codes(), spellings)
def test_every_spelling_normalises_to_the_canonical_code(code: str, spell):  # type: ignore[no-untyped-def]
    assert normalize_ipc(spell(code)) == code


@given(canonical_codes())
def test_canonical_form_is_a_fixed_point_and_well_shaped(code: str):
    assert CANONICAL.fullmatch(code)
    assert normalize_ipc(normalize_ipc(code)) == normalize_ipc(code)


@given(canonical_codes())
def test_machine_format_round_trip(code: str):
    assert normalize_ipc(_machine(code)) == code
    assert len(_machine(code)) == 14


@given(st.text(max_size=20))
def test_any_text_is_either_canonical_or_a_clear_value_error(text: str):
    try:
        result = normalize_ipc(text)
    except ValueError as error:
        assert "IPC" in str(error)
    else:
        assert re.fullmatch(r"[A-HY](\d\d([A-Z]( [1-9]\d{0,3}/\d{2,6})?)?)?", result)
        assert normalize_ipc(result) == result


@pytest.mark.parametrize(
    "spelling",
    [
        "G06F 16/35",
        "G06F16/35",
        "G06F0016350000",
        "G06F  16/35",
        "g06f16/35",
        "Ｇ０６Ｆ１６／３５",
        "G06F16/35(2019.01)",
        "G06F 16/35 (2006.01)I",
        "G06F 16/350",
    ],
)
def test_the_spellings_from_the_brief(spelling: str):
    assert normalize_ipc(spelling) == "G06F 16/35"


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("G", "G"),
        ("g06", "G06"),
        ("G06F", "G06F"),
        ("G06F 16", "G06F 16/00"),
        ("G06F16/00", "G06F 16/00"),
        ("A01B0001000000", "A01B 1/00"),
        ("H04N0005232000", "H04N 5/232"),
        ("G06F16/5", "G06F 16/50"),
        ("Y02E 10/50", "Y02E 10/50"),
        ("B64U101/30", "B64U 101/30"),
    ],
)
def test_levels_and_edge_spellings(spelling: str, canonical: str):
    assert normalize_ipc(spelling) == canonical


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "hello",
        "X01",
        "G6F 16/35",
        "G06F16/",
        "G06F /35",
        "G06F 0/00",
        "123",
        "G06FF",
        "G06F 16/35/1",
        "G06F 12345/00",
        "专利",
    ],
)
def test_garbage_raises_a_clear_value_error(garbage: str):
    with pytest.raises(ValueError, match="IPC"):
        normalize_ipc(garbage)
    assert try_normalize_ipc(garbage) is None


def test_non_text_raises_value_error():
    with pytest.raises(ValueError, match="IPC"):
        normalize_ipc(16)  # type: ignore[arg-type]


def test_split_cnipa_list():
    assert split_ipc_list("B64U20/80;B64U101/30") == ["B64U 20/80", "B64U 101/30"]
    assert split_ipc_list("G06F16/35; g06f 16/35，H04L9/40、") == ["G06F 16/35", "H04L 9/40"]
    assert split_ipc_list("") == []
    with pytest.raises(ValueError, match="nonsense"):
        split_ipc_list("G06F16/35;nonsense")


# --- hierarchy --------------------------------------------------------------------------------


def test_hierarchy_helpers():
    assert ipc_section("G06F16/35") == "G"
    assert ipc_class3("G06F16/35") == "G06"
    assert ipc_subclass("G06F16/35") == "G06F"
    assert ipc_main_group("G06F16/35") == "G06F 16/00"
    assert ipc_main_group("G06F0016000000") == "G06F 16/00"
    assert [ipc_level(c) for c in ["G", "G06", "G06F", "G06F 16/00", "G06F 16/35"]] == [
        "section",
        "class",
        "subclass",
        "main_group",
        "subgroup",
    ]
    with pytest.raises(ValueError, match="subclass"):
        ipc_subclass("G06")
    with pytest.raises(ValueError, match="main group"):
        ipc_main_group("G06F")
    with pytest.raises(ValueError, match="class"):
        ipc_class3("G")


@given(canonical_codes())
def test_hierarchy_is_consistent(code: str):
    assert ipc_main_group(code).startswith(ipc_subclass(code) + " ")
    assert ipc_subclass(code).startswith(ipc_class3(code))
    assert ipc_class3(code).startswith(ipc_section(code))


# --- titles -----------------------------------------------------------------------------------


def test_titles_at_each_level():
    assert ipc_title("G") == "PHYSICS"
    assert ipc_title("G06") == "COMPUTING; CALCULATING; COUNTING"
    assert ipc_title("G06F16/00").startswith("Information retrieval")
    # a subgroup falls back to its main group's title
    assert ipc_title("G06F 16/35") == ipc_title("G06F 16/00")
    assert ipc_title("A01B 3/00") == "Ploughs"  # first row wins over collapsed subgroup titles
    assert ipc_title("Z99") is None
    assert ipc_title("B64U") is None  # newer than the shipped scheme edition
    assert ipc_title("not a code") is None


def test_titles_drop_cross_references_unless_asked():
    short = ipc_title("A01B")
    full = ipc_title("A01B", with_references=True)
    assert "(" not in short and "A01C" not in short
    assert "A01D" in full
    assert full.startswith(short.split(";")[0])


def test_scheme_coverage():
    assert len(known_classes()) == 131
    assert len([c for c in known_subclasses() if ipc_title(c)]) == 645
    assert all(re.fullmatch(r"[A-H]\d\d[A-Z]", c) for c in known_subclasses())


# --- WIPO technology fields -------------------------------------------------------------------


def test_35_fields():
    names = technology_field_names()
    assert sorted(names) == list(range(1, 36))
    assert names[6] == "Computer technology"


@pytest.mark.parametrize(
    ("code", "field"),
    [
        ("G06F 16/35", 6),
        ("H01L 21/02", 8),
        ("C04B", 20),
        ("A61K 8/02", 14),  # main-group pattern A61K 8/% (cosmetics) beats the A61K majority
        ("A61K 31/00", 16),
        ("H04N 5/232", 2),
        ("H04N 1/00", 3),  # facsimile → Telecommunications
        ("H04N 21/234", 4),
        ("G01N 33/50", 11),
        ("B99Z", 29),
    ],
)
def test_technology_field_longest_match(code: str, field: int):
    number, name = technology_field(code)
    assert number == field
    assert name == technology_field_names()[field]


def test_split_subclasses_have_no_single_field_but_a_mix():
    assert technology_field("H04N") is None
    mix = dict(technology_field_mix("H04N"))
    assert max(mix, key=mix.get) == 2
    assert sum(mix.values()) == pytest.approx(1.0)
    assert technology_field("garbage") is None
    assert technology_field_mix("Z") == ()


def test_every_field_pattern_is_reachable():
    table = ipc._fields()
    for prefix, number in table.by_prefix.items():
        probe = prefix + "00" if prefix.endswith("/") else prefix
        assert technology_field(probe)[0] == number


def test_chinese_titles_cover_every_class_and_fall_back_for_subclasses() -> None:
    from shuanglian.reference.ipc import ipc_title_for, ipc_title_zh, known_classes

    assert all(ipc_title_zh(c) for c in known_classes())
    assert ipc_title_zh("H") == "电学"
    assert ipc_title_zh("H01") == "基本电气元件"
    # A group is named by its subclass; spellings are normalised first.
    assert ipc_title_zh("H01M4/525") == ipc_title_zh("h01m") and "电池" in ipc_title_zh("H01M")
    # A subclass the table lacks: no Chinese title, and the reader gets the English one.
    assert ipc_title_zh("A01J") is None
    assert ipc_title_for("A01J", lang="zh") == ipc.ipc_title("A01J")
    assert ipc_title_for("H01M", lang="en") == ipc.ipc_title("H01M")
    assert ipc_title_zh("not a code") is None
