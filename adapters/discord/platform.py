"""The engine's `ChatPlatform` on Discord: post the question, post the reveal, close the buttons.

Posting goes through the REST API only (`get_partial_messageable`), so it needs no gateway cache
and works for any channel id the engine remembers. Failures (Forbidden, NotFound, ...) propagate:
the engine logs them with the channel and shows them to admins in `/dlquiz schedule`.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from adapters.discord import forms
from adapters.discord.buttons import build_view
from adapters.discord.convert import SERVER_PREFIX
from adapters.discord.render import (
    DiscordMessage,
    closed_buttons,
    question_message,
    reveal_message,
)
from bot.models import ChannelRef, QuestionPost, RevealPost

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


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
            await message.edit(view=build_view(closed_buttons(reveal)))
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

    async def _send(
        self,
        channel: ChannelRef,
        message: DiscordMessage,
        *,
        reference: discord.MessageReference | None = None,
        nonce: str | None = None,
    ) -> discord.Message:
        # discord.py's overloads take no None for these, so they are passed only when set.
        options: dict[str, Any] = {}
        view = build_view(message.buttons)
        if view is not None:
            options["view"] = view
        if reference is not None:
            options["reference"] = reference
        if nonce is not None:
            # Discord returns the earlier message for a nonce it has seen in the last minutes,
            # so a retry after a crash between the post and its mark shows nothing twice.
            options["nonce"] = nonce
        return await self._target(channel).send(
            content=message.content,
            embeds=list(message.embeds),
            allowed_mentions=NO_MENTIONS,
            **options,
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
