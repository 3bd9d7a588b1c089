"""Every importer on broken files (hypothesis): no crash, and a refused file changes nothing.

The long run is `benchmarks/fuzz_importers.py`; this is a short search over the same harness,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.fuzz_importers import FuzzStats, importers, mutate, run_case

KINDS = importers()


def test_importers_survive_broken_files(db_session, tmp_path: Path) -> None:
    stats = FuzzStats()

    @given(
        kind=st.sampled_from(KINDS),
        seed=st.integers(min_value=0, max_value=2**32),
        raw=st.binary(max_size=512),
    )
    @settings(
        max_examples=120,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases every run; benchmarks/fuzz_importers.py explores
        suppress_health_check=list(HealthCheck),
    )
    def case(kind, seed: int, raw: bytes) -> None:  # type: ignore[no-untyped-def]
        data = raw if seed % 5 == 0 else mutate(kind.seed, kind.suffix, random.Random(seed))
        run_case(db_session, kind, data, tmp_path, stats)

    case()
    # The unbroken seeds import, so the harness itself is sound: each is a report, not a
    # refusal (a refused seed means every mutant is refused before anything is parsed).
    for kind in KINDS:
        seeds = FuzzStats()
        run_case(db_session, kind, kind.seed, tmp_path, seeds)
        assert seeds.reports == 1, (kind.name, seeds.crashes)
        stats.cases += 1
    assert stats.cases >= 120 + len(KINDS)
    assert not stats.crashes, [(name, why) for name, why, _ in stats.crashes[:5]]


def test_a_workbook_whose_sheet_is_cut_is_refused_not_a_crash(db_session, tmp_path: Path) -> None:
    """Read-only openpyxl parses the sheet while rows are read: a cut sheet failed mid-import
    with the XML parser's ParseError (a 500), found by the fuzzer."""
    import io
    import zipfile

    import pytest

    from shuanglian.errors import ImportFailed

    [kind] = [k for k in KINDS if k.name == "patents-xlsx"]
    src = zipfile.ZipFile(io.BytesIO(kind.seed))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            body = src.read(name)
            dst.writestr(name, body[: len(body) // 2] if name.endswith("sheet1.xml") else body)
    path = tmp_path / "cut.xlsx"
    path.write_bytes(out.getvalue())
    with pytest.raises(ImportFailed, match="损坏"):
        kind.run(db_session, path)


def test_a_workbook_without_a_sheet_is_refused_not_a_crash(db_session, tmp_path: Path) -> None:
    """A workbook whose only sheet part is missing: `wb.worksheets[0]` was an IndexError."""
    import io
    import zipfile

    import pytest

    from shuanglian.errors import ImportFailed

    [kind] = [k for k in KINDS if k.name == "patents-xlsx"]
    src = zipfile.ZipFile(io.BytesIO(kind.seed))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            if name != "xl/workbook.xml":
                dst.writestr(name, src.read(name))
            else:
                text = src.read(name).decode()
                start, end = text.index("<sheets>"), text.index("</sheets>") + len("</sheets>")
                dst.writestr(name, text[:start] + "<sheets/>" + text[end:])
    path = tmp_path / "nosheet.xlsx"
    path.write_bytes(out.getvalue())
    with pytest.raises(ImportFailed):
        kind.run(db_session, path)


def test_an_unknown_xml_encoding_is_a_row_error() -> None:
    """`<?xml encoding="UTF-z"?>` made the XML parser raise LookupError (fuzzer find)."""
    from shuanglian.patents.importers.common import RowRejection
    from shuanglian.patents.importers.uspto_xml import parse_document

    doc = b'<?xml version="1.0" encoding="UTF-z"?><us-patent-grant/>'
    assert isinstance(parse_document(doc, row=1), RowRejection)
