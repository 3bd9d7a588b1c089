"""Tables of the bulk matching job (national-scale push): jobs, their shards, stored matches.

A job is one full push in both directions. Its work is cut into shards fixed when the job
starts (the query ids of each shard are stored), and a shard's results are written in the same
transaction that marks it finished: a crash or a lost database leaves either the whole shard or
none of it, and a rerun picks up the shards still unfinished. Patent → enterprise results are
ordinary pushes (`inventory_pushes`, in the job's push round); enterprise → patent results,
which are recommendations rather than pushes, go to `match_bulk_matches`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from shuanglian.db import Base, TimestampMixin

DIRECTIONS = ("p2e", "e2p")  # patent → enterprises, enterprise → patents


class BulkJob(TimestampMixin, Base):
    """One bulk matching job: its options, the index versions it reads, and its totals."""

    __tablename__ = "match_bulk_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The push round its patent → enterprise pushes belong to (push lists, feedback, "never
    # the same pair twice" all work on them as on any round).
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_push_rounds.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    directions: Mapped[str] = mapped_column(String(10))  # "both", "p2e" or "e2p"
    top: Mapped[int] = mapped_column(Integer)
    per_enterprise_cap: Mapped[int] = mapped_column(Integer)
    overfetch: Mapped[int] = mapped_column(Integer)
    shard_size: Mapped[int] = mapped_column(Integer)
    # Whether patent → enterprise pushes keep only a patent's first few weak (低) pairs, as a
    # push round does (`BulkOptions.weak_limit`).
    weak_limit: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Index versions read when the job started: a resumed job must read the same ones, or
    # its shards would mix two rankings.
    index_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BulkShard(Base):
    """A block of query ids of one direction; `finished_at` is set with its results."""

    __tablename__ = "match_bulk_shards"
    __table_args__ = (UniqueConstraint("job_id", "direction", "shard_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("match_bulk_jobs.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))
    shard_no: Mapped[int] = mapped_column(Integer)
    query_ids: Mapped[list[int]] = mapped_column(JSON)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    # Records skipped for bad data, by reason ({"empty_text": 2, "bad_ipc": 1}).
    skipped: Mapped[dict] = mapped_column(JSON, default=dict)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BulkMatch(Base):
    """One enterprise → patent recommendation of a job, with its signal parts (the compact
    explanation: the full one is rendered on demand from the index)."""

    __tablename__ = "match_bulk_matches"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("match_bulk_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    query_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    doc_id: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    bm25: Mapped[float] = mapped_column(Float, default=0.0)
    ipc: Mapped[float] = mapped_column(Float, default=0.0)
    prior: Mapped[float] = mapped_column(Float, default=0.0)
