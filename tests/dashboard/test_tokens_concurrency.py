"""PostgreSQL: the change tokens never make writers wait for each other (issue 15).

The trigger once updated one shared row per table, locked until commit: a long import blocked
every other writer of the table and two transactions writing two tables in opposite orders
deadlocked. Now each transaction upserts its own `dash_changes` row. Each session here waits
at most `lock_timeout` for a lock, so any waiting on a token shows up as an error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from shuanglian.config import Settings
from shuanglian.dashboard.models import DashChange
from shuanglian.dashboard.summary import current_versions, fold_changes
from shuanglian.db import Base, make_engine
from tests.conftest import _create_pg_database, _drop_pg_database
from tests.web.factories import make_enterprise, make_institution


@pytest.fixture
def pg_engine(tmp_path: Path) -> Iterator[Engine]:
    name, url = _create_pg_database()
    engine = make_engine(Settings(home=tmp_path, database_url=url))
    Base.metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        _drop_pg_database(name)


def _session(engine: Engine) -> Session:
    s = Session(engine)
    s.execute(text("SET lock_timeout = '2s'"))
    return s


def _tokens(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return current_versions(s)


def test_writers_of_the_same_and_of_crossed_tables_never_wait(pg_engine: Engine) -> None:
    before = _tokens(pg_engine)
    a, b = _session(pg_engine), _session(pg_engine)
    try:
        make_institution(a, "甲")  # A holds a write to institutions, uncommitted
        make_enterprise(b, "乙公司")  # B holds enterprises
        make_enterprise(a, "甲公司")  # A → enterprises while B holds it: once a wait
        make_institution(b, "乙")  # B → institutions while A holds it: once a deadlock
        a.commit()
        b.commit()
    finally:
        a.close()
        b.close()
    after = _tokens(pg_engine)
    assert after["institutions"] != before["institutions"]
    assert after["enterprises"] != before["enterprises"]
    assert after["patents"] == before["patents"]


def test_a_long_transaction_does_not_block_a_short_one(pg_engine: Engine) -> None:
    long = _session(pg_engine)
    try:
        for i in range(50):
            make_institution(long, f"导入{i}")
        seen = _tokens(pg_engine)
        short = _session(pg_engine)
        make_institution(short, "短")
        short.commit()  # committed while the import is still open
        short.close()
        middle = _tokens(pg_engine)
        assert middle["institutions"] != seen["institutions"]
        long.commit()
    finally:
        long.close()
    assert _tokens(pg_engine)["institutions"] not in (seen["institutions"], middle["institutions"])


def test_a_rolled_back_write_leaves_the_token_and_folding_changes_it(pg_engine: Engine) -> None:
    rows = select(func.count()).where(DashChange.name == "institutions")
    with Session(pg_engine) as s:
        # One trigger call in a hundred folds on its own: write until three rows stand.
        for i in range(30):
            make_institution(s, f"甲{i}")
            s.commit()
            if i >= 2 and (s.scalar(rows) or 0) >= 3:
                break
    before = _tokens(pg_engine)
    with Session(pg_engine) as s:
        make_institution(s, "撤回")
        assert current_versions(s)["institutions"] != before["institutions"]  # its own write
        s.rollback()
    assert _tokens(pg_engine) == before
    with Session(pg_engine) as s:
        assert fold_changes(s) >= 3
        s.commit()
    folded = _tokens(pg_engine)
    assert folded["institutions"] != before["institutions"]
    with Session(pg_engine) as s:
        assert s.scalar(rows) == 1
        assert fold_changes(s) == 0  # one row per table: nothing to fold, tokens unchanged
        s.commit()
    assert _tokens(pg_engine) == folded
    with Session(pg_engine) as s:
        make_institution(s, "乙")
        s.commit()
    assert _tokens(pg_engine)["institutions"] != folded["institutions"]
