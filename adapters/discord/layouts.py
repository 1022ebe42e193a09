"""Cards as discord.py layout views (components v2), and what a message is sent or edited with.

The buttons of a card are plain `discord.ui.Button`s carrying the same custom_ids as before: a
press is dispatched by the client's dynamic items from the custom_id alone, whatever message
holds it, so presses on cards, on embed messages posted before cards existed, and after a restart
all take the same path.
"""

from __future__ import annotations

from typing import Any

import discord

from adapters.discord.buttons import build_view
from adapters.discord.cards import (
    NEUTRAL_ACCENT,
    TEXT_LIMIT,
    Card,
    Gallery,
    Row,
    Rule,
    Text,
    clip,
    rows,
)
from adapters.discord.convert import BUTTON_LABEL_LIMIT
from adapters.discord.render import DiscordMessage

LayoutItem = discord.ui.Item[discord.ui.LayoutView]


def build_layout(card: Card) -> discord.ui.LayoutView:
    # No timeout: the buttons are dispatched by custom_id, so nothing is kept per message.
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(discord.ui.Container(*map(_item, card.blocks), accent_colour=card.accent))
    return view


def _item(block: Text | Rule | Gallery | Row) -> LayoutItem:
    match block:
        case Text():
            return discord.ui.TextDisplay(block.content)
        case Rule():
            return discord.ui.Separator()
        case Gallery():
            media = discord.MediaGalleryItem(block.url, description=block.description or None)
            return discord.ui.MediaGallery(media)
        case Row():
            return discord.ui.ActionRow(
                *(
                    discord.ui.Button(
                        label=spec.label[:BUTTON_LABEL_LIMIT],
                        custom_id=spec.custom_id,
                        style=spec.style,
                        disabled=spec.disabled,
                    )
                    for spec in block.buttons
                )
            )


def view_of(message: DiscordMessage) -> discord.ui.View | discord.ui.LayoutView | None:
    """The message's card as a layout view, else a classic view of its buttons (None without)."""
    if message.card is not None:
        return build_layout(message.card)
    return build_view(message.buttons)


def body(message: DiscordMessage, *, edit: bool = False) -> dict[str, Any]:
    """The content, embeds and view to send the message with. A card goes without content or
    embeds, which Discord refuses beside it; an `edit` to a card sets them empty, which is how
    Discord lets a message posted with them become a card."""
    view = view_of(message)
    if message.card is not None:
        return {"content": None, "embeds": [], "view": view} if edit else {"view": view}
    options: dict[str, Any] = {"content": message.content, "embeds": list(message.embeds)}
    if view is not None or edit:
        options["view"] = view
    return options


def as_card(message: DiscordMessage) -> DiscordMessage:
    """The message as a card: what replaces a card in place must be one too, since Discord
    cannot turn a card back into a message of content and embeds."""
    if message.card is not None:
        return message
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [f"## {embed.title}" if embed.title else "", embed.description or ""]
        parts += [f"**{field.name}:** {field.value}" for field in embed.fields]
    text = Text(clip("\n".join(p for p in parts if p) or "-", TEXT_LIMIT))
    card = Card(NEUTRAL_ACCENT, (text, *rows(message.buttons)))
    return DiscordMessage(card=card, image=message.image, ping_role=message.ping_role)
