"""Database engine, session factory and the declarative Base.

Nothing connects at import time: `make_engine(settings)` is the one place an engine is built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from shuanglian.config import Settings

log = logging.getLogger("shuanglian.db")

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers (the web) keep working while an import writes; foreign keys are off
    # by default in SQLite and we rely on them.
    # pysqlite's own transaction handling skips BEGIN and breaks SAVEPOINT; we take over and
    # emit BEGIN ourselves in `_sqlite_begin` (SQLAlchemy's documented recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


# Execution option that marks a unit of work as one that will write (see `writer`).
WRITES = "shuanglian_writes"
# SQLite: the connection's count of changed rows when its transaction began (the dashboards
# keep what a transaction computed for later reuse only if it wrote nothing itself).
SQLITE_CHANGES_AT_BEGIN = "shuanglian_changes_at_begin"


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    # A write transaction takes SQLite's write lock when it begins (BEGIN IMMEDIATE) and so
    # waits for it up to the busy timeout. A deferred BEGIN that reads first and writes later
    # cannot wait: if another writer committed meanwhile, its upgrade fails at once with
    # "database is locked" — the 500s every login and form saw while an import ran.
    # Reads keep the deferred BEGIN: in WAL mode they never wait for a writer.
    if conn.get_execution_options().get(WRITES):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")
    conn.info[SQLITE_CHANGES_AT_BEGIN] = conn.connection.dbapi_connection.total_changes


def writer(engine: Engine) -> Engine:
    """The same engine (pool, listeners) for units of work that write: on SQLite their
    transactions begin with BEGIN IMMEDIATE; elsewhere nothing changes."""
    return engine.execution_options(**{WRITES: True})


def begin_writing(session: Session) -> None:
    """End the session's read transaction and begin one that writes (SQLite: BEGIN
    IMMEDIATE, waiting for the write lock up to the busy timeout).

    For a request that reads and checks something slow first (a login's password check) and
    only then writes: holding SQLite's single write lock through the check would queue every
    other writer behind it, and a read transaction cannot safely upgrade to a write.
    """
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={WRITES: True})


def make_engine(settings: Settings) -> Engine:
    """Build the engine for the configured database (creating the SQLite folder if needed).

    Pool sizes come from the settings: SQLAlchemy's default of 5 + 10 connections with a 30 s
    wait was what stalled 100 concurrent visitors, long before the CPU was busy.
    """
    url = settings.resolved_database_url
    pool = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_s,
    }
    if url.startswith("sqlite"):
        settings.home.mkdir(parents=True, exist_ok=True)
        connect_args: dict[str, object] = {
            "check_same_thread": False,
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
        }
        if ":memory:" in url or url in ("sqlite://", "sqlite:///"):
            engine = create_engine(url, connect_args=connect_args)
        else:
            engine = create_engine(url, connect_args=connect_args, **pool)  # type: ignore[arg-type]
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # JIT compilation pays off for long analytic scans, never for this app's short queries:
    # a capped catalogue count was measured spending 26 of its 100 ms compiling.
    pg_args = {"options": "-c jit=off"} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, connect_args=pg_args, **pool)  # type: ignore[arg-type]


SQLITE_BUSY_TIMEOUT_MS = 5000  # the wait `refresh_statistics` uses unless told otherwise


def refresh_statistics(engine: Engine, *, wait_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    """Give the query planner fresh table statistics after bulk writes or at start-up.

    SQLite keeps none until ANALYZE runs, and without them it guesses that an equality on any
    index matches ten rows: it then walks the whole catalogue index for a rare search term
    instead of fetching that term's 250 listings (measured at 100k listings: 38 ms → 5 ms).
    `analysis_limit` samples each index, so this takes well under a second even on a
    multi-gigabyte file. PostgreSQL's autovacuum analyses on its own; after an import this
    just brings that forward. On SQLite, ANALYZE writes: `wait_ms` bounds how long it waits
    for another writer before raising OperationalError.
    """
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        configured = 0
        if sqlite:
            configured = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0)
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait_ms)}")
            conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
        try:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        finally:
            if sqlite:
                conn.rollback()
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {configured}")


def make_session_factory(engine: Engine, settings: Settings | None = None) -> sessionmaker[Session]:
    """Sessions for this engine; `settings` rides along in `session.info` for side effects
    (e-mail needs the SMTP settings) so services need not take it as an argument."""
    return sessionmaker(bind=engine, expire_on_commit=False, info={"settings": settings})


def session_settings(session: Session) -> Settings | None:
    """The settings the session's factory was built with, if any."""
    value = session.info.get("settings")
    return value if isinstance(value, Settings) else None


# --- Side effects after commit -------------------------------------------------------------
# E-mail, index refreshes and other effects outside the database must happen only when the
# change they announce is durable. Services register them here; they run right after the
# session's transaction commits and are dropped when it rolls back. A failing hook is logged,
# never raised: the data is already committed and the caller's answer must not become an error.

_HOOKS = "after_commit_hooks"
_RUNNER = "after_commit_runner"


def after_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run `hook()` once the session's current transaction has committed (never on rollback).

    The hook must not use `session`: open a new one if it needs the database.
    """
    session.info.setdefault(_HOOKS, []).append(hook)


def run_hooks(hooks: list[Callable[[], None]]) -> None:
    """Run committed hooks in order; one that fails is logged and the others still run."""
    for hook in hooks:
        try:
            hook()
        except Exception:
            log.exception("after-commit hook %r failed", hook)


def defer_after_commit(
    session: Session, runner: Callable[[list[Callable[[], None]]], None] | None
) -> None:
    """Hand each commit's hooks to `runner` instead of running them at once (None: at once).

    The web uses it to run them after the response has been sent, so a slow mail server
    never delays the page; `runner` must eventually call `run_hooks` on what it gets.
    """
    if runner is None:
        session.info.pop(_RUNNER, None)
    else:
        session.info[_RUNNER] = runner


def _run_after_commit(session: Session) -> None:
    hooks = session.info.pop(_HOOKS, [])
    if not hooks:
        return
    runner = session.info.get(_RUNNER)
    if runner is not None:
        runner(hooks)
    else:
        run_hooks(hooks)


def _drop_after_commit(session: Session, *_args: object) -> None:
    session.info.pop(_HOOKS, None)


event.listen(Session, "after_commit", _run_after_commit)
event.listen(Session, "after_rollback", _drop_after_commit)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error so nothing half-done stays."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
