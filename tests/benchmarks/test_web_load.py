"""The web load benchmark end to end on a tiny SQLite catalogue: server, locust, stats."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.scale_data import (
    Scale,
    build_cache,
    fill_database,
    load_terms,
)
from benchmarks.web_load import (
    ENDPOINTS,
    format_table,
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
        assert any("FROM market_listing" in sql for sql in sqls)  # listings or their terms
        assert all(s["plan"] for s in case["statements"])


def test_locust_run_against_the_served_catalogue(filled: tuple[Path, Path], tmp_path: Path) -> None:
    home, cache = filled
    proc, base = start_server(home, None, workers=1, log=tmp_path / "server.log")
    try:
        unloaded = unloaded_timings(base, request_shapes(load_terms(cache)), repeat=1)
        stats, states = run_locust(
            base,
            terms_path=cache / "terms.json",
            listings=SCALE.listings,
            users=4,
            seconds=4,
            wait="0,0.2",
            out=tmp_path,
            spy_pid=proc.pid,
        )
    finally:
        stop_server(proc)
    assert proc.poll() is not None
    assert set(unloaded) == set(request_shapes(load_terms(cache)))
    assert stats["all"]["requests"] >= 10
    assert stats["all"]["failures"] == 0
    assert stats["all"]["p50_ms"] is not None and stats["all"]["p95_ms"] >= stats["all"]["p50_ms"]
    assert set(stats) <= {*ENDPOINTS, "all"}
    table = format_table([{"backend": "sqlite", "loads": [{"users": 4, "stats": stats}]}])
    assert table.splitlines()[-1].split()[:3] == ["sqlite", "4", "all"]
    # Three py-spy snapshots of the server's threads (the event loop and its workers at least).
    assert sum(states.values()) >= 3, states


def test_the_popular_sort_reads_its_index_on_sqlite(filled: tuple[Path, Path], monkeypatch) -> None:
    """The profile's plans show the sorted catalogue walking the app's expression index.

    In this small catalogue every industry's listings are a short list, which is looked up
    and sorted; as in the 100k-listing catalogue, the walk is forced by a lower bound."""
    from shuanglian.supermarket import service

    monkeypatch.setattr(service, "DRIVING_POSTINGS_MAX", 0)
    home, cache = filled
    profile = query_profile(home, None, load_terms(cache))
    popular = next(p for p in profile if p["params"].get("sort") == "popular")
    plans = "\n".join(line for st in popular["statements"] for line in st["plan"])
    assert "ix_market_listings_by_popular" in plans
