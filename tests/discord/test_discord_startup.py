"""Start-up: token checks, DISCORD_API_BASE for REST and gateway, command sync, the gateway run."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import replace

import pytest
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route
from discord_harness import ADA, GUILD_ID, slash
from fake_discord import APP_ID, TOKEN, FakeDiscord

from adapters.discord.app import run_discord, serve, started
from bot.config import ConfigError, Settings

SUBCOMMANDS = {
    "help",
    "review",
    "settings",
    "suggest",
    "insights",
    "question",
    "leaderboard",
    "stats",
    "topics",
    "practice",
    "schedule",
    "post",
    "reveal",
}
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content


async def test_login_syncs_the_command_group_globally(
    settings: Settings, fake: FakeDiscord
) -> None:
    async with started(settings):
        pass
    assert fake.lines()[:4] == [
        "GET /users/@me",
        "GET /oauth2/applications/@me",
        "GET /gateway/bot",
        f"PUT /applications/{APP_ID}/commands",
    ]
    assert not [line for line in fake.lines() if "/guilds/" in line]

    [command] = fake.requests[3].body
    assert command["name"] == "dlquiz"
    assert command["contexts"] == [0]  # servers only: the quiz has no meaning in a DM
    assert command["integration_types"] == [0]  # installed to a server, not to a user
    subs = {o["name"]: o for o in command["options"]}
    assert set(subs) == SUBCOMMANDS
    assert all(o["type"] == 1 for o in subs.values())
    assert all(len(o["description"]) <= 100 for o in subs.values())

    [period] = subs["leaderboard"]["options"]
    assert [c["value"] for c in period["choices"]] == ["week", "month", "all"]
    [user] = subs["stats"]["options"]
    assert user["type"] == 6  # a user picker
    time, zone = subs["schedule"]["options"]
    assert (time["name"], time["type"], time.get("autocomplete", False)) == ("time", 3, False)
    assert (zone["name"], zone["type"], zone["autocomplete"]) == ("zone", 3, True)
    [topic] = subs["practice"]["options"]
    assert topic["autocomplete"] is True
    assert all(not o.get("required") for s in subs.values() for o in s.get("options", []))


async def test_commands_sync_to_the_development_server_only(
    settings: Settings, fake: FakeDiscord
) -> None:
    async with started(replace(settings, discord_guild_id=int(GUILD_ID))):
        pass
    puts = [r for r in fake.requests if r.method == "PUT"]
    assert [r.path for r in puts] == [f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"]
    assert [c["name"] for c in puts[0].body] == ["dlquiz"]


async def test_the_api_base_decides_rest_and_gateway(settings: Settings, fake: FakeDiscord) -> None:
    async with started(settings):
        assert fake.api_base == Route.BASE
        assert yarl.URL(fake.gateway_url) == DiscordWebSocket.DEFAULT_GATEWAY


def test_a_missing_token_is_one_line(settings: Settings) -> None:
    with pytest.raises(ConfigError) as caught:
        run_discord(replace(settings, discord_token=None))
    assert "DISCORD_TOKEN is not set" in str(caught.value)
    assert "\n" not in str(caught.value)


async def test_a_rejected_token_is_one_line(settings: Settings, fake: FakeDiscord) -> None:
    with pytest.raises(ConfigError) as caught:
        async with started(replace(settings, discord_token="not-the-token")):
            pass
    message = str(caught.value)
    assert message.startswith("DISCORD_TOKEN was rejected by Discord (Improper token")
    assert "\n" not in message
    assert caught.value.__suppress_context__  # the CLI prints this line, no traceback
    assert fake.lines() == ["GET /users/@me"]


async def test_an_unreachable_api_is_one_line(settings: Settings, fake: FakeDiscord) -> None:
    await fake.close()  # nothing listens on that port any more
    with pytest.raises(ConfigError) as caught:
        async with started(settings):
            pass
    assert str(caught.value).startswith(f"cannot reach the Discord API at {fake.api_base}")


async def test_serve_runs_on_the_gateway_named_by_the_api(
    settings: Settings, fake: FakeDiscord
) -> None:
    running = asyncio.create_task(serve(settings))
    identify = await fake.wait_for(lambda r: r.method == "WS" and r.path == "op 2")
    [connect] = [r for r in fake.requests if r.path == "/gateway"]
    assert connect.query == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    assert identify.body["token"] == TOKEN
    assert identify.body["intents"] & PRIVILEGED_INTENTS == 0
    assert identify.body["shard"] == [0, 1]

    payload = slash("help", ADA)
    after = fake.last_seq
    assert fake.gateway is not None
    await fake.gateway.dispatch("INTERACTION_CREATE", payload)
    answer = await fake.wait_for(
        lambda r: r.path == f"/interactions/{payload['id']}/{payload['token']}/callback",
        after=after,
    )
    assert "`/dlquiz question`" in answer.body["data"]["content"]

    signal.raise_signal(signal.SIGTERM)  # what `docker stop` sends
    async with asyncio.timeout(5):
        await running  # returns: a clean stop, no exception


async def test_serve_reports_a_token_the_gateway_refuses(
    settings: Settings, fake: FakeDiscord
) -> None:
    running = asyncio.create_task(serve(settings))
    await fake.wait_for(lambda r: r.method == "WS" and r.path == "op 2")
    assert fake.gateway is not None
    await fake.gateway.ws.close(code=4004, message=b"Authentication failed.")
    with pytest.raises(ConfigError, match="rejected by the Discord gateway"):
        async with asyncio.timeout(5):
            await running
