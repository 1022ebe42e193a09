"""Who keeps a Home view of their standing: recorded per server, and found for a round's
answerers only."""

from __future__ import annotations

from datetime import timedelta

from bot import commands as cmd
from bot.engine import QuizEngine
from bot.models import ChannelRef
from bot.store import Store
from tests.conftest import START, answer_round, invocation, member

CHANNEL = ChannelRef("slack:T0ONE", "C1")
OTHER = ChannelRef("slack:T0TWO", "C1")  # the same user ids, another workspace


async def answered_round(engine: QuizEngine, channel: ChannelRef, names: list[str]) -> int:
    outcome = await engine.post(channel)
    assert outcome.round_id is not None
    for name in names:
        await answer_round(
            engine,
            channel=channel,
            member=member(name, server=channel.server),
            round_id=outcome.round_id,
            choice=1,
        )
    return outcome.round_id


async def test_only_answerers_who_opened_home_in_that_server_are_found(
    engine: QuizEngine, store: Store
) -> None:
    round_id = await answered_round(engine, CHANNEL, ["ada", "bob", "cy"])
    await answered_round(engine, OTHER, ["dee"])
    await store.record_home_opened(server=CHANNEL.server, user_id="u-cy", at=START)
    await store.record_home_opened(server=CHANNEL.server, user_id="u-ada", at=START)
    # Opened Home, but answered nothing in this round.
    await store.record_home_opened(server=CHANNEL.server, user_id="u-eve", at=START)
    # Answered this round, but opened Home in another workspace only.
    await store.record_home_opened(server=OTHER.server, user_id="u-bob", at=START)

    assert await store.home_viewers(round_id) == ["u-ada", "u-cy"]
    assert await store.home_viewers(round_id + 100) == []


async def test_opening_again_keeps_one_row(engine: QuizEngine, store: Store) -> None:
    round_id = await answered_round(engine, CHANNEL, ["ada"])
    for minutes in (0, 5, 10):
        at = START + timedelta(minutes=minutes)
        await store.record_home_opened(server=CHANNEL.server, user_id="u-ada", at=at)

    assert await store.home_viewers(round_id) == ["u-ada"]
    deleted = await store.forget_server(CHANNEL.server)
    assert deleted["home_views"] == 1


async def test_viewers_are_found_once_the_round_is_closed(engine: QuizEngine, store: Store) -> None:
    round_id = await answered_round(engine, CHANNEL, ["ada"])
    await store.record_home_opened(server=CHANNEL.server, user_id="u-ada", at=START)
    admin = invocation("boss", server=CHANNEL.server, channel=CHANNEL.channel, admin=True)
    await engine.handle(cmd.parse_command("reveal"), invocation=admin)

    row = await store.round_by_id(round_id)
    assert row is not None
    assert row.closed_at is not None
    assert await store.home_viewers(round_id) == ["u-ada"]
