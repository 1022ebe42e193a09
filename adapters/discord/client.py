"""The discord.py client: login-time set-up, and the bridge from interactions to the engine.

The client is built without the engine and attached to it once the runtime is open (the engine
needs the client to post, the client needs the engine to answer). Interactions only arrive after
`connect()`, which comes after `attach()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.state import AutoShardedConnectionState

from adapters.discord import buttons, convert, render, replies
from adapters.discord.convert import AnswerPress, NextPracticePress, PracticePress
from adapters.discord.render import DiscordMessage
from bot import commands as cmd
from bot.config import Settings
from bot.engine import QuizEngine
from bot.inflight import InFlight
from bot.logs import context, release_held_logs
from bot.models import Invocation, PageRequest, Reply

if TYPE_CHECKING:
    # discord.py's payload types import each other in circles: for the type checker only.
    from discord.types.gateway import InteractionCreateEvent

log = logging.getLogger(__name__)

UNKNOWN_INTERACTION = 10062
SORRY = "Something went wrong on our side; nothing was changed. Please try again in a moment."
BAD_OPTION = "One of the options is not valid here; `/dlquiz help` shows the usage."
# Discord's identify window: one login per bucket in it.
IDENTIFY_SPACING = timedelta(seconds=5)
STALE_COMMAND = "This command is out of date; Discord will show the current one in a minute."
COMPONENT = 3  # the interaction type of a button press

Show = Callable[[Reply], DiscordMessage]


class QuizTree(app_commands.CommandTree["QuizClient"]):
    async def on_error(
        self, interaction: discord.Interaction[QuizClient], error: app_commands.AppCommandError, /
    ) -> None:
        # A command Discord still shows but this version no longer has (or has with other
        # options) is normal for a while after an upgrade: say so instead of failing silently.
        stale = isinstance(
            error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch
        )
        if stale:
            log.warning("out-of-date command from Discord: %s", error)
            await _apologise(interaction, STALE_COMMAND)
        elif isinstance(error, app_commands.TransformerError):
            # An option value Discord should not have let through, such as a forged payload's.
            log.warning("bad option value: %s", error)
            await _apologise(interaction, BAD_OPTION)
        else:
            log.error("command failed: %s", error, exc_info=error)
            await _apologise(interaction, SORRY)


class QuizState(AutoShardedConnectionState["QuizClient"]):
    """discord.py's gateway state, but a press of one of dlquiz's buttons goes to the client from
    the raw payload (see `buttons.route`), and a press nothing would answer is refused in words
    instead of dropped."""

    def parse_interaction_create(self, data: InteractionCreateEvent) -> None:
        if data["type"] == COMPONENT:
            custom_id: str = data["data"]["custom_id"]  # type: ignore[typeddict-item]
            press = buttons.route(custom_id)
            if press is None and not self._in_view_store(data, custom_id):
                press = buttons.refuse_unknown
            if press is not None:
                interaction: discord.Interaction[QuizClient] = discord.Interaction(
                    data=data, state=self
                )
                self._get_client().start_press(press, interaction)
                # As discord.py does for every interaction, after its own dispatch.
                self.dispatch("interaction", interaction)
                return
        super().parse_interaction_create(data)

    def _in_view_store(self, data: InteractionCreateEvent, custom_id: str) -> bool:
        """Whether discord.py's view store has something to call for this press: a review
        button (a DynamicItem) or a button of a view kept for its message (a form's)."""
        store = self._view_store
        if any(pattern.fullmatch(custom_id) for pattern in store._dynamic_items):
            return True
        key = (data["data"]["component_type"], custom_id)  # type: ignore[typeddict-item]
        message: Any = data.get("message")
        message_id = int(message["id"]) if message else None
        return any(key in store._views.get(where, {}) for where in (message_id, None))


class QuizClient(discord.AutoShardedClient):
    """Auto-sharded: it asks `GET /gateway/bot` (so DISCORD_API_BASE decides the gateway too) and
    splits into as many shards as Discord asks a large bot to use."""

    def __init__(self, settings: Settings, *, reply_budget: float = replies.DEFAULT_BUDGET) -> None:
        # Slash commands and button presses arrive without any intent. `guilds` (not privileged)
        # only keeps discord.py's server cache sound; no member, presence or message events.
        # With DISCORD_SHARD_IDS the process connects those shards only: Discord sends it the
        # interactions of their guilds, and no other.
        if settings.discord_shard_ids is not None:
            super().__init__(
                intents=discord.Intents(guilds=True),
                allowed_mentions=discord.AllowedMentions.none(),
                shard_count=settings.discord_shard_count,
                shard_ids=list(settings.discord_shard_ids),
            )
        else:
            super().__init__(
                intents=discord.Intents(guilds=True),
                allowed_mentions=discord.AllowedMentions.none(),
                shard_count=settings.discord_shard_count,
            )
        self.settings = settings
        # Logins Discord allows at once (per 5 s), from `GET /gateway/bot`; 1 for most bots.
        self.max_concurrency = 1
        self.reply_budget = reply_budget
        self.tree = QuizTree(self)
        self.inflight = InFlight()
        self._engine: QuizEngine | None = None
        # Strong references to the presses being answered: the loop only keeps weak ones.
        self._presses: set[asyncio.Task[None]] = set()

    def _get_state(self, **options: Any) -> QuizState:
        return QuizState(
            dispatch=self.dispatch,
            handlers=self._handlers,
            hooks=self._hooks,
            http=self.http,
            **options,
        )

    @property
    def engine(self) -> QuizEngine:
        if self._engine is None:
            raise RuntimeError("the Discord client is not attached to an engine yet")
        return self._engine

    def attach(self, engine: QuizEngine) -> None:
        self._engine = engine

    # --- login time ---------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        """Runs inside `login()`, before any gateway connection."""
        await self.point_gateway()
        await self.sync_commands()

    async def point_gateway(self) -> None:
        """Take the gateway URL from `GET /gateway/bot` on the configured REST base.

        The sharded client asks for it too when it connects, but falls back to discord.py's
        hard-wired default gateway after an invalidated session; this keeps a proxy in the path.
        """
        _shards, url, limits = await self.http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        self.max_concurrency = max(1, int(limits.get("max_concurrency", 1)))
        log.info("gateway: %s", url)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait for this shard's login slot, shared through the database with every process of
        the bot: Discord allows one IDENTIFY per bucket (`shard_id % max_concurrency`) every 5 s,
        and processes started together would otherwise all log in at once."""
        if self._engine is None:
            await super().before_identify_hook(shard_id, initial=initial)
            return
        bucket = (shard_id or 0) % self.max_concurrency
        now = datetime.now(UTC)
        slot = await self._engine.store.reserve_identify(
            bucket=bucket, now=now, spacing=IDENTIFY_SPACING
        )
        wait = (slot - now).total_seconds()
        if wait > 0:
            log.info("shard %s waits %.1fs for its login slot", shard_id, wait)
            await asyncio.sleep(wait)

    async def sync_commands(self) -> list[app_commands.AppCommand]:
        """Register `/dlquiz` globally, or only in DISCORD_GUILD_ID (instant, for development)."""
        guild_id = self.settings.discord_guild_id
        if guild_id is None:
            synced = await self.tree.sync()
            log.info("synced %d command(s) globally", len(synced))
            return synced
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        log.info("synced %d command(s) to server %d", len(synced), guild_id)
        return synced

    async def on_ready(self) -> None:
        release_held_logs()  # started: what start-up logged can be shown now
        ids = self.shard_ids if self.shard_ids is not None else range(self.shard_count or 1)
        log.info(
            "connected to Discord as %s (shards %s of %d)",
            self.user,
            ",".join(str(i) for i in ids),
            self.shard_count or 1,
        )

    # --- interactions -------------------------------------------------------------------------

    async def run_command(
        self,
        interaction: discord.Interaction[Any],
        build: Callable[[], cmd.Command],
        *,
        posts: bool = False,
        show: Show = render.reply_message,
    ) -> None:
        """Answer one `/dlquiz` subcommand. `posts`: the engine may post in the channel, which can
        take longer than Discord waits, so the interaction is deferred first."""
        invocation = convert.invocation_of(interaction)
        if invocation is None:
            await replies.send(interaction, render.error_message(convert.NOT_IN_SERVER))
            return
        try:
            command = build()
        except cmd.CommandError as exc:
            await replies.send(interaction, render.error_message(str(exc)))
            return

        async def work() -> DiscordMessage:
            return show(await self.engine.handle(command, invocation=invocation))

        async with _guard(interaction):
            if posts:
                await replies.deferred(interaction, work())
            else:
                await replies.within(interaction, work(), budget=self.reply_budget)

    def start_press(self, press: buttons.Press, interaction: discord.Interaction[Any]) -> None:
        """Answer a press of one of dlquiz's buttons in a task of its own."""
        task = asyncio.create_task(press(self, interaction))
        self._presses.add(task)
        task.add_done_callback(self._presses.discard)

    async def refuse_press(self, interaction: discord.Interaction[Any], text: str) -> None:
        """Tell the member a press cannot be answered, and why (only them)."""
        log.warning(
            "refused a press of %r: %s",
            interaction.data.get("custom_id") if interaction.data else None,
            text,
            extra=_log_context(interaction),
        )
        async with _guard(interaction):
            await replies.send(interaction, render.error_message(text))

    async def handle_press(self, interaction: discord.Interaction[Any], press: AnswerPress) -> None:
        """Record an answer button press and confirm it to the member only."""
        invocation = convert.invocation_of(interaction)
        if invocation is None:
            await replies.send(interaction, render.error_message(convert.NOT_IN_SERVER))
            return

        async def work() -> DiscordMessage:
            notice = await self.engine.answer(
                channel=invocation.channel,
                member=invocation.member,
                round_id=press.round_id,
                choice=press.choice,
                token=press.token,
            )
            return render.notice_message(notice)

        async with _guard(interaction):
            await replies.within(interaction, work(), budget=self.reply_budget)

    async def handle_practice_press(
        self, interaction: discord.Interaction[Any], press: PracticePress
    ) -> None:
        """Mark a practice press at once, in place of the practice question the member saw."""
        await self._practice_update(
            interaction,
            lambda invocation: self.engine.practice_answer(
                member=invocation.member, question_id=press.question_id, choice=press.choice
            ),
        )

    async def handle_practice_next(
        self, interaction: discord.Interaction[Any], press: NextPracticePress
    ) -> None:
        """Show the next practice question (same topic filter) in place of the result."""
        await self._practice_update(
            interaction,
            lambda invocation: self.engine.handle(cmd.Practice(press.topic), invocation=invocation),
        )

    async def handle_page(
        self, interaction: discord.Interaction[Any], request: PageRequest
    ) -> None:
        """Page a leaderboard in place (an update of the pressed ephemeral message); another
        member's press gets a refusal of its own and leaves the leaderboard as it was."""
        invocation = convert.invocation_of(interaction)
        if invocation is None:
            await replies.send(interaction, render.error_message(convert.NOT_IN_SERVER))
            return
        member = invocation.member

        async def work() -> DiscordMessage:
            return render.reply_message(await self.engine.leaderboard_page(member, request))

        async with _guard(interaction):
            await replies.within(
                interaction,
                work(),
                budget=self.reply_budget,
                update=request.owner == member.user_id,
            )

    async def _practice_update(
        self,
        interaction: discord.Interaction[Any],
        answer: Callable[[Invocation], Awaitable[Reply]],
    ) -> None:
        """Replace the pressed practice message with the engine's reply, within Discord's 3 s."""
        invocation = convert.invocation_of(interaction)
        if invocation is None:
            await replies.send(interaction, render.error_message(convert.NOT_IN_SERVER))
            return

        async def work() -> DiscordMessage:
            return render.reply_message(await answer(invocation))

        async with _guard(interaction):
            await replies.within(interaction, work(), budget=self.reply_budget, update=True)


@asynccontextmanager
async def _guard(interaction: discord.Interaction[Any]) -> AsyncIterator[None]:
    """Log what failed while answering an interaction, and tell the member rather than leave
    them with Discord's "The application did not respond"."""
    where = _log_context(interaction)
    inflight: InFlight = interaction.client.inflight
    try:
        async with inflight.track():
            yield
    except Exception as exc:
        if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_INTERACTION:
            # Too late to say anything: Discord has dropped the interaction (its 3 s passed).
            log.warning(
                "interaction %s expired before it was answered", interaction.id, extra=where
            )
            return
        log.exception("could not answer interaction %s", interaction.id, extra=where)
        await _apologise(interaction, SORRY)


def _log_context(interaction: discord.Interaction[Any]) -> dict[str, str]:
    if interaction.guild_id is None:
        return {"platform": "discord"}
    return context(convert.server_key(interaction.guild_id), str(interaction.channel_id))


async def _apologise(interaction: discord.Interaction[Any], text: str) -> None:
    try:
        await replies.send(interaction, render.error_message(text))
    except discord.HTTPException as exc:  # the interaction may be past saving
        log.warning("could not tell interaction %s about the failure: %s", interaction.id, exc)
