"""Create or upgrade the database schema with Alembic (the migrations ship inside the package)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_database(engine: Engine) -> tuple[str | None, str | None]:
    """Bring the schema to the newest revision; returns (revision before, revision after)."""
    before = current_revision(engine)
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a SQLite table (copy, DROP, rename) to change a column; with
            # foreign keys on, that DROP would cascade into every child table (a listing's
            # terms, packages, visits). The pragma only takes effect outside a transaction,
            # so it is set on the raw connection before SQLAlchemy emits BEGIN.
            _raw_pragma(conn, "PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        finally:
            if sqlite:
                _raw_pragma(conn, "PRAGMA foreign_keys=ON")
    return before, current_revision(engine)


def _raw_pragma(conn: Connection, statement: str) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute(statement)


def make_revision(engine: Engine, message: str) -> None:
    """Autogenerate a migration from the models (developers: `python -m shuanglian.migrate`)."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)


if __name__ == "__main__":
    import sys
    import tempfile

    from shuanglian.config import Settings
    from shuanglian.db import make_engine

    # Autogenerate against a scratch SQLite database upgraded to head, so only the new
    # changes land in the new revision.
    with tempfile.TemporaryDirectory() as tmp:
        eng = make_engine(Settings(home=Path(tmp)))
        upgrade_database(eng)
        make_revision(eng, sys.argv[1] if len(sys.argv) > 1 else "schema change")
