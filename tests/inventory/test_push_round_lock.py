"""A push round started from the web ranks without SQLite's write lock.

Ranking a round takes seconds to minutes; while a round held the single write lock, every other
writer (a login's audit entry, a feedback form, another API client) waited past the busy timeout
and got "database is locked" — a 500 the API fuzzing found. Real SQLite file, real connections.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from shuanglian.accounts.models import User
from shuanglian.config import Settings
from shuanglian.db import make_engine, make_session_factory
from shuanglian.enterprises.models import Enterprise
from shuanglian.inventory.models import PoolEntry, Push
from shuanglian.inventory.push import run_push_round
from shuanglian.migrate import upgrade_database
from shuanglian.patents.models import Institution, Patent


def _another_writer_can_write(db_file: Path) -> bool:
    conn = sqlite3.connect(db_file, timeout=0)  # no waiting: is the write lock free right now?
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def test_a_web_push_round_ranks_before_it_takes_the_write_lock(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    engine = make_engine(settings)
    upgrade_database(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        inst = Institution(name="锁测试大学")
        session.add(inst)
        session.flush()
        patents = [
            Patent(
                application_key=f"CN20241000000{n}", application_number=f"CN20241000000{n}.X",
                title=f"一种锂电池正极材料 {n}", institution_id=inst.id,
            )
            for n in range(3)
        ]  # fmt: skip
        session.add_all(patents)
        enterprise = Enterprise(name="某电池公司", industry_code="C38", business_scope="锂电池")
        session.add(enterprise)
        session.flush()
        session.add_all(
            PoolEntry(patent_id=p.id, institution_id=inst.id, active=True, score=1.0)
            for p in patents
        )
        admin = User(username="admin", password_hash="x", role="admin", is_active=True)
        session.add(admin)
        session.commit()
        enterprise_id = enterprise.id

    db_file = Path(engine.url.database or "")
    free_while_ranking: list[bool] = []

    def matcher(patent_id: int, top: int) -> list[tuple[int, float, dict[str, Any]]]:
        free_while_ranking.append(_another_writer_can_write(db_file))
        return [(enterprise_id, 0.9, {"method": "probe"})]

    with factory() as session:  # the web's session for a read-first path: a plain one
        actor = session.scalars(select(User)).one()
        rnd = run_push_round(
            session, actor=actor, matcher=matcher, matcher_name="probe", rank_before_writing=True
        )
        assert not _another_writer_can_write(db_file)  # the inserts hold it, until the commit
        session.commit()
    assert free_while_ranking == [True, True, True]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Push)) == rnd.pushes_made == 3
    engine.dispose()
