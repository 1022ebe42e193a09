"""The engine's `ChatPlatform` on Slack: post the daily question, post its reveal.

A question's message id is its Slack `ts`. The reveal goes in the question's thread and is
broadcast to the channel, so it reads as an answer to that question and everyone sees it;
then the question message is edited to drop its buttons. Failures raise `SlackError` with a
one-line reason, which the engine records and `/dlquiz schedule` shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import dm
from adapters.slack.blocks import (
    Message,
    closed_question_message,
    question_message,
    reveal_message,
)
from adapters.slack.convert import SERVER_PREFIX
from bot.logs import context
from bot.models import ChannelRef, QuestionPost, RevealPost

log = logging.getLogger(__name__)

NOT_INSTALLED = "not_installed"

# chat.postMessage errors meaning the question's thread cannot take a reply (its message was
# deleted): the reveal then goes to the channel on its own rather than failing the round.
THREAD_GONE = frozenset({"thread_not_found", "message_not_found", "invalid_thread_ts"})

HINTS = {
    "not_in_channel": "invite the app to the channel first (/invite @dlquiz)",
    "channel_not_found": "the channel is private and the app is not in it, or it is gone",
    "is_archived": "the channel is archived",
    "missing_scope": "the app lacks a scope: reinstall it from adapters/slack/manifest.yml",
    "invalid_auth": "SLACK_BOT_TOKEN is not valid",
    "token_revoked": "the app was uninstalled or its token revoked",
    "ratelimited": "Slack is rate-limiting the app; it will try again shortly",
    NOT_INSTALLED: "the workspace has not installed the app, or uninstalled it",
}


# Each post carries its key in Slack's message metadata, so it can be found again (find_post).
POST_EVENT = "dlquiz_post"
LOOKBACK = 100  # messages searched for an earlier post; a retry comes within minutes


class SlackError(Exception):
    """A Web API call failed; the message is one line the engine shows in `/dlquiz schedule`."""

    def __init__(self, method: str, code: str) -> None:
        self.method = method
        self.code = code
        hint = HINTS.get(code)
        super().__init__(f"{method} failed: {code}" + (f"; {hint}" if hint else ""))


def _ctx(channel: ChannelRef) -> dict[str, str]:
    return context(channel.server, channel.channel)


def _code(exc: SlackApiError) -> str:
    # A proxy or an outage can answer with an HTML page: its body is text, not Slack's JSON.
    data = getattr(exc.response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    status = getattr(exc.response, "status_code", None)
    return str(error or f"HTTP {status}")


class BotTokens(Protocol):
    """Where an app serving many workspaces finds each one's bot token."""

    async def bot_token(self, team_id: str) -> str | None: ...


