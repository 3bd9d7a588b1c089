"""Migrations and models must agree on both backends: `init` builds the tables the code uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.db import Base, make_engine
from shuanglian.migrate import alembic_config, upgrade_database
from shuanglian.patents.service import search_patents
from shuanglian.supermarket import catalogue_cache
from shuanglian.supermarket.models import SORT_INDEXES
from shuanglian.supermarket.service import search_listings
from tests.conftest import _create_pg_database, _drop_pg_database


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_to_head_matches_the_models(backend: str, tmp_path: Path):
    pg_name = None
    if backend == "postgresql":
        pg_name, url = _create_pg_database()
        settings = Settings(home=tmp_path, database_url=url)
    else:
        settings = Settings(home=tmp_path, database_url=None)
    engine = make_engine(settings)
    try:
        before, after = upgrade_database(engine)
        assert before is None and after is not None
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        # A second upgrade is a no-op.
        assert upgrade_database(engine) == (after, after)
    finally:
        engine.dispose()
        if pg_name:
            _drop_pg_database(pg_name)


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_engine(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
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


def test_the_catalogue_sort_indexes_exist_after_upgrade(blank_engine) -> None:
    """Autogenerate cannot compare expression indexes, so check the ones the models declare."""
    upgrade_database(blank_engine)
    sql = {
        "sqlite": "SELECT name FROM sqlite_master WHERE tbl_name = 'market_listings'",
        "postgresql": "SELECT indexname FROM pg_indexes WHERE tablename = 'market_listings'",
    }[blank_engine.dialect.name]
    with blank_engine.connect() as conn:
        names = set(conn.scalars(text(sql)))
    assert {ix.name for ix in SORT_INDEXES} <= names


def _insert_battery_listing(engine) -> int:  # type: ignore[no-untyped-def]
    """A listing of 废旧锂电池回收 and its patent, written as SQL with the columns of revision
    9f01556e2361 or later (the ORM models are newer); returns its id."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO institutions (name, kind, created_at, updated_at) "
                "VALUES ('测试大学', 'university', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        inst_id = conn.execute(text("SELECT id FROM institutions")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO patents (application_key, application_number, title, search_text, "
                "applicants, inventors, ipc_codes, cpc_codes, language, institution_id, "
                "created_at, updated_at) VALUES ('CN202400000001', 'CN202400000001.1', "
                "'一种锂电池回收方法', '一种锂电池回收方法', '[]', '[]', '[]', '[]', 'zh', :inst, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"inst": inst_id},
        )
        patent_id = conn.execute(text("SELECT id FROM patents")).scalar_one()
        # Two counters the listings had at first and lost later.
        has = {c["name"] for c in inspect(conn).get_columns("market_listings")}
        counters = [c for c in ("deals_signed", "signed_amount") if c in has]
        conn.execute(
            text(
                "INSERT INTO market_listings (patent_id, institution_id, title, summary, "
                "search_text, industries, modes, status, featured, view_count, scan_count, "
                f"{''.join(c + ', ' for c in counters)}created_at, updated_at) VALUES (:patent, "
                ":inst, '废旧锂电池回收', 'Battery recycling', '废旧锂电池回收 battery recycling', "
                f"',C38,', ',licence,', 'published', :no, 0, 0, {'0, ' * len(counters)}"
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"patent": patent_id, "inst": inst_id, "no": False},
        )
        listing_id = conn.execute(text("SELECT id FROM market_listings")).scalar_one()
    return int(listing_id)


def test_upgrading_indexes_the_listings_already_there(blank_engine) -> None:
    cfg = alembic_config(blank_engine)
    with blank_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "9f01556e2361")  # before the catalogue's term index
    listing_id = _insert_battery_listing(blank_engine)
    upgrade_database(blank_engine)
    with Session(blank_engine) as session:
        for q, kw in (("电池", {}), ("batteries", {}), ("lithium", {}), (None, {"industry": "C3"})):
            page = search_listings(session, q=q, mode="licence", **kw)
            assert [x.id for x in page.items] == [listing_id]


