"""Receiving files in the web workspaces: body limits, type checks, a short stay on disk.

Every request body is capped at 2 MiB (forms and JSON are small), but a technology-transfer
office's patent export runs to tens of megabytes. Upload endpoints — by convention exactly the
POST routes whose path ends in `/upload` — get `Settings.max_upload_mb` instead; the limit is
enforced twice, from the declared Content-Length before anything is read and by counting the
bytes as they arrive (a chunked body declares no length).

Starlette parses the multipart body and spools the file part to a temporary file (1 MiB in
memory, the rest on disk); `received_file` then copies it in 1 MiB chunks to its own folder
under `HOME/uploads/`, checks its type by extension and by content, hands the path to the
importer and deletes the folder afterwards, whatever happened. The file name the person chose
is kept (cleaned), because importers record it as each patent's `source_file` and PatentsView
tables are recognised by name.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path, PurePosixPath

from starlette.datastructures import Headers, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shuanglian.accounts.permissions import MSG_LOGIN
from shuanglian.config import Settings
from shuanglian.errors import DomainError, ImportFailed, PermissionDenied
from shuanglian.tabular import TableLimits, detect_encoding, table_limits
from shuanglian.web.errors import domain_error, http_error
from shuanglian.web.schemas import ErrorResponse

UPLOAD_SUFFIX = "/upload"
# Room for the multipart boundaries, part headers and the few small form fields that travel
# with the file, so that a file of exactly the limit still fits in the body.
MULTIPART_SLACK_BYTES = 64 * 1024
COPY_CHUNK_BYTES = 1024 * 1024
SNIFF_BYTES = 64 * 1024
# Upload folders older than this are left-overs of a crashed worker; the next upload removes them.
STALE_UPLOAD_S = 24 * 3600

XLSX_MAGIC = b"PK\x03\x04"
# Signatures of binary files people pick by mistake: never a CSV, whatever the extension says.
_BINARY_MAGIC = (
    XLSX_MAGIC,
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\xd0\xcf\x11\xe0",
    b"\x1f\x8b",
    b"7z\xbc\xaf",
    b"Rar!",
)
TEXT_SUFFIXES = frozenset({".csv", ".tsv", ".txt"})
# What each upload accepts. Patent exports come as CNIPA xlsx/csv, PatentsView TSV or USPTO XML;
# the self-assessment and feedback workbooks are the platform's own templates (or a CSV of them).
PATENT_SUFFIXES = (".xlsx", ".csv", ".tsv", ".txt", ".xml")
WORKBOOK_SUFFIXES = (".xlsx", ".csv")
# An institution's 科技成果 register: a spreadsheet, or JSON Lines exported from another platform.
LISTING_SUFFIXES = (".xlsx", ".csv", ".tsv", ".txt", ".jsonl")

# The refusals an upload endpoint adds to the API's usual ones, for the OpenAPI schema.
UPLOAD_ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    413: {"model": ErrorResponse, "description": "file or body over the upload limit"},
    415: {"model": ErrorResponse, "description": "file type not accepted (extension or content)"},
}


class UploadRefused(DomainError):
    """The uploaded file is of a type this endpoint does not take (extension or content)."""

    code = "unsupported_media_type"
    status = 415


class UploadTooLarge(DomainError):
    code = "too_large"
    status = 413


class UploadMissing(DomainError):
    """The form came without a file (the person pressed the button before choosing one)."""

    status = 422


class BodyTooLarge(StarletteHTTPException):
    """Raised while a body is read, once it passes its limit; rendered in the site's style."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))


def too_large_message(limit: int) -> str:
    """The 413 sentence, with the limit in the unit a person thinks in."""
    mib = 1024 * 1024
    size = f"{limit / mib:.0f} MB" if limit >= mib else f"{limit // 1024} KiB"
    return f"请求体过大，上限 {size} (request body too large; limit {size})"


def is_upload_path(path: str) -> bool:
    """Whether a request path is an upload endpoint (and so gets the larger body limit)."""
    return path.endswith(UPLOAD_SUFFIX)


def body_limit(settings: Settings, *, path: str, default: int) -> int:
    """Largest body accepted on `path`: the upload limit plus framing, else `default`."""
    if is_upload_path(path):
        return settings.max_upload_bytes + MULTIPART_SLACK_BYTES
    return default


class BodyLimitMiddleware:
    """Refuse request bodies over their path's limit, declared or streamed (pure ASGI).

    A declared Content-Length over the limit is answered 413 before the body is read; bytes
    that arrive past the limit raise `BodyTooLarge` inside whatever is reading them (the form
    parser), which the app's error handlers render as the same 413.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings, default_limit: int) -> None:
        self.app = app
        self.settings = settings
        self.default_limit = default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(self.settings, path=scope["path"], default=self.default_limit)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            response = await http_error(Request(scope), BodyTooLarge(limit))
            await response(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted_receive, send)


class UploadLoginMiddleware:
    """Refuse an anonymous upload before its body is read (pure ASGI).

    Every upload endpoint needs a signed-in user, but FastAPI parses a multipart body — up to
    `max_upload_mb` of it, spooled to disk — before any dependency runs, so a visitor could
    make the server receive and store 50 MB just to be told to log in. A POST to an upload
    path with neither a session cookie naming a user nor a bearer token is answered 403 from
    the headers alone (the session cookie is already decoded by the session middleware
    outside this one); the route's own checks (CSRF, role, token validity) still follow for
    everyone else.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and is_upload_path(scope["path"])
            and not _may_be_signed_in(scope)
        ):
            # The same refusal an anonymous visitor gets from the route itself (403).
            response = await domain_error(Request(scope), PermissionDenied(MSG_LOGIN))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _may_be_signed_in(scope: Scope) -> bool:
    authorization = Headers(scope=scope).get("authorization", "")
    if authorization[:7].lower() == "bearer " and authorization[7:].strip():
        return True
    session = scope.get("session") or {}
    return isinstance(session.get("uid"), int)


