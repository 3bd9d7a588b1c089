"""upsert_patents and the readers, on SQLite and PostgreSQL (fixture `db_session`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.errors import ImportFailed, NotFound
from shuanglian.patents.importers import import_patents
from shuanglian.patents.models import Institution, Patent
from shuanglian.patents.numbers import cn_check_digit
from shuanglian.patents.schemas import PatentIn, PatentRead
from shuanglian.patents.service import (
    count_patents,
    get_patent,
    get_patent_by_number,
    list_patents,
    upsert_patents,
)

from .factories import NVIDIA_MAPPING, cnipa_row, read_sample_rows, write_csv

INSTITUTE = "中科大数据研究院"


@pytest.fixture
def cnipa_sample(shared_dir: Path) -> Path:
    return shared_dir / "data/samples/cn_patents_research_institute_sample10.csv"


def _count(session: Session) -> int:
    return session.scalar(select(func.count(Patent.id))) or 0


def _record(key_suffix: str = "", **fields: object) -> PatentIn:
    base: dict[str, object] = {
        "application_key": "CN202223220665",
        "application_number": "CN202223220665.2",
        "title": "一种无人机机载多功能盒" + key_suffix,
    }
    base.update(fields)
    return PatentIn(**base)  # type: ignore[arg-type]


def test_import_cnipa_sample_then_reimport_unchanged(
    db_session: Session, cnipa_sample: Path
) -> None:
    report = import_patents(db_session, path=cnipa_sample, institution=INSTITUTE)
    assert report.as_dict() == {
        "inserted": 10,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "errors": [],
        "error_count": 0,
        "dry_run": False,
        "skipped": 0,
        "warnings": [],
    }
    assert _count(db_session) == 10
    again = import_patents(db_session, path=cnipa_sample, institution=INSTITUTE)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 10)
    patent = get_patent_by_number(db_session, number="ZL202223220665.2")
    assert patent.institution is not None and patent.institution.name == INSTITUTE
    assert patent.search_text.startswith("一种无人机机载多功能盒\n".strip())
    assert patent.expiry_date is not None and patent.expiry_date.year == 2032
    assert PatentRead.model_validate(patent).application_number == "CN202223220665.2"


def test_changed_rows_are_updated(db_session: Session, tmp_path: Path, cnipa_sample: Path) -> None:
    import_patents(db_session, path=cnipa_sample)
    rows = read_sample_rows(cnipa_sample)
    rows[0]["专利名称"] = "一种無人機機載多功能盒（改）"  # Traditional characters on purpose
    rows[1]["法律状态"] = "无权-未缴年费"
    report = import_patents(db_session, path=write_csv(tmp_path / "v2.csv", rows))
    assert (report.inserted, report.updated, report.unchanged) == (0, 2, 8)
    patent = get_patent_by_number(db_session, number="CN202223220665.2")
    assert patent.title == "一种無人機機載多功能盒（改）"
    assert patent.search_text.startswith("一种无人机机载多功能盒(改)")  # search form simplified
    assert patent.source_file == "v2.csv"
    assert (
        get_patent_by_number(db_session, number="CN202122975192.6").legal_status == "无权-未缴年费"
    )


def test_dry_run_writes_nothing_and_reports_the_same(
    db_session: Session, cnipa_sample: Path
) -> None:
    report = import_patents(db_session, path=cnipa_sample, institution="新研究所", dry_run=True)
    assert report.dry_run and (report.inserted, report.rejected) == (10, 0)
    assert _count(db_session) == 0
    assert db_session.scalar(select(func.count(Institution.id))) == 0
    import_patents(db_session, path=cnipa_sample)
    report = import_patents(db_session, path=cnipa_sample, dry_run=True)
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 10)
    report = import_patents(db_session, path=cnipa_sample, institution="新研究所", dry_run=True)
    assert report.updated == 10  # linking to a new institution would change every row
    assert db_session.scalar(select(func.count(Institution.id))) == 0


def test_duplicate_rows_are_rejected_naming_both(db_session: Session, tmp_path: Path) -> None:
    """Issue 14: one patent twice in one file is a mistake in the file, not "later wins"."""
    rows = [
        cnipa_row(),
        cnipa_row(),
        cnipa_row(专利名称="一种无人机机载多功能盒（第二版）"),
        cnipa_row(申请号="202223220665", 法律状态="无权"),
    ]
    path = write_csv(tmp_path / "dup.csv", rows)
    report = import_patents(db_session, path=path, batch_size=2)
    assert (report.inserted, report.updated, report.rejected) == (1, 0, 3)
    assert [e.row for e in report.errors] == [3, 4, 5]
    assert all("第 2 行与第" in e.message for e in report.errors)
    assert _count(db_session) == 1
    patent = get_patent_by_number(db_session, number="CN202223220665")
    assert patent.title == "一种无人机机载多功能盒"
    assert patent.source_row == 2


def test_duplicates_counted_the_same_in_dry_run(db_session: Session, tmp_path: Path) -> None:
    rows = [cnipa_row(), cnipa_row(), cnipa_row(专利名称="改名")]
    path = write_csv(tmp_path / "dup.csv", rows)
    dry = import_patents(db_session, path=path, batch_size=1, dry_run=True)
    real = import_patents(db_session, path=path, batch_size=1)
    assert (dry.inserted, dry.updated, dry.unchanged) == (
        real.inserted,
        real.updated,
        real.unchanged,
    )
    assert (real.inserted, real.rejected) == (1, 2)
    assert dry.rejected == real.rejected


def test_rejected_rows_reported_good_rows_written(db_session: Session, tmp_path: Path) -> None:
    rows = [cnipa_row(), cnipa_row(申请号="CN202122975192.6", 申请日="不详"), cnipa_row(申请号="")]
    report = import_patents(db_session, path=write_csv(tmp_path / "r.csv", rows))
    assert (report.inserted, report.rejected) == (1, 2)
    assert [(e.row, e.field) for e in report.errors] == [(3, "申请日"), (4, "申请号")]
    assert _count(db_session) == 1


def test_failed_import_leaves_database_unchanged(db_session: Session, tmp_path: Path) -> None:
    # Valid UTF-8 for the first ~300 KB (past the encoding sample), then a byte that is not:
    # the failure comes mid-stream after several batches were already written.
    rows = [cnipa_row(申请号=f"CN2021216{i:05d}", 申请摘要="摘要" * 50) for i in range(3000)]
    for row in rows:
        serial = row["申请号"][2:]
        row["申请号"] = f"CN{serial}.{cn_check_digit(serial)}"
    path = write_csv(tmp_path / "broken.csv", rows)
    path.write_bytes(path.read_bytes() + b"CN202223220665.2,\xff\xfe broken\n")
    import_patents(db_session, path=write_csv(tmp_path / "one.csv", [cnipa_row()]))
    with pytest.raises(ImportFailed, match="编码"):
        import_patents(db_session, path=path, batch_size=500)
    assert _count(db_session) == 1


def test_import_keeps_fields_the_file_lacks(
    db_session: Session, shared_dir: Path, tmp_path: Path
) -> None:
    weekly = tmp_path / "week.xml"
    weekly.write_bytes((shared_dir / "data/samples/uspto/US08930553.xml").read_bytes())
    import_patents(db_session, path=weekly, institution="IBM")
    # A later spreadsheet with only number and title must not wipe inventors or the institution.
    path = tmp_path / "titles.csv"
    path.write_text(
        "申请号,专利名称\nUS13648029,Managing SIP messages (renamed)\n", encoding="utf-8"
    )
    report = import_patents(
        db_session,
        path=path,
        mapping={"columns": {"application_number": "申请号", "title": "专利名称"}, "country": "US"},
    )
    assert report.updated == 1
    patent = get_patent_by_number(db_session, number="US 13/648,029")
    assert patent.title == "Managing SIP messages (renamed)"
    assert patent.inventors == ["Nitzan Nissim", "Brian Pulito", "Asaf Zinger"]
    assert patent.institution is not None and patent.institution.name == "IBM"
    assert "mid-dialog" in (patent.abstract or "")


def test_all_formats_into_one_store(db_session: Session, shared_dir: Path, tmp_path: Path) -> None:
    samples = shared_dir / "data/samples"
    weekly = tmp_path / "ipg.xml"
    weekly.write_bytes(b"".join(p.read_bytes() for p in sorted((samples / "uspto").glob("*.xml"))))
    assert import_patents(db_session, path=weekly).inserted == 6
    nvidia = import_patents(
        db_session,
        path=samples / "en_patents_nvidia_sample150.csv",
        mapping=NVIDIA_MAPPING,
        institution="NVIDIA Corporation",
    )
    assert nvidia.inserted == 150
    assert (
        import_patents(
            db_session, path=samples / "cn_patents_research_institute_sample10.csv"
        ).inserted
        == 10
    )
    assert count_patents(db_session) == 166
    nvidia_id = db_session.scalar(
        select(Institution.id).where(Institution.name == "NVIDIA Corporation")
    )
    assert count_patents(db_session, institution_id=nvidia_id) == 150


def test_upsert_patents_directly(db_session: Session) -> None:
    report = upsert_patents(db_session, records=[_record(), _record(key_suffix="2")], batch_size=10)
    assert (report.inserted, report.updated) == (1, 1)
    assert get_patent_by_number(db_session, number="CN202223220665").title.endswith("2")


def test_list_count_get(db_session: Session, cnipa_sample: Path) -> None:
    import_patents(db_session, path=cnipa_sample, institution=INSTITUTE)
    assert count_patents(db_session) == 10
    drones = list_patents(db_session, q="无人机")
    assert drones and all("无人机" in p.search_text for p in drones)
    assert count_patents(db_session, q="无人机") == len(drones)
    assert count_patents(db_session, q="無人機") == len(drones)  # Traditional query folds
    by_number = list_patents(db_session, q="CN218751475U")
    assert [p.application_key for p in by_number] == ["CN202223220665"]
    page = list_patents(db_session, offset=2, limit=3)
    assert len(page) == 3
    newest = list_patents(db_session, limit=1)[0]
    assert newest.filing_date is not None
    assert newest.filing_date == max(
        p.filing_date for p in list_patents(db_session) if p.filing_date
    )
    assert get_patent(db_session, patent_id=newest.id).id == newest.id
    assert count_patents(db_session, q="100%_") == 0  # wildcards are escaped
    with pytest.raises(NotFound):
        get_patent(db_session, patent_id=10**9)
    with pytest.raises(NotFound):
        get_patent_by_number(db_session, number="CN202310605824")


def _numbered(count: int) -> list[PatentIn]:
    records = []
    for n in range(count):
        serial = f"20201{n:07d}"
        records.append(
            PatentIn(
                application_key=f"CN{serial}",
                application_number=f"CN{serial}.{cn_check_digit(serial)}",
                title=f"一种分批写入的装置 {n}",
            )
        )
    return records


def test_batches_that_hold_the_write_lock_too_long_get_smaller(db_session: Session) -> None:
    """On SQLite the CLI commits each batch; 2,000 rows on a busy machine held the write lock
    longer than a login waits for it (logins failed with "database is locked" while an import
    ran). A batch slower than `batch_max_s` makes the next ones smaller; quick ones do not."""
    committed: list[int] = []

    def checkpoint() -> None:
        committed.append(_count(db_session))

    report = upsert_patents(
        db_session, records=_numbered(210), batch_size=50, checkpoint=checkpoint, batch_max_s=1e-9
    )
    assert report.inserted == 210 and _count(db_session) == 210
    sizes = [b - a for a, b in zip([0, *committed], committed, strict=False)]
    assert sizes[0] == 50 and set(sizes[1:]) == {20}, sizes  # every batch was "too slow"

    committed.clear()
    upsert_patents(
        db_session, records=_numbered(200), batch_size=50, checkpoint=checkpoint, batch_max_s=1e9
    )
    assert len(committed) == 4  # quick batches keep the configured size


def test_next_batch_rows_scales_down_to_a_floor_and_back_up() -> None:
    from shuanglian.patents.service import MIN_CHECKPOINT_BATCH, next_batch_rows

    assert next_batch_rows(2000, 4.0, most=2000, max_s=1.0) == 500
    assert next_batch_rows(100, 1000.0, most=2000, max_s=1.0) == MIN_CHECKPOINT_BATCH
    assert next_batch_rows(500, 0.1, most=2000, max_s=1.0) == 1000
    assert next_batch_rows(1500, 0.1, most=2000, max_s=1.0) == 2000
    assert next_batch_rows(800, 0.7, most=2000, max_s=1.0) == 800
