"""The scale-data loader builds valid, deterministic rows and loads them on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

import shuanglian.models  # noqa: F401
from benchmarks.scale_data import (
    NULL,
    Scale,
    _cn_number,
    build_cache,
    drop_postgresql_database,
    ensure_postgresql_database,
    escape,
    fill_database,
    load_terms,
    search_form,
    unescape,
)
from shuanglian.config import Settings
from shuanglian.db import make_engine, make_session_factory
from shuanglian.patents.models import Institution
from shuanglian.patents.numbers import cn_check_digit, is_valid_application_number
from shuanglian.patents.service import search_patents
from shuanglian.supermarket import search_terms, service
from shuanglian.supermarket.models import ListingTerm
from shuanglian.text.normalize import normalize_for_search

SCALE = Scale(patents=1200, listings=300, seed=7)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cache(SCALE, work=tmp_path_factory.mktemp("scale"))


def _rows(cache: Path, table: str) -> list[dict[str, str]]:
    lines = (cache / f"{table}.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, map(unescape, line.split("\t")), strict=True)) for line in lines[1:]]


@given(st.text())
def test_copy_text_escaping_round_trips(text: str) -> None:
    cell = escape(text)
    assert "\t" not in cell and "\n" not in cell and "\r" not in cell
    assert cell != NULL
    assert unescape(cell) == text


@given(
    st.integers(0, 9_999_999), st.integers(2000, 2099), st.sampled_from(["1", "2", "3", "8", "9"])
)
def test_cn_numbers_carry_the_cnipa_check_digit(index: int, year: int, kind: str) -> None:
    key, number = _cn_number(index, year, kind)
    assert number == f"{key}.{cn_check_digit(key[2:])}"
    assert is_valid_application_number(number)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_search_form_fast_path_equals_normalize_for_search(text: str) -> None:
    assert search_form(text) == normalize_for_search(text)


@given(st.text())
def test_search_form_equals_normalize_for_search_on_any_text(text: str) -> None:
    assert search_form(text) == normalize_for_search(text)


def test_scale_pools_at_least_the_listed_patents() -> None:
    with pytest.raises(ValueError, match="cannot exceed"):
        Scale(patents=100, listings=101)
    assert Scale(patents=100, listings=80, pool_share=0.5).pooled == 80
    assert Scale(patents=100, listings=10, pool_share=0.9).pooled == 90


def test_cache_counts_and_determinism(cache: Path, tmp_path: Path) -> None:
    rows = {t: _rows(cache, t) for t in ("patents", "inventory_pool", "market_listings")}
    assert len(rows["patents"]) == 1200
    assert len(rows["inventory_pool"]) == SCALE.pooled == 600
    assert len(rows["market_listings"]) == 300
    again = build_cache(SCALE, work=tmp_path)
    for name in ("patents.tsv", "market_listings.tsv", "market_listing_patents.tsv"):
        assert (again / name).read_bytes() == (cache / name).read_bytes()
    # Reused, not rebuilt, while the manifest matches.
    stamp = (again / "patents.tsv").stat().st_mtime_ns
    build_cache(SCALE, work=tmp_path)
    assert (again / "patents.tsv").stat().st_mtime_ns == stamp


def test_cached_rows_are_valid_listings_of_pooled_patents(cache: Path) -> None:
    patents = {r["id"]: r for r in _rows(cache, "patents")}
    pooled = {r["patent_id"] for r in _rows(cache, "inventory_pool")}
    listings = {r["id"]: r for r in _rows(cache, "market_listings")}
    members: dict[str, list[str]] = {}
    for r in _rows(cache, "market_listing_patents"):
        members.setdefault(r["listing_id"], []).append(r["patent_id"])
    assert set(members) == set(listings)
    assert any(len(m) > 1 for m in members.values()), "some listings are packages"
    for lid, listing in listings.items():
        assert members[lid][0] == listing["patent_id"]
        for pid in members[lid]:
            assert pid in pooled
            assert patents[pid]["institution_id"] == listing["institution_id"]
            assert patents[pid]["title"] and patents[pid]["title"].lower() in listing["search_text"]
        assert listing["modes"].startswith(",") and listing["modes"].endswith(",")
    for p in list(patents.values())[:50]:
        assert is_valid_application_number(p["application_number"])
        assert p["search_text"] == normalize_for_search(f"{p['title']} {p['abstract']}")
    terms = load_terms(cache)
    assert terms["en_common"] and terms["zh_industry"] and terms["industries"]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    name = None
    url = None
    if request.param == "postgresql":
        name = f"shuanglian_test_scale_{uuid.uuid4().hex[:8]}"
        url = ensure_postgresql_database(name)
    engine = make_engine(Settings(home=tmp_path, database_url=url))
    yield engine
    engine.dispose()
    if name:
        drop_postgresql_database(name)


def test_fill_database_loads_rows_the_app_can_serve(empty_engine: Engine, cache: Path) -> None:
    report = fill_database(empty_engine, scale=SCALE, cache=cache)
    assert not report.reused and report.rows["patents"] == 1200 and report.size_bytes > 0
    factory = make_session_factory(empty_engine)
    with factory() as session:
        published = service.search_listings(session, limit=5)
        assert published.items and all(x.status == "published" for x in published.items)
        term = load_terms(cache)["en_common"][0]
        hits = service.search_listings(session, q=term, limit=5)
        # Each hit has the word itself or one whole reading of it in the other language.
        query = search_terms.parse_query(term)
        assert hits.total > 0
        for x in hits.items:
            indexed = service.terms_of(x)
            assert set(query.terms) <= indexed
            assert all(any(set(o) <= indexed for o in g.options()) for g in query.groups)
        listing = service.get_listing(session, listing_id=published.items[0].id)
        assert listing.members and listing.members[0].patent.title
        # The cached term rows are exactly what the service would index the listing under.
        for item in published.items:
            indexed = session.scalars(
                select(ListingTerm.term).where(ListingTerm.listing_id == item.id)
            )
            assert set(indexed) == service.terms_of(item)
        # Patents carry their search terms too: a title word finds its patent.
        patent = listing.members[0].patent
        found = search_patents(session, q=patent.title, limit=100)
        assert patent.id in {p.id for p in found.items}
    assert fill_database(empty_engine, scale=SCALE, cache=cache).reused
    with factory() as session:
        # Ids were loaded explicitly: new rows must still get fresh ids (sequences moved on).
        session.add(Institution(name="新机构 (new institution)"))
        session.commit()
        assert session.scalar(select(func.count()).select_from(Institution)) == 3
    with pytest.raises(RuntimeError, match="database not empty"):
        fill_database(empty_engine, scale=SCALE, cache=cache)


def test_sqlite_and_postgresql_hold_the_same_values(cache: Path, tmp_path: Path) -> None:
    """The raw SQLite path stores what SQLAlchemy would: read back, both backends agree."""
    from shuanglian.inventory.models import PoolEntry
    from shuanglian.patents.models import Patent
    from shuanglian.supermarket.models import Listing

    name = f"shuanglian_test_scale_{uuid.uuid4().hex[:8]}"
    engines = {
        "sqlite": make_engine(Settings(home=tmp_path, database_url=None)),
        "postgresql": make_engine(
            Settings(home=tmp_path, database_url=ensure_postgresql_database(name))
        ),
    }
    try:
        seen: dict[str, list[dict[str, object]]] = {}
        for backend, engine in engines.items():
            fill_database(engine, scale=SCALE, cache=cache)
            rows: list[dict[str, object]] = []
            with make_session_factory(engine)() as session:
                for model in (Patent, PoolEntry, Listing):
                    for obj in session.scalars(select(model).order_by(model.id).limit(40)):
                        values = {c.key: getattr(obj, c.key) for c in model.__table__.columns}
                        for key, value in values.items():
                            if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None):
                                values[key] = value.replace(tzinfo=None)  # SQLite keeps naive
                        rows.append(values)
            seen[backend] = rows
        assert seen["sqlite"] == seen["postgresql"]
        assert any(r.get("active") is True for r in seen["sqlite"])
    finally:
        for engine in engines.values():
            engine.dispose()
        drop_postgresql_database(name)
