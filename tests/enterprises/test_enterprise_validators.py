"""Credit codes (GB 32100 / GB 11714), registration numbers, capital and industry codes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuanglian.enterprises.validators import (
    CREDIT_CODE_CHARSET,
    compute_credit_check_char,
    compute_organization_check_char,
    parse_registered_capital,
    validate_credit_code,
    validate_industry_code,
    validate_registration_number,
)

# Real codes from the 2002 registration sample (shared/data/samples).
REAL_CODES = ["913101127345759975", "91310120734580606X", "91310114734566142F"]

first17 = st.text(alphabet=CREDIT_CODE_CHARSET, min_size=17, max_size=17)


def _with_check(body: str) -> str:
    return body + compute_credit_check_char(body)


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_pass(code: str) -> None:
    assert validate_credit_code(code) == code


@given(first17)
def test_generated_code_passes(body: str) -> None:
    code = _with_check(body)
    assert validate_credit_code(code) == code


@given(first17, st.integers(0, 17), st.sampled_from(CREDIT_CODE_CHARSET))
def test_any_single_character_change_fails(body: str, position: int, replacement: str) -> None:
    # 31 is prime and every weight is non-zero mod 31, so one substituted character always
    # changes the weighted sum: the check character catches every single-character error.
    code = _with_check(body)
    if code[position] == replacement:
        replacement = CREDIT_CODE_CHARSET[(CREDIT_CODE_CHARSET.index(replacement) + 1) % 31]
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(ValueError, match="校验位"):
        validate_credit_code(changed)


@given(first17, st.integers(0, 17), st.sampled_from("IOZSV中-"))
def test_character_outside_charset_fails(body: str, position: int, bad: str) -> None:
    code = _with_check(body)
    changed = code[:position] + bad + code[position + 1 :]
    with pytest.raises(ValueError):
        validate_credit_code(changed)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("９１３１０１２０７３４５８０６０６Ｘ", "91310120734580606X"),  # full-width
        ("91310120734580606x", "91310120734580606X"),  # lower case
        (" 9131 0120 7345 8060 6X ", "91310120734580606X"),  # spaces
        ("913101-2073458060-6X", "91310120734580606X"),  # hyphens
    ],
)
def test_normalisation(raw: str, expected: str) -> None:
    assert validate_credit_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "为空"),
        ("91310120734580606", "18 位"),
        ("9131012073458060611", "18 位"),
        ("91310120734580606O", "非法字符"),
        ("913101207345806061", "校验位错误：应为 X"),
    ],
)
def test_reasons(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        validate_credit_code(raw)


def test_organization_code_part() -> None:
    # 73458060-6 is the GB 11714 organisation code inside 91310120734580606X.
    assert compute_organization_check_char("73458060") == "6"
    assert validate_credit_code("91310120734580606X", check_organization_code=True)
    # A code whose GB 32100 check is right but whose positions 9-17 are not a valid
    # organisation code is caught only by the optional check.
    body = "9131012073458060" + "7"
    code = _with_check(body)
    assert validate_credit_code(code) == code
    with pytest.raises(ValueError, match="组织机构代码"):
        validate_credit_code(code, check_organization_code=True)


@pytest.mark.parametrize(("body", "check"), [("D2143569", "X"), ("00000000", "0")])
def test_organization_check_special_values(body: str, check: str) -> None:
    # 11 - (sum mod 11) of 10 is written X, of 11 is written 0.
    assert compute_organization_check_char(body) == check


def test_registration_number() -> None:
    assert validate_registration_number("510132000055145") == "510132000055145"
    with pytest.raises(ValueError, match="校验位"):
        validate_registration_number("510132000055146")
    with pytest.raises(ValueError, match="15 位"):
        validate_registration_number("3203211802171")


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("50(万元人民币)", "50", "CNY"),
        ("100万元", "100", "CNY"),
        ("1,000万", "1000", "CNY"),
        ("500万美元", "500", "USD"),
        ("50 (万元)", "50", "CNY"),
        ("1亿元", "10000", "CNY"),
        ("3000000元", "300", "CNY"),
        ("1,000(万元人民币)", "1000", "CNY"),
        ("200(万人民币元)", "200", "CNY"),
        ("30(万元(港币))", "30", "HKD"),
        ("30(万香港元)", "30", "HKD"),
        ("12.5(万欧元)", "12.5", "EUR"),
        ("1000(万日元)", "1000", "JPY"),
        ("100(万元美元)", "100", "USD"),
        ("５０（万元）", "50", "CNY"),
        ("50()", "50", "CNY"),  # bare number: 万元, the register's unit
        ("3000人民币元", "0.3", "CNY"),
        ("0(万元)", "0", "CNY"),
    ],
)
def test_capital_table(text: str, amount: str, currency: str) -> None:
    assert parse_registered_capital(text) == (Decimal(amount), currency)


@pytest.mark.parametrize("text", ["", "   ", None])
def test_capital_empty(text: str | None) -> None:
    assert parse_registered_capital(text) == (None, None)


@pytest.mark.parametrize("text", ["abc", "五十万元", "50万卢布", "万元", "�Ͼ���Ʒ"])
def test_capital_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="注册资本"):
        parse_registered_capital(text)


@given(st.decimals(min_value=0, max_value=10**9, places=2))
def test_capital_roundtrip_wan(value: Decimal) -> None:
    amount, currency = parse_registered_capital(f"{value}(万元人民币)")
    assert amount == value
    assert currency == "CNY"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("C3311", "3311"), ("3311", "3311"), ("C", "C"), ("33", "33"), ("", None), (None, None)],
)
def test_industry_codes(raw: str | None, expected: str | None) -> None:
    assert validate_industry_code(raw) == expected


@pytest.mark.parametrize("raw", ["X99", "A3311", "9999", "33a"])
def test_industry_codes_rejected(raw: str) -> None:
    with pytest.raises(ValueError, match="GB/T 4754"):
        validate_industry_code(raw)
