"""Tokeniser: Chinese segmentation and stopwords, English stemming, mixed text, bad input."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuanglian.text.tokenize import is_bigram, stopwords_en, stopwords_zh, tokenize


def test_chinese_patent_title_keeps_technology_and_drops_boilerplate() -> None:
    terms = tokenize("一种锂离子电池正极材料及其制备方法")
    assert {"锂离子电池", "正极材料", "正极", "电池"} <= set(terms)
    assert not {"一种", "及其", "制备", "方法"} & set(terms)


def test_long_words_keep_their_parts_short_ones_do_not() -> None:
    terms = tokenize("锂离子电池高强度防火板材", phrases=False)
    assert {"锂离子电池", "锂离子", "电池", "高强度", "防火", "板材"} <= set(terms)
    # A 3-character word is not split: search mode would count 高强度 three times.
    assert "强度" not in terms and "高强" not in terms


def test_user_dictionary_joins_domain_compounds() -> None:
    # 副产石膏 is in the shipped user dictionary; jieba alone splits it.
    assert "副产石膏" in tokenize("利用工业副产石膏制备板材")


def test_business_scope_boilerplate_is_dropped() -> None:
    terms = tokenize("石膏板的生产、销售。（依法须经批准的项目，经相关部门批准后方可开展经营活动）")
    assert "石膏板" in terms and "销售" in terms
    assert not {"依法", "批准", "项目", "经营活动", "部门"} & set(terms)


def test_traditional_and_full_width_fold_to_simplified_half_width() -> None:
    assert tokenize("機器學習") == tokenize("机器学习")
    assert tokenize("ＣＡＭＥＲＡ") == tokenize("camera")


def test_english_is_lowercased_stemmed_and_stopworded() -> None:
    terms = tokenize("Displaying IMAGES of the Panoramic Cameras wherein", phrases=False)
    assert terms == ["display", "imag", "panoram", "camera"]


def test_mixed_scripts_and_emoji() -> None:
    terms = tokenize("5G通信模块 with 深度学习 😀 Привет", phrases=False)
    assert terms[:3] == ["5g", "通信", "模块"]
    assert "深度学习" in terms and "привет" in terms
    assert not any("😀" in t for t in terms)


def test_phrases_stay_inside_a_clause() -> None:
    terms = tokenize("panoramic camera\nmotor vehicle, drone", phrases=True)
    pairs = [t for t in terms if "_" in t]
    assert pairs == ["panoram_camera", "motor_vehicl"]
    zh = [t for t in tokenize("防火板材、锂电池", phrases=True) if "_" in t]
    assert zh == ["防火_板材"]


def test_bigrams_add_marked_character_pairs() -> None:
    terms = tokenize("憎水板材", bigrams=True, phrases=False)
    pairs = [t for t in terms if is_bigram(t)]
    assert pairs == ["\u00b7憎水", "\u00b7水板", "\u00b7板材"]
    # Words stay words: a bigram term never equals one (板材 the word, ·板材 the pair).
    assert "板材" in terms and not any(is_bigram(t) for t in tokenize("憎水板材"))
    assert not any(is_bigram(t) for t in tokenize("lithium battery", bigrams=True))


@pytest.mark.parametrize("text", [None, "", "   ", "的了和", "一种所述方法", "the of and", "!!!"])
def test_empty_or_stopword_only_text_gives_no_terms(text: str | None) -> None:
    assert tokenize(text) == []


def test_unknown_lang_is_rejected() -> None:
    with pytest.raises(ValueError, match="lang"):
        tokenize("x", lang="fr")  # type: ignore[arg-type]


def test_lang_zh_keeps_latin_words_unstemmed() -> None:
    assert tokenize("cameras 相机", lang="zh", phrases=False) == ["cameras", "相机"]


def test_megabyte_abstract_is_fast() -> None:
    text = "一种锂离子电池正极材料及其制备方法, cathode materials. " * 20_000  # ~1 MB
    start = time.perf_counter()
    terms = tokenize(text)
    assert time.perf_counter() - start < 15
    assert terms.count("正极材料") == 20_000


def test_stopword_lists_load() -> None:
    assert "一种" in stopwords_zh() and "wherein" in stopwords_en()


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_clean_terms(text: str) -> None:
    terms = tokenize(text)
    assert all(t and not any(c.isspace() for c in t) for t in terms)
    assert tokenize(text) == terms  # deterministic
