"""The web load benchmark end to end on a tiny SQLite catalogue: server, locust, stats."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from benchmarks.scale_data import (
    Scale,
    build_cache,
    drop_postgresql_database,
    ensure_postgresql_database,
    fill_database,
    load_terms,
)
from benchmarks.web_load import (
    ENDPOINTS,
    apply_proposed_indexes,
    drop_proposed_indexes,
    format_table,
    machine_info,
    query_profile,
    request_shapes,
    run_locust,
    start_server,
    stop_server,
    unloaded_timings,
)
from shuanglian.config import Settings
from shuanglian.db import make_engine

SCALE = Scale(patents=600, listings=150, seed=3)


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(SQLite home, cache folder) of a tiny filled catalogue."""
    cache = build_cache(SCALE, work=tmp_path_factory.mktemp("scale"))
    home = tmp_path_factory.mktemp("home")
    engine = make_engine(Settings(home=home, database_url=None))
    fill_database(engine, scale=SCALE, cache=cache)
    engine.dispose()
    return home, cache


def test_query_profile_times_and_explains_every_catalogue_query(filled: tuple[Path, Path]) -> None:
    home, cache = filled
    profile = query_profile(home, None, load_terms(cache))
    cases = {p["case"]: p for p in profile}
    assert {"catalogue p1", "search en common", "search no hit"} <= set(cases)
    assert cases["search no hit"]["total"] == 0
    assert cases["catalogue p1"]["total"] > 0
    assert any(case["case"].startswith("facet menus") for case in profile)
    for case in profile:
        assert case["median_ms"] > 0
        if case["case"].startswith("facet menus"):
            continue
        sqls = [s["sql"] for s in case["statements"]]
        assert any("FROM market_listings" in sql for sql in sqls)
        assert all(s["plan"] for s in case["statements"])


def test_locust_run_against_the_served_catalogue(filled: tuple[Path, Path], tmp_path: Path) -> None:
    home, cache = filled
    proc, base = start_server(home, None, workers=1, log=tmp_path / "server.log")
    try:
        unloaded = unloaded_timings(base, request_shapes(load_terms(cache)), repeat=1)
        stats = run_locust(
            base,
            terms_path=cache / "terms.json",
            listings=SCALE.listings,
            users=4,
            seconds=4,
            wait="0,0.2",
            out=tmp_path,
        )
    finally:
        stop_server(proc)
    assert proc.poll() is not None
    assert set(unloaded) == set(request_shapes(load_terms(cache)))
    assert stats["all"]["requests"] >= 10
    assert stats["all"]["failures"] == 0
    assert stats["all"]["p50_ms"] is not None and stats["all"]["p95_ms"] >= stats["all"]["p50_ms"]
    assert set(stats) <= {*ENDPOINTS, "all"}
    table = format_table([{"backend": "sqlite", "stats": stats}])
    assert table.splitlines()[-1].startswith("sqlite     all")


def _index_names(engine: Engine) -> set[str]:
    """Index names of market_listings, expression indexes included (reflection skips them)."""
    sql = (
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'market_listings'"
        if engine.dialect.name == "sqlite"
        else "SELECT indexname FROM pg_indexes WHERE tablename = 'market_listings'"
    )
    with engine.connect() as conn:
        return set(conn.execute(text(sql)).scalars())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_proposed_indexes_are_used_and_dropped_again(
    backend: str, filled: tuple[Path, Path], tmp_path: Path
) -> None:
    _, cache = filled
    name = f"shuanglian_test_idx_{uuid.uuid4().hex[:8]}"
    url = ensure_postgresql_database(name) if backend == "postgresql" else None
    home = tmp_path / "home"
    try:
        engine = make_engine(Settings(home=home, database_url=url))
        fill_database(engine, scale=SCALE, cache=cache)
        assert apply_proposed_indexes(home, url) >= 0
        names = _index_names(engine)
        assert {"ix_market_listings_popular", "ix_market_listings_price"} <= names
        profile = query_profile(home, url, load_terms(cache))
        popular = next(p for p in profile if p["params"].get("sort") == "popular")
        plans = "\n".join(line for st in popular["statements"] for line in st["plan"])
        if backend == "sqlite":  # tiny tables: only SQLite's planner is sure to prefer it
            assert "ix_market_listings_popular" in plans
        drop_proposed_indexes(home, url)
        names = _index_names(engine)
        assert not any(
            n.startswith(("ix_market_listings_popular", "ix_market_listings_price")) for n in names
        )
        engine.dispose()
    finally:
        if url:
            drop_postgresql_database(name)


def test_machine_info_names_the_hardware_and_versions() -> None:
    info = machine_info()
    assert info["cpus"] and info["python"] and info["sqlite"]
    assert info["locust"] and info["uvicorn"] and info["sqlalchemy"]
