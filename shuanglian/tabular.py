"""Streaming reader for the tables people upload: .csv / .tsv / .txt and .xlsx.

Every importer (patents, enterprises, demands) reads through `read_table`, so the rules for
encodings, row numbers and hostile cells live in one place:

* Row numbers are what a person sees: the header is row 1 of the file or sheet; in a CSV a
  record's number is the physical line it starts on, so a cell with line breaks does not shift
  the numbers of the rows after it.
* Encodings: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), and the
  Chinese legacy encodings GBK / GB18030 that Excel on a Chinese Windows writes. A sample is
  decoded strictly; charset-normalizer only arbitrates when UTF-8 fails.
* Formulas in .xlsx are returned as their literal text (`=HYPERLINK(...)`) and never evaluated;
  the workbook is opened with `data_only=False` for exactly that reason.
* Nothing is held in memory beyond one row (openpyxl `read_only=True`, `csv` over the file).
* A file may not expand beyond `TableLimits` (settings `xlsx_max_part_mb`, `table_max_columns`,
  `table_max_rows`, `table_max_cells`): a 600 KB workbook can declare one row of 20 million
  cells, which openpyxl would build in memory before the first row came back. Every part's
  uncompressed size is read from the zip directory (Python's zipfile never inflates a part
  beyond it) and each worksheet is counted with a streaming expat pass — no tree, no cells —
  before openpyxl opens anything; a CSV line is counted before it is split. Over a limit the
  file is refused as a whole (`TableTooLarge`, 413) naming the limit and the setting.
"""

from __future__ import annotations

import codecs
import csv
import sys
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from itertools import chain, islice
from pathlib import Path
from typing import Any
from xml.parsers import expat

from shuanglian.errors import ImportFailed
from shuanglian.text.normalize import clean_cell, fold_width, strip_control, to_simplified

Row = tuple[int, dict[str, str]]
# A generator, so callers that stop early can `close()` it and release the file at once.
Rows = Generator[Row, None, None]

TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".tab")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
_SAMPLE_BYTES = 256 * 1024
_DELIMITERS = (",", "\t", ";", "|")
# Chinese legacy encodings all decode as GB18030, their superset; decoding with the superset
# accepts the rare characters a GBK-labelled file contains anyway.
_CHINESE_LEGACY = {"gb2312", "gbk", "gb18030", "hz", "cp936", "euc_cn"}


@dataclass(frozen=True)
class TableLimits:
    """How far an uploaded table may expand; defaults match the settings' defaults."""

    max_part_bytes: int = 256 * 1024 * 1024
    max_columns: int = 1000
    max_rows: int = 1_048_576
    max_cells: int = 20_000_000

    @classmethod
    def from_settings(cls, settings: Any) -> TableLimits:
        """The limits a `Settings` object configures."""
        return cls(
            max_part_bytes=settings.xlsx_max_part_mb * 1024 * 1024,
            max_columns=settings.table_max_columns,
            max_rows=settings.table_max_rows,
            max_cells=settings.table_max_cells,
        )


_DEFAULT_LIMITS = TableLimits()
_LIMITS: ContextVar[TableLimits | None] = ContextVar("table_limits", default=None)


@contextmanager
def table_limits(limits: TableLimits) -> Iterator[TableLimits]:
    """Read every table inside the block under `limits` (the web sets them per upload)."""
    token = _LIMITS.set(limits)
    try:
        yield limits
    finally:
        _LIMITS.reset(token)


def current_limits() -> TableLimits:
    """The limits tables are read under here and now."""
    return _LIMITS.get() or _DEFAULT_LIMITS


class TableTooLarge(ImportFailed):
    """The file expands beyond a configured limit; refused whole before it can fill memory."""

    code = "too_large"
    status = 413


def _too_large(name: str, what_zh: str, what_en: str, limit: int, setting: str) -> TableTooLarge:
    return TableTooLarge(
        f"{name} 超出上限：{what_zh}超过 {limit:,}（{what_en} over {limit:,}; "
        f"setting SHUANGLIAN_{setting.upper()}）",
        field="file",
    )


