"""A direct message from the app to one member: how an author learns what became of their
suggestion when the reply to their command is long gone."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import notice_message
from bot.models import Notice

log = logging.getLogger(__name__)


async def notify_member(
    client: AsyncWebClient, *, auth: dict[str, Any], user_id: str, text: str
) -> bool:
    """A DM to the member; False when Slack refuses it, so the engine keeps the news for their
    next `/dlquiz`."""
    message = notice_message(Notice(text))
    try:
        opened = await client.conversations_open(**auth, users=user_id)
        dm = (opened.get("channel") or {}).get("id")
        if not dm:
            return False
        await client.chat_postMessage(
            **auth, channel=dm, text=message.text, blocks=message.blocks, unfurl_links=False
        )
    except (SlackApiError, SlackRequestError, OSError, TimeoutError) as exc:
        log.info("could not DM member %s: %s", user_id, exc)
        return False
    return True
