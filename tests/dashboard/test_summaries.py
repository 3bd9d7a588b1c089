"""Kept figures and tables (dashboard.summary) always equal the SQL computed afresh.

A piece is reused only while the change tokens of the tables it read are unchanged; the
triggers replace a table's token in the transaction of every write. After each kind of write
the kept dashboard must equal the one computed straight from the database, and a build with no
write in between must reuse every piece."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.dashboard import refresh, service, summary
from shuanglian.dashboard.models import DashSummary, DashVersion
from shuanglian.deals.models import Contract, Deal, InventorPayout
from shuanglian.figures import Scope, headline_figures
from shuanglian.inventory.models import Feedback, PoolEntry, Push, PushRound
from shuanglian.migrate import alembic_config, upgrade_database
from shuanglian.patents.models import Patent
from shuanglian.supermarket.service import record_visit
from tests.conftest import _create_pg_database, _drop_pg_database
from tests.dashboard.world import World, at, build
from tests.web.factories import make_institution, make_patent

TODAY = date(2026, 12, 20)


def _scopes(w: World) -> list[Scope]:
    return [
        Scope(),
        Scope.parse(period="2026Q4"),
        Scope.parse(region="32", period="2026-11"),
        Scope.parse(region="浙江"),
        Scope(institution_id=w.a),
        Scope(institution_id=w.b, period=Scope.parse(period="2026-12").period),
    ]


def _fresh(s: Session, scope: Scope) -> tuple[dict[str, Any], dict[str, Any]]:
    """Straight from SQL, nothing kept."""
    keys = [
        k
        for k in service.CARD_KEYS
        if scope.institution_id is None or service.BY_KEY[k].query(TODAY)[1] is not None
    ]
    cards = headline_figures(s, keys=keys, scope=scope, today=TODAY)
    tables = {}
    for k in service.table_keys(scope):
        t = service.BUILDERS[k](s, scope, today=TODAY)
        tables[k] = (t.rows, t.rows_en)
    return cards, tables


def _kept(s: Session, scope: Scope) -> tuple[dict[str, Any], dict[str, Any], summary.Pieces]:
    pieces = summary.Pieces(s)
    board = service.build_dashboard(s, scope=scope, today=TODAY, pieces=pieces)
    return board.cards, {k: (t.rows, t.rows_en) for k, t in board.tables.items()}, pieces


def _push(s: Session, w: World) -> None:
    rnd = s.scalar(select(PushRound))
    a3 = s.scalar(select(Patent).where(Patent.institution_id == w.a).order_by(Patent.id.desc()))
    assert rnd is not None and a3 is not None
    s.add(Push(round_id=rnd.id, patent_id=a3.id, enterprise_id=w.e2, rank=1, score=0.5,
               created_at=at(11, 20)))  # fmt: skip


def _feedback(s: Session, w: World) -> None:
    push = s.scalar(select(Push).where(~Push.id.in_(select(Feedback.push_id))))
    assert push is not None
    s.add(Feedback(push_id=push.id, patent_id=push.patent_id, enterprise_id=push.enterprise_id,
                   prospect=5, intent="转让", created_at=at(11, 25)))  # fmt: skip


def _deal_and_contract(s: Session, w: World) -> None:
    s.execute(update(Deal).values(stage="closed", stage_changed_on=date(2026, 12, 15)))
    s.add(Contract(number="HT-9", kind="licence", title="许可", institution_id=w.b,
                   enterprise_id=w.e1, signed_on=date(2026, 11, 12), amount=Decimal("7.5"),
                   payment_mode="lump_sum"))  # fmt: skip


def _payout(s: Session, w: World) -> None:
    c = s.scalar(select(Contract).order_by(Contract.id))
    assert c is not None
    s.add(InventorPayout(contract_id=c.id, paid_on=date(2026, 11, 30), amount=Decimal(3)))


def _listing_view(s: Session, w: World) -> None:
    assert record_visit(s, listing_id=w.listing, source="qr")
    assert record_visit(s, listing_id=w.listing, source=None)


def _pool(s: Session, w: World) -> None:
    s.execute(update(PoolEntry).where(PoolEntry.grade == "A").values(grade="C"))
    entry = s.scalar(select(PoolEntry).where(PoolEntry.grade == "B"))
    assert entry is not None
    entry.active, entry.left_at = False, at(11, 15)


def _patent(s: Session, w: World) -> None:
    from shuanglian.patents.models import Institution

    b = s.get(Institution, w.b)
    assert b is not None
    make_patent(s, b, main_ipc="G06F 16/00")


def _delete_push(s: Session, w: World) -> None:
    push = s.scalar(select(Push).where(~Push.id.in_(select(Feedback.push_id))))
    assert push is not None
    s.delete(push)


WRITES = {
    "push": _push,
    "feedback": _feedback,
    "deal_and_contract": _deal_and_contract,
    "inventor_payout": _payout,
    "listing_view": _listing_view,
    "pool_grade_and_exit": _pool,
    "patent": _patent,
    "push_deleted": _delete_push,
}


@pytest.mark.parametrize("write", list(WRITES))
def test_kept_dashboards_equal_fresh_sql_after_each_kind_of_write(db_session, write) -> None:
    s = db_session
    w = build(s)
    s.flush()
    scopes = _scopes(w)
    for scope in scopes:  # keep every piece
        cards, tables, _ = _kept(s, scope)
        assert (cards, tables) == _fresh(s, scope)
    for scope in scopes:  # nothing written: everything is reused
        _, _, pieces = _kept(s, scope)
        assert pieces.computed == [] and pieces.hits > 0
    WRITES[write](s, w)
    s.flush()
    changed = 0
    for scope in scopes:
        cards, tables, pieces = _kept(s, scope)
        assert (cards, tables) == _fresh(s, scope), (write, scope)
        changed += len(pieces.computed)
    assert changed > 0


def test_a_write_recomputes_only_what_reads_the_written_table(db_session) -> None:
    s = db_session
    w = build(s)
    s.flush()
    _kept(s, Scope())
    _listing_view(s, w)
    s.flush()
    _, _, pieces = _kept(s, Scope())
    redone = {key.split(":")[1] for key, _, _ in pieces.computed}
    assert {"views", "scans", "top_listings"} <= redone
    assert not redone & {"pushed_patents", "feedback", "funnel", "by_industry", "by_month"}


def test_refresh_stores_pieces_every_process_reuses(db_session) -> None:
    s = db_session
    build(s)
    s.flush()
    first = refresh.refresh(s, today=TODAY)
    assert first["computed"] > 0
    assert s.scalar(select(func.count()).select_from(DashSummary)) == first["computed"]
    summary.forget_memory()
    again = refresh.refresh(s, today=TODAY)  # idempotent: nothing changed, nothing redone
    # (the kept tables are reused whole: the statements kept inside them are not looked at)
    assert again["computed"] == 0 and 0 < again["unchanged"] <= first["computed"]
    summary.forget_memory()
    pieces = summary.Pieces(s)
    service.build_dashboard(s, scope=Scope(), today=TODAY, pieces=pieces)
    assert pieces.computed == [] and pieces.hits > 0


def test_a_piece_reading_a_table_without_a_token_is_never_kept(db_session) -> None:
    s = db_session
    pieces = summary.Pieces(s)
    sql = text("SELECT count(*) FROM patents")
    assert pieces.get("probe:text", lambda: int(s.scalar(sql) or 0)) == 0
    assert pieces.computed == []


def test_every_table_the_dashboards_read_has_a_token(db_session) -> None:
    s = db_session
    w = build(s)
    s.flush()
    tokens = set(s.scalars(select(DashVersion.name)))
    for scope in _scopes(w):
        with summary.reads(s) as tables:
            _fresh(s, scope)
        assert "?" not in tables and tables <= tokens, tables - tokens


def _function(engine: Any) -> dict[str, str] | None:
    """PostgreSQL: the trigger functions' sources (the migration's and the models' must
    agree)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        sql = "SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'dash%'"
        return {str(n): str(src) for n, src in conn.execute(text(sql))}


