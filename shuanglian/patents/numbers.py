"""Patent numbers: application keys, display forms, publication numbers, types and terms.

The application number is the upsert key, so every spelling an export uses must map to one
key: `CN202223220665.2`, `202223220665.2`, `CN2022232206652`, `ZL202223220665.2` and
`ZL 2022 2 3220665.2` are all `CN202223220665`.

CN application numbers (CNIPA, 《专利申请号标准》 ZC 0006-2003):

* since 2003-10-01: 12 digits `YYYY T NNNNNNN` (year, type, serial) + check digit;
* before: 8 digits `YY T NNNNN` + check digit (`99123456.7`);
* type digit: 1 invention, 2 utility model, 3 design, 8 PCT invention, 9 PCT utility model;
* check digit: the digits are weighted 2,3,4,5,6,7,8,9,2,3,4,5 from the left, the sum is
  taken mod 11, and 10 is written `X`.

US application numbers are a 2-digit series code + 6-digit serial (`13/123,456` → `US13123456`).

A record that has no application number at all (PatentsView's grant tables, a CSV that only
lists patent numbers) is keyed by its publication number without kind code, prefixed `PN:`
(`PN:US8926509`), so it can never collide with an application key.
"""

from __future__ import annotations

import re
from datetime import date

from shuanglian.text.normalize import fold_width, to_simplified

_CN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_CN_TYPES = {
    "1": "invention",
    "8": "invention",
    "2": "utility_model",
    "9": "utility_model",
    "3": "design",
}
_SEPARATORS = re.compile(r"[\s,，/\-_:]")
# Design terms became 15 years for applications filed on or after this day (Patent Law 2020
# amendment, art. 42, in force 2021-06-01).
DESIGN_15_YEARS_FROM = date(2021, 6, 1)


class PatentNumberError(ValueError):
    """A number that no office writes this way; the message says what was expected."""


# --------------------------------------------------------------------------- CN check digit


def cn_check_digit(serial: str) -> str:
    """The CNIPA check character ('0'..'9' or 'X') for an 8- or 12-digit application serial."""
    if not serial.isdigit() or len(serial) not in (8, 12):
        raise PatentNumberError(
            f"中国申请号应为 8 或 12 位数字：{serial}（CN serial: 8 or 12 digits）"
        )
    total = sum(int(d) * w for d, w in zip(serial, _CN_WEIGHTS, strict=False))
    value = total % 11
    return "X" if value == 10 else str(value)


def _clean(raw: str) -> str:
    text = fold_width(str(raw)).upper().strip()
    return text.replace("．", ".").replace("。", ".")


# --------------------------------------------------------------------------- application numbers


def application_key(raw: str, *, country_hint: str | None = None) -> str:
    """The upsert key: office code + serial without check digit or punctuation."""
    country, serial, _check = _parse_application(raw, country_hint=country_hint)
    return country + serial


def display_application_number(raw: str, *, country_hint: str | None = None) -> str:
    """The number as the office prints it: `CN202223220665.2`, `US13/123,456`."""
    return parse_application_number(raw, country_hint=country_hint)[1]


def parse_application_number(raw: str, *, country_hint: str | None = None) -> tuple[str, str]:
    """(key, display form) in one parse; importers call this once per row."""
    country, serial, check = _parse_application(raw, country_hint=country_hint)
    return country + serial, _display(country, serial, check)


def _display(country: str, serial: str, check: str | None) -> str:
    if country == "CN":
        return f"CN{serial}.{check or cn_check_digit(serial)}"
    if country == "US" and len(serial) == 8:
        return f"US{serial[:2]}/{serial[2:5]},{serial[5:]}"
    return country + serial


def is_valid_application_number(raw: str, *, country_hint: str | None = None) -> bool:
    """True when `application_key` would accept `raw` (check digit included)."""
    try:
        _parse_application(raw, country_hint=country_hint)
    except PatentNumberError:
        return False
    return True


def cn_application_type(key: str) -> str | None:
    """Patent type from the type digit of a CN key (`CN2022 2 3220665` → utility_model)."""
    if not key.startswith("CN"):
        return None
    digits = key[2:]
    if len(digits) == 12:
        return _CN_TYPES.get(digits[4])
    if len(digits) == 8:
        return _CN_TYPES.get(digits[2])
    return None


_CN_CANONICAL = re.compile(r"CN(\d{12})\.([\dX])")


