"""One app, many workspaces: "Add to Slack" through the real bolt OAuth flow against the fake
Slack, a bot token per workspace on every call (requests, scheduled and retried posts, admin
look-ups), workspaces kept apart, refused when not installed, and uninstalls."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from fake_slack import WAIT, Call, FakeSlack
from slack_driver import ANA, BEN, CY, SECRET, ErrorLog, SlackDriver, nasty_bank
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore

from adapters.memory import ManualClock
from adapters.slack.app import build_app, check_settings, http_app, make_client
from adapters.slack.home import HomeTab
from adapters.slack.home_view import HOME_PRACTICE_ACTION
from adapters.slack.install import BOT_SCOPES, Installations, sqlalchemy_url
from adapters.slack.platform import SlackPlatform
from adapters.slack.responses import ResponseUrls
from bot.config import ConfigError, Settings
from bot.inflight import InFlight
from bot.models import ChannelRef
from bot.runtime import Runtime, running
from bot.store import DeliveryKind

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "c0ffee-secret"
ONE, TWO, THREE = "T0NE00001", "T0TW00002", "T0THREE03"
CH_ONE, CH_TWO = "C0ONE0001", "C0TWO0002"
MANIFESTS = Path(__file__).resolve().parents[2] / "adapters" / "slack"


@dataclass
class Multi:
    driver: SlackDriver
    fake: FakeSlack
    runtime: Runtime
    installations: Installations
    clock: ManualClock


@pytest.fixture
def multi_settings(tmp_path: Path, fake: FakeSlack) -> Settings:
    fake.oauth_clients[CLIENT_ID] = CLIENT_SECRET
    return Settings(
        db=tmp_path / "quiz.db",
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
    )


@pytest.fixture
async def multi(
    fake: FakeSlack, multi_settings: Settings, slack_clock: ManualClock
) -> AsyncIterator[Multi]:
    """The real AsyncApp for many workspaces, wired as `dlquiz run slack` wires it."""
    client = make_client(multi_settings)
    installations = Installations(client_id=CLIENT_ID, db=multi_settings.db)
    await installations.open()
    platform = SlackPlatform(client, tokens=installations)
    responses = ResponseUrls()  # its session is closed below
    try:
        async with running(
            multi_settings, platform, clock=slack_clock, bank=nasty_bank(), platform_name="slack"
        ) as rt:
            inflight = InFlight()
            home = HomeTab(engine=rt.engine, client=client, tokens=installations)
            app = build_app(
                multi_settings,
                engine=rt.engine,
                client=client,
                inflight=inflight,
                installations=installations,
                responses=responses,
                home_tab=home,
            )
            async with TestClient(TestServer(http_app(app), host="127.0.0.1")) as http:
                driver = SlackDriver(
                    http, fake, app=app, engine=rt.engine, inflight=inflight, home=home
                )
                yield Multi(driver, fake, rt, installations, slack_clock)
                await inflight.wait_idle()
            await home.close()
    finally:
        await responses.close()
        await installations.close()


async def start_install(multi: Multi) -> tuple[str, str]:
    """GET /slack/install: the state in the "Add to Slack" link and the cookie bolt set."""
    async with multi.driver.http.get("/slack/install", allow_redirects=False) as response:
        assert response.status == 200
        page = await response.text()
        cookie = response.headers["Set-Cookie"].split(";")[0]
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert link is not None, page
    assert f"client_id={CLIENT_ID}" in link.group(1)
    assert "scope=" + ",".join(BOT_SCOPES) + "&" in link.group(1)
    state = re.search(r"state=([0-9a-f-]+)", link.group(1))
    assert state is not None
    return state.group(1), cookie


async def finish_install(multi: Multi, *, code: str, state: str, cookie: str) -> tuple[int, str]:
    url = f"/slack/oauth_redirect?code={code}&state={state}"
    async with multi.driver.http.get(url, headers={"Cookie": cookie}) as response:
        return response.status, await response.text()


async def install(multi: Multi, team: str, *, code: str) -> str:
    token = multi.fake.add_workspace(team, code=code)
    state, cookie = await start_install(multi)
    status, page = await finish_install(multi, code=code, state=state, cookie=cookie)
    assert status == 200, page
    return token


def calls_after(fake: FakeSlack, mark: int) -> list[Call]:
    return [c for c in fake.calls[mark:] if c.method != "oauth.v2.access"]


def posts_in(fake: FakeSlack, channel: str) -> list[Call]:
    return [c for c in fake.api("chat.postMessage") if c.args.get("channel") == channel]


def event(team: str, kind: str, **fields: Any) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A0DLQUIZ",
            "type": "event_callback",
            "event_id": f"Ev{team}{kind}",
            "event_time": 1772442000,
            "event": {"type": kind, "event_ts": "1772442000.000100", **fields},
        }
    )


async def right_choice(multi: Multi, team: str, channel: str) -> int:
    row = await multi.runtime.engine.store.open_round(ChannelRef(f"slack:{team}", channel))
    assert row is not None
    return row.answer


async def uninstalled(multi: Multi, team: str) -> None:
    """Wait for bolt's revocation listener, which runs on after the event is acknowledged and
    signals nothing when done: the database is polled, for WAIT seconds at most."""
    async with asyncio.timeout(WAIT):
        while await multi.installations.store.async_find_bot(  # noqa: ASYNC110
            enterprise_id=None, team_id=team
        ):
            await asyncio.sleep(0.01)


async def test_two_workspaces_each_use_their_own_token_on_every_call(multi: Multi) -> None:
    fake, driver = multi.fake, multi.driver
    token_one = await install(multi, ONE, code="code-one")
    token_two = await install(multi, TWO, code="code-two")
    mark = len(fake.calls)

    # Workspace one: an admin posts now, a member answers, the admin reveals.
    posted = await driver.command(ANA, "post", channel=CH_ONE, team=ONE)
    assert posted.status == 200
    question = {**posts_in(fake, CH_ONE)[-1].args, "ts": posts_in(fake, CH_ONE)[-1].response["ts"]}
    right = await right_choice(multi, ONE, CH_ONE)
    pressed = await driver.press(BEN, question, right, channel=CH_ONE, team=ONE)
    assert "Recorded" in pressed.text
    await driver.command(ANA, "reveal", channel=CH_ONE, team=ONE)

    # Workspace two: a daily schedule; its first post fails once and is retried by the sweep.
    await driver.command(ANA, "schedule 09:05", channel=CH_TWO, team=TWO)
    fake.errors_once["chat.postMessage"] = ["ratelimited"]
    multi.clock.advance(timedelta(minutes=5))
    await multi.runtime.scheduler.poll()
    assert [c.response.get("ok") for c in posts_in(fake, CH_TWO)] == [False]
    multi.clock.advance(timedelta(minutes=1))
    await multi.runtime.engine.deliverer.sweep()
    assert [c.response.get("ok") for c in posts_in(fake, CH_TWO)] == [False, True]

    seen = calls_after(fake, mark)
    tokens = {token_one: ONE, token_two: TWO}
    by_channel = {CH_ONE: ONE, CH_TWO: TWO}
    rounds = [(c.method, tokens.get(c.token or "")) for c in seen]
    assert ("users.info", ONE) in rounds
    assert ("users.info", TWO) in rounds
    assert ("chat.update", ONE) in rounds  # the revealed question lost its buttons
    for call in seen:
        assert call.token in tokens, (call.method, call.token)
        channel = call.args.get("channel")
        if channel in by_channel:
            assert tokens[call.token or ""] == by_channel[channel], (call.method, channel)
    # bolt asks auth.test once per workspace token, then keeps the answer.
    assert sorted(tokens[c.token or ""] for c in seen if c.method == "auth.test") == [ONE, TWO]

    # Nothing of one workspace shows in the other.
    board_two = await driver.command(BEN, "leaderboard", channel=CH_TWO, team=TWO)
    board_one = await driver.command(CY, "leaderboard", channel=CH_ONE, team=ONE)
    assert BEN.name in board_one.text
    assert BEN.name not in board_two.text
    store = multi.runtime.engine.store
    assert await store.schedule(ChannelRef(f"slack:{ONE}", CH_TWO)) is None
    assert await store.schedule(ChannelRef(f"slack:{TWO}", CH_TWO)) is not None


async def test_home_tabs_are_published_with_each_workspaces_own_token(multi: Multi) -> None:
    fake, driver = multi.fake, multi.driver
    token_one = await install(multi, ONE, code="code-one")
    token_two = await install(multi, TWO, code="code-two")
    await driver.open_home(BEN, team=ONE)
    await driver.open_home(BEN, team=TWO)
    await fake.wait_for(lambda: len(fake.homes_of(BEN.id, team=ONE)) == 1)
    await fake.wait_for(lambda: len(fake.homes_of(BEN.id, team=TWO)) == 1)

    await driver.command(ANA, "post", channel=CH_ONE, team=ONE)
    question = {**posts_in(fake, CH_ONE)[-1].args, "ts": posts_in(fake, CH_ONE)[-1].response["ts"]}
    right = await right_choice(multi, ONE, CH_ONE)
    await driver.press(BEN, question, right, channel=CH_ONE, team=ONE)
    await driver.command(ANA, "reveal", channel=CH_ONE, team=ONE)
    assert driver.home is not None
    await driver.home.idle()

    publishes = fake.api("views.publish")
    assert [c.token for c in publishes] == [token_one, token_two, token_one]
    [_, refreshed] = fake.homes_of(BEN.id, team=ONE)
    assert "*Rank*\n1 of 1" in refreshed.text
    [unchanged] = fake.homes_of(BEN.id, team=TWO)
    assert "Welcome to dlquiz" in unchanged.text, "nothing of one workspace shows in the other"

    # Practice from workspace two's Home goes to the DM with workspace two's token.
    mark = len(fake.calls)
    await driver.press_home(BEN, unchanged, HOME_PRACTICE_ACTION, team=TWO)
    sent = [c for c in fake.calls[mark:] if c.method in ("conversations.open", "chat.postMessage")]
    assert [(c.method, c.token) for c in sent] == [
        ("conversations.open", token_two),
        ("chat.postMessage", token_two),
    ]


async def test_a_bad_or_reused_state_installs_nothing(multi: Multi) -> None:
    fake = multi.fake
    fake.add_workspace(ONE, code="code-one")
    state, cookie = await start_install(multi)

    forged = await finish_install(multi, code="code-one", state="0000-forged", cookie=cookie)
    assert forged[0] != 200
    other_state, _ = await start_install(multi)
    wrong_browser = await finish_install(multi, code="code-one", state=other_state, cookie=cookie)
    assert wrong_browser[0] != 200
    assert fake.api("oauth.v2.access") == []

    assert (await finish_install(multi, code="code-one", state=state, cookie=cookie))[0] == 200
    reused = await finish_install(multi, code="code-one", state=state, cookie=cookie)
    assert reused[0] != 200
    assert len(fake.api("oauth.v2.access")) == 1
    assert await multi.installations.bot_token(ONE) is not None


async def test_an_org_wide_install_is_refused_before_anything_is_stored(
    multi: Multi, caplog: pytest.LogCaptureFixture
) -> None:
    """An Enterprise Grid org-wide install has no team id to key quiz data by: Slack's answer
    is taken, then refused, and the organization's bot token is kept nowhere."""
    fake = multi.fake
    fake.add_organization("E0GRID001", code="code-org")
    state, cookie = await start_install(multi)

    status, page = await finish_install(multi, code="code-org", state=state, cookie=cookie)

    assert status == 500, page
    assert len(fake.api("oauth.v2.access")) == 1  # the exchange happened; the save did not
    assert "refused an org-wide install of enterprise E0GRID001" in caplog.text
    assert (
        await multi.installations.store.async_find_bot(
            enterprise_id="E0GRID001", team_id=None, is_enterprise_install=True
        )
        is None
    )
    async with multi.installations.engine.connect() as conn:
        for table in ("slack_installations", "slack_bots"):
            rows = await conn.exec_driver_sql(f"SELECT count(*) FROM {table}")
            assert rows.scalar_one() == 0, table

    # The refusal is of that install only: a workspace installing next is kept as usual.
    await install(multi, ONE, code="code-one")
    assert await multi.installations.bot_token(ONE) is not None


