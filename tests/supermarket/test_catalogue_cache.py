"""Kept catalogue counts: never another database's, never stale after this process writes."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from shuanglian.supermarket import catalogue_cache, service
from shuanglian.supermarket.catalogue_cache import ExpiringCache
from shuanglian.supermarket.models import Listing
from tests.web.factories import make_institution, make_listing


def _total(session: Session, **kw: object) -> int:
    return service.search_listings(session, limit=2, **kw).total  # type: ignore[arg-type]


def _committed_listings(session: Session, count: int, title: str) -> list[Listing]:
    inst = make_institution(session)
    made = [make_listing(session, inst, title=f"{title} {i}") for i in range(count)]
    session.commit()
    return made


def test_a_new_listing_counts_at_once(db_session) -> None:
    _committed_listings(db_session, 3, "锂电池回收")
    assert _total(db_session, q="电池") == 3
    make_listing(db_session, make_institution(db_session), title="锂电池检测")
    assert _total(db_session, q="电池") == 4  # uncommitted here: counted, not kept
    db_session.commit()
    assert _total(db_session, q="电池") == 4


def test_a_withdrawn_listing_leaves_the_count(db_session) -> None:
    made = _committed_listings(db_session, 4, "无人机巡检")
    assert _total(db_session, q="无人机") == 4
    made[0].status = "withdrawn"
    db_session.commit()
    assert _total(db_session, q="无人机") == 3
    # A statement rather than an object: the same.
    db_session.execute(update(Listing).where(Listing.id == made[1].id).values(status="draft"))
    db_session.commit()
    assert _total(db_session, q="无人机") == 2


def test_a_page_view_keeps_the_counts(db_session) -> None:
    made = _committed_listings(db_session, 3, "储能调峰")
    assert _total(db_session, q="储能") == 3
    generation = catalogue_cache.totals.generation
    assert service.record_visit(db_session, listing_id=made[0].id, source=None)
    db_session.commit()
    assert catalogue_cache.totals.generation == generation


def test_counts_are_kept_per_database(db_session, settings) -> None:
    from shuanglian.db import Base, make_engine

    _committed_listings(db_session, 3, "光伏组件")
    assert _total(db_session, q="光伏") == 3
    other = make_engine(settings)
    Base.metadata.create_all(other)
    try:
        with Session(other) as empty:
            assert _total(empty, q="光伏") == 0
    finally:
        other.dispose()


def test_a_count_that_raced_a_change_is_not_kept() -> None:
    cache = ExpiringCache()
    before = cache.generation
    cache.clear()  # a change committed while the count ran
    cache.put("k", 1, counted_at=before)
    assert cache.get("k") is None
    cache.put("k", 2, counted_at=cache.generation)
    assert cache.get("k") == 2


def test_entries_expire_and_the_cache_stays_bounded() -> None:
    cache = ExpiringCache(ttl_s=0.0)
    cache.put("k", 1, counted_at=cache.generation)
    assert cache.get("k") is None
    small = ExpiringCache(max_entries=2)
    for key in "abc":
        small.put(key, key, counted_at=small.generation)
    assert small.get("a") is None and small.get("c") == "c"
