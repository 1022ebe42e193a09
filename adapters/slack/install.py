"""One Slack app for many workspaces: "Add to Slack", and a bot token per workspace.

When SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set, `GET /slack/install` sends the installer to
Slack with a state that is stored and consumed once, and `GET /slack/oauth_redirect` exchanges
Slack's code (`oauth.v2.access` on SLACK_API_URL) for the workspace's bot token. Installations and
states live in dlquiz's own database (DLQUIZ_DB), in slack-sdk's SQLAlchemy stores, so every
replica sees every installation.

Server keys stay `slack:<team id>`, the workspace a request or channel belongs to. An Enterprise
Grid org-wide install carries no team id, so it would have no key its data could be kept under:
the distributed manifest leaves org-wide deployment off, and an org-wide install that arrives
anyway is refused before anything is stored. Grid workspaces install the app one by one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slack_bolt.error import BoltError
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.slack.convert import server_key
from bot.config import ConfigError, Settings
from bot.logs import context
from bot.models import ChannelRef
from bot.store import Store, is_postgres_url

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes of both manifests (tests keep the manifests and this list equal).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "channels:history",
    "groups:history",
    "im:write",
    "files:write",
)
STATE_TTL = 600  # seconds an installer has between "Add to Slack" and Slack's redirect
TOKEN_TTL = 60.0  # seconds a bot token found for a workspace is used without asking again
MAX_CACHED = 10_000


def sqlalchemy_url(db: str | Path) -> str:
    """The SQLAlchemy URL of DLQUIZ_DB, on the async driver dlquiz already uses for it."""
    text = str(db)
    if is_postgres_url(text):
        _, _, rest = text.partition("://")
        return f"postgresql+asyncpg://{rest}"
    return f"sqlite+aiosqlite:///{Path(text).resolve()}"


class WorkspaceInstallations(AsyncSQLAlchemyInstallationStore):
    """slack-sdk's store, refusing what dlquiz cannot key (an install without a team id), and
    keeping each workspace's bot for TOKEN_TTL once found.

    bolt authorizes every request by finding the workspace's bot here: without the cache, each
    press cost a query on DLQUIZ_DB for a token the press does not even use. Only a bot found
    is kept, so a workspace that installs is served at once; saving or deleting a workspace's
    installation here drops it at once (and a look-up already under way keeps nothing), and
    another replica's uninstall is seen within TOKEN_TTL, as for
    `Installations.bot_token`.
    """

    def __init__(
        self,
        *,
        client_id: str,
        engine: AsyncEngine,
        ttl: float = TOKEN_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.ttl = ttl
        self.clock = clock
        self._bots: dict[str | None, tuple[Bot, float]] = {}
        # Counts forgets: a look-up that a forget overtook must not keep what it read before it.
        self._forgets = 0

    async def async_save(self, installation: Installation) -> None:
        if installation.is_enterprise_install or not installation.team_id:
            log.warning(
                "refused an org-wide install of enterprise %s: install dlquiz per workspace",
                installation.enterprise_id,
            )
            # bolt shows its failure page for a BoltError raised here, and stores nothing.
            raise BoltError("org-wide installs are not supported: install per workspace")
        await super().async_save(installation)
        self.forget(installation.team_id)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        if enterprise_id is not None or is_enterprise_install:
            # Never saved (see async_save); asked of the database as slack-sdk would.
            return await super().async_find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
        now = self.clock()
        cached = self._bots.get(team_id)
        if cached is not None and now - cached[1] < self.ttl:
            return cached[0]
        forgets = self._forgets
        bot = await super().async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None:
            self._bots.pop(team_id, None)
            return None
        if forgets != self._forgets:
            return bot  # read before a delete or a save that ended while it ran: not kept
        if len(self._bots) >= MAX_CACHED:
            self._bots.clear()  # rare: a full cache of stale teams costs one look-up each
        self._bots[team_id] = (bot, now)
        return bot

    # Dropped once the row is gone: a look-up while the delete runs would keep the old bot.
    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await super().async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        self.forget(team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await super().async_delete_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )
        self.forget(team_id)

    @property
    def forgets(self) -> int:
        """How many times a kept bot was dropped: a cache above this one compares it across a
        look-up, as async_find_bot does."""
        return self._forgets

    def forget(self, team_id: str | None) -> None:
        """Drop a workspace's kept bot (uninstalled, revoked, or installed again)."""
        self._forgets += 1
        self._bots.pop(team_id, None)