async def test_a_workspace_that_did_not_install_is_refused_and_nothing_changes(
    multi: Multi, logged_errors: ErrorLog
) -> None:
    logged_errors.expected = True  # bolt logs a request without an installation as an error
    fake = multi.fake
    await install(multi, ONE, code="code-one")
    mark = len(fake.calls)

    refused = await multi.driver.command(ANA, "schedule 09:30", channel="C0THREE", team=THREE)

    assert refused.status == 200
    assert "installation" in refused.text.lower()
    assert calls_after(fake, mark) == []  # no auth.test, no users.info, no post
    store = multi.runtime.engine.store
    assert await store.schedules(platform="slack") == []
    assert await multi.installations.bot_token(THREE) is None


async def test_a_press_from_a_workspace_that_did_not_install_is_refused_and_not_recorded(
    multi: Multi, logged_errors: ErrorLog
) -> None:
    # Presses are answered by a middleware, not a bolt listener: it must come after bolt's
    # authorization, which refuses a workspace without an installation.
    logged_errors.expected = True  # bolt logs a request without an installation as an error
    fake, driver = multi.fake, multi.driver
    await install(multi, ONE, code="code-one")
    await driver.command(ANA, "post", channel=CH_ONE, team=ONE)
    posted = posts_in(fake, CH_ONE)[-1]
    question = {**posted.args, "ts": posted.response["ts"]}
    mark = len(fake.calls)

    refused = await driver.press(BEN, question, 0, channel=CH_ONE, team=THREE)

    assert refused.status == 200
    # bolt's refusal, through the response_url; no confirmation of an answer.
    assert [r.text for r in refused.replies if "installation" in r.text.lower()]
    assert "Recorded" not in refused.text
    assert calls_after(fake, mark) == []
    # The same member of the installed workspace still gets a first answer of their own.
    pressed = await driver.press(BEN, question, 0, channel=CH_ONE, team=ONE)
    assert "Recorded" in pressed.text


