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
    # Total shards across every Discord process, and the ones this process serves (None: all).
    discord_shard_count: int | None = None
    discord_shard_ids: tuple[int, ...] | None = None
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API
    # Both set: one app serving many workspaces, each with its own bot token from the database.
    slack_client_id: str | None = None
    slack_client_secret: str | None = field(default=None, repr=False)

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
        shard_count, shard_ids = _shards(get("DISCORD_SHARD_COUNT"), get("DISCORD_SHARD_IDS"))
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
            discord_shard_count=shard_count,
            discord_shard_ids=shard_ids,
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=_with_slash(get("SLACK_API_URL") or DEFAULT_SLACK_API),
            slack_client_id=get("SLACK_CLIENT_ID"),
            slack_client_secret=get("SLACK_CLIENT_SECRET"),
        )

    def secrets(self) -> list[str]:
        """Every secret value set, so logs can be scrubbed of them."""
        values = (
            self.discord_token,
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.slack_client_secret,
        )
        return [v for v in values if v]


SHARD_IDS_FORM = "a range 0-3, a list 0,2,5, or both 0-3,8"


def _shards(
    count_text: str | None, ids_text: str | None
) -> tuple[int | None, tuple[int, ...] | None]:
    """DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS, checked against each other."""
    count = None
    if count_text is not None:
        if not count_text.isdigit() or int(count_text) < 1:
            raise ConfigError(
                f"DISCORD_SHARD_COUNT={count_text} is not a number of shards:"
                " use a whole number of 1 or more (such as 4)"
            )
        count = int(count_text)
    if ids_text is None:
        return count, None
    ids: set[int] = set()
    for part in ids_text.split(","):
        low, dash, high = part.strip().partition("-")
        if not low.isdigit() or (dash and not high.isdigit()) or (dash and int(high) < int(low)):
            raise ConfigError(
                f"DISCORD_SHARD_IDS={ids_text} is not a set of shards: use {SHARD_IDS_FORM}"
            )
        ids.update(range(int(low), int(high if dash else low) + 1))
    if count is None:
        raise ConfigError(
            f"DISCORD_SHARD_IDS={ids_text} needs DISCORD_SHARD_COUNT: set it to the total number"
            " of shards across every process of the bot (such as DISCORD_SHARD_COUNT=4)"
        )
    beyond = max(ids)
    if beyond >= count:
        raise ConfigError(
            f"DISCORD_SHARD_IDS={ids_text} names shard {beyond}, but DISCORD_SHARD_COUNT={count}"
            f" has shards 0 to {count - 1}"
        )
    return count, tuple(sorted(ids))


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
