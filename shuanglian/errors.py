"""Domain errors: each carries a message a user can act on; the web and CLI render them."""

from __future__ import annotations


class DomainError(Exception):
    """Base for errors a user caused and can fix; never shown as a stack trace."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


class ImportFailed(DomainError):
    """The file as a whole cannot be imported (unreadable, wrong type, missing columns)."""

    code = "import_failed"
    status = 422


class TooManyRequests(DomainError):
    """A limit on how often something may be done; `retry_after` says when it may be again."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after
