"""Secrets never leave the process: full runs of the real `dlquiz` at DEBUG level (Slack HTTP
mode, Slack Socket Mode, Discord through its gateway) are captured whole, stdout, stderr and the
database file, and neither the bot token, the signing secret nor the app token appears in them.
A token the platform refuses ends the process with one line that does not repeat it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from discord_harness import MOD, click, custom_ids, slash
from fake_discord import TOKEN as DISCORD_TOKEN
from fake_discord import FakeDiscord
from fake_slack import FakeSlack
from reliability_kit import (
    ADMIN,
    APP_TOKEN,
    BOT_TOKEN,
    ROOT,
    SIGNING_SECRET,
    BotProcess,
    bot_process,
    burst,
    clean_env,
    command_body,
    discord_env,
    discord_exchange,
    member_presses,
    open_question,
    post_signed,
    say,
    slack_env,
    slack_process,
    user_ids,
)
from slack_driver import payload

SLACK_SECRETS = {
    "SLACK_BOT_TOKEN": BOT_TOKEN,
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "SLACK_APP_TOKEN": APP_TOKEN,
}
SUBCOMMANDS = ("help", "question", "leaderboard", "leaderboard week", "stats", "topics")
SUBCOMMANDS += ("practice", "schedule")
ADMIN_SUBCOMMANDS = ("schedule 09:00 Europe/Berlin", "reveal", "post")  # answered via response_url
PRESSES = 200
STOP_WITHIN = 5.0


def fragments(secret: str) -> list[str]:
    """The secret and each of its 12-character pieces: a cut or partly masked copy is a leak
    too. The platform prefixes (xoxb-, xapp-1-) alone are not secret."""
    return [secret] + [secret[i : i + 12] for i in range(8, len(secret) - 11)]


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [
        f"{name}: {piece!r}"
        for name, secret in secrets.items()
        for piece in fragments(secret)
        if piece in text
    ]


def everything_written(process: BotProcess, db: Path | None = None) -> str:
    """All the process wrote: both streams, and the database with its WAL."""
    text = process.output
    if db is not None:
        for path in (db, db.with_name(db.name + "-wal")):
            if path.exists():
                text += path.read_bytes().decode("latin-1")
    return text


def sent_to_slack(fake: FakeSlack) -> str:
    """Every message the bot sent members and channels: Web API arguments and response_url
    bodies (the token itself travels in the Authorization header, as it must)."""
    return json.dumps([c.args for c in fake.calls]) + json.dumps([r.body for r in fake.replies])


def sent_to_discord(fake: FakeDiscord) -> str:
    """Every request body the bot sent Discord but the gateway IDENTIFY, which must carry it."""
    return json.dumps(
        [r.body for r in fake.requests if not (r.method == "WS" and r.path == "op 2")]
    )


def assert_debug_was_on(process: BotProcess, *loggers: str) -> None:
    """The scan means something only if the libraries' own DEBUG lines were written."""
    records = process.records()
    for prefix in loggers:
        assert any(r["level"] == "DEBUG" and r["logger"].startswith(prefix) for r in records), (
            f"no DEBUG line from {prefix}"
        )


# --- Slack -------------------------------------------------------------------------------------


