"""The channel settings `thread` and `ping` on Discord, through discord.py against the fake."""

from __future__ import annotations

from datetime import UTC, datetime

from discord_harness import ADA, CHANNEL_ID, GUILD_ID, MOD, Harness, click, slash
from fake_discord import texts

from adapters.discord.platform import THREAD_NAME_LIMIT
from bot.models import ChannelRef
from bot.store import ChannelSettings, DeliveryKind

CHANNEL = ChannelRef(f"discord:{GUILD_ID}", CHANNEL_ID)
ROLE = "1302999000000000042"
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def configure(quiz: Harness, **settings: object) -> None:
    await quiz.client.engine.store.set_channel_settings(
        CHANNEL,
        ChannelSettings(**settings),  # type: ignore[arg-type]
        at=AT,
    )


def thread_requests(quiz: Harness, *, after: int = 0) -> list[str]:
    return [r.line for r in quiz.fake.requests if r.seq > after and r.path.endswith("/threads")]


async def test_the_reveal_opens_a_discussion_thread_on_the_question(quiz: Harness) -> None:
    await quiz.send(slash("post", MOD))
    question = quiz.question_message()
    await quiz.send(click(question, "A", ADA))
    assert thread_requests(quiz) == []  # not before the answer is out

    start = quiz.fake.last_seq
    revealed = await quiz.send(slash("reveal", MOD))
    assert revealed.content == "Closed the question and posted its reveal."
    lines = [r.line for r in revealed.requests if "/channels/" in r.path]
    assert lines == [
        f"POST /channels/{CHANNEL_ID}/messages",
        f"PATCH /channels/{CHANNEL_ID}/messages/{question['id']}",
        f"POST /channels/{CHANNEL_ID}/messages/{question['id']}/threads",
    ]
    thread = quiz.fake.threads[question["id"]]
    assert thread["name"].startswith("Question #1: ")
    assert len(thread["name"]) <= THREAD_NAME_LIMIT
    assert thread["thread_metadata"]["auto_archive_duration"] == 1440
    assert len(thread_requests(quiz, after=start)) == 1

    done = await quiz.client.engine.store.deliveries_of(1)
    assert done[DeliveryKind.REVEAL] == ("posted", 0)
    assert done[DeliveryKind.THREAD] == ("posted", 0)


async def test_no_thread_when_the_channel_turned_them_off(quiz: Harness) -> None:
    await configure(quiz, thread=False)
    await quiz.send(slash("post", MOD))
    await quiz.send(slash("reveal", MOD))
    assert thread_requests(quiz) == []
    assert quiz.fake.threads == {}


async def test_a_missing_thread_permission_is_a_notice_not_a_failed_reveal(
    quiz: Harness,
) -> None:
    await quiz.send(slash("schedule", MOD, time="09:00"))
    quiz.fake.refuse_threads(CHANNEL_ID)
    await quiz.send(slash("post", MOD))
    revealed = await quiz.send(slash("reveal", MOD))
    assert revealed.content == "Closed the question and posted its reveal."
    assert len(quiz.channel_posts()) == 2  # the question and its reveal, once each

    done = await quiz.client.engine.store.deliveries_of(1)
    assert done[DeliveryKind.REVEAL] == ("posted", 0)
    assert done[DeliveryKind.THREAD] == ("failed", 1)  # given up at once: retrying cannot help

    shown = await quiz.send(slash("schedule", ADA))
    assert "Create Public Threads" in shown.text
    assert "settings thread off" in shown.text

    # The next round is not held up by the refused thread.
    posted = await quiz.send(slash("post", MOD))
    assert posted.content == "Posted a new question in this channel."


async def test_the_question_pings_the_channel_role_and_nobody_else(quiz: Harness) -> None:
    await configure(quiz, ping=ROLE)
    await quiz.send(slash("post", MOD))
    (question_post,) = quiz.channel_posts()
    # A card has no content: the mention is its first text display, which pings like content
    # would (the fake counts it so, as Discord does), limited by the allowed mentions.
    assert not question_post.body.get("content")
    assert texts(question_post.body)[0] == f"<@&{ROLE}>"
    assert question_post.body["allowed_mentions"] == {
        "parse": [],
        "roles": [int(ROLE)],
    }
    assert quiz.question_message()["mention_roles"] == [ROLE]

    await quiz.send(slash("reveal", MOD))
    reveal = quiz.channel_posts()[-1].body
    assert reveal["allowed_mentions"] == {"parse": []}  # only the question pings
    assert "content" not in reveal or not reveal["content"]
    assert not any(f"<@&{ROLE}>" in t for t in texts(reveal))


async def test_no_ping_without_the_setting(quiz: Harness) -> None:
    await quiz.send(slash("post", MOD))
    (question_post,) = quiz.channel_posts()
    assert question_post.body["allowed_mentions"] == {"parse": []}
    assert quiz.question_message()["mention_roles"] == []
