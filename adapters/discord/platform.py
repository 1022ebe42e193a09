"""The engine's `ChatPlatform` on Discord: post the question, post the reveal, close the buttons.

Posting goes through the REST API only (`get_partial_messageable`), so it needs no gateway cache
and works for any channel id the engine remembers. Failures (Forbidden, NotFound, ...) propagate:
the engine logs them with the channel and shows them to admins in `/dlquiz schedule`.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import discord

from adapters.discord import forms, layouts
from adapters.discord.convert import SERVER_PREFIX
from adapters.discord.render import (
    DiscordMessage,
    closed_question_message,
    question_message,
    reveal_message,
)
from bot.models import ChannelRef, QuestionPost, RevealPost
from bot.ports import Refused

log = logging.getLogger(__name__)

THREAD_EXISTS = 160004  # "A thread has already been created for this message"
THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440  # a day: until the next daily question
THREAD_NAME_LIMIT = 100
NO_THREAD_PERMISSION = (
    "cannot open the discussion thread: the bot needs the Create Public Threads permission in"
    " this channel (or turn threads off with `/dlquiz settings thread off`)"
)


def thread_name(reveal: RevealPost) -> str:
    name = f"Question #{reveal.round_id}: {' '.join(reveal.question.prompt.split())}"
    if len(name) <= THREAD_NAME_LIMIT:
        return name
    return name[: THREAD_NAME_LIMIT - 1] + "…"


class DiscordPlatform:
    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def post_question(self, channel: ChannelRef, post: QuestionPost) -> str:
        sent = await self._send(channel, question_message(post), nonce=post.nonce)
        return str(sent.id)

    async def post_reveal(self, channel: ChannelRef, reveal: RevealPost) -> None:
        reference = None
        question_id = _message_id(reveal.message_ref)
        if question_id is not None:
            reference = discord.MessageReference(
                message_id=question_id,
                channel_id=int(channel.channel),
                guild_id=_guild_id(channel),
                # A deleted question message must not stop its reveal from being posted.
                fail_if_not_exists=False,
            )
        await self._send(channel, reveal_message(reveal), reference=reference, nonce=reveal.nonce)

    async def close_question(self, channel: ChannelRef, reveal: RevealPost) -> None:
        question_id = _message_id(reveal.message_ref)
        if question_id is None:
            return
        message = self._target(channel).get_partial_message(question_id)
        try:
            # A question posted before cards existed (an embed) becomes the closed card too:
            # the edit empties its content and embeds, which Discord asks of a message that
            # turns into a card.
            await message.edit(
                **layouts.body(closed_question_message(reveal), edit=True),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.NotFound:
            log.info(
                "question message %s of round %d in %s is gone; nothing to close",
                question_id,
                reveal.round_id,
                channel.channel,
            )

    async def notify_member(self, *, server: str, user_id: str, channel: str, text: str) -> bool:
        """The engine's optional `MemberNotifier`: a DM to the author of a suggestion."""
        return await forms.notify_member(self.client, user_id=user_id, text=text)

    async def open_thread(self, channel: ChannelRef, reveal: RevealPost) -> None:
        """Open a public thread on the question message for talking about it, now that the
        answer is out (before the reveal it would invite spoilers)."""
        question_id = _message_id(reveal.message_ref)
        if question_id is None:
            return
        try:
            await self.client.http.start_thread_with_message(
                int(channel.channel),
                question_id,
                name=thread_name(reveal),
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except discord.Forbidden as exc:
            raise Refused(NO_THREAD_PERMISSION) from exc
        except discord.HTTPException as exc:
            if exc.code == THREAD_EXISTS:
                return  # opened by an earlier attempt whose answer was lost
            if isinstance(exc, discord.NotFound):
                log.info("question message %s is gone; no thread", question_id)
                return
            raise

    async def _send(
        self,
        channel: ChannelRef,
        message: DiscordMessage,
        *,
        reference: discord.MessageReference | None = None,
        nonce: str | None = None,
    ) -> discord.Message:
        # discord.py's overloads take no None for these, so they are passed only when set.
        options: dict[str, Any] = layouts.body(message)
        if reference is not None:
            options["reference"] = reference
        if nonce is not None:
            # Discord returns the earlier message for a nonce it has seen in the last minutes,
            # so a retry after a crash between the post and its mark shows nothing twice.
            options["nonce"] = nonce
        return await self._target(channel).send(
            allowed_mentions=message.allowed_mentions, **options
        )

    def _target(self, channel: ChannelRef) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(
            int(channel.channel), guild_id=_guild_id(channel)
        )


def _guild_id(channel: ChannelRef) -> int | None:
    server = channel.server.removeprefix(SERVER_PREFIX)
    return int(server) if server.isdigit() else None


def _message_id(ref: str | None) -> int | None:
    # An empty reference marks a round whose question never reached the channel.
    return int(ref) if ref and ref.isdigit() else None