HeaderTest = Callable[[list[str]], bool]
# How far down a sheet a header may start (title rows such as "XX大学专利清单" above it).
HEADER_SEARCH_ROWS = 10


def read_table(
    path: Path,
    *,
    delimiter: str | None = None,
    sheet: str | None = None,
    is_header: HeaderTest | None = None,
) -> tuple[list[str], Rows]:
    """(header, rows): rows yield (row number as a person sees it, {header: cleaned cell text}).

    The header is read now (so missing columns fail before any row is processed); the rows are
    a generator that keeps the file open until it is exhausted or closed. With `is_header`,
    the header is the first of the first HEADER_SEARCH_ROWS non-empty rows it accepts, and the
    rows above it (a sheet title, a date line) are skipped; when none is accepted the first
    row is the header as usual.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"找不到文件 {path.name}（file not found）")
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE_BYTES)
    if not head.strip():
        raise ImportFailed(f"文件 {path.name} 是空的（the file is empty）")
    kind = _sniff_kind(path, head)
    if kind == "xlsx":
        return _read_xlsx(path, sheet=sheet, is_header=is_header)
    return _read_text(path, head, delimiter=delimiter, is_header=is_header)


def require_columns(header: list[str], required: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Map canonical field -> actual header (aliases allowed); ImportFailed naming missing ones.

    Matching ignores case, surrounding spaces, full-/half-width brackets and inner spaces, so
    `申请（专利权）人` finds `申请(专利权)人`. The first alias present wins.
    """
    by_key: dict[str, str] = {}
    for name in header:
        by_key.setdefault(_header_key(name), name)
    found: dict[str, str] = {}
    missing: list[str] = []
    for field, aliases in required.items():
        for alias in aliases:
            actual = by_key.get(_header_key(alias))
            if actual is not None:
                found[field] = actual
                break
        else:
            missing.append(" / ".join(aliases) if aliases else field)
    if missing:
        raise ImportFailed(
            "缺少必需的列："
            + "；".join(missing)
            + f"（missing required columns: {'; '.join(missing)}）"
        )
    return found


