"""Chemical elements: one-character Chinese words that name something precise (text.elements)."""

from __future__ import annotations

from shuanglian.text.bilingual import translate_term
from shuanglian.text.elements import ELEMENT_NAMES, elements_in
from shuanglian.text.tokenize import is_generic, is_specific, tokenize


def test_a_compound_gives_the_element_it_holds() -> None:
    terms = tokenize("钠离子电池与碳酸锂", elements=True)
    assert "钠离子" in terms and "钠" in terms  # the word, and the element it is written with
    assert "碳" in terms and "锂" in terms  # 碳酸锂: carbon and lithium, each once
    assert terms.count("锂") == 1


def test_without_the_option_the_cut_is_unchanged() -> None:
    # An index saved before keeps cutting its queries as it cut its documents.
    assert "钠" not in tokenize("钠离子电池", elements=False)
    assert tokenize("钠离子电池") == tokenize("钠离子电池", elements=False)


def test_characters_that_mean_other_things_inside_words_stay_out() -> None:
    # 资金 is funds, 银行 a bank, 地铁 the underground, 无锡 a city, 氧化 oxidation, 氢氧化钠
    # a hydroxide (its sodium stays).
    terms = tokenize("资金来自银行，用于地铁与无锡的氧化处理和氢氧化钠", elements=True)
    assert not {"金", "银", "铁", "锡", "氧", "氢"} & set(terms)
    assert "钠" in terms
    assert elements_in("离子") == []
    assert elements_in("锂") == []  # a one-character word is already itself


def test_an_element_is_a_specific_word_other_single_characters_are_not() -> None:
    assert not is_generic("锂") and is_specific("镍")
    assert is_generic("高") and is_generic("用")
    assert is_generic("金") and is_generic("铁")  # too many other senses to count alone


def test_elements_translate_both_ways() -> None:
    assert translate_term("lithium") == (("锂", 1.0),)
    assert translate_term("sodium") == (("钠", 1.0),)
    assert dict(translate_term("镍")) == {"nickel": 1.0}
    # Both spellings of aluminium reach 铝, and 铝 gives both.
    assert translate_term("aluminum") == translate_term("aluminium") == (("铝", 1.0),)
    assert {t for t, _w in translate_term("铝")} == {"aluminium", "aluminum"}
    assert translate_term("gold") and "金" not in dict(translate_term("gold"))


def test_every_listed_element_is_one_han_character() -> None:
    assert len(ELEMENT_NAMES) > 90
    assert all(len(ch) == 1 and "\u4e00" <= ch <= "\u9fff" for ch in ELEMENT_NAMES)
    assert all(
        names and all(n.isascii() and n.islower() for n in names)
        for names in ELEMENT_NAMES.values()
    )


def test_traditional_text_gives_the_same_elements() -> None:
    terms = tokenize("鋰離子電池與鎳鈷錳三元材料", elements=True)
    assert {"锂", "镍", "钴", "锰"} <= set(terms)