async def test_requests_find_the_workspace_bot_in_the_database_once(
    multi: Multi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bolt authorizes every request by finding the workspace's bot; a press must not cost a
    # query for it each time.
    await install(multi, ONE, code="code-one")
    lookups: list[str | None] = []
    find_bot = AsyncSQLAlchemyInstallationStore.async_find_bot

    async def counted(self: Any, **where: Any) -> Any:
        lookups.append(where.get("team_id"))
        return await find_bot(self, **where)

    monkeypatch.setattr(AsyncSQLAlchemyInstallationStore, "async_find_bot", counted)
    for _ in range(3):
        shown = await multi.driver.command(BEN, "topics", channel=CH_ONE, team=ONE)
        assert shown.status == 200
        assert "installation" not in shown.text.lower()
    assert lookups == [ONE]
    # A reinstall (a new token, perhaps) is looked up again at once.
    await install(multi, ONE, code="code-one-again")
    await multi.driver.command(BEN, "topics", channel=CH_ONE, team=ONE)
    assert lookups == [ONE, ONE]


async def test_uninstall_stops_schedules_keeps_data_and_a_reinstall_resumes(multi: Multi) -> None:
    fake, driver = multi.fake, multi.driver
    await install(multi, ONE, code="code-one")
    await install(multi, TWO, code="code-two")
    await driver.command(ANA, "post", channel=CH_ONE, team=ONE)
    call = posts_in(fake, CH_ONE)[-1]
    right = await right_choice(multi, ONE, CH_ONE)
    message = {**call.args, "ts": call.response["ts"]}
    await driver.press(BEN, message, right, channel=CH_ONE, team=ONE)
    await driver.command(ANA, "reveal", channel=CH_ONE, team=ONE)
    for team, channel in ((ONE, CH_ONE), (TWO, CH_TWO)):
        await driver.command(ANA, "schedule 10:00", channel=channel, team=team)
    store = multi.runtime.engine.store
    # A question Slack refused waits for its retry when the workspace removes the app.
    fake.errors["chat.postMessage"] = "internal_error"
    await driver.command(ANA, "post", channel=CH_ONE, team=ONE)
    del fake.errors["chat.postMessage"]
    waiting = await store.open_round(ChannelRef(f"slack:{ONE}", CH_ONE))
    assert waiting is not None
    assert (await store.deliveries_of(waiting.id))[DeliveryKind.QUESTION][0] is None

    status, _ = await driver.send(event(ONE, "app_uninstalled"), content_type="application/json")
    assert status == 200
    await uninstalled(multi, ONE)
    # Given up, not retried into a workspace that can no longer be posted to.
    assert (await store.deliveries_of(waiting.id))[DeliveryKind.QUESTION][0] == "failed"
    assert await multi.installations.bot_token(ONE) is None
    assert [s.server for s in await store.schedules(platform="slack")] == [f"slack:{TWO}"]
    assert await store.leaderboard(server=f"slack:{ONE}", period="all") != []
    assert await multi.installations.bot_token(TWO) is not None

    await install(multi, ONE, code="code-again")
    board = await driver.command(CY, "leaderboard", channel=CH_ONE, team=ONE)
    assert BEN.name in board.text


async def test_a_revoked_bot_token_removes_the_installation(multi: Multi) -> None:
    driver = multi.driver
    await install(multi, TWO, code="code-two")
    await driver.command(ANA, "schedule 10:00", channel=CH_TWO, team=TWO)
    user_only = event(TWO, "tokens_revoked", tokens={"oauth": ["U0INSTALL"]})
    await driver.send(user_only, content_type="application/json")
    assert len(await multi.runtime.engine.store.schedules(platform="slack")) == 1

    bot = event(TWO, "tokens_revoked", tokens={"bot": ["UDLQUIZBOT"]})
    status, _ = await driver.send(bot.replace("Ev", "Ev2"), content_type="application/json")
    assert status == 200
    assert await multi.runtime.engine.store.schedules(platform="slack") == []
    await uninstalled(multi, TWO)


def test_settings_for_many_workspaces_are_checked_in_one_line(multi_settings: Settings) -> None:
    from dataclasses import replace

    assert check_settings(multi_settings, port=3000).value == "HTTP mode"
    with pytest.raises(ConfigError, match=r"^SLACK_APP_TOKEN is set with SLACK_CLIENT_ID .*HTTP"):
        check_settings(replace(multi_settings, slack_app_token="xapp-1"), port=3000)
    with pytest.raises(ConfigError, match=r"^SLACK_CLIENT_ID is set but SLACK_CLIENT_SECRET"):
        check_settings(replace(multi_settings, slack_client_secret=None), port=3000)
    with pytest.raises(ConfigError, match=r"^SLACK_SIGNING_SECRET is not set"):
        check_settings(replace(multi_settings, slack_signing_secret=None), port=3000)


def test_the_database_url_follows_dlquiz_db(tmp_path: Path) -> None:
    assert (
        sqlalchemy_url("postgresql://u:p@db:5432/quiz") == "postgresql+asyncpg://u:p@db:5432/quiz"
    )
    assert sqlalchemy_url(tmp_path / "q.db") == f"sqlite+aiosqlite:///{tmp_path / 'q.db'}"


def test_the_distributed_manifest_asks_what_the_app_needs() -> None:
    single = yaml.safe_load((MANIFESTS / "manifest.yml").read_text())
    shared = yaml.safe_load((MANIFESTS / "manifest-distributed.yml").read_text())
    scopes = shared["oauth_config"]["scopes"]["bot"]
    assert set(single["oauth_config"]["scopes"]["bot"]) <= set(scopes)
    assert tuple(scopes) == BOT_SCOPES
    assert shared["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
    settings = shared["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False
    events = settings["event_subscriptions"]
    assert events["request_url"].endswith("/slack/events")
    assert set(events["bot_events"]) == {"app_home_opened", "app_uninstalled", "tokens_revoked"}
    assert shared["features"]["app_home"] == single["features"]["app_home"]


async def test_a_look_up_overtaken_by_an_uninstall_keeps_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bot read from the database just before the workspace's installation is deleted must not
    be kept: the next look-up (bolt's authorization, a scheduled post's token) finds none."""
    from datetime import UTC, datetime

    from slack_sdk.oauth.installation_store import Installation

    def installation() -> Installation:
        return Installation(
            app_id="A0DLQUIZ",
            team_id=TWO,
            bot_token="xoxb-two",
            bot_id="B0BOT",
            bot_user_id="UDLQUIZBOT",
            bot_scopes=BOT_SCOPES,
            user_id="U0INSTALL",
            installed_at=datetime.now(UTC).timestamp(),
        )

    read, release = asyncio.Event(), asyncio.Event()
    find = AsyncSQLAlchemyInstallationStore.async_find_bot

    async def slow_find(self: Any, **kwargs: Any) -> Any:
        bot = await find(self, **kwargs)
        read.set()
        await release.wait()  # the row was read; the uninstall runs now
        return bot

    installations = Installations(client_id="client", db=tmp_path / "quiz.db")
    store = installations.store

    async def uninstall_during(look_up: Any) -> None:
        await store.async_save(installation())
        monkeypatch.setattr(AsyncSQLAlchemyInstallationStore, "async_find_bot", slow_find)
        overtaken = asyncio.create_task(look_up())
        await asyncio.wait_for(read.wait(), WAIT)
        await store.async_delete_bot(enterprise_id=None, team_id=TWO)
        installations.forget_token(TWO)  # as StopWhenUninstalled does
        release.set()
        assert await asyncio.wait_for(overtaken, WAIT)  # what it read before the delete
        monkeypatch.setattr(AsyncSQLAlchemyInstallationStore, "async_find_bot", find)
        read.clear()
        release.clear()

    await installations.open()
    try:
        await uninstall_during(lambda: store.async_find_bot(enterprise_id=None, team_id=TWO))
        assert await store.async_find_bot(enterprise_id=None, team_id=TWO) is None
        await uninstall_during(lambda: installations.bot_token(TWO))
        assert await installations.bot_token(TWO) is None
    finally:
        await installations.close()
