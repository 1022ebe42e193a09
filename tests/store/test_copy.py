"""`dlquiz db copy`: every table, both ways between SQLite and PostgreSQL, verified."""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from slack_sdk.oauth.installation_store import Installation

from adapters.memory import ManualClock, MemoryPlatform
from adapters.slack.install import Installations
from bot import commands as cmd
from bot.cli import main
from bot.engine import QuizEngine
from bot.models import ChannelRef, PracticeCard
from bot.store import StoreError, open_store
from bot.store.copy import copy_database
from bot.store.sqlite.migrations import MIGRATIONS
from tests.conftest import START, PgDatabases, answer_round, invocation, make_bank, member

pytestmark = pytest.mark.postgres

SERVERS = ("discord:1", "slack:T2", "console:local")


async def fill(location: str | Path) -> None:
    """Several servers with closed and open rounds, answers, scores, practice and deliveries."""
    store = await open_store(location)
    clock = ManualClock(START)
    try:
        engine = QuizEngine(
            store=store,
            bank=make_bank(12),
            platform=MemoryPlatform(),
            clock=clock,
            rng=random.Random(3),
        )
        for day in range(3):
            for server in SERVERS:
                for channel in ("c1", "c2"):
                    ref = ChannelRef(server, channel)
                    outcome = await engine.post(ref)
                    assert outcome.round_id is not None, outcome
                    for i in range(4):
                        await answer_round(
                            engine,
                            channel=ref,
                            member=member(f"p{i}", server=server),
                            round_id=outcome.round_id,
                            choice=(i + day) % 4,
                        )
            clock.advance(timedelta(days=1))
        await store.set_schedule(
            ChannelRef(SERVERS[0], "c1"), time="09:00", zone="Europe/Berlin", at=clock.now()
        )
        for server in SERVERS:
            card = await engine.handle(
                cmd.Practice(None), invocation=invocation("ada", server=server)
            )
            assert isinstance(card, PracticeCard)
            await engine.practice_answer(
                member=member("ada", server=server), question_id=card.question.id, choice=1
            )
    finally:
        await store.close()


TABLES = (
    "rounds",
    "answers",
    "members",
    "scores",
    "score_counts",
    "practice",
    "deliveries",
    "schedules",
)


async def sqlite_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


async def pg_counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
    finally:
        await conn.close()


async def test_sqlite_to_postgres_and_back_keeps_every_row(
    tmp_path: Path, pg_databases: PgDatabases
) -> None:
    original = tmp_path / "original.db"
    await fill(original)
    before = await sqlite_rows(original)
    assert all(before[t] for t in TABLES), {t: len(v) for t, v in before.items()}

    url = await pg_databases.create(migrated=False)
    there = await copy_database(original, url)
    assert {t: there.tables[t] for t in TABLES} == {t: len(before[t]) for t in TABLES}
    assert set(TABLES) <= set(there.tables)
    assert await pg_counts(url) == {t: len(before[t]) for t in TABLES}
    assert "row counts match, score totals match" in there.summary()

    back = tmp_path / "back.db"
    again = await copy_database(url, back)
    assert again.totals == there.totals
    # Times went through TIMESTAMPTZ and booleans through BOOLEAN, and came back as written.
    assert await sqlite_rows(back) == before


async def test_the_copy_plays_on_with_new_ids(tmp_path: Path, pg_databases: PgDatabases) -> None:
    """Identity sequences are moved past the copied ids: the next round gets a new id."""
    original = tmp_path / "original.db"
    await fill(original)
    url = await pg_databases.create(migrated=False)
    await copy_database(original, url)
    store = await open_store(url)
    try:
        clock = ManualClock(START + timedelta(days=10))
        engine = QuizEngine(store=store, bank=make_bank(12), platform=MemoryPlatform(), clock=clock)
        outcome = await engine.post(ChannelRef(SERVERS[0], "c-new"))
        assert outcome.round_id is not None, outcome
        with sqlite3.connect(original) as db:
            (highest,) = db.execute("SELECT max(id) FROM rounds").fetchone()
        assert outcome.round_id > highest
        deliveries = await store.deliveries_of(outcome.round_id)
        assert deliveries
    finally:
        await store.close()


async def test_postgres_to_postgres(tmp_path: Path, pg_databases: PgDatabases) -> None:
    source = await pg_databases.create()
    await fill(source)
    target = await pg_databases.create()  # migrated already, and empty: accepted
    report = await copy_database(source, target)
    counts = await pg_counts(source)
    assert await pg_counts(target) == counts
    assert {t: report.tables[t] for t in TABLES} == counts


async def test_a_non_empty_target_is_refused_untouched(
    tmp_path: Path, pg_databases: PgDatabases
) -> None:
    source = tmp_path / "source.db"
    await fill(source)
    taken = tmp_path / "taken.db"
    await fill(taken)
    before = taken.read_bytes()
    with pytest.raises(StoreError, match=r"is not empty \(table \w+ has [\d,]+ rows\)"):
        await copy_database(source, taken)
    assert taken.read_bytes() == before

    url = await pg_databases.create()
    await copy_database(source, url)
    counts = await pg_counts(url)
    with pytest.raises(StoreError, match="is not empty"):
        await copy_database(source, url)
    assert await pg_counts(url) == counts


async def test_a_source_at_another_schema_version_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "old.db"
    await fill(source)
    with sqlite3.connect(source) as db:
        db.execute("PRAGMA user_version = 3")
    target = tmp_path / "new.db"
    wanted = f"schema version 3 but this dlquiz copies version {len(MIGRATIONS)}"
    with pytest.raises(StoreError, match=wanted):
        await copy_database(source, target)
    assert not target.exists()


