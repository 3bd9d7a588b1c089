"""Application/publication numbers, CN check digits, patent types and statutory terms."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuanglian.patents.numbers import (
    PatentNumberError,
    application_key,
    cn_application_type,
    cn_check_digit,
    display_application_number,
    expiry_date,
    is_valid_application_number,
    normalize_classification,
    normalize_publication_number,
    patent_type_from,
    publication_key,
)

# Every row of the shared CNIPA sample carries an official check digit; all must verify.
SAMPLE_NUMBERS = [
    "CN202223220665.2",
    "CN202122975192.6",
    "CN202121635235.X",
    "CN202121635426.6",
    "CN202121741650.3",
    "CN202121762003.0",
    "CN202121751980.0",
    "CN202211740332.4",
    "CN202310605823.6",
    "CN202211359874.7",
]


@pytest.mark.parametrize("number", SAMPLE_NUMBERS)
def test_real_cnipa_check_digits_verify(number: str) -> None:
    serial, check = number[2:].split(".")
    assert cn_check_digit(serial) == check
    assert display_application_number(number) == number


@pytest.mark.parametrize(
    "raw",
    [
        "CN202223220665.2",
        "202223220665.2",
        "CN2022232206652",
        "ZL202223220665.2",
        "ZL 2022 2 3220665.2",
        "cn202223220665.2",
        "ＣＮ２０２２２３２２０６６５．２",
        "202223220665",
        "CN 2022-2322-0665.2",
    ],
)
def test_cn_spellings_share_one_key(raw: str) -> None:
    assert application_key(raw) == "CN202223220665"
    assert display_application_number(raw) == "CN202223220665.2"


def test_x_check_digit_case_insensitive() -> None:
    assert application_key("CN202121635235.x") == "CN202121635235"
    assert display_application_number("202121635235") == "CN202121635235.X"


def test_wrong_check_digit_rejected() -> None:
    with pytest.raises(PatentNumberError, match="校验位"):
        application_key("CN202223220665.3")
    assert not is_valid_application_number("CN202223220665.3")


def test_old_cn_numbers() -> None:
    serial = "99123456"
    check = cn_check_digit(serial)
    assert application_key(f"{serial}.{check}") == "CN99123456"
    assert application_key(f"ZL{serial}{check}") == "CN99123456"
    assert application_key(serial, country_hint="CN") == "CN99123456"
    assert display_application_number(f"CN{serial}") == f"CN{serial}.{check}"


@pytest.mark.parametrize(
    ("raw", "key", "shown"),
    [
        ("US 13/123,456", "US13123456", "US13/123,456"),
        ("13/123,456", "US13123456", "US13/123,456"),
        ("16123456", "US16123456", "US16/123,456"),
        ("US16123456", "US16123456", "US16/123,456"),
    ],
)
def test_us_application_numbers(raw: str, key: str, shown: str) -> None:
    assert application_key(raw) == key
    assert display_application_number(raw) == shown


@pytest.mark.parametrize("raw", ["", "   ", "hello", "CN123", "US 1/2", "PCT/CN2022/1"])
def test_garbage_application_numbers(raw: str) -> None:
    with pytest.raises(PatentNumberError):
        application_key(raw)


@given(st.from_regex(r"[0-9]{12}", fullmatch=True))
def test_cn_check_digit_round_trip(serial: str) -> None:
    check = cn_check_digit(serial)
    assert check in "0123456789X"
    spelled = [
        f"CN{serial}.{check}",
        f"{serial}.{check}",
        f"CN{serial}{check}",
        f"ZL{serial}.{check}",
    ]
    assert {application_key(s) for s in spelled} == {f"CN{serial}"}
    assert display_application_number(serial) == f"CN{serial}.{check}"
    wrong = next(c for c in "0123456789X" if c != check)
    assert not is_valid_application_number(f"CN{serial}.{wrong}")


@given(st.from_regex(r"[0-9]{2}", fullmatch=True), st.from_regex(r"[0-9]{6}", fullmatch=True))
def test_us_forms_round_trip(series: str, serial: str) -> None:
    key = application_key(f"US {series}/{serial[:3]},{serial[3:]}")
    assert key == f"US{series}{serial}"
    assert application_key(display_application_number(key)) == key


@given(st.text(max_size=25))
def test_application_key_never_crashes(raw: str) -> None:
    try:
        key = application_key(raw)
    except PatentNumberError:
        return
    assert key[:2].isalpha() and len(key) <= 40


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("CN218751475U", "CN218751475U"),
        ("cn 218751475 u", "CN218751475U"),
        ("US8926509B2", "US8926509B2"),
        ("US08926509B2", "US8926509B2"),
        ("US 8,926,509 B2", "US8926509B2"),
        ("US 2005/0004437 A1", "US20050004437A1"),
        ("US20050004437A1", "US20050004437A1"),
        ("USD712345S", "USD712345S"),
    ],
)
def test_publication_numbers(raw: str, normal: str) -> None:
    assert normalize_publication_number(raw) == normal


def test_publication_number_needs_country() -> None:
    with pytest.raises(PatentNumberError, match="国家代码"):
        normalize_publication_number("8926509")
    assert normalize_publication_number("8926509", country_hint="US") == "US8926509"


def test_publication_key_drops_kind() -> None:
    assert publication_key("US8926509B2") == "PN:US8926509"
    assert publication_key("US 2005/0004437 A1") == "PN:US20050004437"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("发明", "invention"),
        ("发明专利", "invention"),
        ("发明公开", "invention"),
        ("发明公开;发明授权", "invention"),
        ("实用新型", "utility_model"),
        ("外观设计", "design"),
        ("invention", "invention"),
        ("Utility Model", "utility_model"),
        ("utility", "invention"),  # a US "utility patent" is an invention patent
        ("design", "design"),
        ("A", "invention"),
        ("B2", "invention"),
        ("U", "utility_model"),
        ("S", "design"),
        ("CN218751475U", "utility_model"),
        ("US8926509B2", "invention"),
    ],
)
def test_patent_type_from(text: str, kind: str) -> None:
    assert patent_type_from(text) == kind


@pytest.mark.parametrize("text", ["", "专利", "Q", "发明;外观设计"])
def test_patent_type_unknown(text: str) -> None:
    with pytest.raises(PatentNumberError):
        patent_type_from(text)


def test_type_from_cn_application_digit() -> None:
    assert cn_application_type("CN202223220665") == "utility_model"
    assert cn_application_type("CN202211740332") == "invention"
    assert cn_application_type("CN202130012345") == "design"
    assert cn_application_type("US13123456") is None


@pytest.mark.parametrize(
    ("kind", "filed", "expires"),
    [
        ("invention", date(2022, 12, 2), date(2042, 12, 2)),
        ("utility_model", date(2022, 12, 2), date(2032, 12, 2)),
        ("design", date(2021, 5, 31), date(2031, 5, 31)),
        ("design", date(2021, 6, 1), date(2036, 6, 1)),
        ("invention", date(2020, 2, 29), date(2040, 2, 29)),
        ("utility_model", date(2020, 2, 29), date(2030, 2, 28)),
    ],
)
def test_expiry_date(kind: str, filed: date, expires: date) -> None:
    assert expiry_date(kind, filed) == expires


@given(st.dates(min_value=date(1985, 4, 1), max_value=date(2100, 1, 1)))
def test_expiry_is_after_filing(filed: date) -> None:
    for kind in ("invention", "utility_model", "design"):
        assert expiry_date(kind, filed) > filed


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("G06F 015/16", "G06F15/16"),
        ("G06F015/16", "G06F15/16"),
        ("g06f 15 / 16", "G06F15/16"),
        ("B64U20/80", "B64U20/80"),
        ("H01L", "H01L"),
        ("not a code", None),
    ],
)
def test_normalize_classification(raw: str, code: str | None) -> None:
    assert normalize_classification(raw) == code
