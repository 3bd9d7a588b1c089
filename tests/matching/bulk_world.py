"""A small real world for the bulk job's tests: CNKI-exported patents and registered enterprises.

Patents are the first N rows of the real CNKI export of one university (title, 摘要, IPC from
the CLC column), all pooled with a score that decreases with the row; enterprises are the first
M real 2002 registrations (name, 经营范围) with a GB/T 4754 大类 guessed from scope keywords.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Engine, insert

from shuanglian.config import Settings
from shuanglian.db import Base, make_engine, make_session_factory, session_scope
from shuanglian.enterprises.models import Enterprise
from shuanglian.inventory.models import PoolEntry
from shuanglian.patents.models import Institution, Patent

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CNKI = SHARED / "data/samples/cn_patents_sysu_cnki_export_1467.csv"
ENTERPRISES = SHARED / "data/samples/cn_enterprises_2002_business_scope.csv"
_SCOPE = (("软件", "I65"), ("电子", "C39"), ("仪器", "C40"), ("医药", "C27"), ("化工", "C26"),
          ("机械", "C34"), ("电气", "C38"), ("食品", "C14"))  # fmt: skip


def _industry(scope: str) -> str | None:
    return next((code for word, code in _SCOPE if word in scope), None)


def load_world(engine: Engine, *, patents: int, enterprises: int) -> None:
    """Create the tables and insert the rows (ids 1..N and 1..M, deterministic)."""
    Base.metadata.create_all(engine)
    with CNKI.open(encoding="utf-8-sig") as fh:
        cnki = [r for r in csv.DictReader(fh) if r["Title-题名"].strip()][:patents]
    with ENTERPRISES.open(encoding="utf-8") as fh:
        ents = []
        for row in csv.DictReader(fh):
            if len(ents) == enterprises:
                break
            ents.append(
                {
                    "id": len(ents) + 1,
                    "name": row["企业名称"],
                    "business_scope": row["经营范围"],
                    "industry_code": _industry(row["经营范围"]),
                    "province": row["所在省份"],
                }
            )
    with engine.begin() as conn:
        conn.execute(insert(Institution), [{"id": 1, "name": "中山大学"}])
        conn.execute(insert(Enterprise), ents)
        rows = []
        for i, r in enumerate(cnki, start=1):
            codes = [c.strip() for c in r["CLC-中图分类号"].split(";") if c.strip()]
            rows.append(
                {
                    "id": i,
                    "application_key": f"CNKI{i:06d}",
                    "application_number": r["PubNo-公开号"],
                    "title": r["Title-题名"],
                    "abstract": r["Summary-摘要"],
                    "search_text": r["Title-题名"],
                    "main_ipc": codes[0] if codes else None,
                    "ipc_codes": codes,
                    "institution_id": 1,
                    "applicants": [],
                    "inventors": [],
                    "cpc_codes": [],
                }
            )
        conn.execute(insert(Patent), rows)
        conn.execute(
            insert(PoolEntry),
            [
                {
                    "patent_id": r["id"],
                    "institution_id": 1,
                    "active": True,
                    "score": float(100 - (r["id"] % 37)),
                }
                for r in rows
            ],  # fmt: skip
        )


def build_world(settings: Settings, *, patents: int, enterprises: int) -> None:
    """Load the world into `settings`' database and build both matching indexes."""
    from shuanglian.matching.service import build_index

    engine = make_engine(settings)
    try:
        load_world(engine, patents=patents, enterprises=enterprises)
        with session_scope(make_session_factory(engine)) as session:
            build_index(session, settings=settings)
    finally:
        engine.dispose()
