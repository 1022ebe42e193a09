"""Posts through discord.py when Discord answers 429, 500 or 403: each question and each reveal
reaches the channel once, in order, and a failed reveal goes out before the next question."""

from __future__ import annotations

from discord_harness import ADA, CHANNEL_ID, MOD, Harness, click, custom_ids, slash
from fake_discord import Request

from bot.models import LETTERS, ChannelRef

GUILD_CHANNEL = ChannelRef("discord:1302744932918091826", CHANNEL_ID)


def channel_messages(quiz: Harness) -> list[dict[str, object]]:
    return [m for m in quiz.fake.messages.values() if m["channel_id"] == CHANNEL_ID]


def questions(quiz: Harness) -> list[dict[str, object]]:
    return [
        m
        for m in channel_messages(quiz)
        if any(c.startswith("dlq:a:") for c in custom_ids(m)) and not m.get("flags", 0) & 64
    ]


def reveals(quiz: Harness) -> list[dict[str, object]]:
    return [m for m in channel_messages(quiz) if m.get("message_reference")]


def posts(quiz: Harness) -> list[Request]:
    return [
        r
        for r in quiz.fake.requests
        if r.method == "POST" and r.path == f"/channels/{CHANNEL_ID}/messages"
    ]


async def test_every_post_carries_a_nonce_discord_enforces(quiz: Harness) -> None:
    await quiz.send(slash("post", MOD))
    await quiz.send(slash("reveal", MOD))
    question, reveal = posts(quiz)
    assert question.body["enforce_nonce"] is True
    assert reveal.body["enforce_nonce"] is True
    assert question.body["nonce"] != reveal.body["nonce"]
    assert all(len(r.body["nonce"]) <= 25 for r in (question, reveal))


async def test_a_500_after_discord_kept_the_question_does_not_post_it_twice(
    quiz: Harness,
) -> None:
    # Discord stores the message, then answers 500; discord.py retries the same request.
    quiz.fake.post_faults[CHANNEL_ID] = [(500, True)]
    posted = await quiz.send(slash("post", MOD))
    assert posted.content == "Posted a new question in this channel."
    sent = posts(quiz)
    assert len(sent) == 2, "discord.py retried the post after the 500"
    assert sent[0].body["nonce"] == sent[1].body["nonce"]
    assert len(questions(quiz)) == 1


async def test_a_429_is_waited_out_and_the_question_posted_once(quiz: Harness) -> None:
    quiz.fake.post_faults[CHANNEL_ID] = [(429, False)]
    posted = await quiz.send(slash("post", MOD))
    assert posted.content == "Posted a new question in this channel."
    assert len(questions(quiz)) == 1


async def test_a_reveal_that_failed_goes_out_before_the_next_question(quiz: Harness) -> None:
    await quiz.send(slash("post", MOD))
    first = questions(quiz)[0]
    row = await quiz.client.engine.store.open_round(GUILD_CHANNEL)
    assert row is not None
    pressed = await quiz.send(click(first, LETTERS[row.answer], ADA))
    assert pressed.content.startswith("Recorded")

    quiz.fake.fail_channel(CHANNEL_ID)  # the bot lost Send Messages
    closed = await quiz.send(slash("reveal", MOD))
    assert "could not be posted" in closed.content
    assert "Missing Permissions" in closed.content
    assert reveals(quiz) == []

    quiz.fake.failing.clear()  # the permission is back
    again = await quiz.send(slash("post", MOD))
    assert again.content == "Posted a new question in this channel."
    [reveal] = reveals(quiz)
    second = questions(quiz)[-1]
    assert int(str(reveal["id"])) < int(str(second["id"])), "the reveal comes first"
    assert reveal["message_reference"]["message_id"] == int(str(first["id"]))  # type: ignore[index]
    late = await quiz.send(click(first, LETTERS[row.answer], ADA))
    assert late.content.startswith("This question is closed")
