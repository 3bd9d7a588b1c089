"""Database health at scale: the indexes the key queries need, table sizes, and their plans.

At a million patents and tens of millions of pushes a missing index turns a push list or a
catalogue page from milliseconds into a full table scan. `check_database` looks, on SQLite or
PostgreSQL, at:

- indexes: every (table, leading columns) in `EXPECTED_INDEXES` must be the prefix of some
  index, unique constraint or primary key (the reason for each is written beside it);
- table sizes: rows and bytes per table (SQLite: exact counts, bytes from `dbstat` when the
  build has it; PostgreSQL: the statistics' live rows and `pg_total_relation_size`);
- plans: each query of `KEY_QUERIES` is explained (EXPLAIN QUERY PLAN / EXPLAIN (FORMAT JSON))
  and run once, timed; a plan that scans a whole large table, or a run slower than `slow_ms`,
  is reported as slow.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import SAWarning

# (table, leading columns) → why the index is needed.
EXPECTED_INDEXES: dict[tuple[str, tuple[str, ...]], str] = {
    ("patents", ("application_key",)): "导入去重 (import upsert by application key)",
    ("patents", ("institution_id",)): "单位工作台 (an institution's patents)",
    ("inventory_pool", ("patent_id",)): "入库状态 (pool entry of a patent)",
    ("inventory_pool", ("institution_id",)): "单位资源库 (an institution's pool)",
    ("inventory_pool", ("active",)): "推送遍历 (the active pool a round walks)",
    ("inventory_items", ("institution_id",)): "盘点工作台 (an institution's inventory)",
    ("inventory_items", ("patent_id",)): "专利的盘点条目 (item of a patent)",
    ("inventory_pushes", ("enterprise_id",)): "企业推送列表 (an enterprise's push list)",
    ("inventory_pushes", ("patent_id",)): "专利推送记录、不重复推送 (never push a pair twice)",
    ("inventory_pushes", ("round_id",)): "推送轮次统计 (pushes of a round)",
    ("inventory_feedback", ("push_id",)): "推送的反馈 (feedback of a push)",
    ("inventory_feedback", ("enterprise_id",)): "企业反馈 (an enterprise's feedback)",
    ("market_listings", ("status", "published_at")): "成果超市目录页 (catalogue pages)",
    ("market_listing_terms", ("term",)): "成果超市检索 (catalogue search terms)",
    ("match_bulk_matches", ("job_id", "direction", "query_id")): "企业推荐列表 (recommendations)",
    ("match_bulk_shards", ("job_id",)): "续跑分片 (a job's shards, for resume)",
}

# name → (SQL with :id, the table whose first id fills :id, why it matters).
KEY_QUERIES: dict[str, tuple[str, str, str]] = {
    "catalogue_page": (
        "SELECT id FROM market_listings WHERE status = 'published' "
        "ORDER BY published_at DESC, id DESC LIMIT 24",
        "market_listings",
        "成果超市首页 (catalogue first page)",
    ),
    "push_list_of_enterprise": (
        "SELECT id, patent_id, rank, score FROM inventory_pushes WHERE enterprise_id = :id "
        "ORDER BY round_id DESC, rank, id",
        "enterprises",
        "企业工作台推送列表 (an enterprise's push list)",
    ),
    "pushes_of_patent": (
        "SELECT id, enterprise_id FROM inventory_pushes WHERE patent_id = :id "
        "ORDER BY round_id, rank",
        "patents",
        "专利推送记录 (a patent's pushes)",
    ),
    "institution_pool": (
        "SELECT patent_id, score FROM inventory_pool WHERE institution_id = :id AND active "
        "ORDER BY score DESC LIMIT 50",
        "institutions",
        "单位工作台资源库 (an institution's pool page)",
    ),
    "institution_inventory_progress": (
        "SELECT status, count(*) FROM inventory_items WHERE institution_id = :id GROUP BY status",
        "institutions",
        "盘点进度 (inventory progress of an institution)",
    ),
    "feedback_of_enterprise": (
        "SELECT id, intent FROM inventory_feedback WHERE enterprise_id = :id",
        "enterprises",
        "企业反馈 (an enterprise's feedback)",
    ),
    "recommendations_of_enterprise": (
        "SELECT doc_id, score FROM match_bulk_matches WHERE job_id = "
        "(SELECT max(id) FROM match_bulk_jobs) AND direction = 'e2p' AND query_id = :id "
        "ORDER BY rank",
        "enterprises",
        "企业推荐专利 (an enterprise's recommended patents)",
    ),
    "dashboard_pushes_by_round": (
        "SELECT round_id, count(*) FROM inventory_pushes GROUP BY round_id",
        "inventory_push_rounds",
        "看板推送统计 (dashboard: pushes per round)",
    ),
}


@dataclass
class PlanCheck:
    """One key query: its plan lines, the time of one run, and why it is slow (if it is)."""

    name: str
    purpose: str
    ms: float
    plan: list[str]
    slow: bool
    reasons: list[str] = field(default_factory=list)


@dataclass
class DbReport:
    backend: str
    missing_indexes: list[dict[str, str]]
    tables: list[dict[str, Any]]
    plans: list[PlanCheck]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def ok(self) -> bool:
        return not self.missing_indexes and not any(p.slow for p in self.plans)


def missing_indexes(engine: Engine) -> list[dict[str, str]]:
    """Expected (table, leading columns) that no index, unique constraint or key starts with."""
    insp = inspect(engine)
    tables = set(insp.get_table_names())
    out = []
    for (table, cols), why in EXPECTED_INDEXES.items():
        if table not in tables:
            continue
        with warnings.catch_warnings():
            # SQLite cannot reflect expression indexes (the catalogue's sort orders); they
            # are never the plain column prefixes looked for here.
            warnings.simplefilter("ignore", SAWarning)
            prefixes = [tuple(i["column_names"]) for i in insp.get_indexes(table)]
            prefixes += [tuple(u["column_names"]) for u in insp.get_unique_constraints(table)]
        prefixes.append(tuple(insp.get_pk_constraint(table).get("constrained_columns") or ()))
        if not any(p[: len(cols)] == cols for p in prefixes if None not in p):
            out.append({"table": table, "columns": ", ".join(cols), "why": why})
    return out


def table_sizes(engine: Engine) -> list[dict[str, Any]]:
    """Rows and bytes per table, largest first."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(
                # The planner's own row estimate (exact right after ANALYZE; -1 before the first
                # one, when the statistics' live-row counter stands in).
                text(
                    "SELECT c.relname, CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint "
                    "ELSE s.n_live_tup END, pg_total_relation_size(c.oid) "
                    "FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid"
                )
            ).all()
            sizes = [{"table": r[0], "rows": int(r[1]), "bytes": int(r[2])} for r in rows]
        else:
            names = inspect(engine).get_table_names()
            pages: dict[str, int]
            try:
                pages = dict(
                    conn.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")).all()
                )
            except Exception:  # noqa: BLE001 — dbstat is a compile-time option of SQLite
                pages = {}
            sizes = [
                {
                    "table": name,
                    "rows": int(conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar() or 0),
                    "bytes": int(pages[name]) if name in pages else None,
                }
                for name in names
            ]
    return sorted(sizes, key=lambda s: (-(s["bytes"] or 0), -s["rows"], s["table"]))


