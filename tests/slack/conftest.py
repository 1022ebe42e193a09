"""Fixtures of the Slack adapter tests: the fake Slack, a small bank of hostile text, and the
real bolt app in HTTP mode under aiohttp's TestServer."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from fake_slack import FakeSlack
from slack_driver import EVERYONE, SECRET, START, ErrorLog, SlackDriver, nasty_bank

from adapters.memory import ManualClock
from adapters.slack.app import build_app, http_app, make_client
from adapters.slack.home import HomeTab
from adapters.slack.platform import SlackPlatform
from adapters.slack.responses import ResponseUrls
from bot.config import Settings
from bot.inflight import InFlight
from bot.runtime import running


@pytest.fixture(autouse=True)
def logged_errors() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
    if not handler.expected:
        assert not handler.records, [r.getMessage() for r in handler.records]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    for user in EVERYONE:
        server.users[user.id] = user.profile()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def slack_settings(tmp_path: Path, fake: FakeSlack) -> Settings:
    return Settings(
        db=tmp_path / "quiz.db",
        slack_bot_token="xoxb-0000-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
    )


@pytest.fixture
def slack_clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def slack(
    fake: FakeSlack, slack_settings: Settings, slack_clock: ManualClock
) -> AsyncIterator[SlackDriver]:
    """The real AsyncApp in HTTP mode, wired to the engine and the fake Web API."""
    client = make_client(slack_settings)
    platform = SlackPlatform(client)
    async with running(slack_settings, platform, clock=slack_clock, bank=nasty_bank()) as rt:
        inflight = InFlight()
        responses = ResponseUrls()  # its session is closed below
        home = HomeTab(engine=rt.engine, client=client)
        app = build_app(
            slack_settings,
            engine=rt.engine,
            client=client,
            inflight=inflight,
            responses=responses,
            home_tab=home,
        )
        async with TestClient(TestServer(http_app(app), host="127.0.0.1")) as http:
            yield SlackDriver(http, fake, app=app, engine=rt.engine, inflight=inflight, home=home)
            await inflight.wait_idle()
        await home.close()
        await responses.close()
