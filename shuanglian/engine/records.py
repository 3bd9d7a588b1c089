"""The engine's value types: what goes in (Record) and what comes out (Hit, Explanation)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Record:
    """A document or a query, on either side (patent, enterprise, demand).

    `title` is weighted above `text` (a patent title / an enterprise name vs abstract / scope);
    `ipc` are IPC codes in any common spelling ('H04N 5/232', 'H04N5/232'); `industry` is a
    GB/T 4754-2017 code (门类 letter optional: 'C3041' or '3041').
    """

    id: str
    title: str = ""
    text: str = ""
    ipc: tuple[str, ...] = ()
    industry: str | None = None


@dataclass(frozen=True, slots=True)
class TermMatch:
    """A term found in the document and what it added to the BM25 score.

    `source` is empty when the query itself has the term; for a term reached by translation
    (the document's `batteri` for the query's 锂电池) it names the query terms it came from.
    """

    term: str
    contribution: float
    source: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IndustryLink:
    """An IPC subclass ↔ GB/T 4754 industry pair that supported the match, with its weight."""

    ipc_subclass: str
    industry: str
    weight: float


@dataclass(slots=True)
class Explanation:
    """Why a document matched: shared terms, shared IPC, industry links, dense similarity.

    `shares` gives each signal's fraction of the final fused score (they sum to 1 when the
    score is positive).
    """

    terms: list[TermMatch] = field(default_factory=list)
    ipc_shared: list[str] = field(default_factory=list)
    industry_links: list[IndustryLink] = field(default_factory=list)
    dense: float | None = None
    shares: dict[str, float] = field(default_factory=dict)
    # Absolute evidence, comparable across queries: query_coverage, doc_coverage, ipc (raw
    # cosine) and dense when reranked; `match` is its calibrated probability of a relevant
    # match in [0, 1] (engine.calibrate), the number people see as 匹配度.
    evidence: dict[str, float] = field(default_factory=dict)
    match: float = 0.0


@dataclass(slots=True)
class Hit:
    """One ranked result: fused score, each signal's weighted part, optional explanation."""

    doc_id: str
    score: float
    signals: dict[str, float] = field(default_factory=dict)
    explanation: Explanation | None = None
