"""Response shapes shared by every JSON list in the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field

T = TypeVar("T")


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# Every moment in an API answer carries its time zone. The database stores UTC; SQLite hands it
# back without a zone, which a client would read as its own local time (8 hours off in China).
UtcDateTime = Annotated[datetime, AfterValidator(_utc)]


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


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "bad input"},
    403: {"model": ErrorResponse, "description": "not allowed"},
    404: {"model": ErrorResponse, "description": "not found"},
    422: {"model": ErrorResponse, "description": "invalid input"},
}
