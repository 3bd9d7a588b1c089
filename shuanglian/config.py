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
        default="change-me-in-production",
        description="Key that signs session cookies and CSRF tokens.",
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
        description="The site's public address (e.g. `https://market.example.org`) for links in "
        "e-mails; unset = the address the request came to.",
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
