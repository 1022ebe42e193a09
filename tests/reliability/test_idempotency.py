"""One delivery, one effect: the very same Slack request (same bytes, same signature) or the
very same Discord interaction (same id and token) delivered more than once, one after the other
or all at once, records one answer and tells every later copy that the first answer stands.

These run the adapters in this process (the real bolt app under aiohttp's test server, the real
discord.py client fed through its gateway parser) against the local fakes, as the adapter tests
do; tests/slack and tests/discord already cover Events API retries and repeated presses with a
different choice.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from discord.gateway import DiscordWebSocket
from discord.http import Route
from discord_harness import ADA, MOD, Harness, click, custom_ids, slash
from fake_discord import TOKEN, FakeDiscord
from fake_slack import TEAM, FakeSlack
from reliability_kit import audit
from slack_driver import ANA, BEN, CHANNEL, EVERYONE, SECRET, START, SlackDriver, nasty_bank, signed

from adapters.discord.app import started
from adapters.memory import ManualClock
from adapters.slack.app import build_app, http_app, make_client
from adapters.slack.platform import SlackPlatform
from adapters.slack.responses import ResponseUrls
from bot.config import Settings
from bot.inflight import InFlight
from bot.models import LETTERS, ChannelRef
from bot.runtime import running

COPIES = 20  # deliveries of one request at once


def assert_one_effect(db: Path, round_id: int, user_id: str, choice: int) -> None:
    found = audit(db, round_id)
    assert found.answers == {user_id: choice}
    assert found.duplicates == 0
    assert found.scores_match, found.problems
    assert found.histogram_match, found.problems


def no_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


# --- Slack -------------------------------------------------------------------------------------


@pytest.fixture
async def slack(fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackDriver]:
    """The real AsyncApp in HTTP mode on the engine and the fake Web API (as tests/slack)."""
    for user in EVERYONE:
        fake_slack.users[user.id] = user.profile()
    settings = Settings(
        db=tmp_path / "quiz.db",
        slack_bot_token="xoxb-0000-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=fake_slack.api_url,
    )
    client = make_client(settings)
    clock = ManualClock(START)
    async with running(settings, SlackPlatform(client), clock=clock, bank=nasty_bank()) as rt:
        inflight = InFlight()
        responses = ResponseUrls()  # its session is closed below
        app = build_app(
            settings, engine=rt.engine, client=client, inflight=inflight, responses=responses
        )
        async with TestClient(TestServer(http_app(app), host="127.0.0.1")) as http:
            yield SlackDriver(http, fake_slack, app=app, engine=rt.engine, inflight=inflight)
            await inflight.wait_idle()
        await responses.close()


async def slack_round(slack: SlackDriver) -> tuple[int, dict[str, Any]]:
    reply = await slack.command(ANA, "post")
    assert "Posted a new question" in reply.text
    row = await slack.engine.store.open_round(ChannelRef(f"slack:{TEAM}", CHANNEL))
    assert row is not None
    return row.id, slack.posted()


async def deliver(slack: SlackDriver, body: str, headers: dict[str, str]) -> int:
    """One delivery of exactly these bytes with exactly these headers; its HTTP status."""
    sent = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    async with slack.http.post("/slack/events", data=body.encode(), headers=sent) as response:
        await response.read()
        return response.status


async def test_the_same_slack_press_delivered_twice_records_once(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    round_id, message = await slack_round(slack)
    key, press = slack.press_payload(BEN, message, 2)
    body = urlencode({"payload": json.dumps(press)})
    headers = signed(body)  # one signature: the second copy is byte for byte the first

    assert await deliver(slack, body, headers) == 200
    await slack.inflight.wait_idle()
    assert await deliver(slack, body, headers) == 200
    await slack.inflight.wait_idle()

    first, second = slack.fake.replies_to(key)
    assert first.text.startswith("Recorded: C")
    assert "You already answered C; the first answer is final." in second.text
    assert_one_effect(slack.engine.store.path, round_id, BEN.id, 2)
    assert no_errors(caplog) == []


async def test_copies_of_one_slack_press_arriving_together_record_once(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    round_id, message = await slack_round(slack)
    key, press = slack.press_payload(BEN, message, 1)
    body = urlencode({"payload": json.dumps(press)})
    headers = signed(body)

    statuses = await asyncio.gather(*(deliver(slack, body, headers) for _ in range(COPIES)))
    await slack.inflight.wait_idle()

    assert statuses == [200] * COPIES
    texts = [r.text for r in slack.fake.replies_to(key)]
    assert len(texts) == COPIES
    assert sum(t.startswith("Recorded: B") for t in texts) == 1
    assert sum("You already answered B" in t for t in texts) == COPIES - 1
    assert_one_effect(slack.engine.store.path, round_id, BEN.id, 1)
    assert no_errors(caplog) == []


# --- Discord -----------------------------------------------------------------------------------


@pytest.fixture
async def quiz(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """The discord.py client logged in to the fake, on the bundled bank (as tests/discord)."""
    # The app points discord.py's class-level REST base and gateway at the fake: restore them.
    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)
    settings = Settings(
        db=tmp_path / "quiz.db", discord_token=TOKEN, discord_api_base=fake_discord.api_base
    )
    async with started(settings, clock=ManualClock(START)) as client:
        yield Harness(client, fake_discord)


async def discord_round(quiz: Harness) -> tuple[int, dict[str, Any]]:
    posted = await quiz.send(slash("post", MOD))
    assert posted.content == "Posted a new question in this channel."
    message = quiz.question_message()
    custom_id = custom_ids(message)[0]
    round_id = int(custom_id.split(":")[2].partition(".")[0])
    return round_id, message


async def test_the_same_discord_interaction_twice_records_once(
    quiz: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    round_id, message = await discord_round(quiz)
    press = click(message, "B", ADA)

    first = await quiz.send(press)
    second = await quiz.send(copy.deepcopy(press))  # same interaction id and token

    assert first.content == "Recorded: B"
    assert second.content == "You already answered B; the first answer is final."
    assert_one_effect(quiz.client.engine.store.path, round_id, ADA.user_id, LETTERS.index("B"))
    assert no_errors(caplog) == []


async def test_copies_of_one_discord_interaction_arriving_together_record_once(
    quiz: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    round_id, message = await discord_round(quiz)
    press = click(message, "D", ADA)
    callback = f"/interactions/{press['id']}/{press['token']}/callback"

    after = quiz.fake.last_seq
    for _ in range(COPIES):
        quiz.feed(copy.deepcopy(press))
    answers = []
    seen = after
    for _ in range(COPIES):
        request = await quiz.fake.wait_for(lambda r: r.path == callback, after=seen)
        seen = request.seq
        answers.append(request.body["data"]["content"])

    assert answers.count("Recorded: D") == 1
    assert answers.count("You already answered D; the first answer is final.") == COPIES - 1
    assert_one_effect(quiz.client.engine.store.path, round_id, ADA.user_id, LETTERS.index("D"))
    assert no_errors(caplog) == []
