"""Discord's 3 seconds: the first response goes out before any slow work, never after it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from discord_harness import ADA, CHANNEL_ID, MOD, Harness, click, slash
from fake_discord import FakeDiscord, Request

from adapters.discord.app import started
from adapters.memory import ManualClock
from bot.config import Settings


def _callback_of(payload: dict[str, object]) -> str:
    return f"/interactions/{payload['id']}/{payload['token']}/callback"


def _is_channel_request(request: Request) -> bool:
    return request.path.startswith(f"/channels/{CHANNEL_ID}/messages")


@pytest.mark.parametrize("sub", ["post", "reveal"])
async def test_posting_commands_defer_before_touching_the_channel(quiz: Harness, sub: str) -> None:
    if sub == "reveal":
        await quiz.send(slash("post", MOD))
    held = quiz.fake.hold_channel_posts()  # Discord is slow to take the channel message
    payload = slash(sub, MOD)
    after = quiz.fake.last_seq
    quiz.feed(payload)

    first_channel_request = await quiz.fake.wait_for(_is_channel_request, after=after)
    callback = await quiz.fake.wait_for(lambda r: r.path == _callback_of(payload), after=after)
    assert callback.seq < first_channel_request.seq
    assert callback.body == {"type": 5, "data": {"flags": 64}}  # "thinking", only for the admin

    held.set()
    answer = await quiz.answer_to(payload, after=after)
    assert answer.content in (
        "Posted a new question in this channel.",
        "Closed the question and posted its reveal.",
    )


@pytest.fixture
async def slow(settings: Settings, fake: FakeDiscord, clock: ManualClock) -> AsyncIterator[Harness]:
    """The bot with no time budget at all: as if every engine call were slower than Discord
    waits, so every interaction takes the deferred path."""
    async with started(settings, clock=clock, reply_budget=0) as client:
        yield Harness(client, fake)


async def test_a_slow_read_is_deferred_then_answered(slow: Harness) -> None:
    answer = await slow.send(slash("help", ADA))
    assert answer.callback_type == 5
    assert answer.ephemeral
    assert "`/dlquiz question`" in answer.content


async def test_a_slow_press_is_deferred_then_confirmed(slow: Harness) -> None:
    await slow.send(slash("post", MOD))
    answer = await slow.send(click(slow.question_message(), "A", ADA))
    assert answer.callback_type == 5
    assert answer.ephemeral
    assert answer.content == "Recorded: A"


async def test_a_slow_practice_press_updates_the_practice_message(slow: Harness) -> None:
    card = await slow.send(slash("practice", ADA, topic="gans"))
    marked = await slow.send(click(card.message, "B", ADA))
    assert marked.callback_type == 6  # deferred update: the practice message itself changes
    assert marked.v2
    assert marked.texts[0].startswith("## Not quite: you chose B.")
