"""`dlquiz run slack` wiring: settings checks, start-up failures in one line, the real HTTP
listener with its health check, and the platform's handling of Slack errors."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
import yaml
from fake_slack import FakeSlack
from slack_driver import BEN, SECRET, START, ErrorLog, nasty_bank, payload, signed

from adapters.memory import ManualClock
from adapters.slack import app as app_module
from adapters.slack.admins import AdminDirectory
from adapters.slack.app import (
    EVENTS_PATH,
    Mode,
    check_settings,
    make_client,
    run_slack,
    slack_bot,
)
from adapters.slack.handlers import COMMAND
from adapters.slack.platform import SlackError, SlackPlatform
from bot.config import ConfigError, Settings
from bot.models import ChannelRef, RevealPost

HERE = ChannelRef("slack:T0TEAM001", "C0QUIZ001")


def base(**changes: object) -> Settings:
    settings = Settings(
        db=Path("unused.db"),
        slack_bot_token="xoxb-1-2-abc",
        slack_signing_secret="secret",
        slack_api_url="https://slack.com/api/",
    )
    return replace(settings, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"slack_bot_token": None}, "SLACK_BOT_TOKEN is not set"),
        ({"slack_bot_token": "xapp-1-A1-xyz"}, "goes in SLACK_APP_TOKEN"),
        ({"slack_bot_token": "xoxp-user-token"}, "needs the bot token"),
        ({"slack_app_token": "xoxb-1-2-abc"}, "SLACK_APP_TOKEN must be an app-level token"),
        ({"slack_signing_secret": None}, "SLACK_SIGNING_SECRET is not set"),
        ({"slack_api_url": "slack.com/api"}, "SLACK_API_URL=slack.com/api is not a URL"),
    ],
)
def test_settings_that_cannot_work(changes: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as raised:
        check_settings(base(**changes), port=3000)
    assert "\n" not in str(raised.value)


def test_modes() -> None:
    assert check_settings(base(), port=3000) is Mode.HTTP
    socket_mode = base(slack_app_token="xapp-1-A1-xyz", slack_signing_secret=None)
    assert check_settings(socket_mode, port=3000) is Mode.SOCKET
    with pytest.raises(ConfigError, match="not a TCP port"):
        check_settings(base(), port=70000)


def test_run_slack_fails_before_starting_anything() -> None:
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        run_slack(base(slack_bot_token=None), port=3000)


async def test_refused_bot_token(fake: FakeSlack, slack_settings: Settings) -> None:
    fake.errors["auth.test"] = "invalid_auth"
    with pytest.raises(ConfigError, match="Slack refused SLACK_BOT_TOKEN: invalid_auth"):
        async with slack_bot(slack_settings, port=0, bank=nasty_bank()):
            pass  # pragma: no cover
    assert not slack_settings.db.exists(), "nothing was opened"


async def test_refused_app_token(fake: FakeSlack, slack_settings: Settings) -> None:
    fake.errors["apps.connections.open"] = "invalid_auth"
    settings = replace(slack_settings, slack_app_token="xapp-1-A1-bad")
    with pytest.raises(ConfigError, match="Slack refused SLACK_APP_TOKEN: invalid_auth"):
        async with slack_bot(settings, bank=nasty_bank()):
            pass  # pragma: no cover


async def test_unreachable_api(slack_settings: Settings) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = replace(slack_settings, slack_api_url=f"http://127.0.0.1:{port}/api/")
    with pytest.raises(ConfigError, match="cannot reach the Slack Web API"):
        async with slack_bot(settings, bank=nasty_bank()):
            pass  # pragma: no cover


async def test_port_in_use(fake: FakeSlack, slack_settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on port {port}"):
            async with slack_bot(slack_settings, port=port, host="127.0.0.1", bank=nasty_bank()):
                pass  # pragma: no cover


async def test_http_mode_serves_events_and_health(
    fake: FakeSlack, slack_settings: Settings
) -> None:
    async with (
        slack_bot(
            slack_settings, port=0, host="127.0.0.1", bank=nasty_bank(), clock=ManualClock(START)
        ) as bot,
        aiohttp.ClientSession() as http,
    ):
        assert bot.mode is Mode.HTTP
        assert bot.url is not None
        assert bot.url.endswith("/slack/events")
        async with http.get(bot.url.replace("/slack/events", "/healthz")) as health:
            assert health.status == 200
        form = payload("slash_command")
        form.update(user_id=BEN.id, user_name=BEN.name, text="help")
        body = urlencode(form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(body)}
        async with http.post(bot.url, data=body, headers=headers) as response:
            assert response.status == 200
            assert (await response.json())["response_type"] == "ephemeral"
        bad = {**headers, **signed(body, secret=SECRET + "x")}
        async with http.post(bot.url, data=body, headers=bad) as response:
            assert response.status == 401


# --- the platform and the admin directory, against the fake directly ---------------------------


def reveal_of(message_ref: str | None) -> RevealPost:
    question = nasty_bank().questions[0]
    return RevealPost(
        round_id=7, channel=HERE, question=question, tally=(1, 2, 0, 0), message_ref=message_ref
    )


async def test_reveal_goes_in_the_thread_then_closes_the_question(
    fake: FakeSlack, slack_settings: Settings
) -> None:
    platform = SlackPlatform(make_client(slack_settings))
    await platform.post_reveal(HERE, reveal_of("1.000001"))
    await platform.close_question(HERE, reveal_of("1.000001"))
    assert [c.method for c in fake.calls] == ["chat.postMessage", "chat.update"]
    [post] = fake.api("chat.postMessage")
    assert post.args["thread_ts"] == "1.000001"
    assert post.args["reply_broadcast"] is True


async def test_a_question_that_cannot_be_closed_raises_for_a_retry(
    fake: FakeSlack, slack_settings: Settings, logged_errors: ErrorLog
) -> None:
    fake.errors["chat.update"] = "cant_update_message"
    platform = SlackPlatform(make_client(slack_settings))
    await platform.post_reveal(HERE, reveal_of("1.000001"))
    with pytest.raises(SlackError, match=r"chat\.update failed: cant_update_message"):
        await platform.close_question(HERE, reveal_of("1.000001"))
    assert len(fake.api("chat.postMessage")) == 1
    assert not logged_errors.records


async def test_reveal_of_a_deleted_question_goes_to_the_channel(
    fake: FakeSlack, slack_settings: Settings
) -> None:
    fake.errors_once["chat.postMessage"] = ["thread_not_found"]
    await SlackPlatform(make_client(slack_settings)).post_reveal(HERE, reveal_of("1.000001"))
    failed, posted = fake.api("chat.postMessage")
    assert failed.args["thread_ts"] == "1.000001"
    assert "thread_ts" not in posted.args
    assert "reply_broadcast" not in posted.args
    assert fake.api("chat.update") == []


async def test_a_reveal_that_cannot_be_posted_raises(
    fake: FakeSlack, slack_settings: Settings
) -> None:
    fake.errors["chat.postMessage"] = "channel_not_found"
    platform = SlackPlatform(make_client(slack_settings))
    with pytest.raises(SlackError, match=r"chat\.postMessage failed: channel_not_found"):
        await platform.post_reveal(HERE, reveal_of("1.000001"))
    assert fake.api("chat.update") == [], "the question stays open-looking until a reveal exists"


async def test_reveal_of_a_never_posted_question(fake: FakeSlack, slack_settings: Settings) -> None:
    await SlackPlatform(make_client(slack_settings)).post_reveal(HERE, reveal_of(None))
    assert fake.api("chat.update") == []
    assert len(fake.api("chat.postMessage")) == 1


async def test_admin_rights_are_cached_for_a_while(
    fake: FakeSlack, slack_settings: Settings
) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC).timestamp()]
    admins = AdminDirectory(make_client(slack_settings), ttl=300, clock=lambda: now[0])
    assert not await admins.is_admin(team="T0TEAM001", user_id=BEN.id)
    fake.users[BEN.id] = {**fake.users[BEN.id], "is_owner": True}
    assert not await admins.is_admin(team="T0TEAM001", user_id=BEN.id), "still cached"
    now[0] += 301
    assert await admins.is_admin(team="T0TEAM001", user_id=BEN.id)
    assert len(fake.api("users.info")) == 2


def test_manifest_matches_the_app() -> None:
    manifest = yaml.safe_load((Path(app_module.__file__).parent / "manifest.yml").read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert command["url"].endswith(EVENTS_PATH)
    assert command["should_escape"] is True, "mentions must arrive as <@U…> for `stats @x`"
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith(EVENTS_PATH)
    events = settings["event_subscriptions"]
    assert events["request_url"].endswith(EVENTS_PATH)
    assert events["bot_events"] == ["app_home_opened"], "the Home tab is its only event"
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] is True
    assert home["messages_tab_enabled"] is True, "practice from Home arrives in the DM"
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert scopes == {
        "commands",
        "chat:write",
        "chat:write.public",
        "users:read",
        "channels:history",  # finding a post whose process died mid-call
        "groups:history",
        "im:write",  # the stats chart goes to the member's DM with the app
        "files:write",
    }
