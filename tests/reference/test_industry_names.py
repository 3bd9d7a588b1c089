"""Industries picked by name, codes with or without the 门类 letter, WIPO fields in Chinese."""

from __future__ import annotations

import pytest

from shuanglian.reference import gbt4754, ipc


def test_typing_a_word_offers_the_division_even_through_its_classes() -> None:
    offered = [gbt4754.lettered_code(i.code) for i in gbt4754.suggest_industries("通信")]
    assert "I63" in offered and "C39" in offered
    assert gbt4754.industry_label("63") == "I63 电信、广播电视和卫星传输服务"


@pytest.mark.parametrize(
    "typed", ["38", "C38", "ｃ３８", "C38 电气机械和器材制造业", "电气机械和器材制造业"]
)
def test_codes_with_or_without_letter_and_names(typed: str) -> None:
    assert gbt4754.parse_industry_input(typed) == "38"
    assert gbt4754.lettered_code(gbt4754.parse_industry_input(typed)) == "C38"


def test_a_wrong_letter_or_unknown_name_is_refused() -> None:
    for bad in ("A38", "没有这个行业", ""):
        with pytest.raises(ValueError):
            gbt4754.parse_industry_input(bad)


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("制造业——医药制造业", ["27", "C"]),
        ("制造业——酒、饮料喝精制茶制造业", ["15", "C"]),  # a typo in the source
        ("信息传输、软件和信息技术服务业——科技推广和应用服务业", ["75", "M"]),  # wrong 门类
        ("制造业电力、热力、燃气、及水生产和供应业建筑业", ["C", "D", "E"]),  # run together
        ("信息传输、软件和信息技术服务业", ["I"]),
    ],
)
def test_platform_classification_names(text: str, codes: list[str]) -> None:
    assert [i.code for i in gbt4754.industries_from_classification(text)] == codes


def test_wipo_fields_have_chinese_names() -> None:
    names = ipc.technology_field_names_zh()
    assert len(names) == 35 and set(names) == set(ipc.technology_field_names())
    assert ipc.technology_field_zh("Computer technology") == "计算机技术"
    assert ipc.technology_field_zh(8) == "半导体"
