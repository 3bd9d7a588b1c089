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


def test_a_kept_page_reads_its_listings_fresh(db_session) -> None:
    made = _committed_listings(db_session, 3, "风电叶片")
    first = service.search_listings(db_session, q="风电")
    assert sorted(x.id for x in first.items) == sorted(x.id for x in made)
    # Another process withdraws one and renames another: no event here clears the cache.
    db_session.connection().exec_driver_sql(
        f"UPDATE market_listings SET status = 'withdrawn' WHERE id = {made[0].id}"
    )
    db_session.connection().exec_driver_sql(
        f"UPDATE market_listings SET title = '风电叶片（新）' WHERE id = {made[1].id}"
    )
    db_session.expire_all()
    again = service.search_listings(db_session, q="风电")
    assert made[0].id not in [x.id for x in again.items]
    assert "风电叶片（新）" in [x.title for x in again.items]


def test_a_page_is_kept_per_sort_and_offset(db_session) -> None:
    made = _committed_listings(db_session, 5, "氢能储运")
    newest = [x.id for x in service.search_listings(db_session, q="氢能", limit=2).items]
    later = [x.id for x in service.search_listings(db_session, q="氢能", limit=2, offset=2).items]
    assert newest == sorted((x.id for x in made), reverse=True)[:2]
    assert later == sorted((x.id for x in made), reverse=True)[2:4]
    by_price = service.search_listings(db_session, q="氢能", sort="price_asc", limit=5)
    assert len(by_price.items) == 5 and by_price.total == 5
