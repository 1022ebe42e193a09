"""A daily round end to end through discord.py: post, presses, reveal, restart, posting errors."""

from __future__ import annotations

import copy
import logging
import re

import pytest
from discord_harness import (
    ADA,
    ALAN,
    CHANNEL_ID,
    GRACE,
    MOD,
    Harness,
    Person,
    buttons_of,
    click,
    click_id,
    container_of,
    custom_ids,
    layout_types,
    slash,
)
from fake_discord import (
    ACTION_ROW,
    APP_ID,
    IS_COMPONENTS_V2,
    SEPARATOR,
    TEXT_DISPLAY,
    FakeDiscord,
    Request,
    texts,
)

from adapters.discord.app import started
from adapters.discord.cards import TOPIC_ACCENTS
from adapters.memory import ManualClock
from bot.config import Settings
from bot.models import LETTERS, ChannelRef

# Title, question with its choices, the buttons, the reveal time; answer, explanation, tally.
QUESTION_LAYOUT = [TEXT_DISPLAY, SEPARATOR, TEXT_DISPLAY, SEPARATOR, ACTION_ROW, TEXT_DISPLAY]
REVEAL_LAYOUT = [TEXT_DISPLAY, TEXT_DISPLAY, SEPARATOR, TEXT_DISPLAY, TEXT_DISPLAY]
GUILD_CHANNEL = ChannelRef("discord:1302744932918091826", CHANNEL_ID)


async def right_and_wrong(quiz: Harness) -> tuple[str, str]:
    """The open question's right letter and one wrong letter (the test knows; members do not)."""
    row = await quiz.client.engine.store.open_round(GUILD_CHANNEL)
    assert row is not None
    return LETTERS[row.answer], LETTERS[(row.answer + 1) % row.choice_count]


async def topic_of_round(quiz: Harness) -> str:
    row = await quiz.client.engine.store.open_round(GUILD_CHANNEL)
    assert row is not None
    question = quiz.client.engine.bank.get(row.question_id)
    assert question is not None
    return question.topic


def shape(request: Request) -> str:
    """A request line with its ids and tokens replaced by what they stand for."""
    line = request.line.replace(APP_ID, "{app}").replace(CHANNEL_ID, "{channel}")
    line = re.sub(r"/interactions/\d+/token-\d+/", "/interactions/{id}/{token}/", line)
    line = re.sub(r"/token-\d+", "/{token}", line)
    return re.sub(r"/messages/\d+", "/messages/{question}", line)