class Installations:
    """The installation and OAuth-state stores on DLQUIZ_DB, and each workspace's bot token
    from a short cache (scheduled posts and admin look-ups have no request to carry one)."""

    def __init__(
        self,
        *,
        client_id: str,
        db: str | Path,
        token_ttl: float = TOKEN_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine: AsyncEngine = create_async_engine(sqlalchemy_url(db))
        self.store = WorkspaceInstallations(
            client_id=client_id, engine=self.engine, ttl=token_ttl, clock=clock
        )
        self.states = AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_TTL, engine=self.engine
        )
        self.token_ttl = token_ttl
        self.clock = clock
        self._tokens: dict[str, tuple[str | None, float]] = {}

    async def open(self) -> None:
        """Create the stores' tables where missing (replicas starting together may race)."""
        for attempt in (1, 2):
            try:
                await self.store.create_tables()  # type: ignore[no-untyped-call]
                await self.states.create_tables()  # type: ignore[no-untyped-call]
                return
            except SQLAlchemyError:
                # Another replica created a table between the check and the CREATE; the second
                # attempt sees it. A database that cannot be reached fails again, and says why.
                if attempt == 2:
                    raise

    async def close(self) -> None:
        await self.engine.dispose()

    async def bot_token(self, team_id: str) -> str | None:
        """The bot token of an installed workspace, or None when it has not installed the app."""
        now = self.clock()
        cached = self._tokens.get(team_id)
        if cached is not None and now - cached[1] < self.token_ttl:
            return cached[0]
        forgets = self.store.forgets
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=team_id)
        token = bot.bot_token if bot is not None else None
        if forgets != self.store.forgets:
            return token  # read before an uninstall or an install that ended meanwhile
        if len(self._tokens) >= MAX_CACHED:
            self._tokens.clear()  # rare: a full cache of stale teams costs one look-up each
        self._tokens[team_id] = (token, now)
        return token

    def forget_token(self, team_id: str) -> None:
        """Drop a cached token at once (uninstalled, revoked, or refused by Slack)."""
        self._tokens.pop(team_id, None)
        self.store.forget(team_id)

    def oauth_settings(self, settings: Settings) -> AsyncOAuthSettings:
        # check_multi_workspace made sure of both.
        assert settings.slack_client_id is not None
        assert settings.slack_client_secret is not None
        return AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret,
            scopes=list(BOT_SCOPES),
            installation_store=self.store,
            installation_store_bot_only=True,
            state_store=self.states,
            state_expiration_seconds=STATE_TTL,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
        )


def multi_workspace(settings: Settings) -> bool:
    """Whether the app serves many workspaces (both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)."""
    return bool(settings.slack_client_id and settings.slack_client_secret)


def check_multi_workspace(settings: Settings) -> bool:
    """Whether the settings ask for many workspaces; ConfigError (one line) if half-set."""
    client_id, secret = settings.slack_client_id, settings.slack_client_secret
    if not client_id and not secret:
        return False
    if not client_id or not secret:
        have, missing = (
            ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
            if client_id
            else ("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID")
        )
        raise ConfigError(
            f"{have} is set but {missing} is not: set both (Basic Information in the app's"
            " settings) to serve many workspaces, or neither for one"
        )
    if settings.slack_app_token:
        raise ConfigError(
            "SLACK_APP_TOKEN is set with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: an app for many"
            " workspaces runs in HTTP mode; unset SLACK_APP_TOKEN"
        )
    if not settings.slack_signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: an app for many workspaces runs in HTTP mode and"
            " needs it to verify requests"
        )
    return True


class StopWhenUninstalled(AsyncMiddleware):
    """On `app_uninstalled`, or `tokens_revoked` naming the bot, stop the workspace's daily
    questions and drop its cached token; bolt's own listener then deletes the installation.

    Quiz data stays (a reinstall resumes the leaderboard) until `dlquiz db forget slack:<team>`.
    """

    def __init__(self, *, store: Store, installations: Installations) -> None:
        self.store = store
        self.installations = installations

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],  # bolt's name for it
    ) -> BoltResponse | None:
        team = _revoked_team(req.body)
        if team is not None:
            self.installations.forget_token(team)
            server = server_key(team)
            stopped = 0
            for row in await self.store.schedules(platform="slack"):
                if row.server == server:
                    stopped += await self.store.delete_schedule(ChannelRef(row.server, row.channel))
            # Posts still waiting there (a reveal backing off, say) could only fail from now on.
            abandoned = await self.store.abandon_deliveries(
                server=server,
                reason="the workspace removed the app",
                at=datetime.now(UTC),
            )
            log.info(
                "workspace %s uninstalled dlquiz or revoked its token: %d daily schedules stopped,"
                " %d waiting posts given up; its quiz data stays until `dlquiz db forget %s`",
                team,
                stopped,
                abandoned,
                server,
                extra=context(server),
            )
        return await next()


def _revoked_team(body: dict[str, Any]) -> str | None:
    """The workspace whose bot lost its token in this Events API delivery, if any."""
    if body.get("type") != "event_callback":
        return None
    event = body.get("event")
    if not isinstance(event, dict):
        return None
    if event.get("type") == "tokens_revoked":
        tokens = event.get("tokens")
        if not isinstance(tokens, dict) or not tokens.get("bot"):
            return None  # only user tokens: the bot still posts
    elif event.get("type") != "app_uninstalled":
        return None
    team = body.get("team_id")
    return team if isinstance(team, str) and team else None