def _insert_admin(conn) -> None:  # type: ignore[no-untyped-def]
    """User 1, an admin, written as SQL: the models may be ahead of the revision under test."""
    conn.execute(
        text(
            "INSERT INTO users (username, password_hash, role, is_active, created_at, "
            "updated_at) VALUES ('u', 'x', 'admin', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
    )


def test_the_audit_merge_goes_down_and_up_keeping_every_entry(blank_engine) -> None:
    """Migration a1d17c0e0b01 splits the one log back into the two old tables and merges
    them again: an accounts event and an inventory entry survive both ways, detail intact."""
    cfg = alembic_config(blank_engine)
    with blank_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "a1d17c0e0b01")
        _insert_admin(conn)
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor_id, actor_name, action, subject_type, "
                "subject_id, detail) VALUES (CURRENT_TIMESTAMP, 1, 'u', 'user.login', 'users', "
                "1, :login), (CURRENT_TIMESTAMP, 1, 'u', 'review.submit', 'inventory_items', 5, "
                ":review)"
            ),
            {
                "login": '{"text": "web"}',
                "review": '{"before": {"status": "draft"}, "after": {"status": "college_review"},'
                ' "comment": "ok"}',
            },
        )
        command.downgrade(cfg, "955dae63c0a3")
        events = conn.execute(text("SELECT action, object_type, detail FROM audit_events")).all()
        assert [tuple(e) for e in events] == [("user.login", "user", "web")]
        command.upgrade(cfg, "a1d17c0e0b01")
        rows = conn.execute(
            text("SELECT action, subject_type, subject_id FROM audit_log ORDER BY action")
        ).all()
        assert [tuple(r) for r in rows] == [
            ("review.submit", "inventory_items", 5),
            ("user.login", "users", 1),
        ]


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
def test_account_applications_and_follows_go_down_and_up(blank_engine) -> None:
    """Revision e5a2c8d3f1b4 (account applications, listing contact fields, saves, follows,
    sent alerts) downgrades and upgrades again; a listing keeps its row and the catalogue's
    expression indexes survive SQLite's table rebuild."""
    cfg = alembic_config(blank_engine)
    sql = {
        "sqlite": "SELECT name FROM sqlite_master WHERE tbl_name = 'market_listings'",
        "postgresql": "SELECT indexname FROM pg_indexes WHERE tablename = 'market_listings'",
    }[blank_engine.dialect.name]
    with blank_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "e5a2c8d3f1b4")
        conn.execute(
            text(
                "INSERT INTO institutions (name, kind, created_at, updated_at) VALUES "
                "('迁移大学', 'university', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO market_listings (institution_id, title, summary, industries, modes, "
                "status, featured, search_text, view_count, scan_count, benefits, "
                "created_at, updated_at) VALUES (1, '迁移成果', '简介', ',', ',licence,', "
                "'published', false, '', 0, 0, '节能', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        command.downgrade(cfg, "b7c3e1f0a9d2")
        tables = set(
            conn.scalars(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    if blank_engine.dialect.name == "sqlite"
                    else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            )
        )
        assert not {"account_applications", "market_saved", "market_follows"} & tables
        assert conn.scalar(text("SELECT title FROM market_listings")) == "迁移成果"
        assert {ix.name for ix in SORT_INDEXES} <= set(conn.scalars(text(sql)))
        command.upgrade(cfg, "e5a2c8d3f1b4")
        assert conn.scalar(text("SELECT benefits FROM market_listings")) is None
        assert {ix.name for ix in SORT_INDEXES} <= set(conn.scalars(text(sql)))


def test_upgrading_indexes_the_patents_already_there(blank_engine) -> None:
    cfg = alembic_config(blank_engine)
    with blank_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "b7c3e1f0a9d2")  # before the patents' term index
    with blank_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO patents (application_key, application_number, title, alt_title, "
                "search_text, applicants, inventors, ipc_codes, cpc_codes, language, "
                "created_at, updated_at) VALUES ('CN202400000001', 'CN202400000001.1', "
                "'一种锂电池回收方法', 'Lithium battery recycling', '一种锂电池回收方法', "
                "'[]', '[]', '[]', '[]', 'zh', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    upgrade_database(blank_engine)
    with Session(blank_engine) as session:
        for q in ("锂电池", "batteries"):
            assert len(search_patents(session, q=q).items) == 1
    with blank_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "b7c3e1f0a9d2")


def test_notifications_in_english_go_down_and_up(blank_engine) -> None:
    """Revision b3f8c1d6e4a2 adds `title_en` and `body_en`: a notification stored before keeps
    its Chinese and has no English; downgrading drops the English and keeps every row."""
    cfg = alembic_config(blank_engine)

    def columns(conn) -> set[str]:  # type: ignore[no-untyped-def]
        return {c["name"] for c in inspect(conn).get_columns("notifications")}

    with blank_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "a7d4e2c9f1b3")
        _insert_admin(conn)
        conn.execute(
            text(
                "INSERT INTO notifications (user_id, created_at, kind, title, body, emailed) "
                "VALUES (1, CURRENT_TIMESTAMP, 'deal.new', '新的洽谈项目：旧', '旧正文', false)"
            )
        )
        command.upgrade(cfg, "b3f8c1d6e4a2")
        assert {"title_en", "body_en"} <= columns(conn)
        assert conn.execute(
            text("SELECT title, body, title_en, body_en FROM notifications")
        ).one() == ("新的洽谈项目：旧", "旧正文", None, None)
        conn.execute(
            text(
                "INSERT INTO notifications (user_id, created_at, kind, title, title_en, "
                "body, body_en, emailed) VALUES (1, CURRENT_TIMESTAMP, 'deal.new', "
                "'新的洽谈项目：新', 'New deal: 新', '正文', 'Body', false)"
            )
        )
        command.downgrade(cfg, "a7d4e2c9f1b3")
        assert not {"title_en", "body_en"} & columns(conn)
        titles = conn.scalars(text("SELECT title FROM notifications ORDER BY id")).all()
        assert titles == ["新的洽谈项目：旧", "新的洽谈项目：新"]
        command.upgrade(cfg, "b3f8c1d6e4a2")
        assert {"title_en", "body_en"} <= columns(conn)