def find_columns(header: list[str], optional: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Like `require_columns` but only returns the fields whose column is present."""
    found: dict[str, str] = {}
    for field, aliases in optional.items():
        try:
            found.update(require_columns(header, {field: aliases}))
        except ImportFailed:
            continue
    return found


@lru_cache(maxsize=4096)
def _header_key(name: str) -> str:
    """The comparison form of a header: Simplified, width-folded, no spaces, `_` or `-`.

    Traditional headers (申請號, 專利名稱, 公開(公告)號) from Taiwan, Hong Kong or a Traditional
    Excel locale are converted to Simplified first, so every importer's Simplified aliases
    recognise them without a second alias list.
    """
    folded = to_simplified(fold_width(name.replace("\ufeff", "")))
    folded = folded.strip().lower().replace("（", "(").replace("）", ")")
    return "".join(folded.split()).replace("_", "").replace("-", "")


# --------------------------------------------------------------------------- kind sniffing


def _sniff_kind(path: Path, head: bytes) -> str:
    """'xlsx' or 'text'; ImportFailed for files that are no table at all."""
    name = path.name
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"%PDF"):
        raise ImportFailed(f"{name} 是 PDF 文件，不是表格（a PDF, not a spreadsheet or CSV）")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFailed(
            f"{name} 是旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 CSV"
            "（old .xls format: save it as .xlsx or CSV）"
        )
    if path.suffix.lower() in XLSX_SUFFIXES:
        raise ImportFailed(f"{name} 不是有效的 .xlsx 文件（not a valid .xlsx workbook）")
    return "text"


# --------------------------------------------------------------------------- text (CSV/TSV)


def detect_encoding(head: bytes, *, name: str = "file") -> str:
    """The codec that decodes this sample strictly; ImportFailed when none does."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _looks_binary(head):
        raise ImportFailed(
            f"{name} 含有二进制内容，不是文本表格（binary content: not a CSV or text table）"
        )
    if _decodes(head, "utf-8"):
        return "utf-8"
    # charset-normalizer mistakes short GBK samples for Thai or Cyrillic code pages, so a
    # sample that decodes as GB18030 into mostly CJK characters is taken as Chinese first.
    if _mostly_cjk(head):
        return "gb18030"
    guess = _charset_guess(head)
    if guess is not None and guess not in _CHINESE_LEGACY and _decodes(head, guess):
        return guess
    raise ImportFailed(
        f"无法识别 {name} 的文字编码，请另存为 UTF-8 CSV"
        "（unreadable text encoding: save the file as UTF-8 CSV）"
    )


def _looks_binary(head: bytes) -> bool:
    """More than 2% C0 control bytes (other than tab/CR/LF) means this is no text table."""
    controls = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0D))
    return controls > max(8, len(head) // 50)


def _mostly_cjk(head: bytes) -> bool:
    try:
        text = codecs.getincrementaldecoder("gb18030")(errors="strict").decode(head, final=False)
    except UnicodeDecodeError:
        return False
    wide = [ch for ch in text if ord(ch) > 0x7F]
    if not wide:
        return False
    cjk = sum(
        1
        for ch in wide
        if "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"
    )
    return cjk >= 0.8 * len(wide)


def _charset_guess(head: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(head[:65536]).best()
    if best is None:
        return None
    return codecs.lookup(best.encoding).name.replace("-", "_") if best.encoding else None


def _decodes(sample: bytes, encoding: str) -> bool:
    # Incremental decoding with final=False tolerates a multi-byte character cut at the end
    # of the sample.
    try:
        codecs.getincrementaldecoder(encoding)(errors="strict").decode(sample, final=False)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_text(
    path: Path, head: bytes, *, delimiter: str | None, is_header: HeaderTest | None
) -> tuple[list[str], Rows]:
    encoding = detect_encoding(head, name=path.name)
    # The csv module refuses fields above 128 KiB by default; an abstract or claims cell can
    # legitimately be larger, and a hostile one is still bounded by the importer's checks.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    fh = path.open("r", encoding=encoding, errors="strict", newline="")
    try:
        if delimiter is None:
            if path.suffix.lower() in (".tsv", ".tab"):
                delimiter = "\t"
            else:
                sample = head.decode(encoding, errors="ignore")
                delimiter = _sniff_delimiter(sample.lstrip("\ufeff").split("\n", 1)[0])
        # Control characters are removed per physical line, before parsing: one regex call
        # per line instead of one per cell (tab, CR and LF are not in the removed set).
        lines = _bounded_lines(fh, delimiter, path.name, current_limits())
        reader = csv.reader((strip_control(line) for line in lines), delimiter=delimiter)
        records = _numbered_records(reader, path.name)
        header, records = _take_header(records, is_header, path.name, clean=str.strip)
    except BaseException:
        fh.close()
        raise
    return header, _rows_from_records(records, header, close=fh.close, clean=str.strip)


def _bounded_lines(
    lines: Iterable[str], delimiter: str, name: str, limits: TableLimits
) -> Iterator[str]:
    """The file's physical lines, refused once one has too many cells or there are too many.

    Counted before the csv module splits a line into a list, so a line of ten million
    delimiters never becomes ten million strings. (A delimiter inside quotes counts too: a
    line that long with that many quoted delimiters is no table anyway.)
    """
    for number, line in enumerate(lines, start=1):
        if number > limits.max_rows:
            raise _too_large(name, "行数", "lines", limits.max_rows, "table_max_rows")
        if line.count(delimiter) >= limits.max_columns:
            raise _too_large(
                name, "一行的列数", "columns in a row", limits.max_columns, "table_max_columns"
            )
        yield line


def _numbered_records(reader: Any, name: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line of the record, cells), skipping blank lines."""
    last_line = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise ImportFailed(
                f"{name} 第 {last_line + 1} 行附近的文字编码有误，请另存为 UTF-8 CSV"
                f"（encoding error near line {last_line + 1}: save the file as UTF-8 CSV）"
            ) from exc
        except csv.Error as exc:
            raise ImportFailed(
                f"{name} 第 {last_line + 1} 行不是有效的 CSV：{exc}"
                f"（line {last_line + 1} is not valid CSV: {exc}）"
            ) from exc
        start = last_line + 1
        last_line = reader.line_num
        if any(cell.strip() for cell in record):
            yield start, record


# --------------------------------------------------------------------------- xlsx


def _read_xlsx(
    path: Path, *, sheet: str | None, is_header: HeaderTest | None
) -> tuple[list[str], Rows]:
    from openpyxl import load_workbook

    _check_workbook(path, current_limits())
    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFailed(
            f"{path.name} 不是有效的 Excel 工作簿（not a valid .xlsx workbook）"
        ) from exc
    except Exception as exc:  # openpyxl raises its own InvalidFileException and parse errors
        raise ImportFailed(
            f"{path.name} 不是有效的 Excel 工作簿（not a valid .xlsx workbook: {exc}）"
        ) from exc
    try:
        if sheet is not None:
            if sheet not in wb.sheetnames:
                raise ImportFailed(
                    f"工作簿中没有名为“{sheet}”的工作表，现有：{'、'.join(wb.sheetnames)}"
                    f"（no sheet named {sheet!r}; sheets: {', '.join(wb.sheetnames)}）"
                )
            ws = wb[sheet]
        elif not wb.worksheets:  # a workbook whose sheet part is missing (found by fuzzing)
            raise ImportFailed(f"{path.name} 中没有工作表（the workbook has no worksheet）")
        else:
            ws = wb.worksheets[0]
        # Some writers store a wrong <dimension> (e.g. "A1"); openpyxl would stop reading at
        # it, so the sheet's own row elements decide how far it goes.
        ws.reset_dimensions()
        records = _xlsx_records(ws)
        header, records = _take_header(records, is_header, path.name, clean=clean_cell)
    except BaseException:
        wb.close()
        raise
    return header, _rows_from_records(records, header, close=wb.close, clean=clean_cell)


# What a damaged zip raises while it is opened or read (all found by the importer fuzzer):
# a bad directory, a cut or corrupt stream (zlib), an unsupported zip version or compression
# (zipfile raises a subclass of RuntimeError), a part name that is not UTF-8
# (UnicodeDecodeError, a ValueError).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    RuntimeError,
    ValueError,
    zlib.error,
)
_WORKSHEET_PREFIX = "xl/worksheets/"
_SCAN_CHUNK_BYTES = 256 * 1024
_MAX_PARTS = 10_000


def _check_workbook(path: Path, limits: TableLimits) -> None:
    """Refuse a workbook whose parts or sheets expand beyond `limits` (see module docstring)."""
    name = path.name
    try:
        archive = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        raise ImportFailed(f"{name} 不是有效的 Excel 工作簿（not a valid .xlsx workbook）") from exc
    with archive:
        parts = archive.infolist()
        if len(parts) > _MAX_PARTS:
            raise _too_large(name, "部件数", "zip parts", _MAX_PARTS, "xlsx_max_part_mb")
        for part in parts:
            if part.file_size > limits.max_part_bytes:
                raise _too_large(
                    name,
                    f"“{part.filename}”解压后的字节数",
                    f"{part.filename} uncompressed bytes",
                    limits.max_part_bytes,
                    "xlsx_max_part_mb",
                )
        for part in parts:
            if part.filename.startswith(_WORKSHEET_PREFIX) and part.filename.endswith(".xml"):
                _scan_sheet(archive, part, name, limits)


class _SheetCounter:
    """Counts rows, cells per row and (padded) cells of one worksheet as expat streams it."""

    def __init__(self, name: str, limits: TableLimits) -> None:
        self.name = name
        self.limits = limits
        self.rows = 0
        self.row_cells = 0
        self.row_width = 0
        self.cells = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition(":")[2]
        if local == "c":
            self.row_cells += 1
            column = _column_number(attrs.get("r", ""))
            width = max(self.row_cells, column)
            if width > self.limits.max_columns:
                raise _too_large(
                    self.name,
                    "一行的列数",
                    "columns in a row",
                    self.limits.max_columns,
                    "table_max_columns",
                )
            self.row_width = max(self.row_width, width)
        elif local == "row":
            self._end_row()
            self.rows += 1
            if self.rows > self.limits.max_rows:
                raise _too_large(
                    self.name,
                    "工作表行数",
                    "rows in a sheet",
                    self.limits.max_rows,
                    "table_max_rows",
                )

    def _end_row(self) -> None:
        # openpyxl pads every row to its last column, so the padded width is what it costs.
        self.cells += self.row_width
        self.row_cells = self.row_width = 0
        if self.cells > self.limits.max_cells:
            raise _too_large(
                self.name,
                "工作表单元格数",
                "cells in a sheet",
                self.limits.max_cells,
                "table_max_cells",
            )

    def finish(self) -> None:
        self._end_row()


def _column_number(ref: str) -> int:
    """1-based column of a cell reference such as `AB12` (0 when there is none)."""
    number = 0
    for char in ref:
        if "A" <= char <= "Z":
            number = number * 26 + ord(char) - 64
            if number > 1_000_000:
                break
        else:
            break
    return number


def _scan_sheet(
    archive: zipfile.ZipFile, part: zipfile.ZipInfo, name: str, limits: TableLimits
) -> None:
    counter = _SheetCounter(name, limits)
    parser = expat.ParserCreate()
    parser.StartElementHandler = counter.start
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(_SCAN_CHUNK_BYTES):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise ImportFailed(
            f"{name} 的工作表已损坏（not a valid .xlsx workbook: {part.filename}: {exc}）",
            field="file",
        ) from exc
    except _ZIP_ERRORS as exc:
        raise ImportFailed(
            f"{name} 已损坏，不是有效的 Excel 工作簿（not a valid .xlsx workbook）", field="file"
        ) from exc
    counter.finish()


def _xlsx_records(ws) -> Iterator[tuple[int, list[str]]]:  # type: ignore[no-untyped-def]
    """(sheet row number, cell texts) for every non-empty row.

    Read-only openpyxl parses the sheet while rows are taken, so a corrupt sheet (cut XML, a
    broken shared-strings part) fails here, mid-import: that is the file's fault, said as such
    (found by benchmarks/fuzz_importers.py: ParseError, IndexError, BadZipFile were 500s).
    """
    try:
        yield from _xlsx_rows(ws)
    except ImportFailed:
        raise
    except Exception as exc:  # openpyxl and the XML parser raise many kinds on a broken part
        raise ImportFailed(
            f"工作簿内容已损坏，无法读完（the workbook is corrupt and cannot be read: "
            f"{type(exc).__name__}）"
        ) from exc


def _xlsx_rows(ws) -> Iterator[tuple[int, list[str]]]:  # type: ignore[no-untyped-def]
    for cells in ws.iter_rows():
        row_number = None
        texts = []
        for cell in cells:
            if row_number is None and getattr(cell, "row", None) is not None:
                row_number = cell.row
            texts.append(_xlsx_cell_text(cell.value))
        if row_number is None or not any(texts):
            continue
        yield row_number, texts


def _xlsx_cell_text(value: object) -> str:
    """A cell as text: integral floats without `.0`, dates ISO, formulas as written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------- shared


def _take_header(
    records: Iterator[tuple[int, list[str]]],
    is_header: HeaderTest | None,
    name: str,
    *,
    clean: Callable[[str], str],
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header row and the records after it (see `read_table` for `is_header`)."""
    first = next(records, None)
    if first is None:
        raise ImportFailed(f"文件 {name} 是空的（the file is empty）")
    if is_header is None or is_header([clean(c) for c in first[1]]):
        return _make_header(first[1], name), records
    looked_at = [first]
    for record in islice(records, HEADER_SEARCH_ROWS - 1):
        looked_at.append(record)
        if is_header([clean(c) for c in record[1]]):
            return _make_header(record[1], name), records
    return _make_header(first[1], name), chain(looked_at[1:], records)


def _make_header(cells: list[str], name: str) -> list[str]:
    """Clean header names; duplicates get ` (2)`, ` (3)`; blank names are kept as `列N`."""
    cleaned = [clean_cell(c).lstrip("\ufeff") for c in cells]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    if not any(cleaned):
        raise ImportFailed(f"{name} 没有表头行（no header row）")
    header: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(cleaned, start=1):
        base = cell or f"列{index}"
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base} ({n})"
        seen.add(candidate)
        header.append(candidate)
    return header


def _rows_from_records(
    records: Iterable[tuple[int, list[str]]],
    header: list[str],
    *,
    close: Callable[[], object],
    clean: Callable[[str], str],
) -> Rows:
    """Zip each record with the header; short rows are padded, extra cells dropped."""
    width = len(header)
    try:
        for number, cells in records:
            values = [clean(c) for c in cells[:width]]
            if len(values) < width:
                values.extend([""] * (width - len(values)))
            yield number, dict(zip(header, values, strict=True))
    finally:
        close()


# --------------------------------------------------------------------------- JSON Lines

JSONL_SUFFIXES = (".jsonl", ".ndjson")


def is_jsonl(path: Path) -> bool:
    """A JSON Lines file: by suffix, or a text file whose first non-blank character is `{`."""
    path = Path(path)
    if path.suffix.lower() in JSONL_SUFFIXES:
        return True
    if path.suffix.lower() in (*XLSX_SUFFIXES, *TEXT_SUFFIXES) or not path.is_file():
        return False
    with path.open("rb") as fh:
        return fh.read(64).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def read_jsonl(path: Path) -> tuple[list[str], Rows]:
    """(header, rows) for a JSON Lines file, shaped like `read_table`'s.

    The header is the keys of the first record (later records may add keys; missing ones are
    ""). A row's number is its line number. Values become text: numbers as written, lists
    joined with `、`, nested objects as JSON. A line that is not a JSON object fails the import
    naming the line, like a malformed CSV line does.
    """
    import json

    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"找不到文件 {path.name}（file not found）")
    fh = path.open("r", encoding="utf-8-sig", errors="strict")
    try:
        numbered = _jsonl_objects(fh, path.name, json)
        first = next(numbered, None)
        if first is None:
            raise ImportFailed(f"文件 {path.name} 是空的（the file is empty）")
    except BaseException:
        fh.close()
        raise
    header = list(first[1])
    return header, _jsonl_rows(chain([first], numbered), close=fh.close)


def _jsonl_objects(fh: Any, name: str, json: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(fh, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise ImportFailed(
                f"{name} 第 {number} 行不是有效的 JSON（line {number} is not valid JSON: {exc}）"
            ) from exc
        if not isinstance(record, dict):
            raise ImportFailed(
                f"{name} 第 {number} 行不是 JSON 对象（line {number} is not a JSON object）"
            )
        yield number, record


def _jsonl_rows(
    records: Iterable[tuple[int, dict[str, Any]]], *, close: Callable[[], object]
) -> Rows:
    import json

    try:
        for number, record in records:
            yield number, {str(k): _json_cell(v, json) for k, v in record.items()}
    finally:
        close()


def _json_cell(value: Any, json: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(_json_cell(v, json) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return clean_cell(value)


def read_records(path: Path, *, is_header: HeaderTest | None = None) -> tuple[list[str], Rows]:
    """`read_jsonl` for JSON Lines, else `read_table` (CSV/TSV/xlsx)."""
    if is_jsonl(path):
        return read_jsonl(path)
    return read_table(path, is_header=is_header)


def table_preview(path: Path, *, limit: int = 5) -> tuple[list[str], list[Row]]:
    """The header and the first `limit` rows (format detection and upload previews)."""
    header, rows = read_table(path)
    preview: list[Row] = []
    try:
        for item in rows:
            preview.append(item)
            if len(preview) >= limit:
                break
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()
    return header, preview


__all__ = [
    "Row",
    "TableLimits",
    "TableTooLarge",
    "current_limits",
    "table_limits",
    "detect_encoding",
    "find_columns",
    "read_jsonl",
    "read_records",
    "read_table",
    "require_columns",
    "table_preview",
]
