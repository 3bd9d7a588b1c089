"""One settings table for the whole platform, read from the environment and `.env`.

Each field's description doubles as documentation: the README's configuration table is
checked against this class by a test.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Rows per write batch when a caller gives none; `SHUANGLIAN_IMPORT_BATCH_SIZE` overrides it
# through the CLI, which passes `Settings.import_batch_size` down.
DEFAULT_IMPORT_BATCH_SIZE = 2000
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
    cookie_secure: bool = Field(
        default=False,
        description="Mark session cookies Secure (set true when served behind HTTPS).",
    )
    import_batch_size: int = Field(
        default=DEFAULT_IMPORT_BATCH_SIZE,
        description="Rows written per transaction by the importers.",
    )
    max_upload_mb: int = Field(
        default=50,
        ge=1,
        le=4096,
        description="Largest file (MiB) the web workspaces accept for an import; every other "
        "request body stays under 2 MiB.",
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


def get_settings() -> Settings:
    """Read settings now (never cached at import time, so tests can isolate)."""
    return Settings()
