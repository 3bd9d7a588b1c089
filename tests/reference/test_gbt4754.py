"""GB/T 4754-2017 table: structure, code spellings, hierarchy and search."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuanglian.reference import gbt4754
from shuanglian.reference.gbt4754 import (
    LEVELS,
    children,
    division_of,
    industries_at_level,
    industry,
    is_valid_industry_code,
    normalize_industry_code,
    parent_chain,
    search_industries,
)


def test_level_counts_match_the_standard():
    counts = {level: len(industries_at_level(level)) for level in LEVELS}
    assert counts == {"门类": 20, "大类": 97, "中类": 473, "小类": 1381}


def test_every_parent_exists_one_level_up():
    for level_index, level in enumerate(LEVELS[1:], start=1):
        for item in industries_at_level(level):
            parent = industry(item.parent_code or "")
            assert parent is not None, item
            assert parent.level == LEVELS[level_index - 1]
            if level != "大类":
                assert item.code.startswith(parent.code)


def test_corrected_duplicate_code_for_offshore_oil():
    assert industry("0711").name == "陆地石油开采"
    assert industry("0712").name == "海洋石油开采"


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("C", "C"),
        ("c", "C"),
        ("13", "13"),
        ("131", "131"),
        ("1311", "1311"),
        ("C13", "13"),
        ("C1311", "1311"),
        ("c 1311", "1311"),
        ("Ｃ１３１１", "1311"),
        (" 38 ", "38"),
        ("A0111", "0111"),
    ],
)
def test_accepted_spellings(spelling: str, code: str):
    assert normalize_industry_code(spelling) == code
    assert is_valid_industry_code(spelling)
    assert industry(spelling).code == code


@pytest.mark.parametrize(
    "bad", ["", "Z", "U", "1", "00", "98", "13111", "A13", "D13", "C1310", "1 3 x", "十三", "C-13"]
)
def test_rejected_codes(bad: str):
    assert not is_valid_industry_code(bad)
    assert industry(bad) is None
    with pytest.raises(ValueError, match="GB/T 4754"):
        normalize_industry_code(bad)


def test_every_code_in_the_table_is_valid_bare_and_prefixed():
    for level in LEVELS[1:]:
        for item in industries_at_level(level):
            assert normalize_industry_code(item.code) == item.code
            assert normalize_industry_code(item.section + item.code) == item.code


@given(st.text(max_size=6))
def test_validation_never_raises_and_agrees_with_lookup(text: str):
    assert is_valid_industry_code(text) == (industry(text) is not None)


def test_parent_chain_runs_from_section_down():
    chain = parent_chain("C3841")
    assert [i.code for i in chain] == ["C", "38", "384", "3841"]
    assert [i.level for i in chain] == list(LEVELS)
    assert chain[-1].name == "锂离子电池制造"
    assert parent_chain("C") == [industry("C")]
    assert parent_chain("nonsense") == []


def test_division_and_section_helpers():
    assert division_of("3841") == "38"
    assert division_of("C") is None
    assert industry("30").name == "非金属矿物制品业"
    assert industry("3841").section == "C"
    assert industry("30").label == "30 非金属矿物制品业"
    assert [i.code for i in children("38")][:2] == ["381", "382"]
    assert {i.code for i in children("C")} == {str(n) for n in range(13, 44)}


def test_level_aliases_and_bad_level():
    assert industries_at_level("division") == industries_at_level("大类")
    assert industries_at_level("Section") == industries_at_level("门类")
    with pytest.raises(ValueError, match="层级"):
        industries_at_level("大大类")


def test_search_ranks_exact_then_prefix_then_contains():
    hits = search_industries("电池制造")
    assert hits[0].code == "384"
    assert {"3841", "3849"} <= {h.code for h in hits}
    assert search_industries("软件", level="大类")[0].code == "65"
    # Traditional characters are folded to Simplified before matching
    assert search_industries("軟件開發")[0].code == "651"
    assert search_industries("   ") == []
    assert len(search_industries("制造", limit=5)) == 5


def test_table_is_loaded_once():
    gbt4754._tables.cache_clear()
    industry("13")
    industry("14")
    assert gbt4754._tables.cache_info().misses == 1