def _parse_application(raw: str, *, country_hint: str | None) -> tuple[str, str, str | None]:
    """(country, serial, check digit or None)."""
    fast = _CN_CANONICAL.fullmatch(raw)
    if fast:  # CN202223220665.2 as CNIPA writes it: skip the general parse
        serial, check = fast.group(1), fast.group(2)
        if check == cn_check_digit(serial):
            return "CN", serial, check
    text = _clean(raw)
    if not text:
        raise PatentNumberError("申请号为空（application number is empty）")
    hint = (country_hint or "").upper().strip() or None
    body = text
    if body.startswith("ZL"):
        body, hint = body[2:].lstrip(), "CN"
    match = re.match(r"^([A-Z]{2})(?![A-Z])", body)
    country = match.group(1) if match else None
    if country:
        body = body[2:]
    country = country or hint
    body = _SEPARATORS.sub("", body)
    if country in (None, "CN"):
        parsed = _parse_cn(body, explicit=country == "CN")
        if parsed is not None:
            return ("CN", *parsed)
        if country == "CN":
            raise PatentNumberError(
                f"无法识别的中国申请号“{raw}”，应如 CN202223220665.2"
                "（unrecognised CN application number; expected e.g. CN202223220665.2）"
            )
    if country == "US" or (country is None and re.fullmatch(r"\d{8}", body)):
        if re.fullmatch(r"\d{8}", body):
            return "US", body, None
        raise PatentNumberError(
            f"无法识别的美国申请号“{raw}”，应如 US 13/123,456"
            "（unrecognised US application number; expected e.g. US 13/123,456）"
        )
    if country and re.fullmatch(r"[0-9A-Z.]{3,30}", body):
        # Other offices: keep their serial as written, minus punctuation.
        return country, body.replace(".", ""), None
    raise PatentNumberError(
        f"无法识别的申请号“{raw}”（unrecognised application number; expected e.g. "
        "CN202223220665.2 or US 13/123,456）"
    )


def _parse_cn(body: str, *, explicit: bool) -> tuple[str, str | None] | None:
    """(serial, check) for a CN body; None when it is no CN form; error on a wrong check digit."""
    match = re.fullmatch(r"(\d{12}|\d{8})(?:\.?([\dX]))?", body)
    if not match:
        return None
    serial, check = match.group(1), match.group(2)
    if len(serial) == 8 and check is None and not explicit:
        # 8 bare digits are read as a US serial (16123456); an old CN number without its
        # check digit needs the CN prefix or a country hint.
        return None
    if check is not None and check != cn_check_digit(serial):
        raise PatentNumberError(
            f"申请号 {serial}.{check} 的校验位应为 {cn_check_digit(serial)}"
            f"（check digit mismatch: expected {cn_check_digit(serial)}）"
        )
    return serial, check


def publication_key(raw: str) -> str:
    """Key for a record known only by its publication number: `PN:` + number without kind."""
    number = normalize_publication_number(raw)
    match = re.fullmatch(r"([A-Z]{2})(.*?\d)([A-Z]\d?)?", number)
    body = match.group(1) + match.group(2) if match else number
    return f"PN:{body}"


# --------------------------------------------------------------------------- publication numbers


_PUBLICATION = re.compile(r"^([A-Z]{2})?([A-Z]{0,2}\d+)([A-Z]\d?)?$")


def normalize_publication_number(raw: str, *, country_hint: str | None = None) -> str:
    """`US 2005/0004437 A1` → `US20050004437A1`; `US08926509B2` → `US8926509B2`."""
    text = _SEPARATORS.sub("", _clean(raw)).replace(".", "")
    match = _PUBLICATION.fullmatch(text)
    if not match:
        raise PatentNumberError(
            f"无法识别的公开号“{raw}”，应如 CN218751475U 或 US8926509B2"
            "（unrecognised publication number; expected e.g. CN218751475U or US8926509B2）"
        )
    country = match.group(1) or (country_hint or "").upper() or ""
    number, kind = match.group(2), match.group(3) or ""
    if not country:
        raise PatentNumberError(
            f"公开号“{raw}”缺少国家代码（publication number lacks a country code, e.g. CN or US）"
        )
    if (
        country == "US"
        and number.isdigit()
        and not (len(number) == 11 and number[:2] in ("19", "20"))
    ):
        # Grant numbers are padded to 8 digits in USPTO XML (08926509); the patent is 8926509.
        number = number.lstrip("0") or "0"
    return f"{country}{number}{kind}"


# --------------------------------------------------------------------------- types and terms

