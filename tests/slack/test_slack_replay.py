"""A signed request replayed within Slack's 5-minute window changes nothing a second time,
whichever replica receives the replay: the database decides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from fake_slack import TEAM, FakeSlack
from slack_driver import ANA, BEN, CHANNEL, SlackDriver, nasty_bank, signed

from adapters.memory import ManualClock
from adapters.slack.app import build_app, http_app, make_client
from adapters.slack.platform import SlackPlatform
from adapters.slack.responses import ResponseUrls
from bot.config import Settings
from bot.inflight import InFlight
from bot.models import ChannelRef
from bot.runtime import running

HERE = ChannelRef(f"slack:{TEAM}", CHANNEL)


@asynccontextmanager
async def replica(
    fake: FakeSlack, settings: Settings, clock: ManualClock
) -> AsyncIterator[SlackDriver]:
    """Another `dlquiz run slack` on the same database, as behind a load balancer."""
    client = make_client(settings)
    async with running(settings, SlackPlatform(client), clock=clock, bank=nasty_bank()) as rt:
        inflight = InFlight()
        responses = ResponseUrls()  # its session is closed below
        app = build_app(
            settings, engine=rt.engine, client=client, inflight=inflight, responses=responses
        )
        async with TestClient(TestServer(http_app(app), host="127.0.0.1")) as http:
            yield SlackDriver(http, fake, app=app, engine=rt.engine, inflight=inflight)
            await inflight.wait_idle()
        await responses.close()


async def send_twice(first: SlackDriver, second: SlackDriver, text: str) -> tuple[str, str]:
    """The same signed request (same body, same headers) to each; what each answered."""
    key, form = first.command_form(ANA, text)
    body = urlencode(form)
    headers = signed(body)
    for driver in (first, second):
        status, ack = await driver.send(body, headers=headers)
        assert status == 200
        assert ack == {}
    replies = first.fake.replies_to(key)
    assert len(replies) == 2
    return replies[0].text, replies[1].text


@pytest.mark.parametrize("text", ["post", "reveal", "schedule 09:30", "schedule off"])
async def test_a_replayed_admin_command_runs_once(slack: SlackDriver, text: str) -> None:
    if text == "reveal":
        await slack.command(ANA, "post")
    if text == "schedule off":
        await slack.command(ANA, "schedule 08:00")
    posts_before = len(slack.fake.api("chat.postMessage"))
    first, again = await send_twice(slack, slack, text)
    assert "Already done" not in first
    assert "Already done" in again
    posted = len(slack.fake.api("chat.postMessage")) - posts_before
    assert posted == {"post": 1, "reveal": 1}.get(text, 0)


async def test_a_replay_to_another_replica_is_caught(
    slack: SlackDriver, fake: FakeSlack, slack_settings: Settings, slack_clock: ManualClock
) -> None:
    async with replica(fake, slack_settings, slack_clock) as other:
        first, again = await send_twice(slack, other, "post")
    assert "Posted a new question" in first
    assert "Already done" in again
    assert len(fake.api("chat.postMessage")) == 1
    row = await slack.engine.store.open_round(HERE)
    assert row is not None
    assert row.id == 1


async def test_separate_requests_with_the_same_text_each_run(slack: SlackDriver) -> None:
    await slack.command(ANA, "post")
    await slack.command(ANA, "post")
    # Question 1; then its reveal and question 2.
    assert len(slack.fake.api("chat.postMessage")) == 3
    refused = await slack.command(BEN, "post")
    assert "Already done" not in refused.text
    assert "admin" in refused.text
