"""A bot that cannot start on its configuration says so in one line, and nothing else: no
chat library's INFO line before it, and a token of the wrong shape never goes to the network."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_discord import FakeDiscord
from fake_slack import FakeSlack
from reliability_kit import APP_TOKEN, bot_process, clean_env, discord_env, slack_env

REFUSED_DISCORD = "MTE3ODMyNDUxOTAyMzQxMTIyMQ.Gx7Ab2.refused-token-Qw8Rt5Yu1Io3"


async def run_until_exit(args: list[str], env: dict[str, str], folder: Path) -> list[str]:
    env.pop("DLQUIZ_LOG_FORMAT", None)  # the text format an operator reads
    env["DLQUIZ_LOG_LEVEL"] = "INFO"
    async with bot_process(args, env, folder, "start") as bot:
        assert await bot.wait_exit(within=20) == 1
    assert bot.stdout == ""
    return bot.stderr.splitlines()


@pytest.mark.parametrize("token", ["abc", "abc.def", "a.b.c.d", "abc.d=f.ghi", "abc..ghi"])
async def test_a_discord_token_of_the_wrong_shape_is_refused_offline(
    fake_discord: FakeDiscord, tmp_path: Path, token: str
) -> None:
    env = discord_env(fake_discord, tmp_path / "quiz.db", token)
    lines = await run_until_exit(["run", "discord"], env, tmp_path)
    assert len(lines) == 1, lines
    assert lines[0].startswith("dlquiz: error: DISCORD_TOKEN is not a bot token: ")
    assert "three parts" in lines[0]
    assert fake_discord.requests == []
    assert not (tmp_path / "quiz.db").exists()


async def test_a_refused_discord_token_is_the_only_line(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    env = discord_env(fake_discord, tmp_path / "quiz.db", REFUSED_DISCORD)
    lines = await run_until_exit(["run", "discord"], env, tmp_path)
    assert any(r.path == "/users/@me" for r in fake_discord.requests), "the token was offered"
    assert len(lines) == 1, lines
    assert lines[0].startswith("dlquiz: error: DISCORD_TOKEN was rejected by Discord")


@pytest.mark.parametrize("token", ["abc", "xoxa-2-123", "xoxb"])
async def test_a_slack_bot_token_of_the_wrong_shape_is_refused_offline(
    fake_slack: FakeSlack, tmp_path: Path, token: str
) -> None:
    env = {**slack_env(fake_slack, tmp_path / "quiz.db"), "SLACK_BOT_TOKEN": token}
    lines = await run_until_exit(["run", "slack", "--port", "0"], env, tmp_path)
    assert lines == [
        "dlquiz: error: SLACK_BOT_TOKEN is not a bot token: a bot token starts with xoxb-"
        " (the app's Bot User OAuth Token, on its OAuth & Permissions page)"
    ]
    assert fake_slack.api("auth.test") == []


async def test_a_slack_app_token_of_the_wrong_shape_names_its_prefix(tmp_path: Path) -> None:
    env = clean_env(SLACK_BOT_TOKEN="xoxb-1-2", SLACK_APP_TOKEN="abc", DLQUIZ_DB=str(tmp_path))
    lines = await run_until_exit(["run", "slack"], env, tmp_path)
    assert len(lines) == 1, lines
    assert "SLACK_APP_TOKEN must be an app-level token (starting with xapp-)" in lines[0]


async def test_a_refused_slack_app_token_is_the_only_line(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.errors["apps.connections.open"] = "invalid_auth"
    env = slack_env(fake_slack, tmp_path / "quiz.db", SLACK_APP_TOKEN=APP_TOKEN)
    lines = await run_until_exit(["run", "slack", "--port", "0"], env, tmp_path)
    assert lines == ["dlquiz: error: Slack refused SLACK_APP_TOKEN: invalid_auth"]