async def test_a_full_slack_round_at_debug_level_leaks_no_secret(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db = tmp_path / "quiz.db"
    async with (
        aiohttp.ClientSession() as session,
        slack_process(fake_slack, db, tmp_path, "http-debug", DLQUIZ_LOG_LEVEL="DEBUG") as bot,
    ):
        message = await open_question(fake_slack, session, bot.url)
        result = await burst(
            bot.url, member_presses(fake_slack, message, user_ids(PRESSES), tag="p")
        )
        assert len(result.acknowledged) == PRESSES
        for n, text in enumerate(SUBCOMMANDS + ADMIN_SUBCOMMANDS):
            body = command_body(fake_slack, ADMIN, text, f"cmd{n}")
            assert await post_signed(session, bot.url, body) == 200
        await fake_slack.wait_for(
            lambda: all(
                fake_slack.replies_to(f"cmd{len(SUBCOMMANDS) + n}")
                for n in range(len(ADMIN_SUBCOMMANDS))
            )
        )
        # Refused requests: a wrong signature and a stale one.
        body = command_body(fake_slack, ADMIN, "help", "forged")
        assert await post_signed(session, bot.url, body, secret="0" * 32) == 401
        stale = {"X-Slack-Request-Timestamp": "1000000000", "X-Slack-Signature": "v0=00"}
        assert await post_signed(session, bot.url, body, headers=stale) == 401
        bot.send_signal(signal.SIGTERM)
        assert await bot.wait_exit(within=STOP_WITHIN) == 0, bot.describe()

    written = everything_written(bot, db)
    say(f"Slack HTTP mode at DEBUG: {len(bot.records())} log lines, {len(written)} bytes scanned")
    assert_debug_was_on(bot, "slack_bolt", "slack_sdk", "asyncio", "aiosqlite")
    assert [r for r in bot.records() if r["level"] in ("ERROR", "CRITICAL")] == []
    assert fake_slack.calls[0].token == BOT_TOKEN  # the token was really in use
    assert leaks(written, SLACK_SECRETS) == []
    assert leaks(sent_to_slack(fake_slack), SLACK_SECRETS) == []


async def test_socket_mode_at_debug_level_leaks_no_secret(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    db = tmp_path / "quiz.db"
    env = slack_env(fake_slack, db, SLACK_APP_TOKEN=APP_TOKEN, DLQUIZ_LOG_LEVEL="DEBUG")
    async with bot_process(["run", "slack"], env, tmp_path, "socket-debug") as bot:
        await bot.wait_for_output(lambda t: "in Socket Mode" in t, within=20)
        await fake_slack.wait_connected()
        for n, text in enumerate(("help", "post", "leaderboard")):
            envelope = payload("socket_slash_commands")
            envelope["envelope_id"] = f"slash-{n}"
            form = payload("slash_command")
            form.update(
                user_id=ADMIN.id,
                user_name=ADMIN.name,
                text=text,
                response_url=fake_slack.response_url(f"s{n}"),
            )
            envelope["payload"] = form
            ack = await fake_slack.send_envelope(envelope)
            assert ack["envelope_id"] == f"slash-{n}"
        await fake_slack.wait_for(lambda: bool(fake_slack.replies_to("s1")))
        bot.send_signal(signal.SIGTERM)
        assert await bot.wait_exit(within=STOP_WITHIN) == 0, bot.describe()

    [opened] = fake_slack.api("apps.connections.open")
    assert opened.token == APP_TOKEN
    written = everything_written(bot, db)
    say(f"Slack Socket Mode at DEBUG: {len(bot.records())} log lines scanned")
    # bolt hands its own logger to the Socket Mode client: the frames are logged under it.
    assert_debug_was_on(bot, "slack_bolt", "slack_sdk.web")
    assert any(r["message"].startswith("Received message (type: TEXT") for r in bot.records())
    assert leaks(written, SLACK_SECRETS) == []
    assert leaks(sent_to_slack(fake_slack), SLACK_SECRETS) == []


REFUSALS = {
    "bot-token": ("auth.test", {}, "dlquiz: error: Slack refused SLACK_BOT_TOKEN: invalid_auth"),
    "app-token": (
        "apps.connections.open",
        {"SLACK_APP_TOKEN": APP_TOKEN},
        "dlquiz: error: Slack refused SLACK_APP_TOKEN: invalid_auth",
    ),
}


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
@pytest.mark.parametrize("refused", sorted(REFUSALS))
async def test_a_refused_slack_token_is_one_line_without_the_token(
    fake_slack: FakeSlack, tmp_path: Path, refused: str, level: str
) -> None:
    method, extra, problem = REFUSALS[refused]
    fake_slack.errors[method] = "invalid_auth"
    env = slack_env(fake_slack, tmp_path / "quiz.db", DLQUIZ_LOG_LEVEL=level, **extra)
    env.pop("DLQUIZ_LOG_FORMAT")  # the text format an operator reads
    async with bot_process(["run", "slack", "--port", "0"], env, tmp_path, "refused") as bot:
        code = await bot.wait_exit(within=20)
    assert code == 1
    assert fake_slack.api(method), "the token was really offered to Slack"
    assert leaks(bot.output, SLACK_SECRETS) == []
    assert "Traceback" not in bot.output
    lines = bot.stderr.splitlines()
    assert [line for line in lines if line.startswith("dlquiz:")] == [problem]
    if level == "INFO" and method == "auth.test":
        # The bot token is checked before anything is opened: the error is all there is.
        # (The app token is only tried once the engine runs, after its start-up INFO lines.)
        assert lines == [problem]


def test_a_misplaced_slack_token_is_named_not_shown(tmp_path: Path) -> None:
    """An app token put in SLACK_BOT_TOKEN is refused before any network call, unquoted."""
    env = clean_env(
        SLACK_BOT_TOKEN=APP_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        DLQUIZ_DB=str(tmp_path / "q"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "slack"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert "SLACK_BOT_TOKEN holds a xapp- token" in result.stderr
    assert leaks(result.stdout + result.stderr, SLACK_SECRETS) == []


# --- Discord -----------------------------------------------------------------------------------


async def test_a_full_discord_round_at_debug_level_leaks_no_token(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    db = tmp_path / "quiz.db"
    env = discord_env(fake, db, DISCORD_TOKEN, DLQUIZ_LOG_LEVEL="DEBUG")
    async with bot_process(["run", "discord"], env, tmp_path, "discord-debug") as bot:
        await bot.wait_for_output(lambda t: "connected to Discord as" in t, within=20)
        posted = await discord_exchange(fake, slash("post", MOD))
        assert posted["content"] == "Posted a new question in this channel."
        [question] = [
            m for m in fake.messages.values() if any(c.startswith("dlq:a:") for c in custom_ids(m))
        ]
        answered = await discord_exchange(fake, click(question, "A", MOD))
        assert answered["content"] == "Recorded: A"
        for sub in ("leaderboard", "stats", "topics", "question", "schedule", "reveal"):
            await discord_exchange(fake, slash(sub, MOD))
        bot.send_signal(signal.SIGTERM)
        assert await bot.wait_exit(within=STOP_WITHIN) == 0, bot.describe()

    identify = [r for r in fake.requests if r.method == "WS" and r.path == "op 2"]
    assert identify[0].body["token"] == DISCORD_TOKEN  # the token was really in use
    written = everything_written(bot, db)
    say(f"Discord at DEBUG: {len(bot.records())} log lines scanned")
    assert_debug_was_on(bot, "discord.gateway", "discord.http")
    assert [r for r in bot.records() if r["level"] in ("ERROR", "CRITICAL")] == []
    assert leaks(written, {"DISCORD_TOKEN": DISCORD_TOKEN}) == []
    assert leaks(sent_to_discord(fake), {"DISCORD_TOKEN": DISCORD_TOKEN}) == []


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_a_refused_discord_token_is_one_line_without_the_token(
    fake_discord: FakeDiscord, tmp_path: Path, level: str
) -> None:
    wrong = "MTE3ODMyNDUxOTAyMzQxMTIyMQ.Gx7Ab2.refused-token-Qw8Rt5Yu1Io3"
    env = discord_env(fake_discord, tmp_path / "quiz.db", wrong, DLQUIZ_LOG_LEVEL=level)
    env.pop("DLQUIZ_LOG_FORMAT")  # the text format an operator reads
    async with bot_process(["run", "discord"], env, tmp_path, "discord-refused") as bot:
        code = await bot.wait_exit(within=20)
    assert code == 1
    assert any(r.path == "/users/@me" for r in fake_discord.requests), "the token was offered"
    assert leaks(bot.output, {"DISCORD_TOKEN": wrong}) == []
    assert "Traceback" not in bot.output
    [problem] = [line for line in bot.stderr.splitlines() if line.startswith("dlquiz:")]
    assert problem.startswith("dlquiz: error: DISCORD_TOKEN was rejected by Discord")
