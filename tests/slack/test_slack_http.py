"""End to end through the real bolt AsyncApp in HTTP mode, with requests signed as Slack signs
them, against the local fake Web API: every subcommand, a whole round, and the refusals."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from fake_slack import TEAM, FakeSlack, all_text
from slack_driver import (
    ANA,
    BEN,
    CHANNEL,
    CY,
    DEE,
    FORM,
    ErrorLog,
    SlackDriver,
    buttons_of,
    payload,
    signed,
)

from adapters.slack import handlers
from bot.models import ChannelRef, Notice
from bot.store import StoreError

HERE = ChannelRef(f"slack:{TEAM}", CHANNEL)


def posted_texts(fake: FakeSlack) -> str:
    return "\n".join(all_text(c.args) for c in fake.calls if c.method.startswith("chat."))


def assert_no_live_mentions(text: str) -> None:
    """Nothing the bank or a member wrote may reach Slack as a `<...>` token; dates may."""
    for token in ("<!channel>", "<!here>", "<!everyone>", "<@U0ANA0001>", "<https://"):
        assert token not in text, f"{token} reached Slack unescaped"


async def open_question(slack: SlackDriver) -> dict[str, Any]:
    """An admin posts a question; the message as posted in the channel."""
    reply = await slack.command(ANA, "post")
    assert reply.status == 200
    assert reply.ack == {}, "post is acknowledged empty, then answered through response_url"
    assert "Posted a new question" in reply.text
    return slack.posted()


async def right_answer(slack: SlackDriver) -> int:
    row = await slack.engine.store.open_round(HERE)
    assert row is not None
    return row.answer


# --- the subcommands ---------------------------------------------------------------------------


async def test_help_bare_and_named(slack: SlackDriver) -> None:
    for text in ("", "help", "  HELP  "):
        reply = await slack.command(BEN, text)
        assert reply.status == 200
        assert reply.ack["response_type"] == "ephemeral"
        assert "/dlquiz leaderboard" in reply.text
    assert slack.fake.api("chat.postMessage") == []


async def test_question_when_none_is_open(slack: SlackDriver) -> None:
    reply = await slack.command(BEN, "question")
    assert reply.ack["response_type"] == "ephemeral"
    assert "No question is open" in reply.text
    assert buttons_of(reply.ack) == []


async def test_post_puts_a_question_with_buttons_in_the_channel(slack: SlackDriver) -> None:
    message = await open_question(slack)
    row = await slack.engine.store.open_round(HERE)
    assert row is not None
    question = slack.engine.bank.get(row.question_id)
    assert question is not None
    assert message["channel"] == CHANNEL
    buttons = buttons_of(message)
    assert [b["text"]["text"] for b in buttons] == list("ABCDE"[: len(question.choices)])
    assert [b["value"] for b in buttons] == [
        f"{row.id}.{row.token}:{i}" for i in range(len(buttons))
    ]
    assert "The answer comes" in all_text(message)
    assert_no_live_mentions(all_text(message))
    assert slack.fake.api("users.info")[0].args["user"] == ANA.id


async def test_question_card_has_buttons_until_answered(slack: SlackDriver) -> None:
    message = await open_question(slack)
    before = await slack.command(BEN, "question")
    assert len(buttons_of(before.ack)) == len(buttons_of(message))
    await slack.press(BEN, message, 0)
    after = await slack.command(BEN, "question")
    assert buttons_of(after.ack) == []
    assert "You answered *A*" in after.text


async def test_a_round_with_several_members(slack: SlackDriver) -> None:
    message = await open_question(slack)
    right = await right_answer(slack)
    wrong = (right + 1) % len(buttons_of(message))
    pressed = {BEN: right, CY: wrong, DEE: right}
    for user, choice in pressed.items():
        reply = await slack.press(user, message, choice)
        assert reply.status == 200
        assert reply.ack == {}
        [confirmation] = reply.replies
        assert confirmation.body["response_type"] == "ephemeral"
        assert confirmation.body["replace_original"] is False
        assert confirmation.text.startswith(f"Recorded: {'ABCDE'[choice]}")
        assert "right" not in confirmation.text.lower()

    revealed = await slack.command(ANA, "reveal")
    assert "Closed the question and posted its reveal" in revealed.text

    [update] = slack.fake.api("chat.update")
    assert update.args["ts"] == message["ts"]
    assert update.args["channel"] == CHANNEL
    assert buttons_of(update.args) == [], "the closed question keeps no buttons"
    reveal = slack.posted(1)
    assert reveal["thread_ts"] == message["ts"]
    assert reveal["reply_broadcast"] is True
    text = all_text(reveal)
    assert "Answer to question #" in text
    assert "2 of 3 got it right" in text
    assert_no_live_mentions(posted_texts(slack.fake))

    board = await slack.command(CY, "leaderboard")
    assert "ben" in board.text
    assert "&lt;!channel&gt; &amp; &lt;@U0ANA0001&gt;" in board.text
    assert_no_live_mentions(board.text)
    assert "You have no points" in board.text

    methods = [c.method for c in slack.fake.calls]
    assert methods == [
        "auth.test",
        "users.info",
        "chat.postMessage",
        "chat.postMessage",
        "chat.update",
    ]


async def test_repeat_and_late_presses(slack: SlackDriver) -> None:
    message = await open_question(slack)
    first = await slack.press(BEN, message, 1)
    assert "Recorded: B" in first.text
    again = await slack.press(BEN, message, 2)
    assert "already answered B" in again.text
    await slack.command(ANA, "reveal")
    late = await slack.press(CY, message, 0)
    assert late.status == 200
    assert "closed" in late.text
    assert await slack.engine.store.choice_of(1, BEN.id) == 1
    assert await slack.engine.store.choice_of(1, CY.id) is None


async def test_leaderboard_periods(slack: SlackDriver) -> None:
    message = await open_question(slack)
    await slack.press(BEN, message, await right_answer(slack))
    await slack.command(ANA, "reveal")
    for period, title in (("week", "this week"), ("month", "this month"), ("all", "all time")):
        reply = await slack.command(BEN, f"leaderboard {period}")
        assert f"Leaderboard, {title}" in reply.text
        assert "You: rank 1 of 1" in reply.text


async def test_stats_for_self_mention_and_unknown(slack: SlackDriver) -> None:
    nobody = await slack.command(BEN, "stats")
    assert "You have not answered" in nobody.text
    message = await open_question(slack)
    await slack.press(BEN, message, await right_answer(slack))
    await slack.command(ANA, "reveal")
    own = await slack.command(BEN, "stats")
    assert "Stats for ben" in own.text
    assert "100%" in own.text
    by_mention = await slack.command(CY, f"stats <@{BEN.id}|ben>")
    assert "Stats for ben" in by_mention.text
    unknown = await slack.command(CY, "stats <!channel>")
    assert "Nobody called" in unknown.text
    assert_no_live_mentions(unknown.text)


async def test_topics_are_escaped(slack: SlackDriver) -> None:
    reply = await slack.command(BEN, "topics")
    assert "2 topics, 3 questions" in reply.text
    assert "Nasty &lt;text&gt; &amp; co" in reply.text


async def test_practice_is_marked_at_once_and_offers_another(slack: SlackDriver) -> None:
    card = await slack.command(BEN, "practice plain")
    assert card.ack["response_type"] == "ephemeral"
    buttons = buttons_of(card.ack)
    assert [b["action_id"] for b in buttons][:2] == ["dlq_practice_0", "dlq_practice_1"]
    marked = await slack.press(BEN, card.ack, 1)  # the plain-text question's answer is B
    [result] = marked.replies
    assert result.body["replace_original"] is True, "the card turns into its result"
    assert "*Right.*" in result.text
    assert "It comes back" in result.text
    again = await slack.press(BEN, card.ack, 1)
    assert "already answered" in again.text
    [next_button] = buttons_of(result.body)
    assert next_button["value"] == "topic:plain-text"
    following = await slack.press(BEN, result.body, 0)
    assert "All caught up in Plain" in following.text
    assert slack.fake.api("chat.postMessage") == [], "practice is never posted in the channel"


async def test_practice_unknown_topic(slack: SlackDriver) -> None:
    reply = await slack.command(BEN, "practice <!here>")
    assert "Unknown topic" in reply.text
    assert_no_live_mentions(reply.text)


async def test_schedule_set_show_and_off(slack: SlackDriver) -> None:
    empty = await slack.command(BEN, "schedule")
    assert "No daily question" in empty.text
    set_ = await slack.command(ANA, "schedule 09:30 europe/berlin")
    assert "Daily question at *09:30* Europe/Berlin" in set_.text
    assert "<!date^" in set_.text, "the next post time shows in each reader's own zone"
    shown = await slack.command(BEN, "schedule")
    assert "09:30" in shown.text
    off = await slack.command(ANA, "schedule off")
    assert "stopped" in off.text
    assert "No daily question" in (await slack.command(BEN, "schedule")).text


async def test_reveal_with_nothing_open(slack: SlackDriver) -> None:
    reply = await slack.command(ANA, "reveal")
    assert "No question is open" in reply.text


# --- refusals --------------------------------------------------------------------------------


async def test_non_admin_is_refused_and_nothing_changes(slack: SlackDriver) -> None:
    for text in ("post", "reveal", "schedule 09:00", "schedule off"):
        reply = await slack.command(BEN, text)
        assert reply.status == 200
        [refusal] = reply.replies
        assert refusal.body["response_type"] == "ephemeral"
        assert "Only admins" in refusal.text
    assert slack.fake.api("chat.postMessage") == []
    assert await slack.engine.store.schedule(HERE) is None
    assert len(slack.fake.api("users.info")) == 1, "users.info is cached"


async def test_admin_check_failure_changes_nothing(slack: SlackDriver) -> None:
    slack.fake.errors["users.info"] = "ratelimited"
    reply = await slack.command(ANA, "post")
    assert "Could not check your admin rights" in reply.text
    assert slack.fake.api("chat.postMessage") == []


async def test_bad_arguments_name_the_problem_and_the_form(slack: SlackDriver) -> None:
    cases = {
        "schedule 25:99": "not a valid time",
        "schedule 09:00 Mars/Olympus": "unknown time zone 'Mars/Olympus'",
        "leaderboard decade": "unknown period 'decade'",
        "frobnicate now": "unknown subcommand 'frobnicate'",
        "question please": "takes no argument",
        "x" * 600: "characters long",
    }
    for text, problem in cases.items():
        reply = await slack.command(ANA, text)
        assert reply.ack["response_type"] == "ephemeral"
        assert problem in reply.text, reply.text
        assert "/dlquiz" in reply.text
    assert [c.method for c in slack.fake.calls] == ["auth.test"], "nothing reached Slack"


async def test_bad_signature_and_stale_timestamp_are_refused(slack: SlackDriver) -> None:
    _, form = slack.command_form(ANA, "post")
    body = urlencode(form)
    wrong = await slack.send(body, headers=signed(body, secret="not-the-secret"))
    stale = await slack.send(body, headers=signed(body, timestamp=int(time.time()) - 6 * 60))
    unsigned = await slack.send(body, headers={})
    assert [wrong[0], stale[0], unsigned[0]] == [401, 401, 401]
    assert slack.fake.calls == []
    assert await slack.engine.store.open_round(HERE) is None


async def test_forged_press_is_refused(slack: SlackDriver) -> None:
    message = await open_question(slack)
    key, body = slack.press_payload(BEN, message, 0)
    body["actions"][0]["value"] = "1:1"  # the value says B, the action id says A
    edited = await slack.send_interaction(key, body)
    assert "not an answer" in edited.text
    key, body = slack.press_payload(BEN, message, 0)
    signed_body = urlencode({"payload": json.dumps(body)})
    tampered = await slack.send(
        signed_body.replace("dlq_answer_0", "dlq_answer_1"), headers=signed(signed_body)
    )
    assert tampered[0] == 401
    elsewhere = await slack.press(BEN, message, 0, channel="C0OTHER01")
    assert "does not belong" in elsewhere.text
    assert await slack.engine.store.choice_of(1, BEN.id) is None


async def test_ack_comes_before_slow_work(slack: SlackDriver) -> None:
    gate = slack.fake.gates["chat.postMessage"] = asyncio.Event()
    key, form = slack.command_form(ANA, "post")
    body = urlencode(form)
    headers = {"Content-Type": FORM, **signed(body)}
    async with slack.http.post("/slack/events", data=body, headers=headers) as response:
        assert response.status == 200
        assert await response.text() == ""
    posts = slack.fake.api("chat.postMessage")
    assert not any(call.done for call in posts), "the ack went out before the post finished"
    await slack.fake.wait_for(lambda: bool(slack.fake.api("chat.postMessage")))
    assert slack.fake.replies_to(key) == []
    gate.set()
    await slack.inflight.wait_idle()
    [reply] = slack.fake.replies_to(key)
    assert "Posted a new question" in reply.text


async def test_post_errors_reach_the_admin_and_the_schedule(slack: SlackDriver) -> None:
    await slack.command(ANA, "schedule 09:00")
    slack.fake.errors["chat.postMessage"] = "not_in_channel"
    reply = await slack.command(ANA, "post")
    assert "could not be posted" in reply.text
    assert "not_in_channel" in reply.text
    assert "/invite @dlquiz" in reply.text
    shown = await slack.command(BEN, "schedule")
    assert "Last posting failed" in shown.text
    assert "not_in_channel" in shown.text


async def test_rate_limited_calls_are_retried(slack: SlackDriver) -> None:
    slack.fake.rate_limits["chat.postMessage"] = 1
    await open_question(slack)
    statuses = [c.response.get("ok") for c in slack.fake.api("chat.postMessage")]
    assert statuses == [False, True]


async def test_a_channel_named_payload_still_works(slack: SlackDriver) -> None:
    _, form = slack.command_form(BEN, "stats payload")
    form["channel_name"] = "payload-team"
    status, ack = await slack.send(urlencode(form))
    assert status == 200
    assert "Nobody called 'payload'" in all_text(ack)


async def test_url_verification(slack: SlackDriver) -> None:
    challenge = payload("url_verification")
    status, ack = await slack.send(json.dumps(challenge), content_type="application/json")
    assert status == 200
    assert ack == {"challenge": challenge["challenge"]}


async def test_event_retries_are_processed_once(slack: SlackDriver) -> None:
    # dlquiz subscribes to no events; this listener stands in for a future subscription.
    seen: list[str] = []
    arrived = asyncio.Event()

    async def on_mention(event: dict[str, Any]) -> None:
        seen.append(event["event_ts"])
        arrived.set()

    slack.app.event("app_mention")(on_mention)
    first = payload("event_callback")
    body = json.dumps(first)
    assert (await slack.send(body, content_type="application/json"))[0] == 200
    await arrived.wait()
    retry_headers = {**signed(body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"}
    retry = await slack.send(body, content_type="application/json", headers=retry_headers)
    assert retry[0] == 200
    # A later, distinct event: once it is handled, a duplicate would have been handled too.
    later = payload("event_callback")
    later["event_id"] = "Ev0DLQUIZ002"
    later["event"]["event_ts"] = "1772442200.000300"
    arrived.clear()
    assert (await slack.send(json.dumps(later), content_type="application/json"))[0] == 200
    await arrived.wait()
    assert seen == [first["event"]["event_ts"], "1772442200.000300"]


async def test_slow_replies_move_to_the_response_url(
    slack: SlackDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers, "ACK_BUDGET", 0)  # anything reading the database is "slow"
    reply = await slack.command(BEN, "leaderboard")
    assert reply.ack == {}
    [late] = reply.replies
    assert late.body["response_type"] == "ephemeral"
    assert "Leaderboard, all time" in late.text


async def test_an_answer_that_cannot_be_saved_is_not_confirmed(
    slack: SlackDriver, monkeypatch: pytest.MonkeyPatch, logged_errors: ErrorLog
) -> None:
    message = await open_question(slack)

    async def broken(**_: object) -> Notice:
        raise StoreError("disk full")

    monkeypatch.setattr(slack.engine, "answer", broken)
    reply = await slack.press(BEN, message, 0)
    assert reply.status == 200
    assert "could not be saved" in reply.text
    assert "Recorded" not in reply.text
    logged_errors.expected = True


async def test_forged_practice_click(slack: SlackDriver) -> None:
    card = await slack.command(BEN, "practice")
    key, body = slack.press_payload(BEN, card.ack, 0)
    body["actions"][0]["value"] = "no-such-question:0"
    refused = await slack.send_interaction(key, body)
    assert "not valid any more" in refused.text
    body["actions"][0]["value"] = "<!here>:0"
    forged = await slack.send_interaction(key, body)
    assert "not an answer to a dlquiz question" in forged.text
