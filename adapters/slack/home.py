"""The app's Home tab on Slack: each member's standing, kept current, with a Practice button.

- `app_home_opened` (the Home tab) remembers, per workspace, that the member keeps a Home, then
  publishes it with `views.publish`.
- The Practice button starts practice in the member's DM with the app (its Messages tab), as
  the very card `/dlquiz practice` shows: its buttons, marking and "next question" are the ones
  every practice question has, and a Home re-published after a reveal can never wipe a
  question the member is in the middle of.
- After a reveal is posted, the Home of each member who answered that round and has opened
  Home before is re-published with the new numbers. That is best-effort work beside the
  reveal: it never delays or fails it, a failure is logged and that member's Home waits for
  their next visit, and calls are paced under Slack's limit for `views.publish` (Tier 4).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import reply_message
from adapters.slack.convert import SERVER_PREFIX, server_key
from adapters.slack.home_view import HOME_PRACTICE_ACTION, HomePage, home_view
from adapters.slack.platform import NOT_INSTALLED, BotTokens
from bot.engine import QuizEngine
from bot.inflight import InFlight
from bot.logs import context
from bot.models import ChannelRef, Member, Notice, Period, Reply, RevealPost, Tone
from bot.names import clean_name

log = logging.getLogger(__name__)

# Tier 4 allows 100+ calls a minute per workspace, with short bursts: paced at 100 a minute
# after a burst of 20. A 429 still gets through when other replicas publish for the same
# workspace; the client waits out its Retry-After (make_client's retry handler).
PUBLISH_RATE = 100 / 60.0  # calls per second
PUBLISH_BURST = 20
# Errors after which no other Home of the workspace can be published now: the rest of a refresh
# is skipped (each Home is drawn fresh at the member's next visit).
WORKSPACE_ERRORS = frozenset(
    {
        NOT_INSTALLED,
        "invalid_auth",
        "token_revoked",
        "account_inactive",
        "ratelimited",
        "missing_scope",
    }
)
PRACTICE_FAILED = (
    "Your practice question could not be sent to the Messages tab ({error}). Press Practice"
    " again in a moment."
)
PRACTICE_BROKE = Notice(
    "Something went wrong on our side while starting practice. Press Practice again.",
    Tone.ERROR,
)

_NETWORK = (SlackRequestError, aiohttp.ClientError, OSError, TimeoutError)


class PublishError(Exception):
    """A Home could not be published; `code` is Slack's error code or what went wrong."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Pace:
    """A token bucket: at most `burst` calls at once, then `rate` a second."""

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.sleep = sleep
        self._tokens = float(burst)
        self._at = clock()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:  # one waiter at a time keeps the order of calls
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                await self.sleep((1 - self._tokens) / self.rate)
                self._at = self.clock()
                self._tokens = 1
            self._tokens -= 1


