"""Settings, read from the environment once and passed down."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

DEFAULT_GRACE_MINUTES = 120
DEFAULT_LEASE_SECONDS = 120
DEFAULT_DISCORD_API = "https://discord.com/api/v10"
DEFAULT_SLACK_API = "https://slack.com/api/"


class ConfigError(Exception):
    """Configuration that cannot work; the message is one line naming the setting and the fix."""


@dataclass(frozen=True)
class Settings:
    # A SQLite file path, or a PostgreSQL URL (see bot.store.open_store).
    db: str | Path = "dlquiz.db"
    content_dir: Path | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    grace: timedelta = timedelta(minutes=DEFAULT_GRACE_MINUTES)
    # How long a process may hold a post it claimed before another process may retry it.
    delivery_lease: timedelta = timedelta(seconds=DEFAULT_LEASE_SECONDS)
    discord_token: str | None = field(default=None, repr=False)
    discord_api_base: str = DEFAULT_DISCORD_API
    discord_guild_id: int | None = None
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        level = (get("DLQUIZ_LOG_LEVEL") or "INFO").upper()
        if not isinstance(logging.getLevelName(level), int):
            raise ConfigError(
                f"DLQUIZ_LOG_LEVEL={level} is not a level: use DEBUG, INFO, WARNING or ERROR"
            )
        log_format = (get("DLQUIZ_LOG_FORMAT") or "text").lower()
        if log_format not in ("text", "json"):
            raise ConfigError(f"DLQUIZ_LOG_FORMAT={log_format} is not known: use text or json")
        grace_text = get("DLQUIZ_GRACE_MINUTES") or str(DEFAULT_GRACE_MINUTES)
        if not grace_text.isdigit():
            raise ConfigError(
                f"DLQUIZ_GRACE_MINUTES={grace_text} is not a whole number of minutes (such as 120)"
            )
        lease_text = get("DLQUIZ_DELIVERY_LEASE") or str(DEFAULT_LEASE_SECONDS)
        if not lease_text.isdigit() or int(lease_text) < 1:
            raise ConfigError(
                f"DLQUIZ_DELIVERY_LEASE={lease_text} is not a whole number of seconds (such as 120)"
            )
        guild = get("DISCORD_GUILD_ID")
        if guild is not None and not guild.isdigit():
            raise ConfigError(f"DISCORD_GUILD_ID={guild} is not a server id (digits only)")
        content = get("DLQUIZ_CONTENT")
        return cls(
            db=get("DLQUIZ_DB") or "dlquiz.db",
            content_dir=Path(content) if content else None,
            log_level=level,
            log_format=log_format,
            grace=timedelta(minutes=int(grace_text)),
            delivery_lease=timedelta(seconds=int(lease_text)),
            discord_token=get("DISCORD_TOKEN"),
            discord_api_base=(get("DISCORD_API_BASE") or DEFAULT_DISCORD_API).rstrip("/"),
            discord_guild_id=int(guild) if guild else None,
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=_with_slash(get("SLACK_API_URL") or DEFAULT_SLACK_API),
        )

    def secrets(self) -> list[str]:
        """Every secret value set, so logs can be scrubbed of them."""
        values = (
            self.discord_token,
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
        )
        return [v for v in values if v]


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
