"""`dlquiz run discord`: build the client, log in, open the engine, connect to the gateway.

`started()` does everything but the gateway connection, so tests run the same wiring against a
local fake of Discord's REST API and feed interactions straight to the client's parser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import aiohttp
import discord
from discord.http import Route

from adapters.discord import forms
from adapters.discord.client import QuizClient
from adapters.discord.commands import DlquizGroup
from adapters.discord.platform import DiscordPlatform
from adapters.discord.replies import DEFAULT_BUDGET
from bot.config import ConfigError, Settings
from bot.content import Bank
from bot.ports import Clock
from bot.runtime import running
from bot.store import Shards

log = logging.getLogger(__name__)

# How long a stop waits for interactions being answered before closing anyway.
SHUTDOWN_GRACE = 30.0

AUTH_FAILED = 4004  # gateway close code: the token was refused


def require_token(settings: Settings) -> str:
    if not settings.discord_token:
        raise ConfigError(
            "DISCORD_TOKEN is not set: copy the bot token from the Discord Developer Portal"
            " (your application, Bot page) into DISCORD_TOKEN"
        )
    return settings.discord_token


# A bot token is three base64url parts joined by dots: the bot's id, a timestamp, a signature.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def check_token_shape(token: str) -> None:
    """Refuse a value that cannot be a bot token before it goes over the network."""
    if not TOKEN_SHAPE.fullmatch(token):
        # The value is a secret, even when it is the wrong one: it is not shown.
        raise ConfigError(
            "DISCORD_TOKEN is not a bot token: a bot token is three parts of letters, digits,"
            " '-' and '_' joined by dots; copy it from the Developer Portal (your application,"
            " Bot page, Reset Token)"
        )


def build_bot(settings: Settings, *, reply_budget: float = DEFAULT_BUDGET) -> QuizClient:
    """The client with `/dlquiz` registered, talking to DISCORD_API_BASE; not logged in."""
    # discord.py keeps its REST base on the Route class; webhooks (interaction responses and
    # followups) build their URLs from it too, so one assignment moves every request.
    Route.BASE = settings.discord_api_base
    # The bot never joins voice: no start-up warnings about voice libraries it does not need.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    client = QuizClient(settings, reply_budget=reply_budget)
    client.tree.add_command(DlquizGroup(client))
    client.add_dynamic_items(*forms.REVIEW_ITEMS)
    return client


async def login(client: QuizClient, token: str) -> None:
    """Log in (which syncs the commands); a refusal becomes a one-line ConfigError."""
    base = client.settings.discord_api_base
    try:
        await client.login(token)
    except discord.LoginFailure as exc:
        raise ConfigError(
            f"DISCORD_TOKEN was rejected by Discord ({exc}): copy the current token from the"
            " Developer Portal, Bot page"
        ) from None
    except discord.Forbidden as exc:
        raise ConfigError(
            f"Discord refused to register /dlquiz ({exc}): invite the bot with the"
            " applications.commands scope, or check DISCORD_GUILD_ID"
        ) from None
    except discord.GatewayNotFound:
        raise ConfigError(
            f"no gateway URL from {base}/gateway/bot: check DISCORD_API_BASE"
        ) from None
    except discord.HTTPException as exc:
        raise ConfigError(f"the Discord API at {base} failed: {exc}".replace("\n", " ")) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise ConfigError(
            f"cannot reach the Discord API at {base} ({exc or type(exc).__name__}):"
            " check the network and DISCORD_API_BASE"
        ) from None


def served_shards(settings: Settings) -> Shards | None:
    """The shards whose guilds this process posts in, when it serves only some of them."""
    if settings.discord_shard_ids is None or settings.discord_shard_count is None:
        return None
    return Shards(count=settings.discord_shard_count, ids=frozenset(settings.discord_shard_ids))


@asynccontextmanager
async def started(
    settings: Settings,
    *,
    clock: Clock | None = None,
    bank: Bank | None = None,
    reply_budget: float = DEFAULT_BUDGET,
) -> AsyncIterator[QuizClient]:
    """A client logged in with its commands synced, attached to an open engine and scheduler,
    but not connected to the gateway: `await client.connect()` is the caller's to do."""
    token = require_token(settings)
    client = build_bot(settings, reply_budget=reply_budget)
    try:
        await login(client, token)
        async with running(
            settings,
            DiscordPlatform(client),
            clock=clock,
            bank=bank,
            platform_name="discord",
            shards=served_shards(settings),
        ) as runtime:
            client.attach(runtime.engine)
            yield client
    finally:
        await client.close()


async def serve(settings: Settings) -> None:
    """Run until the gateway connection ends or the process is asked to stop (SIGTERM)."""
    async with started(settings) as client:
        with _closed_on_sigterm(client):
            await _connect(client, settings)


async def _connect(client: QuizClient, settings: Settings) -> None:
    try:
        await client.connect(reconnect=True)
    except discord.ConnectionClosed as exc:
        # discord.py reconnects by itself after any close it can recover from; what reaches
        # here is final (bad token, bad shard or intents settings).
        if exc.code == AUTH_FAILED:
            raise ConfigError(
                "DISCORD_TOKEN was rejected by the Discord gateway (close code 4004)"
            ) from None
        raise ConfigError(
            f"the Discord gateway closed the connection for good (code {exc.code}"
            f"{': ' + exc.reason if exc.reason else ''})"
        ) from None
    except discord.GatewayNotFound:
        raise ConfigError(
            f"no gateway URL from {settings.discord_api_base}/gateway/bot: check DISCORD_API_BASE"
        ) from None


@contextlib.contextmanager
def _closed_on_sigterm(client: QuizClient) -> Iterator[None]:
    """A container stop sends SIGTERM: close the client, so the store flushes and shuts cleanly."""
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()

    async def stop() -> None:
        # Interactions being answered still need the HTTP session and the store.
        try:
            await asyncio.wait_for(client.inflight.wait_idle(), SHUTDOWN_GRACE)
        except TimeoutError:
            log.warning("stopping with interactions still running after %ss", SHUTDOWN_GRACE)
        await client.close()

    def close() -> None:
        log.info("stopping: SIGTERM")
        task = loop.create_task(stop())
        closing.add(task)
        task.add_done_callback(closing.discard)

    try:
        loop.add_signal_handler(signal.SIGTERM, close)
    except NotImplementedError:  # pragma: no cover - Windows event loops have no signal handlers
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def run_discord(settings: Settings) -> int:
    """Serve `/dlquiz` and the daily questions on Discord; the CLI's `run discord`."""
    check_token_shape(require_token(settings))
    asyncio.run(serve(settings))
    return 0