async def test_a_round_with_several_members(quiz: Harness) -> None:
    start = quiz.fake.last_seq
    posted = await quiz.send(slash("post", MOD))
    assert posted.callback_type == 5  # deferred: posting takes a round trip to Discord
    assert posted.ephemeral
    assert posted.content == "Posted a new question in this channel."

    message = quiz.question_message()
    assert message["flags"] == IS_COMPONENTS_V2  # a card, and public (not ephemeral)
    assert_answer_ids(custom_ids(message), round_id=1)
    assert layout_types(message) == [
        TEXT_DISPLAY,
        SEPARATOR,
        TEXT_DISPLAY,
        SEPARATOR,
        ACTION_ROW,
        TEXT_DISPLAY,
    ]
    assert container_of(message)["accent_color"] == TOPIC_ACCENTS[await topic_of_round(quiz)]
    title, body, footer = texts(message)
    assert title.startswith("## Question #1\n")
    assert "**A)**" in body
    assert "The answer is revealed" in footer

    right, wrong = await right_and_wrong(quiz)
    presses = [(ADA, right), (GRACE, wrong), (ALAN, right)]
    for person, letter in presses:
        answer = await quiz.send(click(message, letter, person))
        assert answer.callback_type == 4
        assert answer.ephemeral
        assert answer.content == f"Recorded: {letter}"

    again = await quiz.send(click(message, right, GRACE))
    assert again.ephemeral
    assert again.content == f"You already answered {wrong}; the first answer is final."

    revealed = await quiz.send(slash("reveal", MOD))
    assert revealed.content == "Closed the question and posted its reveal."

    closing = [r for r in revealed.requests if r.method == "PATCH" and "/channels/" in r.path]
    assert [r.path for r in closing] == [f"/channels/{CHANNEL_ID}/messages/{message['id']}"]
    # The closing edit keeps the question a card: its buttons disabled, the right one green.
    assert closing[0].body["flags"] == IS_COMPONENTS_V2
    closed = quiz.fake.messages[message["id"]]
    assert texts(closed)[1] == body
    buttons = buttons_of(closed)
    assert all(b["disabled"] for b in buttons)
    assert [b["style"] for b in buttons] == [3 if b["label"] == right else 2 for b in buttons]

    reveal = quiz.channel_posts()[-1].body
    assert reveal["message_reference"]["message_id"] == int(message["id"])
    assert reveal["message_reference"]["fail_if_not_exists"] is False
    assert reveal["allowed_mentions"] == {"parse": []}
    shown = next(m for m in quiz.fake.messages.values() if m.get("message_reference"))
    assert layout_types(shown) == [
        TEXT_DISPLAY,
        TEXT_DISPLAY,
        SEPARATOR,
        TEXT_DISPLAY,
        TEXT_DISPLAY,
    ]
    title, _explanation, tally, result = texts(shown)
    assert title.startswith(f"## Answer to question #1: {right})")
    assert f"✓ {right}  2" in tally
    assert f"  {wrong}  1" in tally
    assert result == "2 of 3 got it right (67%)."

    # A press on the old message (as a client that has not seen the edit would send it).
    late = await quiz.send(click(message, right, MOD))
    assert late.ephemeral
    assert late.content == "This question is closed: its answer has been revealed in the channel."

    board = await quiz.send(slash("leaderboard", GRACE))
    assert board.v2
    listed = texts(board.message)[1]
    assert "Ada" in listed
    assert "Alan" in listed
    assert "Grace" not in listed  # no points, not listed
    assert "no points" in board.text

    assert [shape(r) for r in quiz.fake.requests if r.seq > start] == [
        "POST /interactions/{id}/{token}/callback?with_response=1",  # post: deferred
        "POST /channels/{channel}/messages",  # the question
        "PATCH /webhooks/{app}/{token}/messages/@original",  # "Posted a new question"
        "POST /interactions/{id}/{token}/callback?with_response=1",  # Ada: Recorded
        "POST /interactions/{id}/{token}/callback?with_response=1",  # Grace: Recorded
        "POST /interactions/{id}/{token}/callback?with_response=1",  # Alan: Recorded
        "POST /interactions/{id}/{token}/callback?with_response=1",  # Grace again: final
        "POST /interactions/{id}/{token}/callback?with_response=1",  # reveal: deferred
        "POST /channels/{channel}/messages",  # the reveal, replying to the question
        "PATCH /channels/{channel}/messages/{question}",  # then, apart, buttons disabled
        "POST /channels/{channel}/messages/{question}/threads",  # a thread to discuss it
        "PATCH /webhooks/{app}/{token}/messages/@original",  # "Closed the question"
        "POST /interactions/{id}/{token}/callback?with_response=1",  # late press: closed
        "POST /interactions/{id}/{token}/callback?with_response=1",  # leaderboard
    ]


async def test_a_press_after_a_restart_still_records(
    settings: Settings, fake: FakeDiscord, clock: ManualClock
) -> None:
    async with started(settings, clock=clock) as client:
        await Harness(client, fake).send(slash("post", MOD))
        message = Harness(client, fake).question_message()

    # A new client on the same database: no view was registered for the old message.
    async with started(settings, clock=clock) as client:
        quiz = Harness(client, fake)
        answer = await quiz.send(click(message, "C", ADA))
        assert answer.content == "Recorded: C"
        assert await client.engine.store.choice_of(1, ADA.user_id) == 2


async def test_a_forged_button_is_refused(quiz: Harness) -> None:
    await quiz.send(slash("post", MOD))
    message = copy.deepcopy(quiz.question_message())
    # Someone crafts a press naming a round that is not this channel's.
    buttons_of(message)[0]["custom_id"] = "dlq:a:999:A"
    answer = await quiz.send(click_id(message, "dlq:a:999:A", ADA))
    assert answer.ephemeral
    assert answer.content == "That button does not belong to a question of this channel."


