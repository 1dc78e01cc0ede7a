"""Node settings, read from TRUSTBUBBLE_* environment variables by the app factory and the CLI."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/trustbubble.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRUSTBUBBLE_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL of the store: sqlite:///PATH (default) or postgresql://...",
    )
    node_name: str = Field(default="TrustBubble node", description="Shown in TAXII discovery.")
    contact: str | None = Field(default=None, description="Contact shown in TAXII discovery.")
    max_content_length: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Largest request body accepted, in bytes."
    )
    page_size: int = Field(default=100, ge=1, description="TAXII page size when no limit is given.")
    max_page_size: int = Field(default=1000, ge=1, description="Largest TAXII page size served.")
    public_url: str | None = Field(
        default=None, description="The node's address as people reach it, for links in e-mails."
    )
    secret_key: SecretStr | None = Field(
        default=None, min_length=32, description="Derives each webhook's signing key."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for e-mail; unset: none.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_from: str | None = Field(default=None, description="From address of the node's mail.")
    smtp_user: str | None = Field(default=None, description="SMTP login, if the server needs one.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection to TLS.")
    delivery_attempts: int = Field(
        default=10, ge=1, description="Attempts at an e-mail or webhook call before giving up."
    )
    delivery_retry_seconds: float = Field(
        default=30.0, gt=0, description="Wait after a first failed attempt; doubles after each."
    )
    metrics: bool = Field(default=True, description="Serve Prometheus metrics at /metrics.")
    sign_in_failures_per_account: int = Field(
        default=5, ge=1, description="Failed password checks of one e-mail before it is locked."
    )
    sign_in_failures_per_address: int = Field(
        default=20, ge=1, description="Failed password checks from one client before it is locked."
    )
    sign_in_window_minutes: float = Field(
        default=15.0, gt=0, description="How long failures count, and so the longest lock."
    )
    token_days: int = Field(
        default=90, ge=1, le=3650, description="Lifetime of a new API token unless told otherwise."
    )

    node_key: str | None = Field(
        default=None,
        description="File of the node's Ed25519 key; default: node.key beside the SQLite "
        "database, or ./var/node.key with PostgreSQL.",
    )
    node_key_passphrase: SecretStr | None = Field(
        default=None, description="Encrypts the node key file when set."
    )
    node_country: str | None = Field(
        default=None, description="ISO 3166 alpha-2 country of the node, in its descriptor."
    )
    sync_seconds: float = Field(
        default=30.0, gt=0, description="Wait between background syncs with peer nodes."
    )

    @model_validator(mode="after")
    def _page_sizes_agree(self) -> Settings:
        if self.page_size > self.max_page_size:
            raise ValueError(
                f"page_size ({self.page_size}) is larger than max_page_size ({self.max_page_size})"
            )
        return self

    @model_validator(mode="after")
    def _mail_has_a_sender(self) -> Settings:
        if self.smtp_host and not self.smtp_from:
            raise ValueError("smtp_from is required when smtp_host is set")
        return self
