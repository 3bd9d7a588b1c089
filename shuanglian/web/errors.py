"""Turn every error into one JSON shape (API) or a page in the site's style (HTML).

JSON: `{"error": {"code", "message", "field"}}`. Unexpected exceptions are logged with their
stack trace and answered with a generic message: no trace ever reaches a user.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shuanglian.errors import DomainError, TooManyRequests
from shuanglian.web.deps import user_for_error_page
from shuanglian.web.templating import render

log = logging.getLogger("shuanglian.web")

API_PREFIX = "/api/"

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}

_HTTP_MESSAGES = {
    404: "页面或记录不存在 (not found)",
    405: "不支持该请求方法 (method not allowed)",
}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The one error shape of the JSON API."""
    return {"error": {"code": code, "message": message, "field": field}}


def _wants_json(request: Request) -> bool:
    if request.url.path.startswith(API_PREFIX):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _respond(
    request: Request, status: int, code: str, message: str, field: str | None = None
) -> Response:
    if _wants_json(request):
        return JSONResponse(error_body(code, message, field), status_code=status)
    return render(
        request,
        "error.html",
        {
            "status": status,
            "code": code,
            "message": message,
            "field": field,
            # The request's session is rolled back and closed by now: the menu needs a user
            # object that does not lean on it.
            "user": user_for_error_page(request),
        },
        status_code=status,
    )


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    response = _respond(request, exc.status, exc.code, exc.message, exc.field)
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {}
    if not _wants_json(request) and first.get("loc", ("",))[0] == "path":
        # A page address whose id is not a number (/deals/contracts) names nothing: a person
        # who typed or pasted it needs "not found", not a parser's message.
        return _respond(request, 404, "not_found", _HTTP_MESSAGES[404])
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(loc) or None
    detail = first.get("msg", "invalid input")
    return _respond(request, 422, "invalid", f"输入无效 (invalid input): {detail}", field)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _HTTP_CODES.get(status, "http_error")
    message = _HTTP_MESSAGES.get(status) or (
        exc.detail if isinstance(exc.detail, str) else "请求无法处理 (request failed)"
    )
    response = _respond(request, status, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(
        request,
        500,
        "internal",
        "服务器内部错误，已记录，请稍后再试 (internal error; it was logged)",
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
