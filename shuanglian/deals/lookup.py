"""Pickers for the deal forms: find an institution or enterprise by name and a patent by its
number or title, and turn what a person typed back into an id.

A picker is a plain text field with an HTML datalist. Each option reads "name (#id)"; a small
script refreshes the options from the JSON search endpoints as the person types. Without
JavaScript the field still works: the server resolves the text itself (an option's "#id", a
bare id, an exact name or number, or a fragment that matches exactly one row), and when the
text matches several rows the form comes back with those rows as the options to choose from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shuanglian.enterprises.models import Enterprise
from shuanglian.errors import DomainError
from shuanglian.patents.models import Institution, Patent

LIMIT = 10
_ID = re.compile(r"#(\d{1,12})\)?\s*$")


@dataclass(frozen=True)
class Choice:
    """One picker option: the id and the text shown (which also resolves back to the id)."""

    id: int
    label: str


class Ambiguous(DomainError):
    """The text matched several rows; `choices` are offered back as the field's options."""

    def __init__(self, message: str, *, field: str, choices: list[Choice]) -> None:
        super().__init__(message, field=field)
        self.choices = choices


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def institution_label(inst: Institution) -> str:
    """The picker text of an institution."""
    return f"{inst.name} (#{inst.id})"


def enterprise_label(ent: Enterprise) -> str:
    """The picker text of an enterprise."""
    return f"{ent.name} (#{ent.id})"


def patent_label(patent: Patent) -> str:
    """The picker text of a patent: number and title, so either can be typed."""
    title = patent.title if len(patent.title) <= 40 else patent.title[:39] + "…"
    return f"{patent.application_number} {title} (#{patent.id})"


def search_institutions(session: Session, *, q: str, limit: int = LIMIT) -> list[Choice]:
    """Institutions whose name contains `q` (shortest names first: the likeliest)."""
    stmt = select(Institution).order_by(Institution.name).limit(limit)
    if q.strip():
        stmt = stmt.where(Institution.name.ilike(_like(q.strip()), escape="\\"))
    return [Choice(i.id, institution_label(i)) for i in session.scalars(stmt)]


def search_enterprises(session: Session, *, q: str, limit: int = LIMIT) -> list[Choice]:
    """Enterprises whose name contains `q`."""
    stmt = select(Enterprise).order_by(Enterprise.name).limit(limit)
    if q.strip():
        stmt = stmt.where(Enterprise.name.ilike(_like(q.strip()), escape="\\"))
    return [Choice(e.id, enterprise_label(e)) for e in session.scalars(stmt)]


def search_patents(
    session: Session, *, q: str, institution_id: int | None = None, limit: int = LIMIT
) -> list[Choice]:
    """Patents whose application/publication number or title contains `q`, optionally of one
    institution (a deal's patents must belong to its institution)."""
    stmt = select(Patent).order_by(Patent.application_number).limit(limit)
    if institution_id is not None:
        stmt = stmt.where(Patent.institution_id == institution_id)
    text = q.strip()
    if text:
        like = _like(text)
        stmt = stmt.where(
            or_(
                Patent.application_number.ilike(like, escape="\\"),
                Patent.publication_number.ilike(like, escape="\\"),
                Patent.title.ilike(like, escape="\\"),
            )
        )
    return [Choice(p.id, patent_label(p)) for p in session.scalars(stmt)]


def _explicit_id(text: str) -> int | None:
    match = _ID.search(text)
    if match:
        return int(match.group(1))
    return int(text) if text.isdigit() else None


def _pick(found: list[Choice], text: str, field: str, what: tuple[str, str]) -> int:
    if len(found) == 1:
        return found[0].id
    if not found:
        raise DomainError(f"找不到{what[0]}“{text}” (no {what[1]} matches)", field=field)
    raise Ambiguous(
        f"有多个{what[0]}与“{text}”匹配，请从列表中选择 "
        f"(several {what[1]}s match: pick one from the list)",
        field=field,
        choices=found,
    )


def resolve_institution(session: Session, text: str, *, field: str) -> int | None:
    """The institution id a picker's text names (None when empty)."""
    text = text.strip()
    if not text:
        return None
    explicit = _explicit_id(text)
    if explicit is not None:
        return explicit
    exact = session.scalar(select(Institution.id).where(Institution.name == text))
    if exact is not None:
        return exact
    return _pick(search_institutions(session, q=text), text, field, ("机构", "institution"))


def resolve_enterprise(session: Session, text: str, *, field: str) -> int | None:
    """The enterprise id a picker's text names (None when empty)."""
    text = text.strip()
    if not text:
        return None
    explicit = _explicit_id(text)
    if explicit is not None:
        return explicit
    exact = list(session.scalars(select(Enterprise.id).where(Enterprise.name == text).limit(2)))
    if len(exact) == 1:
        return exact[0]
    return _pick(search_enterprises(session, q=text), text, field, ("企业", "enterprise"))


def resolve_patent(
    session: Session, text: str, *, field: str, institution_id: int | None = None
) -> int | None:
    """The patent id a picker's text names: "#id", an id, a number or a unique title part."""
    text = text.strip()
    if not text:
        return None
    explicit = _explicit_id(text)
    if explicit is not None:
        return explicit
    number = text.split()[0]
    stmt = select(Patent.id).where(
        or_(Patent.application_number == number, Patent.publication_number == number)
    )
    if institution_id is not None:
        stmt = stmt.where(Patent.institution_id == institution_id)
    exact = list(session.scalars(stmt.limit(2)))
    if len(exact) == 1:
        return exact[0]
    found = search_patents(session, q=text, institution_id=institution_id)
    return _pick(found, text, field, ("专利", "patent"))


def label_for(session: Session, kind: str, ident: int | None) -> str:
    """The picker text for a known id (to prefill a form), "" when absent or unknown."""
    if ident is None:
        return ""
    if kind == "institution":
        inst = session.get(Institution, ident)
        return institution_label(inst) if inst else str(ident)
    if kind == "enterprise":
        ent = session.get(Enterprise, ident)
        return enterprise_label(ent) if ent else str(ident)
    patent = session.get(Patent, ident)
    return patent_label(patent) if patent else str(ident)
