"""Node settings, read from TRUSTBUBBLE_* environment variables by the app factory and the CLI."""

from __future__ import annotations

from pydantic import Field, model_validator
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

    @model_validator(mode="after")
    def _page_sizes_agree(self) -> Settings:
        if self.page_size > self.max_page_size:
            raise ValueError(
                f"page_size ({self.page_size}) is larger than max_page_size ({self.max_page_size})"
            )
        return self
