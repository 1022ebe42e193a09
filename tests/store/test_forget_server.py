"""Forgetting a server, on every backend: every row of it goes, in every table, and nothing of
another server does."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation

from adapters.memory import ManualClock, MemoryPlatform
from adapters.slack.install import Installations
from bot import commands as cmd
from bot.cli import main
from bot.content import Bank
from bot.engine import QuizEngine
from bot.models import ChannelRef
from bot.store import (
    INSTALLATION_ROWS,
    SERVER_ROWS,
    NewServerQuestion,
    Store,
    SuggestionStatus,
    open_store,
)
from tests.conftest import START, Backend, answer_round, invocation, member

GONE = ChannelRef("slack:T0GONE", "C1")
KEPT = ChannelRef("slack:T0KEPT", "C1")  # same channel id, another workspace


async def play(engine: QuizEngine, channel: ChannelRef) -> None:
    admin = invocation("boss", server=channel.server, channel=channel.channel, admin=True)
    await engine.handle(cmd.parse_command("schedule 08:15"), invocation=admin)
    await engine.handle(cmd.parse_command("settings thread on"), invocation=admin)
    outcome = await engine.post(channel)
    assert outcome.round_id is not None
    for name in ("ada", "bob"):
        await answer_round(
            engine,
            channel=channel,
            member=member(name, server=channel.server),
            round_id=outcome.round_id,
            choice=1,
        )
    await engine.handle(cmd.parse_command("post"), invocation=admin)  # closes and scores it
    await engine.handle(cmd.parse_command("practice"), invocation=admin)
    await engine.store.record_home_opened(server=channel.server, user_id="u-ada", at=START)
    await engine.store.add_server_questions(
        server=channel.server,
        questions=[
            NewServerQuestion(
                key="k1",
                question="{}",
                status=SuggestionStatus.PENDING,
                author_id="u",
                author_name="U",
                channel=channel.channel,
            )
        ],
        at=START,
    )


async def test_forget_deletes_every_row_of_one_server_only(
    engine: QuizEngine, store: Store
) -> None:
    await play(engine, GONE)
    await play(engine, KEPT)
    board_before = await store.leaderboard(server=KEPT.server, period="all", limit=10)

    deleted = await store.forget_server(GONE.server)

    assert list(deleted) == [table for table, _ in SERVER_ROWS]
    assert all(count > 0 for count in deleted.values()), deleted
    again = await store.forget_server(GONE.server)
    assert set(again.values()) == {0}, again
    assert await store.leaderboard(server=GONE.server, period="all", limit=10) == []
    assert await store.schedule(GONE) is None
    assert await store.open_round(GONE) is None
    assert await store.member(server=GONE.server, user_id="u-ada") is None
    assert await store.leaderboard(server=KEPT.server, period="all", limit=10) == board_before
    assert await store.schedule(KEPT) is not None
    assert await store.open_round(KEPT) is not None
    assert await store.channel_settings(KEPT) is not None


async def test_cli_forget_says_how_many_per_table(
    backend: Backend,
    bank: Bank,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    location = await backend.new_location()
    store = await open_store(location)
    try:
        engine = QuizEngine(store=store, bank=bank, platform=MemoryPlatform(), clock=clock)
        await play(engine, GONE)
        await play(engine, KEPT)
    finally:
        await store.close()
    monkeypatch.setenv("DLQUIZ_DB", str(location))

    assert await asyncio.to_thread(main, ["db", "forget", GONE.server]) == 0
    out = capsys.readouterr().out.splitlines()
    counts = dict(line.strip().split(": ") for line in out[1:])
    assert list(counts) == [table for table, _ in SERVER_ROWS]
    assert out[0] == f"forgot {GONE.server}: {sum(map(int, counts.values()))} rows deleted"
    assert int(counts["answers"]) == 2
    left = await backend.query(location, "SELECT DISTINCT server FROM rounds")
    assert left == [(KEPT.server,)]

    for bad in ("T0GONE", "slack:", "teams:T0GONE", "slack:T0 GONE"):
        assert await asyncio.to_thread(main, ["db", "forget", bad]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [
            f"dlquiz: error: {bad!r} is not a server key: use discord:<guild id>,"
            " slack:<team id> or console:local"
        ]
    assert await backend.query(location, "SELECT count(*) FROM rounds") != [(0,)]


def installation(team: str, token: str) -> Installation:
    return Installation(
        app_id="A0DLQUIZ",
        enterprise_id=None,
        team_id=team,
        bot_token=token,
        bot_id=f"B{team}",
        bot_user_id=f"U{team}",
        bot_scopes="commands,chat:write",
        user_id="U0INSTALL",
    )


async def test_forget_deletes_the_installation_of_a_workspace_still_installed(
    backend: Backend, bank: Bank, clock: ManualClock
) -> None:
    """Where one app serves many workspaces, slack-sdk's tables hold the workspace's token: it
    goes too, and only its own."""
    location = await backend.new_location()
    store = await open_store(location)
    installations = Installations(client_id="1111.2222", db=location)
    try:
        await installations.open()
        gone_team = GONE.server.removeprefix("slack:")
        kept_team = KEPT.server.removeprefix("slack:")
        await installations.store.async_save(installation(gone_team, "xoxb-gone"))
        await installations.store.async_save(installation(gone_team, "xoxb-gone-again"))
        await installations.store.async_save(installation(kept_team, "xoxb-kept"))
        engine = QuizEngine(store=store, bank=bank, platform=MemoryPlatform(), clock=clock)
        await play(engine, GONE)

        assert set((await store.forget_server("discord:1")).values()) == {0}
        assert await installations.bot_token(gone_team) == "xoxb-gone-again"
        deleted = await store.forget_server(GONE.server)

        tables = [table for table, _ in SERVER_ROWS + INSTALLATION_ROWS]
        assert list(deleted) == tables
        assert deleted["slack_installations"] == deleted["slack_bots"] == 2
        installations.forget_token(gone_team)
        assert await installations.bot_token(gone_team) is None
        assert await installations.bot_token(kept_team) == "xoxb-kept"
        again = await store.forget_server(GONE.server)
        assert list(again) == tables
        assert set(again.values()) == {0}
    finally:
        await installations.close()
        await store.close()


def test_cli_forget_refuses_a_missing_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.db"
    monkeypatch.setenv("DLQUIZ_DB", str(missing))
    assert main(["db", "forget", "slack:T1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"dlquiz: error: database {missing} does not exist: check DLQUIZ_DB"
    assert not missing.exists()
