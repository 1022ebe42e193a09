"""Graceful stops of the real process: SIGTERM (what `docker stop` and systemd send) or SIGINT
(Ctrl-C) in the middle of a burst of presses finishes what was acknowledged and exits 0; Ctrl-C
in the terminal channel leaves without a traceback and with its answers saved."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest
from discord_harness import MOD, slash
from fake_discord import TOKEN as DISCORD_TOKEN
from fake_discord import FakeDiscord
from fake_slack import FakeSlack
from reliability_kit import (
    ADMIN,
    Burst,
    audit,
    bot_process,
    burst,
    clean_env,
    command_body,
    discord_env,
    is_final_answer,
    member_presses,
    open_question,
    post_signed,
    round_of,
    say,
    slack_process,
    user_ids,
)

PRESSES = 2000
STOP_AT = 500  # HTTP 200s seen before the signal
STOP_WITHIN = 5.0  # seconds from the signal to the exit
POLL = 0.02


def errors(records: list[dict[str, object]]) -> list[str]:
    return [str(r["message"]) for r in records if r["level"] in ("ERROR", "CRITICAL")]


async def wait_port_closed(url: str, *, within: float = STOP_WITHIN) -> None:
    """Poll until nothing accepts connections on the port of `url` any more."""
    port = int(url.split(":")[2].split("/", maxsplit=1)[0])
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        writer.close()
        await writer.wait_closed()
        assert asyncio.get_running_loop().time() < deadline, "the port is still open"
        await asyncio.sleep(POLL)


def delivered(db: Path) -> list[tuple[int, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, message_ref FROM rounds ORDER BY id").fetchall()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_stop_signal_mid_burst_finishes_and_exits_zero(
    fake_slack: FakeSlack, tmp_path: Path, sig: signal.Signals
) -> None:
    db = tmp_path / "quiz.db"
    signalled_at = 0.0
    async with (
        aiohttp.ClientSession() as session,
        slack_process(fake_slack, db, tmp_path, "stopped") as bot,
    ):
        message = await open_question(fake_slack, session, bot.url)
        round_id, _ = round_of(message)
        presses = member_presses(fake_slack, message, user_ids(PRESSES), tag="burst")

        def stop_midway(progress: Burst) -> None:
            nonlocal signalled_at
            if len(progress.acknowledged) == STOP_AT:
                bot.send_signal(sig)
                signalled_at = time.perf_counter()

        result = await burst(bot.url, presses, on_ack=stop_midway)
        code = await bot.wait_exit(within=STOP_WITHIN + 10)
        took = time.perf_counter() - signalled_at
        output = bot.output
        records = bot.records()

    found = audit(db, round_id)
    lost = set(result.acknowledged) - set(found.answers)
    say(
        f"{sig.name} mid-burst: exit {code} {took:.2f}s after the signal; sent {result.sent},"
        f" acknowledged {len(result.acknowledged)}, recorded {len(found.answers)},"
        f" lost {len(lost)};"
        f" refused after the stop: {dict(result.failed)} {dict(result.statuses)}"
    )
    assert code == 0, output[-3000:]
    assert took < STOP_WITHIN
    assert len(result.acknowledged) >= STOP_AT
    assert not lost
    assert all(found.answers[u] == c for u, c in result.acknowledged.items())
    assert found.integrity == "ok"
    assert found.scores_match, found.problems
    assert found.histogram_match, found.problems
    assert "Traceback" not in output
    assert errors(records) == []
    assert records[-1]["message"] == "dlquiz stopped"


async def test_sigterm_lets_slack_work_in_flight_finish(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """`/dlquiz post` is acknowledged at once and posts after; a SIGTERM arriving while the
    post is on its way to Slack stops new requests but lets the post and its reply finish."""
    db = tmp_path / "quiz.db"
    held = asyncio.Event()
    fake_slack.gates["chat.postMessage"] = held
    async with (
        aiohttp.ClientSession() as session,
        slack_process(fake_slack, db, tmp_path, "slack-in-flight") as bot,
    ):
        body = command_body(fake_slack, ADMIN, "post", "post")
        assert await post_signed(session, bot.url, body) == 200
        await fake_slack.wait_for(lambda: bool(fake_slack.api("chat.postMessage")))
        bot.send_signal(signal.SIGTERM)
        await wait_port_closed(bot.url)  # the stop has begun: no new requests
        held.set()
        code = await bot.wait_exit(within=STOP_WITHIN)
    assert code == 0, bot.describe()
    [reply] = fake_slack.replies_to("post")
    assert "Posted a new question" in reply.text
    assert delivered(db) == [(1, fake_slack.api("chat.postMessage")[0].response["ts"])]
    assert errors(bot.records()) == []


async def test_sigterm_lets_discord_work_in_flight_finish(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """The same on Discord: `/dlquiz post` is deferred, then posts; a SIGTERM arriving while
    the post is on its way should let the post and the member's answer finish."""
    db = tmp_path / "quiz.db"
    held = fake_discord.hold_channel_posts()
    env = discord_env(fake_discord, db, DISCORD_TOKEN)
    async with bot_process(["run", "discord"], env, tmp_path, "discord-in-flight") as bot:
        await bot.wait_for_output(lambda t: "connected to Discord as" in t, within=20)
        assert fake_discord.gateway is not None
        post = slash("post", MOD)
        await fake_discord.gateway.dispatch("INTERACTION_CREATE", post)
        await fake_discord.wait_for(lambda r: r.method == "POST" and "/channels/" in r.path)
        bot.send_signal(signal.SIGTERM)
        await bot.wait_for_output(lambda t: "stopping: SIGTERM" in t, within=STOP_WITHIN)
        held.set()
        code = await bot.wait_exit(within=STOP_WITHIN)
    say(f"Discord SIGTERM with a post in flight: exit {code}, errors {errors(bot.records())}")
    assert code == 0, bot.describe()
    finals = [r for r in fake_discord.requests if is_final_answer(r, post)]
    assert [f.body.get("content") for f in finals] == ["Posted a new question in this channel."]
    assert errors(bot.records()) == []
    assert delivered(db)[0][1] is not None


async def test_ctrl_c_in_the_console_leaves_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "quiz.db"
    env = clean_env(DLQUIZ_DB=str(db))
    async with bot_process(["console"], env, tmp_path, "console", stdin=subprocess.PIPE) as bot:
        assert bot.proc.stdin is not None
        await bot.wait_for_output(lambda t: "dlquiz terminal channel" in t, within=20)
        bot.proc.stdin.write(b"/dlquiz post\nB\n")
        bot.proc.stdin.flush()
        await bot.wait_for_output(lambda t: "you: Recorded: B" in t, within=10)
        # stdin stays open: the console is waiting for the next line when Ctrl-C comes.
        bot.send_signal(signal.SIGINT)
        code = await bot.wait_exit(within=STOP_WITHIN)
        stderr = bot.stderr
    say(f"console Ctrl-C: exit {code}, stderr {stderr!r}")
    assert "Traceback" not in stderr
    assert code in (0, 130)  # 130: the shell's code for "ended by Ctrl-C"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT user_id, choice FROM answers").fetchall() == [("you", 1)]
