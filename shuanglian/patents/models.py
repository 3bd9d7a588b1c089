"""Tables for institutions and their patents."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    delete,
    event,
    insert,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shuanglian.db import Base, TimestampMixin

# Patent.patent_type: the stored key and its names for people (zh, en).
PATENT_TYPES: dict[str, tuple[str, str]] = {
    "invention": ("发明", "Invention"),
    "utility_model": ("实用新型", "Utility model"),
    "design": ("外观设计", "Design"),
}
PATENT_TYPE_ZH = {key: zh for key, (zh, _en) in PATENT_TYPES.items()}

# The words that say what an institution is (Institution.kind). A Chinese name ends in its head
# noun (清华大学深圳研究院 is an institute, 中国科学院大学 a university), so the word found
# last decides; an administrator corrects a wrong guess in /admin/orgs.
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "institute": ("研究院", "研究所", "科学院", "研究中心", "实验室", "Institute", "Laboratory"),
    "hospital": ("医院", "Hospital"),
    "university": ("大学", "学院", "University", "College"),
    "enterprise": ("公司", "集团", "Corporation", "Inc.", "Ltd", "GmbH"),
}


def kind_from_name(name: str) -> str:
    """The kind a name says (研究院 → "institute"); "other" when it says none."""
    found = [
        (name.rfind(word) + len(word), kind)
        for kind, words in KIND_WORDS.items()
        for word in words
        if word in name
    ]
    return max(found)[1] if found else "other"


class Institution(TimestampMixin, Base):
    """A university, research institute or other holder of stock patents."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30), default="university")
    region: Mapped[str | None] = mapped_column(String(100))

    patents: Mapped[list[Patent]] = relationship(back_populates="institution")


class Patent(TimestampMixin, Base):
    """One patent or application, keyed by its normalised application number.

    Text fields keep the original; `search_text` holds the Simplified, width-folded title and
    abstract (and their second-language versions, when stored) that search reads.
    """

    __tablename__ = "patents"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Upsert key: office code + serial without check digit or punctuation (CN202223220665).
    application_key: Mapped[str] = mapped_column(String(40), unique=True)
    # Display form as the office writes it (CN202223220665.2).
    application_number: Mapped[str] = mapped_column(String(40))
    publication_number: Mapped[str | None] = mapped_column(String(40), index=True)
    patent_type: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="")
    claims_count: Mapped[int | None] = mapped_column(Integer)
    applicants: Mapped[list[str]] = mapped_column(JSON, default=list)
    inventors: Mapped[list[str]] = mapped_column(JSON, default=list)
    main_ipc: Mapped[str | None] = mapped_column(String(20), index=True)
    ipc_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    cpc_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    legal_status: Mapped[str | None] = mapped_column(String(60))
    filing_date: Mapped[date | None] = mapped_column(Date)
    publication_date: Mapped[date | None] = mapped_column(Date)
    grant_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    transfer_count: Mapped[int | None] = mapped_column(Integer)
    licence_count: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    # The same title and abstract in a second language, when the source carries both (a
    # PatSnap export has 标题(译)(简体中文) and 标题(译)(English)): the English of a Chinese
    # patent, or the Chinese of a foreign one. `alt_language` says which ("en", "zh"). Kept
    # beside the original rather than merged into it so pages show the original and the
    # matcher can use each language with its own analyser.
    alt_title: Mapped[str | None] = mapped_column(Text)
    alt_abstract: Mapped[str | None] = mapped_column(Text)
    alt_language: Mapped[str | None] = mapped_column(String(8))
    source_file: Mapped[str | None] = mapped_column(String(500))
    source_row: Mapped[int | None] = mapped_column(Integer)
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id", ondelete="SET NULL"), index=True
    )

    institution: Mapped[Institution | None] = relationship(back_populates="patents")


class PatentTerm(Base):
    """One search term of one patent's title: the inverted index `/api/v1/patents?q=` reads.

    The catalogue's terms (`supermarket.search_terms.keyword_terms`: Chinese character
    bigrams, stemmed English words) of the title and its second-language title, so a search
    reads one posting list through the primary key instead of `LIKE '%…%'` over a million
    patents. Written with the patent (`patent_terms_for` and the mapper events below for ORM
    writes; `patents.service` for the importers' bulk statements).
    """

    __tablename__ = "patent_terms"

    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    patent_id: Mapped[int] = mapped_column(
        ForeignKey("patents.id", ondelete="CASCADE"), primary_key=True, index=True
    )


def patent_terms_for(title: str | None, alt_title: str | None) -> set[str]:
    """Every term a patent is found under: the keywords of its titles in both languages."""
    from shuanglian.supermarket.search_terms import keyword_terms

    return set(keyword_terms(title)) | set(keyword_terms(alt_title))


def write_patent_terms(
    connection: Connection, rows: list[tuple[int, str, str | None]], *, replace: bool = True
) -> None:
    """Index `(patent id, title, alt title)` rows on `connection`; `replace` drops their old
    terms first (a new patent has none)."""
    if not rows:
        return
    table: Table = PatentTerm.__table__  # type: ignore[assignment]
    if replace:
        ids = [row[0] for row in rows]
        connection.execute(delete(table).where(table.c.patent_id.in_(ids)))
    values = [
        {"term": term, "patent_id": pid}
        for pid, title, alt in rows
        for term in sorted(patent_terms_for(title, alt))
    ]
    if values:
        connection.execute(insert(table), values)


@event.listens_for(Patent, "after_insert")
def _index_new_patent(_mapper: Any, connection: Connection, patent: Patent) -> None:
    write_patent_terms(connection, [(patent.id, patent.title, patent.alt_title)], replace=False)


@event.listens_for(Patent, "after_update")
def _reindex_patent(_mapper: Any, connection: Connection, patent: Patent) -> None:
    state = inspect(patent)
    if state.attrs.title.history.has_changes() or state.attrs.alt_title.history.has_changes():
        write_patent_terms(connection, [(patent.id, patent.title, patent.alt_title)])