_TYPE_WORDS = {
    "发明": "invention",
    "发明专利": "invention",
    "发明申请": "invention",
    "发明授权": "invention",
    # PatSnap (智慧芽) writes the stage first: 授权发明 (granted invention), 发明申请.
    "授权发明": "invention",
    "invention": "invention",
    # In USPTO/PatentsView usage a "utility" patent is an invention patent (20-year term);
    # the Chinese 实用新型 is a "utility model".
    "utility": "invention",
    "plant": "invention",
    "reissue": "invention",
    "实用新型": "utility_model",
    "实用新型专利": "utility_model",
    "utilitymodel": "utility_model",
    "utility_model": "utility_model",
    "外观设计": "design",
    "外观设计专利": "design",
    "外观": "design",
    "design": "design",
}
_KIND_TYPES = {
    "A": "invention",
    "B": "invention",
    "C": "invention",
    "E": "invention",
    "P": "invention",
    "U": "utility_model",
    "Y": "utility_model",
    "S": "design",
    "D": "design",
}


_ZH_TYPE_STEMS = (("外观", "design"), ("实用新型", "utility_model"), ("发明", "invention"))


def patent_type_from(text: str) -> str:
    """'invention' | 'utility_model' | 'design' from a type word or a kind code (A/B/U/S...).

    CNIPA exports also write the publication stage (发明公开, 发明授权) and, for a patent with
    both, `发明公开;发明授权`; every part must name the same type.
    """
    # Traditional spellings (發明授權, 實用新型, 外觀設計) name the same types.
    parts = [p for p in re.split(r"[;；,，、|]+", to_simplified(_clean(text))) if p.strip()]
    if len(parts) > 1:
        types = {_one_patent_type(p, text) for p in parts}
        if len(types) == 1:
            return types.pop()
        raise PatentNumberError(f"专利类型“{text}”前后矛盾（conflicting patent types in one cell）")
    return _one_patent_type(parts[0] if parts else "", text)


def _one_patent_type(cleaned: str, text: str) -> str:
    cleaned = cleaned.strip()
    for stem, kind_name in _ZH_TYPE_STEMS:
        if cleaned.startswith(stem):
            return kind_name
    word = cleaned.lower().replace(" ", "").replace("-", "")
    if word in _TYPE_WORDS:
        return _TYPE_WORDS[word]
    if cleaned in _TYPE_WORDS:
        return _TYPE_WORDS[cleaned]
    kind = re.fullmatch(r"([A-Z])\d?", cleaned)
    if kind and kind.group(1) in _KIND_TYPES:
        return _KIND_TYPES[kind.group(1)]
    pub = re.fullmatch(r"[A-Z]{2}[A-Z]{0,2}\d+([A-Z])\d?", _SEPARATORS.sub("", cleaned))
    if pub and pub.group(1) in _KIND_TYPES:
        return _KIND_TYPES[pub.group(1)]
    raise PatentNumberError(
        f"无法识别的专利类型“{text}”，应为 发明 / 实用新型 / 外观设计"
        "（unknown patent type; expected invention / utility model / design）"
    )


def expiry_date(patent_type: str, filing_date: date) -> date:
    """Statutory end of term counted from the filing date (no extensions or lapses)."""
    if patent_type == "invention":
        years = 20
    elif patent_type == "utility_model":
        years = 10
    elif patent_type == "design":
        years = 15 if filing_date >= DESIGN_15_YEARS_FROM else 10
    else:
        raise PatentNumberError(f"未知专利类型 {patent_type}（unknown patent type）")
    try:
        return filing_date.replace(year=filing_date.year + years)
    except ValueError:  # 29 February → 28 February of a common year
        return filing_date.replace(year=filing_date.year + years, day=28)


# --------------------------------------------------------------------------- classification


_CLASS_CODE = re.compile(r"^([A-HY])\s*(\d{2})\s*([A-Z])\s*0*(\d{1,4})\s*/\s*(\d{1,6})")


_COMPACT_CODE = re.compile(r"[A-HY]\d{2}[A-Z][1-9]\d{0,3}/\d{1,6}")


def normalize_classification(raw: str) -> str | None:
    """IPC/CPC symbol in the compact form `G06F15/16` (`G06F 015/16`, `g06f 15/16` too)."""
    if _COMPACT_CODE.fullmatch(raw):  # already compact: the common case, kept cheap
        return raw
    text = _clean(raw)
    match = _CLASS_CODE.match(text)
    if match:
        section, klass, subclass, group, subgroup = match.groups()
        return f"{section}{klass}{subclass}{int(group)}/{subgroup}"
    sub = re.fullmatch(r"([A-HY])\s*(\d{2})\s*([A-Z])", text)
    if sub:
        return "".join(sub.groups())
    return None
