"""What a match looks like to the API, the CLI and the pages (read-only schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TermOut(BaseModel):
    """A shared search term and its BM25 contribution (after stemming / segmentation)."""

    term: str
    contribution: float


class IpcOut(BaseModel):
    """An IPC code (subclass, main group or subgroup) both sides share, with its title."""

    code: str
    title: str | None = None


class IndustryLinkOut(BaseModel):
    """An IPC subclass ↔ GB/T 4754 industry link that supported the match (approximate)."""

    ipc: str
    ipc_title: str | None = None
    industry: str
    industry_name: str | None = None
    weight: float


class SharedWordOut(BaseModel):
    """A word both texts contain, as each writes it (`label`: 锂电池 ↔ lithium battery)."""

    query: str
    doc: str
    cross_lingual: bool = False
    label: str


class ExplanationOut(BaseModel):
    """Why this result: terms, IPC, industry links, dense similarity, each signal's share.

    For people: `words` (shared words as written), `reasons` / `reasons_en` (sentences),
    `match` (calibrated probability of a relevant match, in [0, 1], the same scale everywhere)
    with `level` high/medium/low and its label (高/中/低), `weak` when the match is low,
    `evidence` when there is something to check (a specific shared word, a shared patent class
    or an industry link; generic words alone are not).
    `terms` keeps the engine's index terms for tools; pages never show them.
    """

    words: list[SharedWordOut] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    reasons_en: list[str] = Field(default_factory=list)
    match: float = 0.0
    level: Literal["high", "medium", "low"] = "low"
    level_label: str = "低"
    level_label_en: str = "low"
    weak: bool = True
    evidence: bool = False

    terms: list[TermOut] = Field(default_factory=list)
    ipc_shared: list[IpcOut] = Field(default_factory=list)
    industry_links: list[IndustryLinkOut] = Field(default_factory=list)
    dense: float | None = None
    shares: dict[str, float] = Field(default_factory=dict)
    summary: str = ""


class Match(BaseModel):
    """One ranked patent or enterprise for a query patent, enterprise or demand."""

    kind: Literal["patent", "enterprise"]
    id: int
    name: str
    rank: int
    score: float
    signals: dict[str, float] = Field(default_factory=dict)
    explanation: ExplanationOut
