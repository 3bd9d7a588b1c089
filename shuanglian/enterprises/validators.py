"""Validators for enterprise registration fields: credit codes, registered capital, industry.

Sources:

* 统一社会信用代码 — GB 32100-2015 《法人和其他组织统一社会信用代码编码规则》: 18 characters
  from a 31-character set (digits and capitals without I, O, Z, S, V); position 18 is a
  check character over the first 17 with weights 3^(i-1) mod 31.
* Positions 9–17 are the organisation code (组织机构代码) of GB 11714-1997: 8 body characters
  and a check character with weights 3,7,9,10,5,8,4,2 mod 11 (10 → `X`, 11 → `0`).
* The 15-digit registration number (工商注册号) that pre-2015 records carry instead — GS15-2006:
  ISO 7064 MOD 11,10 check digit in position 15.

Every error is a `ValueError` whose message says, in zh-CN with English alongside, what is
wrong, so importers can pass it straight into a row error.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from shuanglian.text.normalize import fold_width

CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CHAR_VALUE = {ch: i for i, ch in enumerate(CREDIT_CODE_CHARSET)}
ORGANIZATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Full-width ASCII → half-width, and the separators people type inside codes (spaces,
# hyphens, dashes, underscores, ideographic space) → nothing; one C-level translate per code.
_CODE_TABLE: dict[int, int | None] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_CODE_TABLE.update({ord(ch): None for ch in " \t\r\n\u3000-‐－—_"})


def normalize_credit_code(text: str) -> str:
    """Fold full-width characters, drop spaces and hyphens, upper-case Latin letters."""
    return (text or "").translate(_CODE_TABLE).upper()


def compute_credit_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a credit code."""
    if len(first17) != 17:
        raise ValueError(
            f"需要 17 位本体代码，实际 {len(first17)} 位（need 17 characters, got {len(first17)}）"
        )
    total = 0
    for ch, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True):
        value = _CHAR_VALUE.get(ch)
        if value is None:
            raise ValueError(_bad_char_message(ch))
        total += value * weight
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def compute_organization_check_char(body8: str) -> str:
    """The GB 11714-1997 check character for an 8-character organisation code body."""
    if len(body8) != 8 or not body8.isascii() or not body8.isalnum():
        raise ValueError(
            f"组织机构代码本体应为 8 位数字或大写字母：{body8!r}"
            "（organisation code body must be 8 digits or capital letters）"
        )
    total = sum(
        (int(ch) if ch.isdigit() else ord(ch.upper()) - 55) * weight
        for ch, weight in zip(body8, ORGANIZATION_CODE_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def validate_credit_code(code: str, *, check_organization_code: bool = False) -> str:
    """The normalised 18-character credit code; ValueError saying why it is invalid.

    `check_organization_code` also verifies positions 9–17 as a GB 11714 organisation code.
    It is off by default because real registrations break it: in the 2002 registration sample
    9 of ~100,900 codes that pass the GB 32100 check fail the GB 11714 one, and the registry
    issued them, so rejecting them would drop real enterprises.
    """
    normal = normalize_credit_code(code)
    if not normal:
        raise ValueError("统一社会信用代码为空（credit code is empty）")
    if len(normal) != 18:
        raise ValueError(
            f"统一社会信用代码应为 18 位，实际 {len(normal)} 位"
            f"（credit code must have 18 characters, got {len(normal)}）"
        )
    for ch in normal:
        if ch not in _CHAR_VALUE:
            raise ValueError(_bad_char_message(ch))
    expected = compute_credit_check_char(normal[:17])
    if normal[17] != expected:
        raise ValueError(
            f"统一社会信用代码校验位错误：应为 {expected}，实际为 {normal[17]}"
            f"（check character should be {expected}, found {normal[17]}）"
        )
    if check_organization_code:
        org_expected = compute_organization_check_char(normal[8:16])
        if normal[16] != org_expected:
            raise ValueError(
                f"统一社会信用代码第 9–17 位（组织机构代码）校验位错误：应为 {org_expected}"
                f"（organisation-code check character should be {org_expected}）"
            )
    return normal


def validate_registration_number(code: str) -> str:
    """A 15-digit pre-2015 registration number (工商注册号, GS15-2006); ValueError if invalid."""
    normal = normalize_credit_code(code)
    if len(normal) != 15 or not normal.isdigit():
        raise ValueError("工商注册号应为 15 位数字（registration number must be 15 digits）")
    if not _mod11_10_valid(normal):
        raise ValueError("工商注册号校验位错误（registration number check digit is wrong）")
    return normal


def _mod11_10_valid(digits: str) -> bool:
    # ISO 7064 MOD 11,10 (hybrid system): the running product over the first 14 digits plus
    # the check digit must leave 1 modulo 10.
    product = 10
    for ch in digits[:-1]:
        product = ((product + int(ch)) % 10 or 10) * 2 % 11
    return (product + int(digits[-1])) % 10 == 1


def _bad_char_message(ch: str) -> str:
    return (
        f"统一社会信用代码含非法字符“{ch}”（不得含 I、O、Z、S、V 及汉字、符号）"
        f"（invalid character {ch!r}: only digits and capitals except I, O, Z, S, V）"
    )


# --------------------------------------------------------------------------- registered capital

# ISO 4217 codes for the currencies registration records name; first match wins, so the longer
# names come before their prefixes (香港元 before 元).
CURRENCY_ALIASES: tuple[tuple[str, str], ...] = (
    ("人民币", "CNY"),
    ("美元", "USD"),
    ("美金", "USD"),
    ("香港元", "HKD"),
    ("港币", "HKD"),
    ("港元", "HKD"),
    ("澳门元", "MOP"),
    ("澳元", "AUD"),
    ("新台币", "TWD"),
    ("台币", "TWD"),
    ("日元", "JPY"),
    ("欧元", "EUR"),
    ("英镑", "GBP"),
    ("加元", "CAD"),
    ("加拿大元", "CAD"),
    ("新加坡元", "SGD"),
    ("瑞士法郎", "CHF"),
    ("韩元", "KRW"),
)
CURRENCY_NAMES_ZH = {
    "CNY": "人民币",
    "USD": "美元",
    "HKD": "港元",
    "MOP": "澳门元",
    "AUD": "澳元",
    "TWD": "新台币",
    "JPY": "日元",
    "EUR": "欧元",
    "GBP": "英镑",
    "CAD": "加元",
    "SGD": "新加坡元",
    "CHF": "瑞士法郎",
    "KRW": "韩元",
}
_NUMBER = re.compile(r"^([0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)(.*)$")
# Magnitude words → factor to 万.
_MAGNITUDE = {"亿": Decimal(10000), "万": Decimal(1), "千": Decimal("0.1")}
_WAN = Decimal(1)
_YUAN = Decimal("0.0001")
_MAX_CAPITAL = Decimal(10) ** 14  # Numeric(18, 4) holds at most 14 integer digits of 万


def parse_registered_capital(text: str | None) -> tuple[Decimal | None, str | None]:
    """(amount in 万 of the currency, ISO 4217 currency) from a registration capital cell.

    Handles `50(万元人民币)`, `100万元`, `1,000万`, `500万美元`, `50 (万元)`, `1亿元`,
    `3000000元`, `(万元(港币))` and similar; empty → (None, None). A bare number is read as
    万元 人民币, the unit registration tables (注册资本(万元)) state in their header. A cell
    that names no currency is 人民币. ValueError for anything else.
    """
    raw = fold_width(text or "").strip()
    if not raw:
        return None, None
    compact = re.sub(r"[\s()\[\]（）【】]+", "", raw)
    match = _NUMBER.match(compact)
    if not match:
        raise ValueError(
            f"无法识别的注册资本“{raw[:30]}”，例：100万元、50(万元人民币)、500万美元"
            "（unrecognised registered capital; e.g. 100万元, 500万美元）"
        )
    number_text, rest = match.groups()
    try:
        amount = Decimal(number_text.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover  (the regex admits only digits)
        raise ValueError(f"注册资本数字无效：{number_text}（invalid number）") from exc
    if not rest:
        factor = _WAN
    elif rest[0] in _MAGNITUDE:
        factor = _MAGNITUDE[rest[0]]
        # `万元人民币`: after the magnitude, 元 is the currency word, not a second unit.
        rest = rest[1:].removeprefix("元")
    else:
        # No magnitude (`3000000元`, `500美元`, `3000人民币元`): the amount is in whole units.
        factor = _YUAN
    currency = _currency(rest, raw)
    value = amount * factor
    if value >= _MAX_CAPITAL:
        raise ValueError(f"注册资本过大：{raw[:30]}（registered capital out of range）")
    # Four decimals (1 元 = 0.0001 万) is the column's scale, so re-imports compare equal.
    return value.quantize(_YUAN), currency


def parse_budget(value: str | Decimal | None) -> Decimal | None:
    """A demand's budget in 万元 人民币; None when empty; ValueError saying the accepted forms.

    Text is read like a registered-capital cell (`50`, `50万元`, `500000元`, `0.5亿`) so a
    budget typed in a form and one imported from a file mean the same amount; another currency
    is refused because demands are compared and summed in 万元. A number (from the JSON API)
    must be finite and non-negative. Either way the result has the column's four decimals.
    """
    if value is None:
        return None
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("预算须为有限的数字（budget must be a finite number）")
        if value < 0:
            raise ValueError("预算不能为负数（budget must not be negative）")
        if value >= _MAX_CAPITAL:
            raise ValueError("预算过大（budget out of range）")
        return value.quantize(_YUAN)
    try:
        amount, currency = parse_registered_capital(value)
    except ValueError as exc:
        raise ValueError(
            "预算应为万元金额，如 50 或 50万元（budget must be an amount in 万元, e.g. 50）"
        ) from exc
    if currency not in (None, "CNY"):
        raise ValueError("预算须以人民币万元计（budget must be in 万元 人民币）")
    return amount


def _currency(rest: str, raw: str) -> str:
    if rest in ("", "元"):
        return "CNY"
    for alias, iso in CURRENCY_ALIASES:
        if rest in (alias, alias + "元"):
            return iso
    if rest.isascii() and rest.upper() in CURRENCY_NAMES_ZH:
        return rest.upper()
    raise ValueError(f"无法识别注册资本的币种或单位“{raw[:30]}”（unrecognised currency or unit）")


# --------------------------------------------------------------------------- industry code


def validate_industry_code(code: str | None) -> str | None:
    """The bare GB/T 4754-2017 code (C, 33, 331, 3311; `C3311` → 3311) or None if empty.

    A picker's label (`C33 金属制品业`) or an exact name (金属制品业) is read as its code.

    The code must exist in the standard's table (`shuanglian.reference.gbt4754`); a 门类
    letter prefix must agree with the digits. ValueError with the accepted forms otherwise.
    """
    from shuanglian.reference.gbt4754 import parse_industry_input

    text = fold_width(code or "").strip()
    if not text:
        return None
    return parse_industry_input(text)
