"""read_table / require_columns: encodings, row numbers, xlsx formulas, hostile files."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from shuanglian.errors import ImportFailed
from shuanglian.tabular import read_table, require_columns, table_preview
from shuanglian.text.normalize import clean_cell, strip_control

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

TEXT = "申请号,专利名称\nCN1,一种无人机\nCN2,飞行控制方法\n"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _all(path: Path, **kw) -> tuple[list[str], list]:  # type: ignore[no-untyped-def]
    header, rows = read_table(path, **kw)
    return header, list(rows)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_encodings(tmp_path: Path, encoding: str) -> None:
    path = _write(tmp_path, "p.csv", TEXT.encode(encoding))
    header, rows = _all(path)
    assert header == ["申请号", "专利名称"]
    assert rows == [
        (2, {"申请号": "CN1", "专利名称": "一种无人机"}),
        (3, {"申请号": "CN2", "专利名称": "飞行控制方法"}),
    ]


def test_gbk_file_with_long_body(tmp_path: Path) -> None:
    body = "".join(f"CN{i},一种基于深度学习的图像识别方法{i}\n" for i in range(5000))
    path = _write(tmp_path, "big.csv", ("申请号,专利名称\n" + body).encode("gbk"))
    header, rows = _all(path)
    assert len(rows) == 5000
    assert rows[-1] == (
        5001,
        {"申请号": "CN4999", "专利名称": "一种基于深度学习的图像识别方法4999"},
    )


def test_row_numbers_count_physical_lines(tmp_path: Path) -> None:
    data = 'a,b\n1,"line one\nline two\nline three"\n\n2,x\n'
    path = _write(tmp_path, "m.csv", data.encode())
    _, rows = _all(path)
    assert [n for n, _ in rows] == [2, 6]
    assert rows[0][1]["b"] == "line one\nline two\nline three"


def test_delimiters(tmp_path: Path) -> None:
    tsv = _write(tmp_path, "t.tsv", b"a\tb\n1\t2\n")
    assert _all(tsv)[1] == [(2, {"a": "1", "b": "2"})]
    txt = _write(tmp_path, "t.txt", b"a;b\n1;2\n")
    assert _all(txt)[1] == [(2, {"a": "1", "b": "2"})]
    forced = _write(tmp_path, "f.csv", b"a|b\n1|2\n")
    assert _all(forced, delimiter="|")[1] == [(2, {"a": "1", "b": "2"})]


def test_control_characters_removed_and_short_rows_padded(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.csv", b"a,b,c\n\x07x\x00y\x1b , 2\n")
    _, rows = _all(path)
    assert rows == [(2, {"a": "xy", "b": "2", "c": ""})]


def test_duplicate_and_blank_headers(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "名称,名称,,x\n1,2,3,4\n".encode())
    header, rows = _all(path)
    assert header == ["名称", "名称 (2)", "列3", "x"]
    assert rows[0][1]["名称 (2)"] == "2"


def test_rows_stream_lazily(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", TEXT.encode())
    header, rows = read_table(path)
    first = next(rows)
    assert first[0] == 2
    rows.close()  # closing the generator releases the file


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("empty.csv", b"", "空"),
        ("blank.csv", b"  \n\n", "空"),
        ("doc.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, ".xls"),
        ("bin.csv", bytes(range(256)) * 4, "二进制"),
        ("fake.xlsx", b"just text, not a workbook\n", "xlsx"),
        ("separators.csv", b",,,\n", "空"),
    ],
)
def test_not_a_table(tmp_path: Path, name: str, data: bytes, fragment: str) -> None:
    path = _write(tmp_path, name, data)
    with pytest.raises(ImportFailed, match=fragment):
        read_table(path)


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ImportFailed, match="Excel"):
        read_table(path)


def test_unreadable_encoding(tmp_path: Path) -> None:
    # Bytes that are valid in no Chinese or Unicode encoding and look like no Latin text either.
    path = _write(tmp_path, "x.csv", b"a,b\n" + b"\xff\xfe\xfd\x81\x30\xff" * 200)
    with pytest.raises(ImportFailed):
        _all(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="找不到"):
        read_table(tmp_path / "nope.csv")


def _xlsx(tmp_path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "专利"
    ws.append(["申请号", "申请日", "专利名称", "数量", "金额"])
    ws.append(["CN202223220665.2", datetime(2022, 12, 2), '=HYPERLINK("http://x")', 3.0, 1.5])
    ws.append([None, None, None, None, None])
    ws.append(["CN2", date(2021, 1, 5), "@SUM(A1)", 7, None])
    other = wb.create_sheet("其他")
    other.append(["k"])
    other.append(["v"])
    path = tmp_path / "p.xlsx"
    wb.save(path)
    return path


def test_xlsx_formulas_literal_dates_iso_numbers_plain(tmp_path: Path) -> None:
    header, rows = _all(_xlsx(tmp_path))
    assert header == ["申请号", "申请日", "专利名称", "数量", "金额"]
    assert rows[0] == (
        2,
        {
            "申请号": "CN202223220665.2",
            "申请日": "2022-12-02",
            "专利名称": '=HYPERLINK("http://x")',
            "数量": "3",
            "金额": "1.5",
        },
    )
    # the blank sheet row 3 is skipped but row numbers stay those of the sheet
    assert rows[1][0] == 4
    assert rows[1][1]["专利名称"] == "@SUM(A1)"
    assert rows[1][1]["申请日"] == "2021-01-05"


def test_xlsx_sheet_choice(tmp_path: Path) -> None:
    path = _xlsx(tmp_path)
    assert _all(path, sheet="其他") == (["k"], [(2, {"k": "v"})])
    with pytest.raises(ImportFailed, match="其他"):
        read_table(path, sheet="missing")


def test_xlsx_empty_sheet(tmp_path: Path) -> None:
    path = tmp_path / "e.xlsx"
    Workbook().save(path)
    with pytest.raises(ImportFailed, match="空"):
        read_table(path)


def test_require_columns_aliases_and_missing() -> None:
    header = ["申请号", "申请（专利权）人", "Title "]
    found = require_columns(
        header,
        {"number": ("申请号",), "applicant": ("申请(专利权)人", "申请人"), "title": ("title",)},
    )
    assert found == {"number": "申请号", "applicant": "申请（专利权）人", "title": "Title "}
    with pytest.raises(ImportFailed) as info:
        require_columns(header, {"abstract": ("摘要", "申请摘要"), "number": ("申请号",)})
    assert "摘要 / 申请摘要" in info.value.message
    assert "申请号" not in info.value.message


_CELL_CHARS = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(
    list('\t\n\r\x07\x1b,";；')
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(_CELL_CHARS, max_size=12), min_size=3, max_size=3), max_size=8))
def test_csv_round_trip_and_physical_line_numbers(tmp_path_factory, rows: list[list[str]]) -> None:  # type: ignore[no-untyped-def]
    """Whatever the cells hold, read_table gives back the cleaned text on the right line."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["a", "b", "c"])
    expected = []
    for cells in rows:
        line = len(_LINE_BREAK.findall(buffer.getvalue())) + 1
        writer.writerow(cells)
        cleaned = [clean_cell(c) for c in cells]
        if any(c.strip() for c in (strip_control(x) for x in cells)):
            expected.append((line, dict(zip(["a", "b", "c"], cleaned, strict=True))))
    path = tmp_path_factory.mktemp("rt") / "t.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    header, got = read_table(path)
    assert header == ["a", "b", "c"]
    assert list(got) == expected


