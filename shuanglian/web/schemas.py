"""Shapes shared by the whole API: bounded input types, time zones, errors and lists."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field

T = TypeVar("T")


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# Every moment in an API answer carries its time zone. The database stores UTC; SQLite hands it
# back without a zone, which a client would read as its own local time (8 hours off in China).
UtcDateTime = Annotated[datetime, AfterValidator(_utc)]

# Every string a request body carries is a SafeStr with a `max_length` of its own (a test walks
# the request models). PostgreSQL text cannot hold NUL, so the pattern refuses it as the
# field's bad input (422 naming it) instead of a database error; a lone surrogate, which no
# database can store either, is refused by pydantic itself (string_unicode).
NO_NUL = r"^[^\x00]*$"
SafeStr = Annotated[str, Field(pattern=NO_NUL)]
# A word from a fixed vocabulary (a kind, a status, a code): the validators check the words.
Code = Annotated[SafeStr, Field(max_length=40)]

# Amounts and rates as the columns hold them: Numeric(18, 4) 万元, Numeric(7, 4) percentages,
# Numeric(20, 6) measured values. Bounding digits and places here makes 1e999 or 1e-999999 a
# 422 naming the field; unbounded, SQLite rounded them silently and PostgreSQL failed (500).
# The sign and range rules (an amount ≥ 0, a share 0–100 %) are the domains' own validators,
# which say them in the domain's words.
Money = Annotated[Decimal, Field(max_digits=18, decimal_places=4)]
Percent = Annotated[Decimal, Field(max_digits=7, decimal_places=4)]
Measure = Annotated[Decimal, Field(max_digits=20, decimal_places=6)]


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable code, e.g. not_found, invalid, forbidden")
    message: str = Field(description="message for a person, zh-CN first")
    field: str | None = Field(default=None, description="the input field at fault, if any")


class ErrorResponse(BaseModel):
    """The one error shape of the API."""

    error: ErrorDetail


class ListResponse(BaseModel, Generic[T]):
    """One page of results and the total the filters match."""

    items: list[T]
    total: int
    offset: int
    limit: int
    total_capped: bool = Field(
        default=False, description="true when there are at least `total` results (not counted on)"
    )


Responses = dict[int | str, dict[str, object]]


def error_response(description: str) -> dict[str, object]:
    """One documented error status: the one error shape, and when it is answered."""
    return {"model": ErrorResponse, "description": description}


# The status codes of the API, documented once and given to operations by these dicts (a
# router's `responses=` or a route's): schemathesis checks every answer against them.
# Every operation: bad or invalid input, not allowed (signed out included), not found (also
# for another's record: the same answer, no oracle), and a request body over the limit.
ERROR_RESPONSES: Responses = {
    400: error_response("bad input"),
    403: error_response("not allowed (or not signed in)"),
    404: error_response("not found, or not yours"),
    413: error_response("request body over the limit (2 MiB; uploads SHUANGLIAN_MAX_UPLOAD_MB)"),
    422: error_response("invalid input"),
}
# Operations with a per-client limit (anonymous messages): try again after `Retry-After`.
RATE_LIMITED_RESPONSES: Responses = {429: error_response("too many requests; see Retry-After")}
# Matching operations, before `shuanglian index build` has run.
INDEX_RESPONSES: Responses = {409: error_response("matching index not built")}
# Downloads of stored files (PDF, image, workbook …), in the type they were stored with.
FILE_RESPONSES: Responses = {200: {"description": "the file", "content": {"*/*": {}}}}
PDF_RESPONSES: Responses = {200: {"description": "PDF", "content": {"application/pdf": {}}}}
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK_RESPONSES: Responses = {
    200: {"description": "the workbook (.xlsx)", "content": {XLSX_MEDIA_TYPE: {}}}
}