def _triggers(engine: Any) -> set[str]:
    sql = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger'",
        "postgresql": "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal",
    }[engine.dialect.name]
    with engine.connect() as conn:
        return {n for n in conn.scalars(text(sql)) if n.startswith("dash_bump_")}


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_engine(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    from shuanglian.db import make_engine

    pg_name = None
    if request.param == "postgresql":
        pg_name, url = _create_pg_database()
        settings = Settings(home=tmp_path, database_url=url)
    else:
        settings = Settings(home=tmp_path, database_url=None)
    engine = make_engine(settings)
    yield engine
    engine.dispose()
    if pg_name:
        _drop_pg_database(pg_name)


def test_migration_installs_tokens_and_goes_back_down(blank_engine, tmp_path: Path) -> None:
    from shuanglian.db import Base, make_engine

    upgrade_database(blank_engine)
    installed = _triggers(blank_engine)
    assert "dash_bump_inventory_pushes" in installed or (
        "dash_bump_inventory_pushes_insert" in installed
    )
    with Session(blank_engine) as s:
        before = summary.current_versions(s)["institutions"]
    with Session(blank_engine) as s:
        make_institution(s, "甲")
        s.commit()
    with Session(blank_engine) as s:
        assert summary.current_versions(s)["institutions"] != before
    migrated_function = _function(blank_engine)
    if migrated_function is not None:
        assert set(migrated_function) == {"dash_bump", "dash_append", "dash_fold"}
    # create_all (tests, benchmarks) installs the same triggers as the migration.
    other_home = tmp_path / "created"
    url = name = None
    if blank_engine.dialect.name == "postgresql":
        name, url = _create_pg_database()
    created = make_engine(Settings(home=other_home, database_url=url))
    try:
        Base.metadata.create_all(created)
        assert _triggers(created) == installed
        assert _function(created) == migrated_function
    finally:
        created.dispose()
        if name:
            _drop_pg_database(name)
    cfg = alembic_config(blank_engine)
    with blank_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "b7c3e1f0a9d2")
    assert _triggers(blank_engine) == set()
    with blank_engine.begin() as conn:  # writes work without the tokens table
        conn.execute(text("UPDATE institutions SET name = '乙'"))
        tables = {
            "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
            "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
        }[blank_engine.dialect.name]
        assert not {"dash_versions", "dash_summaries"} & set(conn.scalars(text(tables)))
    upgrade_database(blank_engine)
    assert _triggers(blank_engine) == installed