def test_table_preview_stops_early(tmp_path: Path) -> None:
    body = "".join(f"CN{i},标题{i}\n" for i in range(100))
    path = _write(tmp_path, "p.csv", ("申请号,专利名称\n" + body).encode())
    header, rows = table_preview(path, limit=3)
    assert header == ["申请号", "专利名称"]
    assert [n for n, _ in rows] == [2, 3, 4]


def test_header_below_title_rows(tmp_path: Path) -> None:
    data = "某某大学专利清单\n导出日期：2024-05-01\n申请号,专利名称\nCN1,一种无人机\n"
    path = _write(tmp_path, "t.csv", data.encode())

    def has_number(cells: list[str]) -> bool:
        return "申请号" in cells

    header, rows = _all(path, is_header=has_number)
    assert header == ["申请号", "专利名称"]
    assert rows == [(4, {"申请号": "CN1", "专利名称": "一种无人机"})]
    # without a matching row the first row stays the header and nothing is lost
    header, rows = _all(path, is_header=lambda cells: False)
    assert header == ["某某大学专利清单"]
    assert [n for n, _ in rows] == [2, 3, 4]


def test_xlsx_with_wrong_dimension_tag_is_read_fully(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["申请号", "专利名称"])
    for i in range(5):
        ws.append([f"CN{i}", f"标题{i}"])
    good = tmp_path / "good.xlsx"
    wb.save(good)
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                pattern = rb'<dimension ref="[^"]*"\s*/>'
                data, count = re.subn(pattern, b'<dimension ref="A1"/>', data)
                assert count == 1
            dst.writestr(item, data)
    header, rows = _all(bad)
    assert header == ["申请号", "专利名称"]
    assert [n for n, _ in rows] == [2, 3, 4, 5, 6]
