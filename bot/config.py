"""Read the environment (and .env): the only module that does."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return a shipped data folder: the source tree's, or the copy inside an installed wheel."""
    source = _PACKAGE.parent / name
    return source if source.is_dir() else _PACKAGE / "_data" / name


class Settings(BaseSettings):
    """Secrets, endpoints and paths, from the environment or a .env file."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    database_url: str = "sqlite:///carebridge.db"
    telegram_bot_token: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_bot_username: str | None = None
    telegram_rate_limit: float = 29  # messages per second overall; Telegram allows about 30
    http_host: str = Field(default="127.0.0.1", alias="CAREBRIDGE_HTTP_HOST")
    http_port: int = Field(default=8080, alias="CAREBRIDGE_HTTP_PORT")
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    carebridge_config: Path | None = None
    instruments_dir: Path = Field(default_factory=lambda: data_dir("instruments"), alias="CAREBRIDGE_INSTRUMENTS_DIR")
    messages_dir: Path = Field(default_factory=lambda: data_dir("messages"), alias="CAREBRIDGE_MESSAGES_DIR")
    log_format: str = Field(default="json", alias="CAREBRIDGE_LOG_FORMAT")  # json (one object a line) | text

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str) -> str:
        """Accept json or text, in any case."""
        chosen = value.strip().lower()
        if chosen not in ("json", "text"):
            raise ValueError(f"CAREBRIDGE_LOG_FORMAT must be json or text, not {value!r}")
        return chosen


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Return the settings, read once per process."""
    return Settings()
