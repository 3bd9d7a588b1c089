"""parse_date: every accepted form, full-width digits, garbage and impossible days."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuanglian.text.dates import parse_date

DAY = date(2022, 12, 2)


@pytest.mark.parametrize(
    "text",
    [
        "20221202",
        "20221202.0",
        "2022-12-02",
        "2022/12/2",
        "2022.12.02",
        "2022年12月2日",
        "2022 年 12 月 02 日",
        "2022年12月2",
        "02.12.2022",
        "2.12.2022",
        "２０２２－１２－０２",
        "２０２２年１２月２日",
        "2022-12-02 00:00:00",
        "2022-12-02T08:30:00+08:00",
        "2022-12-02 13:45",
        "  2022-12-02  ",
        str(datetime(2022, 12, 2)),
        str(DAY),
    ],
)
def test_accepted_forms(text: str) -> None:
    assert parse_date(text) == DAY


def test_date_objects_pass_through() -> None:
    assert parse_date(DAY) == DAY
    assert parse_date(datetime(2022, 12, 2, 9, 0)) == DAY


@pytest.mark.parametrize("text", ["", "   ", None, "\u3000"])
def test_empty_is_none(text: str | None) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize(
    "text", ["tomorrow", "2022-13-01", "20220230", "12/02/2022", "2022-12", "0001-01-01", "abc"]
)
def test_garbage_raises_with_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_date(text)
    message = str(info.value)
    assert "日期" in message


def test_unrecognised_message_lists_forms() -> None:
    with pytest.raises(ValueError, match="2022年12月2日"):
        parse_date("next week")


@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 12, 31)))
def test_round_trip_every_form(day: date) -> None:
    forms = [
        day.strftime("%Y%m%d"),
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month:02d}.{day.day:02d}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.day:02d}.{day.month:02d}.{day.year}",
    ]
    for form in forms:
        assert parse_date(form) == day


@given(st.text(max_size=30))
def test_never_crashes_otherwise(text: str) -> None:
    try:
        result = parse_date(text)
    except ValueError:
        return
    assert result is None or isinstance(result, date)