async def test_a_question_shown_by_question_can_be_answered(quiz: Harness) -> None:
    await quiz.send(slash("post", MOD))
    card = await quiz.send(slash("question", GRACE))
    assert card.ephemeral
    assert_answer_ids(card.custom_ids, round_id=1)
    answer = await quiz.send(click(card.message, "D", GRACE))
    assert answer.content == "Recorded: D"
    again = await quiz.send(slash("question", GRACE))
    assert again.custom_ids == []
    assert "You answered D" in again.text


async def test_a_posting_error_is_reported_and_the_bot_keeps_going(quiz: Harness) -> None:
    await quiz.send(slash("schedule", MOD, time="09:00"))
    quiz.fake.fail_channel(CHANNEL_ID, status=403)
    failed = await quiz.send(slash("post", MOD))
    assert failed.ephemeral
    assert failed.content == (
        "The question could not be posted: 403 Forbidden (error code: 50013): Missing Permissions"
    )
    shown = await quiz.send(slash("schedule", ADA))
    assert "Last posting failed" in shown.text
    assert "Missing Permissions" in shown.text

    del quiz.fake.failing[CHANNEL_ID]  # an admin fixed the channel's permissions
    posted = await quiz.send(slash("post", MOD))
    assert posted.content == "Posted a new question in this channel."
    shown = await quiz.send(slash("schedule", ADA))
    assert "Last posting failed" not in shown.text


async def test_a_deleted_channel_is_reported(quiz: Harness) -> None:
    quiz.fake.fail_channel(CHANNEL_ID, status=404)
    failed = await quiz.send(slash("post", MOD))
    assert "could not be posted: 404 Not Found (error code: 10003)" in failed.content


async def test_the_reveal_is_posted_when_the_question_message_is_gone(quiz: Harness) -> None:
    await quiz.send(slash("post", MOD))
    message = quiz.question_message()
    del quiz.fake.messages[message["id"]]  # a moderator deleted it
    revealed = await quiz.send(slash("reveal", MOD))
    assert revealed.content == "Closed the question and posted its reveal."
    reveal = quiz.channel_posts()[-1].body
    [title, *_] = texts(reveal)
    assert title.startswith("## Answer to question #1")


async def test_names_cannot_break_the_layout_or_ping(quiz: Harness) -> None:
    await quiz.send(slash("post", MOD))
    right, _ = await right_and_wrong(quiz)
    prankster = Person("**Boss** @everyone <@1178324519023411221>", "1178331999999999999")
    await quiz.send(click(quiz.question_message(), right, prankster))
    await quiz.send(slash("reveal", MOD))
    board = await quiz.send(slash("leaderboard", ADA))
    listed = texts(board.message)[1]
    assert "\\*\\*Boss\\*\\*" in listed
    assert "@everyone" not in listed  # escaped with a zero-width space
    assert "<@1178324519023411221>" not in listed
    # A mention in a card's text would ping like one in content: only allowed mentions stop it.
    assert board.sent["allowed_mentions"] == {"parse": []}


async def test_an_engine_failure_is_told_to_the_member_and_logged(
    quiz: Harness, monkeypatch: pytest.MonkeyPatch, error_logs: list[logging.LogRecord]
) -> None:
    await quiz.send(slash("post", MOD))

    async def broken(**_: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(quiz.client.engine, "answer", broken)
    answer = await quiz.send(click(quiz.question_message(), "A", ADA))
    assert answer.ephemeral
    assert answer.content.startswith("Something went wrong on our side; nothing was changed.")
    [record] = error_logs
    assert record.name == "adapters.discord.client"
    assert record.exc_info is not None
    assert "disk on fire" in str(record.exc_info[1])
    error_logs.clear()  # provoked on purpose


def assert_answer_ids(ids: list[str], *, round_id: int) -> None:
    """One button per letter, each naming the round and its token."""
    token = ids[0].split(":")[2].partition(".")[2]
    assert re.fullmatch("[0-9a-f]{8}", token)
    assert ids == [f"dlq:a:{round_id}.{token}:{letter}" for letter in "ABCD"]
