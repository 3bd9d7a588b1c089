"""Alembic environment: the URL comes from the caller's config (set by `shuanglian init`)."""

from __future__ import annotations

from alembic import context

import shuanglian.models  # noqa: F401  (registers every table)
from shuanglian.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through shuanglian.migrate.upgrade_database()")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