class HomeTab:
    """Publishes members' Home tabs through one `AsyncWebClient`: with the client's own token
    (one workspace), or with each workspace's token from `tokens` (many)."""

    def __init__(
        self,
        *,
        engine: QuizEngine,
        client: AsyncWebClient,
        tokens: BotTokens | None = None,
        rate: float = PUBLISH_RATE,
        burst: int = PUBLISH_BURST,
    ) -> None:
        self.engine = engine
        self.client = client
        self.tokens = tokens
        self.rate = rate
        self.burst = burst
        self._paces: dict[str, Pace] = {}
        self._refreshes: set[asyncio.Task[None]] = set()
        self._closed = False

    # --- publishing -----------------------------------------------------------------------

    async def page(self, member: Member, notice: Notice | None = None) -> HomePage:
        """What the member's Home shows now."""
        engine = self.engine
        stats = await engine.stats_card(server=member.server, user_id=member.user_id)
        board = await engine.leaderboard(server=member.server, period=Period.ALL, caller=member)
        return HomePage(stats=stats, board=board, updated_at=engine.clock.now(), notice=notice)

    async def publish(self, member: Member, notice: Notice | None = None) -> None:
        """Publish the member's Home; PublishError when Slack or the network refuses it."""
        view = home_view(await self.page(member, notice))
        auth = await self._auth(member.server)
        pace = self._paces.setdefault(member.server, Pace(rate=self.rate, burst=self.burst))
        await pace.take()
        try:
            await self.client.views_publish(**auth, user_id=member.user_id, view=view)
        except SlackApiError as exc:
            raise PublishError(_code(exc)) from exc
        except _NETWORK as exc:
            raise PublishError(type(exc).__name__) from exc

    async def _auth(self, server: str) -> dict[str, Any]:
        if self.tokens is None:
            return {}
        token = await self.tokens.bot_token(server.removeprefix(SERVER_PREFIX))
        if token is None:
            raise PublishError(NOT_INSTALLED)
        return {"token": token}

    # --- the member opens Home, or presses Practice there -----------------------------------

    async def opened(self, body: dict[str, Any]) -> None:
        """`app_home_opened`: remember the member keeps a Home, and publish it."""
        event = body.get("event") or {}
        if event.get("tab") != "home":
            return  # the Messages tab: nothing to draw
        member = _member(body.get("team_id"), event.get("user"), None)
        if member is None:
            log.warning("an app_home_opened event names no workspace or member")
            return
        await self.engine.store.record_home_opened(
            server=member.server, user_id=member.user_id, at=self.engine.clock.now()
        )
        try:
            await self.publish(member)
        except PublishError as exc:
            log.warning(
                "could not publish the Home of %s: %s",
                member.user_id,
                exc.code,
                extra=context(member.server),
            )

    async def practice(self, body: dict[str, Any]) -> None:
        """The Practice button: a practice question in the member's DM with the app."""
        user = body.get("user") or {}
        team = (body.get("team") or {}).get("id") or user.get("team_id")
        member = _member(team, user.get("id"), user.get("username") or user.get("name"))
        if member is None:
            log.warning("refused a Home practice press without a workspace or member")
            return
        reply: Reply
        try:
            reply = await self.engine.practice(member, None)
        except Exception:
            log.exception("could not start practice from Home", extra=context(member.server))
            reply = PRACTICE_BROKE
        error = await self._send_to_dm(member, reply)
        if error is None:
            return
        log.warning(
            "could not send a practice question to %s: %s",
            member.user_id,
            error,
            extra=context(member.server),
        )
        # Home has no reply of its own: the one line saying why goes on top of it.
        notice = Notice(PRACTICE_FAILED.format(error=error), Tone.ERROR)
        try:
            await self.publish(member, notice)
        except PublishError as exc:
            log.warning("could not say so on Home either: %s", exc.code)

    async def _send_to_dm(self, member: Member, reply: Reply) -> str | None:
        """Post the reply in the member's DM with the app; None, or why it failed."""
        message = reply_message(reply)
        try:
            auth = await self._auth(member.server)
            opened = await self.client.conversations_open(**auth, users=member.user_id)
            dm = (opened.get("channel") or {}).get("id")
            if not dm:
                return "Slack opened no conversation"
            await self.client.chat_postMessage(
                **auth,
                channel=dm,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except PublishError as exc:
            return exc.code
        except SlackApiError as exc:
            return _code(exc)
        except _NETWORK as exc:
            return type(exc).__name__
        return None

    # --- refreshing after a reveal ----------------------------------------------------------

    def round_revealed(self, channel: ChannelRef, reveal: RevealPost) -> None:
        """The reveal of a round was posted: re-publish its answerers' Homes, in the
        background (called by the platform right after the post; returns at once)."""
        if self._closed:
            log.info("not refreshing Homes after round %d: stopping", reveal.round_id)
            return
        task = asyncio.create_task(
            self._refresh(channel.server, reveal.round_id), name=f"dlquiz-home-{reveal.round_id}"
        )
        self._refreshes.add(task)
        task.add_done_callback(self._refreshes.discard)

    async def _refresh(self, server: str, round_id: int) -> None:
        try:
            users = await self.engine.store.home_viewers(round_id)
        except Exception:  # the reveal is out; a Home that stays stale is drawn at next visit
            log.warning("could not find whose Home round %d changed", round_id, exc_info=True)
            return
        done = 0
        for user_id in users:
            try:
                await self.publish(Member(server=server, user_id=user_id, name=user_id))
            except PublishError as exc:
                if exc.code in WORKSPACE_ERRORS:
                    log.warning(
                        "stopped refreshing Homes after round %d (%d of %d done): %s",
                        round_id,
                        done,
                        len(users),
                        exc.code,
                        extra=context(server),
                    )
                    return
                log.warning(
                    "could not refresh the Home of %s: %s",
                    user_id,
                    exc.code,
                    extra=context(server),
                )
                continue
            except Exception:
                log.warning("could not refresh the Home of %s", user_id, exc_info=True)
                continue
            done += 1
        if users:
            log.info(
                "refreshed %d of %d Homes after round %d",
                done,
                len(users),
                round_id,
                extra=context(server),
            )

    async def idle(self) -> None:
        """Return once no refresh is under way."""
        while self._refreshes:
            await asyncio.gather(*self._refreshes, return_exceptions=True)

    async def close(self) -> None:
        """Start no refresh, and end those under way (each Home is drawn at the next visit)."""
        self._closed = True
        for task in self._refreshes:
            task.cancel()
        await asyncio.gather(*self._refreshes, return_exceptions=True)


def _member(team: object, user: object, name: object) -> Member | None:
    if not isinstance(team, str) or not team or not isinstance(user, str) or not user:
        return None
    shown = clean_name(name if isinstance(name, str) else None, fallback=user)
    return Member(server=server_key(team), user_id=user, name=shown)


def _code(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    return str(error or f"HTTP {getattr(exc.response, 'status_code', '?')}")


def register(app: AsyncApp, home: HomeTab, inflight: InFlight) -> None:
    """Attach the Home tab's listeners to the app."""

    # bolt acknowledges an event before its listener runs; it passes arguments by name.
    async def dlquiz_home_opened(body: dict[str, Any]) -> None:
        async with inflight.track():
            await home.opened(body)

    async def dlquiz_home_practice(ack: AsyncAck, body: dict[str, Any]) -> None:
        async with inflight.track():
            await ack()  # the question comes as a message, not as this request's answer
            await home.practice(body)

    app.event("app_home_opened")(dlquiz_home_opened)
    app.action(HOME_PRACTICE_ACTION)(dlquiz_home_practice)
