"""Who may change the schedule, post or reveal: workspace admins and owners, per `users.info`.

Slash command payloads do not say whether the caller is an admin, so the adapter asks Slack.
Answers are cached for a few minutes: admin rights change rarely, and a burst of commands
should not spend the `users.info` rate limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.platform import NOT_INSTALLED, BotTokens

DEFAULT_TTL = 300.0  # seconds
MAX_ENTRIES = 10_000


class AdminDirectory:
    """Answers whether a member is a workspace admin or owner, from a short-lived cache."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
        tokens: BotTokens | None = None,
    ) -> None:
        self.client = client
        # Many workspaces: users.info must go with the asking workspace's own bot token.
        self.tokens = tokens
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[bool, float]] = {}

    async def is_admin(self, *, team: str, user_id: str) -> bool:
        """Whether the user is a workspace admin or owner; raises SlackApiError if Slack fails."""
        key = (team, user_id)
        now = self.clock()
        cached = self._cache.get(key)
        if cached is not None and now - cached[1] < self.ttl:
            return cached[0]
        auth: dict[str, Any] = {}
        if self.tokens is not None:
            token = await self.tokens.bot_token(team)
            if token is None:  # uninstalled since bolt let the request in
                raise SlackApiError(  # type: ignore[no-untyped-call]
                    NOT_INSTALLED, {"ok": False, "error": NOT_INSTALLED}
                )
            auth["token"] = token
        response = await self.client.users_info(user=user_id, **auth)
        user = response.get("user")
        admin = isinstance(user, dict) and bool(user.get("is_admin") or user.get("is_owner"))
        if len(self._cache) >= MAX_ENTRIES:
            self._forget_stale(now)
        self._cache[key] = (admin, now)
        return admin

    def _forget_stale(self, now: float) -> None:
        stale = [k for k, (_, at) in self._cache.items() if now - at >= self.ttl]
        for key in stale or list(self._cache):
            del self._cache[key]
