"""Posts of the real `dlquiz run slack` process under SIGKILL, SIGTERM and HTTP 429 at each step
of a post and a reveal: after any of them and a restart, the channel holds each question once and
each reveal once.

The fake Slack runs in this test's process, so it can hold a Web API method (a gate) or answer it
with 429 while the bot is killed or stopped in the middle of that call.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import pytest
from fake_slack import FakeSlack
from reliability_kit import (
    ADMIN,
    BotProcess,
    command_body,
    member_presses,
    open_question,
    post_signed,
    slack_process,
    user_ids,
)
from slack_driver import buttons_of

# A short lease: a post held by a killed process is taken over a second later.
FAST = {"DLQUIZ_DELIVERY_LEASE": "1"}


def reveals(fake: FakeSlack) -> list[str]:
    """The thread each reveal was posted in (the question's ts)."""
    return [
        str(c.args.get("thread_ts"))
        for c in fake.api("chat.postMessage")
        if c.done and c.response.get("ok") and "thread_ts" in c.args
    ]


def questions(fake: FakeSlack) -> list[str]:
    return [
        str(c.response.get("ts"))
        for c in fake.api("chat.postMessage")
        if c.done and c.response.get("ok") and buttons_of(c.args)
    ]


async def answered_question(
    fake: FakeSlack, session: aiohttp.ClientSession, bot: BotProcess
) -> dict[str, object]:
    message = await open_question(fake, session, bot.url)
    for press in member_presses(fake, message, user_ids(3), tag="press"):
        assert await post_signed(session, bot.url, press.body) == 200
    return message


async def stopped(bot: BotProcess, sig: signal.Signals) -> int:
    bot.send_signal(sig)
    return await bot.wait_exit(within=15)


async def test_sigkill_while_the_question_is_being_closed_posts_the_reveal_once(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db = tmp_path / "quiz.db"
    async with aiohttp.ClientSession() as session:
        async with slack_process(fake_slack, db, tmp_path, "first", **FAST) as bot:
            message = await answered_question(fake_slack, session, bot)
            fake_slack.gates["chat.update"] = asyncio.Event()  # the edit hangs
            body = command_body(fake_slack, ADMIN, "reveal", "reveal")
            assert await post_signed(session, bot.url, body) == 200
            await fake_slack.wait_for(lambda: len(fake_slack.api("chat.update")) == 1)
            assert reveals(fake_slack) == [message["ts"]]
            assert await stopped(bot, signal.SIGKILL) == -signal.SIGKILL
        fake_slack.gates.pop("chat.update").set()

        async with slack_process(fake_slack, db, tmp_path, "second", **FAST) as bot:
            # The closing edit is retried once the dead process's lease ran out...
            await fake_slack.wait_for(
                lambda: (
                    len(fake_slack.api("chat.update")) >= 2
                    and fake_slack.api("chat.update")[-1].done
                )
            )
            assert await stopped(bot, signal.SIGTERM) == 0, bot.describe()
    # ...and the reveal was never posted again.
    assert reveals(fake_slack) == [message["ts"]]
    assert questions(fake_slack) == [message["ts"]]


async def test_sigterm_while_the_close_is_retried_after_429_posts_the_reveal_once(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db = tmp_path / "quiz.db"
    async with aiohttp.ClientSession() as session:
        async with slack_process(fake_slack, db, tmp_path, "first", **FAST) as bot:
            message = await answered_question(fake_slack, session, bot)
            fake_slack.rate_limits["chat.update"] = 10_000
            body = command_body(fake_slack, ADMIN, "reveal", "reveal")
            assert await post_signed(session, bot.url, body) == 200
            await fake_slack.wait_for(lambda: len(fake_slack.api("chat.update")) >= 1)
            assert await stopped(bot, signal.SIGTERM) == 0, bot.describe()
        fake_slack.rate_limits.clear()

        async with slack_process(fake_slack, db, tmp_path, "second", **FAST) as bot:
            # The edit waits out its backoff; an admin's next post retries it at once.
            body = command_body(fake_slack, ADMIN, "post", "post2")
            assert await post_signed(session, bot.url, body) == 200
            await fake_slack.wait_for(
                lambda: any(c.done and c.response.get("ok") for c in fake_slack.api("chat.update"))
            )
            await fake_slack.wait_for(lambda: len(questions(fake_slack)) == 2)
            assert await stopped(bot, signal.SIGTERM) == 0, bot.describe()
    assert reveals(fake_slack) == [message["ts"]]


@pytest.mark.parametrize("step", ["reveal", "question"])
async def test_sigkill_after_slack_accepted_a_post_does_not_post_it_again(
    fake_slack: FakeSlack, tmp_path: Path, step: str
) -> None:
    """Killed after Slack took the reveal (or the next question) but before the bot heard back:
    after the restart the post is found in the channel, not posted a second time."""
    db = tmp_path / "quiz.db"
    in_thread = step == "reveal"
    async with aiohttp.ClientSession() as session:
        async with slack_process(fake_slack, db, tmp_path, "first", **FAST) as bot:
            message = await answered_question(fake_slack, session, bot)
            release = asyncio.Event()
            fake_slack.holds_after["chat.postMessage"] = (
                lambda args: ("thread_ts" in args) == in_thread,
                release,
            )
            body = command_body(fake_slack, ADMIN, "post", "post2")
            assert await post_signed(session, bot.url, body) == 200
            await fake_slack.wait_for(
                lambda: any(c.held for c in fake_slack.api("chat.postMessage"))
            )
            assert await stopped(bot, signal.SIGKILL) == -signal.SIGKILL
        fake_slack.holds_after.clear()
        release.set()

        async with slack_process(fake_slack, db, tmp_path, "second", **FAST) as bot:
            # Once the lease is over the restarted bot finishes the post: the reveal, the next
            # question, and the edit that closes the first question's buttons.
            await fake_slack.wait_for(
                lambda: (
                    len(questions_in_channel(fake_slack)) == 2
                    and len(reveals_in_channel(fake_slack)) == 1
                    and any(c.done for c in fake_slack.api("chat.update"))
                )
            )
            assert await stopped(bot, signal.SIGTERM) == 0, bot.describe()
    assert reveals_in_channel(fake_slack) == [message["ts"]]
    assert len(questions_in_channel(fake_slack)) == 2
    # The first question was closed at the reveal; only the one posted after it takes answers.
    assert open_questions_in_channel(fake_slack) == questions_in_channel(fake_slack)[1:]
    looked = fake_slack.api("conversations.replies" if in_thread else "conversations.history")
    assert looked, "the in-doubt post was looked for before any retry"


def reveals_in_channel(fake: FakeSlack) -> list[str]:
    """The reveals as the channel holds them (whether or not the bot heard back)."""
    return [str(m["thread_ts"]) for m in fake.messages if "thread_ts" in m]


def questions_in_channel(fake: FakeSlack) -> list[str]:
    """Every question the channel holds, closed or open: a closed one has lost its buttons, and
    the reveal is a reply in its thread, so a question is a message outside any thread."""
    return [str(m["ts"]) for m in fake.messages if "thread_ts" not in m]


def open_questions_in_channel(fake: FakeSlack) -> list[str]:
    return [str(m["ts"]) for m in fake.messages if buttons_of(m)]
