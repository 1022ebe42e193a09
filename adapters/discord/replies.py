"""Answering one interaction within Discord's 3 seconds, only for the member who acted.

Discord drops an interaction that has no first response after 3 s (its token dies, error 10062).
Work that posts to a channel defers first and edits the "thinking" message when done. Everything
else answers directly, but never waits longer than a budget for the engine: past it, the
interaction is deferred and the answer follows as soon as it is ready.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable
from typing import Any

import discord
from discord.utils import MISSING

from adapters.discord import layouts
from adapters.discord.render import IMAGE_NAME, DiscordMessage

# Leaves a second of the 3 for the network both ways and a busy event loop.
DEFAULT_BUDGET = 2.0
NO_MENTIONS = discord.AllowedMentions.none()


async def send(
    interaction: discord.Interaction[Any], message: DiscordMessage, *, update: bool = False
) -> None:
    """Answer the interaction with an ephemeral message (the first response, or the edit of the
    deferred one); with `update`, replace the message whose button was pressed instead."""
    if interaction.response.is_done():
        await edit_original(interaction, message)
        return
    if update:
        await interaction.response.edit_message(
            **layouts.body(_in_place(interaction, message), edit=True),
            allowed_mentions=NO_MENTIONS,
        )
        return
    await interaction.response.send_message(
        **layouts.body(message),
        ephemeral=True,
        allowed_mentions=NO_MENTIONS,
        files=_files(message),
    )


def _in_place(interaction: discord.Interaction[Any], message: DiscordMessage) -> DiscordMessage:
    """What replaces the pressed message: a card when that message is one, as Discord keeps a
    card a card."""
    pressed = interaction.message
    if pressed is not None and pressed.flags.components_v2:
        return layouts.as_card(message)
    return message


def _files(message: DiscordMessage) -> list[discord.File]:
    """The message's picture as an attachment (a new File each time: sending closes one);
    MISSING without one, so discord.py sends exactly what it did before pictures."""
    if message.image is None:
        missing: list[discord.File] = MISSING
        return missing
    return [discord.File(io.BytesIO(message.image), filename=IMAGE_NAME)]


async def edit_original(interaction: discord.Interaction[Any], message: DiscordMessage) -> None:
    """Replace the deferred "thinking" message, or the pressed message after a deferred update,
    with the answer."""
    if interaction.response.type is discord.InteractionResponseType.deferred_message_update:
        message = _in_place(interaction, message)
    await interaction.edit_original_response(
        **layouts.body(message, edit=True),
        allowed_mentions=NO_MENTIONS,
        attachments=_files(message),
    )


async def defer(interaction: discord.Interaction[Any], *, update: bool = False) -> None:
    """Acknowledge now, answer later with `edit_original`."""
    if interaction.response.is_done():
        return
    if update:
        # The answer will replace the pressed message itself (type 6, no visible change yet).
        await interaction.response.defer()
    else:
        # Ephemeral "thinking" for commands and presses alike: the caller sees the bot working,
        # and the later answer replaces that message, visible to them only.
        await interaction.response.defer(ephemeral=True, thinking=True)


async def deferred(interaction: discord.Interaction[Any], work: Awaitable[DiscordMessage]) -> None:
    """Defer at once, then do `work` (which may post in the channel) and show its answer."""
    await defer(interaction)
    await edit_original(interaction, await work)


async def within(
    interaction: discord.Interaction[Any],
    work: Awaitable[DiscordMessage],
    *,
    budget: float = DEFAULT_BUDGET,
    update: bool = False,
) -> None:
    """Answer with `work`'s message directly when it is ready within `budget` seconds, else
    defer and edit the answer in when it is. `update`: as in `send`."""
    # A timer that defers beside the work, rather than a task for the work under a timeout:
    # the work runs on in this task whatever happens to the deferral, so an answer pressed is
    # recorded whether or not its confirmation can still be shown, and the common case (ready in
    # time) costs one timer instead of a task, a shield and a timeout.
    loop = asyncio.get_running_loop()
    deferral: asyncio.Task[None] | None = None

    def too_slow() -> None:
        nonlocal deferral
        deferral = loop.create_task(defer(interaction, update=update))

    timer = loop.call_later(budget, too_slow) if budget > 0 else None
    if timer is None:  # no time at all: defer before the work even starts
        too_slow()
    try:
        message = await work
    finally:
        if timer is not None:
            timer.cancel()
        if deferral is not None:
            # Whatever the work did, the deferral is seen through; a refused one raises here.
            await deferral
    if deferral is not None:
        await edit_original(interaction, message)
        return
    await send(interaction, message, update=update)
