"""The leaderboard's paging buttons on Slack: Previous, Next and My page.

Paging only reads, so the press is acknowledged at once and the page follows through the
`response_url`, replacing the ephemeral leaderboard for the member it was made for. A press by
anyone else gets a refusal of its own and leaves that leaderboard as it was.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from adapters.slack import convert
from adapters.slack.handlers import FAILED, NOT_OURS, Handlers
from bot.logs import context
from bot.models import LeaderboardCard, Reply

log = logging.getLogger(__name__)


async def turn_page(
    handlers: Handlers, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
) -> None:
    await ack()
    request = convert.parse_page(convert.first_action(body).get("value"))
    invocation = convert.interaction_invocation(body)
    if request is None or invocation is None:
        log.warning("refused a click that is not a leaderboard page: %r", body.get("actions"))
        await handlers._respond(respond, NOT_OURS)
        return
    member = invocation.member
    reply: Reply
    try:
        reply = await handlers.engine.leaderboard_page(member, request)
    except Exception:
        log.exception("could not page a leaderboard", extra=context(member.server))
        reply = FAILED
    # Only a page replaces the leaderboard; a refusal or a failure is said beside it.
    await handlers._respond(respond, reply, replace=isinstance(reply, LeaderboardCard))


def register(app: AsyncApp, handlers: Handlers) -> None:
    # Bolt passes a listener's arguments by parameter name: these three names are what it wants.
    async def dlquiz_page(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        async with handlers.inflight.track():
            await turn_page(handlers, ack, body, respond)

    app.action(convert.PAGE_ACTION)(dlquiz_page)