def test_upgrading_indexes_the_elements_of_the_listings_already_there(blank_engine) -> None:
    """Revision c9e4a2f7d1b8 adds each listing's element terms (锂 of 锂电池), so `lithium` finds
    a listing saved before; downgrading removes them and nothing else."""
    cfg = alembic_config(blank_engine)
    with blank_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "a7d3e9c2b5f1")
    listing_id = _insert_battery_listing(blank_engine)
    with blank_engine.begin() as conn:  # its terms as the code before this revision wrote them
        conn.execute(
            text(
                "INSERT INTO market_listing_terms (term, listing_id) VALUES "
                "('废旧', :id), ('锂电', :id), ('电池', :id), ('回收', :id), ('batteri', :id)"
            ),
            {"id": listing_id},
        )

    def found(q: str) -> list[int]:
        with Session(blank_engine) as session:
            return [x.id for x in search_listings(session, q=q).items]

    assert found("lithium") == [] and found("电池") == [listing_id]
    upgrade_database(blank_engine)
    catalogue_cache.clear()  # a server starts after its upgrade: no counts kept from before
    assert found("lithium") == [listing_id] and found("电池") == [listing_id]
    with blank_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "a7d3e9c2b5f1")
        terms = conn.scalars(text("SELECT term FROM market_listing_terms ORDER BY term")).all()
    assert sorted(terms) == sorted(["废旧", "锂电", "电池", "回收", "batteri"])
