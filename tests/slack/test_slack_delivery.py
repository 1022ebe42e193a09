"""Daily posts through slack-sdk when Slack answers 429 for longer than the retries, 500 with an
HTML page, `channel_not_found`, or nothing at all: the question a channel never saw takes no
answer, the next post retries what is owed first, and nothing reaches the channel twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from fake_slack import FakeSlack
from slack_driver import CHANNEL, TEAM, buttons_of, nasty_bank

from adapters.memory import ManualClock
from adapters.slack.app import make_client
from adapters.slack.convert import server_key
from adapters.slack.platform import SlackPlatform
from bot.config import Settings
from bot.delivery import backoff
from bot.engine import QuizEngine
from bot.models import ChannelRef, Member
from bot.store import Store

HERE = ChannelRef(server_key(TEAM), CHANNEL)
ADA = Member(server=server_key(TEAM), user_id="U0ADA0001", name="ada")


@pytest.fixture
async def engine(
    store: Store, fake: FakeSlack, slack_settings: Settings, slack_clock: ManualClock
) -> QuizEngine:
    client = make_client(slack_settings)
    client.timeout = 1  # a hung Slack, without waiting half a minute
    return QuizEngine(
        store=store, bank=nasty_bank(), platform=SlackPlatform(client), clock=slack_clock
    )


def questions(fake: FakeSlack) -> list[dict[str, object]]:
    """The questions as the channel holds them (whether or not the bot heard back)."""
    return [m for m in fake.messages if buttons_of(m)]


def reveals(fake: FakeSlack) -> list[dict[str, object]]:
    return [m for m in fake.messages if "thread_ts" in m]


async def answered_round(engine: QuizEngine) -> int:
    outcome = await engine.post(HERE)
    assert outcome.error is None, outcome
    assert outcome.round_id is not None
    row = await engine.store.round_by_id(outcome.round_id)
    assert row is not None
    recorded = await engine.answer(
        channel=HERE, member=ADA, round_id=row.id, choice=row.answer, token=row.token
    )
    assert recorded.text.startswith("Recorded")
    return row.id


@pytest.mark.parametrize(
    "failure",
    ["rate limited past the retries", "HTML 500", "channel_not_found"],
)
async def test_a_failed_daily_post_leaves_nothing_to_answer_and_the_next_post_catches_up(
    engine: QuizEngine, fake: FakeSlack, failure: str
) -> None:
    first = await answered_round(engine)
    if failure == "rate limited past the retries":
        fake.rate_limits["chat.postMessage"] = 100
    elif failure == "HTML 500":
        fake.pages["chat.postMessage"] = (500, "text/html", "<html><h1>Bad gateway</h1></html>")
    else:
        fake.errors["chat.postMessage"] = "channel_not_found"

    failed = await engine.post(HERE)  # the reveal of `first`, then the new question: both fail
    assert failed.error is not None
    assert "'str' object" not in failed.error, "the admin sees the platform's words"
    assert reveals(fake) == []
    assert len(questions(fake)) == 1
    row = await engine.store.open_round(HERE)
    assert row is not None
    assert not row.delivered
    refused = await engine.answer(
        channel=HERE, member=ADA, round_id=row.id, choice=0, token=row.token
    )
    assert "does not belong" in refused.text, "a question nobody saw takes no answer"

    fake.rate_limits.clear()
    fake.pages.clear()
    fake.errors.clear()
    again = await engine.post(HERE)
    assert again.error is None
    # The owed reveal first, then a question; the one nobody saw is never revealed.
    assert [str(m["thread_ts"]) for m in reveals(fake)] == [str(questions(fake)[0]["ts"])]
    assert len(questions(fake)) == 2
    kinds = await engine.store.deliveries_of(first)
    assert kinds[next(k for k in kinds if k.value == "reveal")][0] == "posted"


async def test_a_hung_post_that_slack_took_after_all_is_found_not_posted_again(
    engine: QuizEngine, fake: FakeSlack, slack_clock: ManualClock
) -> None:
    """Slack keeps the question but the answer never comes back in time: the retry looks for
    the message (by the key in its metadata) before posting, and finds it."""
    release = asyncio.Event()
    fake.holds_after["chat.postMessage"] = (lambda args: True, release)
    failed = await engine.post(HERE)
    assert failed.error is not None  # timed out
    assert len(questions(fake)) == 1  # ...but Slack has it
    fake.holds_after.clear()
    release.set()

    slack_clock.advance(backoff(1))
    await engine.deliverer.sweep()
    assert len(questions(fake)) == 1, "found, not posted again"
    assert fake.api("conversations.history"), "looked for before any retry"
    row = await engine.store.open_round(HERE)
    assert row is not None
    assert row.delivered
    assert row.message_ref == str(questions(fake)[0]["ts"])
    recorded = await engine.answer(
        channel=HERE, member=ADA, round_id=row.id, choice=row.answer, token=row.token
    )
    assert recorded.text.startswith("Recorded")


async def test_a_timed_out_question_closed_before_its_retry_loses_its_buttons(
    engine: QuizEngine, fake: FakeSlack, slack_clock: ManualClock
) -> None:
    """Slack keeps the question but the answer never comes back, and an admin posts again before
    the retry: the round closes unseen (no reveal), and the message Slack did take is found
    and closed, so no live-looking buttons stay behind."""
    release = asyncio.Event()
    fake.holds_after["chat.postMessage"] = (lambda args: True, release)
    failed = await engine.post(HERE)
    assert failed.error is not None  # timed out
    fake.holds_after.clear()
    release.set()
    ghost = questions(fake)[0]
    assert buttons_of(ghost)

    again = await engine.post(HERE)  # closes the unseen round first
    assert again.error is None
    edited = fake.edited.get(str(ghost["ts"]))
    assert edited is not None, "the message Slack took was found and edited"
    assert buttons_of(edited) == [], "...to close its buttons"
    closed_text = str(edited["blocks"])
    assert "Closed without a reveal" in closed_text
    assert "The answer is" not in closed_text
    assert reveals(fake) == []
    assert len(questions(fake)) == 2  # the one Slack took late, and the new one

    # A question that surely never arrived (refused outright) is not looked for.
    lookups = len(fake.api("conversations.history"))
    fake.errors["chat.postMessage"] = "channel_not_found"
    slack_clock.advance(timedelta(days=1))
    await engine.post(HERE)  # the reveal of `again`'s round and the next question are refused
    del fake.errors["chat.postMessage"]
    await engine.post(HERE)
    assert len(fake.api("conversations.history")) == lookups


async def test_the_sweep_retries_with_backoff_while_the_process_runs(
    engine: QuizEngine, fake: FakeSlack, slack_clock: ManualClock
) -> None:
    fake.errors_once["chat.postMessage"] = ["internal_error", "internal_error"]
    assert (await engine.post(HERE)).error is not None
    slack_clock.advance(backoff(1) - timedelta(seconds=1))
    await engine.deliverer.sweep()
    assert questions(fake) == [], "not before its backoff"
    slack_clock.advance(timedelta(seconds=1))
    await engine.deliverer.sweep()  # the second failure
    assert questions(fake) == []
    slack_clock.advance(backoff(2))
    await engine.deliverer.sweep()
    assert len(questions(fake)) == 1