# --------------------------------------------------------------------------- the file itself

_UNSAFE_NAME_CHARS = re.compile(r"[^\w.\-()（）\[\] ]")


def safe_filename(name: str | None, *, fallback_suffix: str = "") -> str:
    """The last part of a browser-sent file name, with only harmless characters, ≤ 120 chars.

    Browsers send a bare name, old ones a whole Windows path; either way no folder part, no
    control character, no leading dot survives. `\\w` keeps Chinese names readable.
    """
    base = PurePosixPath((name or "").replace("\\", "/")).name
    cleaned = _UNSAFE_NAME_CHARS.sub("_", base).strip(" .")
    if not cleaned:
        return "upload" + fallback_suffix
    stem, dot, suffix = cleaned.rpartition(".")
    if dot and len(suffix) <= 10:
        return stem[: 120 - len(suffix) - 1] + "." + suffix
    return cleaned[:120]


def _suffix_of(filename: str) -> str:
    return PurePosixPath(filename).suffix.lower()


def check_suffix(filename: str | None, allowed: tuple[str, ...]) -> str:
    """The file's extension when `allowed` takes it; UploadRefused (415) otherwise."""
    suffix = _suffix_of(filename or "")
    if suffix not in allowed:
        shown = suffix or "（无扩展名 none）"
        kinds = " ".join(allowed)
        raise UploadRefused(
            f"不支持的文件类型 {shown}，请上传 {kinds} 文件 "
            f"(unsupported file type {shown}; upload one of: {kinds})",
            field="file",
        )
    return suffix


def check_content(path: Path, suffix: str) -> None:
    """Refuse a file whose first bytes do not fit its extension (a PNG renamed .xlsx, ...)."""
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.strip():
        raise ImportFailed("文件是空的 (the file is empty)", field="file")
    if suffix == ".xlsx":
        if not head.startswith(XLSX_MAGIC):
            raise UploadRefused(
                "文件内容不是 Excel .xlsx 工作簿，请在 Excel 中另存为 .xlsx "
                "(the content is not an .xlsx workbook)",
                field="file",
            )
        return
    if suffix == ".xml":
        if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            raise UploadRefused("文件内容不是 XML (the content is not XML)", field="file")
        return
    if head.startswith(_BINARY_MAGIC):
        raise UploadRefused(
            f"文件内容不是文本表格，不能作为 {suffix} 导入 "
            f"(binary content: not a {suffix} text table)",
            field="file",
        )
    try:
        detect_encoding(head, name=path.name)
    except ImportFailed as exc:
        raise UploadRefused(exc.message, field="file") from exc


def _copy_limited(upload: UploadFile, target: Path, limit: int) -> int:
    """Copy the spooled upload to `target` in chunks; UploadTooLarge past `limit` bytes."""
    source = upload.file
    source.seek(0)
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(COPY_CHUNK_BYTES):
            written += len(chunk)
            if written > limit:
                raise UploadTooLarge(
                    f"文件过大，上限 {limit // (1024 * 1024)} MB "
                    f"(file too large; the limit is {limit // (1024 * 1024)} MB)",
                    field="file",
                )
            out.write(chunk)
    return written


def _remove_stale(root: Path) -> None:
    """Delete upload folders a killed worker left behind, and workbook downloads whose client
    went away before the file was sent (their clean-up task never ran) — best effort."""
    cutoff = time.time() - STALE_UPLOAD_S
    for child in chain(root.glob("up-*"), root.glob("tpl-*")):
        try:
            if child.stat().st_mtime >= cutoff:
                continue
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        except OSError:
            continue


@contextmanager
def received_file(
    upload: UploadFile | None, *, settings: Settings, allowed: tuple[str, ...]
) -> Iterator[Path]:
    """The uploaded file as a path under `HOME/uploads/`, checked; deleted when the block ends.

    Refusals are DomainErrors naming the field `file`: none chosen (400), wrong extension or
    content (415), over `max_upload_mb` (413), empty (422).
    """
    if upload is None or not upload.filename:
        raise UploadMissing("请选择要上传的文件 (choose a file to upload)", field="file")
    suffix = check_suffix(upload.filename, allowed)
    limit = settings.max_upload_bytes
    if upload.size is not None and upload.size > limit:
        raise UploadTooLarge(
            f"文件过大，上限 {settings.max_upload_mb} MB "
            f"(file too large; the limit is {settings.max_upload_mb} MB)",
            field="file",
        )
    root = settings.upload_dir
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale(root)
    folder = Path(tempfile.mkdtemp(prefix="up-", dir=root))
    try:
        path = folder / safe_filename(upload.filename, fallback_suffix=suffix)
        _copy_limited(upload, path, limit)
        check_content(path, suffix)
        # The importer reads the file inside this block: under the configured table limits.
        with table_limits(TableLimits.from_settings(settings)):
            yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        upload.file.close()


__all__ = [
    "LISTING_SUFFIXES",
    "PATENT_SUFFIXES",
    "UPLOAD_ERROR_RESPONSES",
    "WORKBOOK_SUFFIXES",
    "BodyLimitMiddleware",
    "BodyTooLarge",
    "UploadLoginMiddleware",
    "UploadMissing",
    "UploadRefused",
    "UploadTooLarge",
    "check_content",
    "check_suffix",
    "is_upload_path",
    "received_file",
    "safe_filename",
]