def _pg_plan(node: dict[str, Any], rows: dict[str, int], big: int, out: list[str],
             reasons: list[str], depth: int = 0) -> None:  # fmt: skip
    rel = node.get("Relation Name")
    label = node["Node Type"] + (f" on {rel}" if rel else "")
    if node.get("Index Name"):
        label += f" using {node['Index Name']}"
    out.append("  " * depth + f"{label} (cost {node.get('Total Cost')})")
    if node["Node Type"] == "Seq Scan" and rel and rows.get(rel, 0) > big:
        reasons.append(f"全表扫描 {rel} (sequential scan of {rows[rel]:,} rows)")
    for child in node.get("Plans", []):
        _pg_plan(child, rows, big, out, reasons, depth + 1)


def explain_queries(
    engine: Engine, *, sizes: list[dict[str, Any]], slow_ms: float = 100.0, big_rows: int = 10_000
) -> list[PlanCheck]:
    """Explain and time every key query whose tables exist."""
    rows = {s["table"]: s["rows"] for s in sizes}
    checks = []
    pg = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        for name, (sql, id_table, purpose) in KEY_QUERIES.items():
            needed = [t for t in rows if f" {t} " in f" {sql} "]
            if not needed or id_table not in rows:
                continue
            first = conn.execute(text(f'SELECT min(id) FROM "{id_table}"')).scalar() or 1
            params = {"id": int(first)}
            plan: list[str] = []
            reasons: list[str] = []
            if pg:
                doc: Any = conn.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"), params).scalar()
                _pg_plan(doc[0]["Plan"], rows, big_rows, plan, reasons)
            else:
                for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"), params):
                    detail = str(r[-1])
                    plan.append(detail)
                    words = detail.split()
                    # "SCAN t" and "SCAN t USING INDEX i" both read every row of t; only a
                    # covering index walk (no table reads) is left alone.
                    if words[:1] == ["SCAN"] and "COVERING INDEX" not in detail:
                        table = words[1]
                        if rows.get(table, 0) > big_rows:
                            reasons.append(f"全表扫描 {table} (full scan of {rows[table]:,} rows)")
            started = time.perf_counter()
            conn.execute(text(sql), params).all()
            ms = (time.perf_counter() - started) * 1000
            if ms > slow_ms:
                reasons.append(f"耗时 {ms:.0f} ms > {slow_ms:.0f} ms (slow)")
            checks.append(PlanCheck(name, purpose, round(ms, 2), plan, bool(reasons), reasons))
    return checks


def check_database(engine: Engine, *, slow_ms: float = 100.0, big_rows: int = 10_000) -> DbReport:
    """Missing indexes, table sizes and the plans of the key queries, for this database."""
    sizes = table_sizes(engine)
    return DbReport(
        backend=engine.dialect.name,
        missing_indexes=missing_indexes(engine),
        tables=sizes,
        plans=explain_queries(engine, sizes=sizes, slow_ms=slow_ms, big_rows=big_rows),
    )
