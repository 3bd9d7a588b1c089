"""`/api/v1/patents?q=` reads the patents' term index (issue 10: it scanned and counted every
patent), on SQLite and PostgreSQL: Chinese and English words, numbers, capped counts."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.patents import service
from shuanglian.patents.models import Patent, PatentTerm
from shuanglian.patents.schemas import PatentIn
from shuanglian.patents.service import search_patents, upsert_patents
from tests.web.factories import make_institution, make_patent


def _terms(session: Session, patent_id: int) -> set[str]:
    stmt = select(PatentTerm.term).where(PatentTerm.patent_id == patent_id)
    return set(session.scalars(stmt))


def _ids(session: Session, q: str, **kw: object) -> list[int]:
    return [p.id for p in search_patents(session, q=q, **kw).items]  # type: ignore[arg-type]


def test_imported_and_edited_patents_are_indexed_by_their_titles(db_session: Session) -> None:
    upsert_patents(
        db_session,
        records=[
            PatentIn(
                application_key="CN202410000001",
                application_number="CN202410000001.1",
                title="一种废旧锂电池回收方法",
                alt_title="Method for recycling spent lithium batteries",
            )
        ],
    )
    patent = db_session.scalars(
        select(Patent).where(Patent.application_key == "CN202410000001")
    ).one()
    assert {"锂电", "电池", "batteri", "lithium"} <= _terms(db_session, patent.id)
    # A re-import with a new title re-indexes it (bulk UPDATE path).
    upsert_patents(
        db_session,
        records=[
            PatentIn(
                application_key="CN202410000001",
                application_number="CN202410000001.1",
                title="一种无人机巡检系统",
            )
        ],
    )
    terms = _terms(db_session, patent.id)
    assert "无人" in terms and "锂电" not in terms
    # An ORM edit re-indexes too (mapper events).
    patent.title = "氢燃料电池"
    patent.alt_title = None
    db_session.flush()
    assert "燃料" in _terms(db_session, patent.id) and "无人" not in _terms(db_session, patent.id)


def test_chinese_english_and_number_queries(db_session: Session) -> None:
    inst = make_institution(db_session)
    battery = make_patent(db_session, inst, title="一种废旧锂电池回收方法")
    english = make_patent(db_session, None, title="Lithium battery recycling process")
    drone = make_patent(
        db_session, inst, title="一种无人机机载多功能盒", publication_number="CN218751475U"
    )
    assert _ids(db_session, "锂电池") == [battery.id]
    assert _ids(db_session, "鋰電池") == [battery.id]  # Traditional folds to Simplified
    assert _ids(db_session, "电池") == [battery.id]  # a word inside a longer one
    assert _ids(db_session, "batteries recycled") == [english.id]  # stems
    assert _ids(db_session, "lithium") == [english.id]
    assert _ids(db_session, "锂电池 无人机") == []  # every word must match
    assert _ids(db_session, "盒") == [drone.id]  # one character: matched as text
    assert _ids(db_session, "CN 218751475 U") == [drone.id]
    assert _ids(db_session, "电池", institution_id=inst.id) == [battery.id]
    assert _ids(db_session, "lithium", institution_id=inst.id) == []
    assert _ids(db_session, "量子纠缠") == []
    assert _ids(db_session, "100%_") == []


def test_counts_stop_at_the_cap(db_session: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    inst = make_institution(db_session)
    made = [make_patent(db_session, inst, title=f"一种电池{i}号") for i in range(5)]
    monkeypatch.setattr(service, "COUNT_CAP", 3)
    page = search_patents(db_session, q="电池", limit=2)
    assert (page.total, page.capped) == (3, True)
    assert [p.id for p in page.items] == [made[4].id, made[3].id]  # newest first
    page = search_patents(db_session, q="电池", institution_id=inst.id, offset=4, limit=2)
    assert [p.id for p in page.items] == [made[0].id]
    monkeypatch.setattr(service, "COUNT_CAP", 5)  # exactly the cap: counted, not capped
    assert (
        search_patents(db_session, q="电池").total,
        search_patents(db_session, q="电池").capped,
    ) == (5, False)


def test_the_api_says_when_the_count_is_capped(client: TestClient, db_session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    inst = make_institution(db_session)
    for i in range(4):
        make_patent(db_session, inst, title=f"固态电池电解质{i}")
    monkeypatch.setattr(service, "COUNT_CAP", 2)
    body = client.get("/api/v1/patents?q=电解质&limit=1").json()
    assert (body["total"], body["total_capped"], len(body["items"])) == (2, True, 1)
    body = client.get("/api/v1/patents/search?q=solid").json()
    assert (body["total"], body["total_capped"]) == (0, False)
    assert "2+" in client.get("/patents?q=电解质").text