async def test_a_mismatch_names_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check reads the target again: a row lost on the way is reported, not trusted."""
    from bot.store import copy as copying

    source = tmp_path / "source.db"
    await fill(source)
    write = copying._write

    async def lossy(writer: Any, table: str, columns: list[str], rows: list[Any]) -> None:
        await write(writer, table, columns, rows[:-1] if table == "members" else rows)

    monkeypatch.setattr(copying, "_write", lossy)
    with pytest.raises(StoreError, match="table members has"):
        await copy_database(source, tmp_path / "target.db")


def test_cli_copy_says_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    source = tmp_path / "source.db"
    asyncio.run(fill(source))
    target = tmp_path / "copy.db"
    assert main(["db", "copy", str(source), str(target)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith("copied ")
    assert "rows/s" in out[0]

    assert main(["db", "copy", str(source), str(target)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert re.fullmatch(
        rf"dlquiz: error: target {re.escape(str(target))} is not empty \(table \w+ has [\d,]+"
        r" rows\); copy into a new database",
        err[0],
    )


@pytest.mark.parametrize(
    ("source", "target", "says"),
    [
        ("missing.db", "new.db", "source database missing.db does not exist"),
        ("mysql://u@h/db", "new.db", "FROM must be a SQLite file path or a PostgreSQL URL"),
        ("{db}", "postgresql://u:hunter2@127.0.0.1:1/x", "connection refused"),
        ("{db}", "nowhere/new.db", "folder nowhere does not exist"),
    ],
)
def test_cli_bad_locations_are_one_line(
    tmp_path: Path,
    *,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    target: str,
    says: str,
) -> None:
    import asyncio

    monkeypatch.chdir(tmp_path)
    asyncio.run(fill(tmp_path / "db.sqlite"))
    source = source.replace("{db}", "db.sqlite")
    assert main(["db", "copy", source, target]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert says in lines[0]
    assert "hunter2" not in captured.err


def test_times_keep_their_instant() -> None:
    from bot.store.copy import _converter

    to_pg = _converter("t", "c", "timestamp with time zone", to_postgres=True)
    to_sqlite = _converter("t", "c", "timestamp with time zone", to_postgres=False)
    assert to_pg is not None
    assert to_sqlite is not None
    moment = datetime(2026, 3, 2, 9, 0, 1, 250, tzinfo=UTC)
    assert to_sqlite(to_pg(moment.isoformat())) == moment.isoformat()
    with pytest.raises(StoreError, match=r"t\.c holds 'yesterday', not a time"):
        to_pg("yesterday")


CLIENT_ID = "1111.2222"
TEAMS = {"T0NE00001": "xoxb-one", "T0TW00002": "xoxb-two"}


def installation(team: str, token: str, *, at: float) -> Installation:
    return Installation(
        app_id="A0DLQUIZ",
        enterprise_id=None,
        team_id=team,
        team_name=f"team {team}",
        bot_token=token,
        bot_id=f"B{team}",
        bot_user_id=f"U{team}",
        bot_scopes="commands,chat:write",
        user_id="U0INSTALL",
        installed_at=at,
    )


async def installed_tokens(location: str | Path, teams: Iterable[str]) -> dict[str, str | None]:
    installations = Installations(client_id=CLIENT_ID, db=location)
    try:
        return {team: await installations.bot_token(team) for team in teams}
    finally:
        await installations.close()


async def slack_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        return {
            t: db.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
            for t in ("slack_installations", "slack_bots")
        }


async def test_slack_installations_go_along_both_ways(
    tmp_path: Path, pg_databases: PgDatabases
) -> None:
    """slack-sdk's tables are not dlquiz's: the target is given them, and the installation store
    finds every workspace's token there, and numbers a new installation after the copied ones."""
    original = tmp_path / "original.db"
    await fill(original)
    installations = Installations(client_id=CLIENT_ID, db=original)
    try:
        await installations.open()
        for i, (team, token) in enumerate(TEAMS.items()):
            await installations.store.async_save(installation(team, token, at=1772442000.5 + i))
        await installations.states.async_issue()
    finally:
        await installations.close()
    before = await slack_rows(original)

    url = await pg_databases.create(migrated=False)
    there = await copy_database(original, url)
    assert there.tables["slack_installations"] == there.tables["slack_bots"] == len(TEAMS)
    assert there.tables["slack_oauth_states"] == 1
    assert await installed_tokens(url, TEAMS) == TEAMS

    back = tmp_path / "back.db"
    await copy_database(url, back)
    # Times went through TIMESTAMP and booleans through BOOLEAN, and came back as written.
    assert await slack_rows(back) == before
    assert await installed_tokens(back, TEAMS) == TEAMS
    twin = await pg_databases.create()
    await copy_database(url, twin)
    assert await installed_tokens(twin, TEAMS) == TEAMS

    on_postgres = Installations(client_id=CLIENT_ID, db=url)
    try:
        await on_postgres.open()  # finds its tables there, as a replica starting on it would
        await on_postgres.store.async_save(installation("T0THREE03", "xoxb-three", at=1772450000.0))
        assert await on_postgres.bot_token("T0THREE03") == "xoxb-three"
    finally:
        await on_postgres.close()
    conn = await asyncpg.connect(url)
    try:
        ids = await conn.fetch("SELECT id FROM slack_bots ORDER BY id")
    finally:
        await conn.close()
    assert [r[0] for r in ids] == [1, 2, 3]
