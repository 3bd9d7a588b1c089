"""Pydantic shapes for patents: what importers produce (`PatentIn`) and what readers get.

`PatentIn.model_fields_set` matters: an import only overwrites the fields its file actually
has a column for, so loading a CNIPA export without an inventor column never wipes inventors
that a USPTO XML import filled in earlier.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shuanglian.patents.models import PATENT_TYPES

# Longest title accepted. Real titles stay far below (CNIPA caps 名称 at 40 characters for most
# types; USPTO's longest are ~600); a longer "title" is a shifted column or a pasted abstract,
# and storing it would put garbage into search, so the row is rejected with this reason.
MAX_TITLE_CHARS = 1000

# Fields an importer may fill; source bookkeeping is excluded from change detection.
DATA_FIELDS = (
    "application_number",
    "publication_number",
    "patent_type",
    "title",
    "abstract",
    "claims_count",
    "applicants",
    "inventors",
    "main_ipc",
    "ipc_codes",
    "cpc_codes",
    "legal_status",
    "filing_date",
    "publication_date",
    "grant_date",
    "expiry_date",
    "transfer_count",
    "licence_count",
    "language",
    "alt_title",
    "alt_abstract",
    "alt_language",
)


class PatentIn(BaseModel):
    """One validated record from an import file, keyed by `application_key`."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    application_key: str = Field(min_length=2, max_length=40)
    application_number: str = Field(min_length=2, max_length=40)
    publication_number: str | None = Field(default=None, max_length=40)
    patent_type: str | None = None
    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    abstract: str | None = None
    claims_count: int | None = Field(default=None, ge=0, le=100_000)
    applicants: list[str] = Field(default_factory=list)
    inventors: list[str] = Field(default_factory=list)
    main_ipc: str | None = Field(default=None, max_length=20)
    ipc_codes: list[str] = Field(default_factory=list)
    cpc_codes: list[str] = Field(default_factory=list)
    legal_status: str | None = Field(default=None, max_length=60)
    filing_date: date | None = None
    publication_date: date | None = None
    grant_date: date | None = None
    expiry_date: date | None = None
    transfer_count: int | None = Field(default=None, ge=0, le=1_000_000)
    licence_count: int | None = Field(default=None, ge=0, le=1_000_000)
    language: str = Field(default="zh", max_length=8)
    alt_title: str | None = Field(default=None, max_length=MAX_TITLE_CHARS)
    alt_abstract: str | None = None
    alt_language: str | None = Field(default=None, max_length=8)
    source_file: str | None = Field(default=None, max_length=500)
    source_row: int | None = None

    @field_validator("patent_type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        if value is not None and value not in PATENT_TYPES:
            raise ValueError(f"专利类型须为 {'/'.join(PATENT_TYPES)}（unknown patent type）")
        return value

    @field_validator(
        "abstract",
        "publication_number",
        "legal_status",
        "main_ipc",
        "alt_title",
        "alt_abstract",
        "alt_language",
    )
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class InstitutionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    region: str | None = None


class PatentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    application_number: str
    publication_number: str | None = None
    patent_type: str | None = None
    title: str
    abstract: str | None = None
    main_ipc: str | None = None
    ipc_codes: list[str] = []
    applicants: list[str] = []
    inventors: list[str] = []
    legal_status: str | None = None
    filing_date: date | None = None
    grant_date: date | None = None
    language: str
    alt_title: str | None = None
    alt_abstract: str | None = None
    alt_language: str | None = None
    institution: InstitutionRead | None = None