def test_tables_rebuilt_from_kept_statements_stay_exact_over_successive_writes(
    db_session,
) -> None:
    """A table rebuilt after a push reuses its statements that read no pushes; it must still
    be recomputed when one of those statements' tables changes next (the kept statements'
    tables count as the table's own)."""
    s = db_session
    w = build(s)
    s.flush()
    scopes = _scopes(w)
    for scope in scopes:
        _kept(s, scope)
    for write in ("push", "patent", "pool_grade_and_exit", "feedback", "push_deleted"):
        WRITES[write](s, w)
        s.flush()
        for scope in scopes:
            cards, tables, pieces = _kept(s, scope)
            assert (cards, tables) == _fresh(s, scope), (write, scope)
            if write == "push" and scope == Scope():
                redone = {key for key, _, _ in pieces.computed}
                assert "table:by_patent_type:i=;r=;p=:2026-12-20" in redone
                assert pieces.hits > 0  # its patent and pool counts were kept


@pytest.mark.parametrize("write", ["push", "feedback", "push_deleted", "pool_grade_and_exit"])
def test_what_was_kept_inside_a_rolled_back_write_is_never_reused(db_session, write) -> None:
    s = db_session
    w = build(s)
    s.flush()
    scopes = _scopes(w)
    before = {}
    for scope in scopes:
        cards, tables, _ = _kept(s, scope)
        before[scope] = (cards, tables)
    inner = s.begin_nested()
    WRITES[write](s, w)
    s.flush()
    for scope in scopes:  # kept under the rolled-back transaction's tokens
        cards, tables, _ = _kept(s, scope)
        assert (cards, tables) == _fresh(s, scope)
    inner.rollback()
    for scope in scopes:  # what was computed inside is filed under tokens now gone
        cards, tables, _ = _kept(s, scope)
        assert (cards, tables) == _fresh(s, scope) == before[scope], (write, scope)