class SlackPlatform:
    """Posts in Slack channels through one `AsyncWebClient`: with the client's own token (one
    workspace), or with the token of each channel's workspace from `tokens` (many)."""

    def __init__(self, client: AsyncWebClient, *, tokens: BotTokens | None = None) -> None:
        self.client = client
        self.tokens = tokens
        # Told of each reveal once it is posted (the Home tab refresh); they must return at once.
        self.reveal_listeners: list[Callable[[ChannelRef, RevealPost], None]] = []

    async def _auth(self, channel: ChannelRef, method: str) -> dict[str, Any]:
        """The `token` argument a call in `channel` needs: none when the client has it."""
        if self.tokens is None:
            return {}
        token = await self.tokens.bot_token(channel.server.removeprefix(SERVER_PREFIX))
        if token is None:
            raise SlackError(method, NOT_INSTALLED)
        return {"token": token}

    async def post_question(self, channel: ChannelRef, post: QuestionPost) -> str:
        """Post the question with its buttons; its `ts` is the message id."""
        ts = await self._post(channel, question_message(post), key=post.nonce)
        log.info("posted question of round %d as %s", post.round_id, ts, extra=_ctx(channel))
        return ts

    async def post_reveal(self, channel: ChannelRef, reveal: RevealPost) -> None:
        """Post the reveal in the question's thread, broadcast to the channel."""
        thread = reveal.message_ref or None
        message = reveal_message(reveal)
        try:
            await self._post(channel, message, thread=thread, key=reveal.nonce)
        except SlackError as exc:
            if thread is None or exc.code not in THREAD_GONE:
                raise
            log.warning(
                "question %s is gone (%s): reveal without a thread",
                thread,
                exc,
                extra=_ctx(channel),
            )
            await self._post(channel, message, key=reveal.nonce)
        log.info("posted reveal of round %d", reveal.round_id, extra=_ctx(channel))
        for listener in self.reveal_listeners:
            try:
                listener(channel, reveal)
            except Exception:  # the reveal is posted: nothing after it may fail the delivery
                log.exception("a listener failed after the reveal of round %d", reveal.round_id)

    async def close_question(self, channel: ChannelRef, reveal: RevealPost) -> None:
        """Replace the question message with its closed form, without buttons."""
        if not reveal.message_ref:
            return
        closed = closed_question_message(reveal)
        auth = await self._auth(channel, "chat.update")
        try:
            await self.client.chat_update(
                **auth,
                channel=channel.channel,
                ts=reveal.message_ref,
                text=closed.text,
                blocks=closed.blocks,
            )
        except SlackApiError as exc:
            if _code(exc) in THREAD_GONE:
                return  # the question was deleted: nothing left to close
            raise SlackError("chat.update", _code(exc)) from exc

    async def notify_member(self, *, server: str, user_id: str, channel: str, text: str) -> bool:
        """Tell a member something in a DM (the outcome of their suggestion); False if Slack
        refuses, and the engine keeps it for their next `/dlquiz`."""
        try:
            auth = await self._auth(ChannelRef(server, channel), "conversations.open")
        except SlackError as exc:
            log.info("cannot DM member %s: %s", user_id, exc)
            return False
        return await dm.notify_member(self.client, auth=auth, user_id=user_id, text=text)

    async def find_post(self, channel: ChannelRef, key: str, *, thread: str | None) -> str | None:
        """The ts of a recent message this app posted with `key` in its metadata (Slack has no
        idempotency key, so a post whose process died mid-call is looked for before a retry)."""
        try:
            auth = await self._auth(channel, "conversations.history")
            if thread is None:
                response = await self.client.conversations_history(
                    **auth, channel=channel.channel, limit=LOOKBACK, include_all_metadata=True
                )
            else:
                response = await self.client.conversations_replies(
                    **auth,
                    channel=channel.channel,
                    ts=thread,
                    limit=LOOKBACK,
                    include_all_metadata=True,
                )
        except SlackError as exc:
            log.warning("cannot look for an earlier post: %s", exc, extra=_ctx(channel))
            return None
        except SlackApiError as exc:
            # Without the history scopes the post is retried: a rare duplicate, never a loss.
            log.warning("cannot look for an earlier post: %s", _code(exc), extra=_ctx(channel))
            return None
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == POST_EVENT and payload.get("key") == key:
                return str(message.get("ts"))
        return None

    async def _post(
        self,
        channel: ChannelRef,
        message: Message,
        *,
        key: str,
        thread: str | None = None,
    ) -> str:
        auth = await self._auth(channel, "chat.postMessage")
        try:
            response = await self.client.chat_postMessage(
                **auth,
                channel=channel.channel,
                text=message.text,
                blocks=message.blocks,
                thread_ts=thread,
                reply_broadcast=True if thread else None,
                unfurl_links=False,
                unfurl_media=False,
                metadata={"event_type": POST_EVENT, "event_payload": {"key": key}},
            )
        except SlackApiError as exc:
            raise SlackError("chat.postMessage", _code(exc)) from exc
        return str(response["ts"])
