"""Health and online backup, beside a running store."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot import maintenance
from bot.config import ConfigError, Settings
from bot.engine import QuizEngine
from bot.models import ChannelRef
from bot.store import NewRound, StoreError, open_store
from bot.store.postgres.migrations import MIGRATIONS as PG_MIGRATIONS
from bot.store.sqlite.migrations import MIGRATIONS
from tests.conftest import PgDatabases, answer_round, member

CHANNEL = ChannelRef("test:s1", "c1")


async def test_backup_while_answers_are_written(engine: QuizEngine, tmp_path: Path) -> None:
    settings = replace(Settings(), db=engine.store.path)
    outcome = await engine.post(CHANNEL)
    assert outcome.round_id is not None
    rid = outcome.round_id
    presses = [
        answer_round(engine, channel=CHANNEL, member=member(f"u{i}"), round_id=rid, choice=i % 4)
        for i in range(3000)
    ]
    target = tmp_path / "backup.db"
    writing = asyncio.gather(*presses)
    message = await asyncio.to_thread(maintenance.backup, settings, target)
    await writing
    assert "integrity ok" in message
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count = copy.execute("SELECT count(*) FROM answers").fetchone()[0]
    assert 0 <= count <= 3000
    with pytest.raises(ConfigError, match="already exists"):
        maintenance.backup(settings, target)


async def test_health(engine: QuizEngine) -> None:
    settings = replace(Settings(), db=engine.store.path)
    assert maintenance.health(settings).startswith("ok: ")


def test_health_fails_without_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        maintenance.health(replace(Settings(), db=tmp_path / "missing.db"))


def test_health_fails_on_a_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError, match="cannot use database"):
        maintenance.health(replace(Settings(), db=path))


async def make_database(path: Path) -> Path:
    store = await open_store(path)
    await store.close()
    return path


def damage_tables(path: Path, *tables: str) -> None:
    """Overwrite the first page of each table's b-tree: the file still opens, its rows do not."""
    with sqlite3.connect(path) as db:
        size = db.execute("PRAGMA page_size").fetchone()[0]
        marks = ", ".join("?" * len(tables))
        roots = [
            r[0]
            for r in db.execute(
                f"SELECT rootpage FROM sqlite_master WHERE name IN ({marks})", tables
            )
        ]
    db.close()
    with path.open("r+b") as file:
        for root in roots:
            file.seek((root - 1) * size)
            file.write(b"\x0d" + b"\xff" * 7)


async def test_health_reports_damaged_pages(tmp_path: Path) -> None:
    path = await make_database(tmp_path / "quiz.db")
    damage_tables(path, "answers", "deliveries")
    with pytest.raises(
        StoreError, match=r"database .* is damaged \(.*\); restore it from a backup"
    ):
        maintenance.health(replace(Settings(), db=path))


async def test_health_reports_the_schema_version_of_the_file(tmp_path: Path) -> None:
    path = await make_database(tmp_path / "quiz.db")
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 3")
    db.close()
    line = maintenance.health(replace(Settings(), db=path))
    assert f"at schema 3 (this dlquiz upgrades it to {len(MIGRATIONS)} when it starts)" in line


async def test_health_refuses_a_negative_schema_version(tmp_path: Path) -> None:
    path = await make_database(tmp_path / "quiz.db")
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = -2")
    db.close()
    with pytest.raises(StoreError, match="schema version -2, which no dlquiz writes"):
        maintenance.health(replace(Settings(), db=path))


def test_backup_of_postgres_points_to_pg_dump(tmp_path: Path) -> None:
    settings = replace(Settings(), db="postgresql://quiz@db.example/quiz")
    with pytest.raises(ConfigError, match=r"back up PostgreSQL with pg_dump, e\.g\. pg_dump "):
        maintenance.backup(settings, tmp_path / "backup.db")
    assert not (tmp_path / "backup.db").exists()


@pytest.mark.postgres
async def test_health_on_postgres(pg_databases: PgDatabases) -> None:
    url = await pg_databases.create()
    store = await open_store(url)
    try:
        await store.start_round(
            channel=CHANNEL,
            new=NewRound("q-1", "alpha", "easy", 4, 1, 10, "tok", "{}"),
            cycle=1,
            day=None,
            posted_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
            reveal_at=None,
        )
    finally:
        await store.close()
    line = await asyncio.to_thread(maintenance.health, replace(Settings(), db=url))
    assert line.startswith("ok: ")
    assert f"at schema {len(PG_MIGRATIONS)} with 1 rounds" in line

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO schema_migrations (version) VALUES (99)")
    finally:
        await conn.close()
    with pytest.raises(StoreError, match="schema version 99, newer than this dlquiz knows"):
        await asyncio.to_thread(maintenance.health, replace(Settings(), db=url))


def test_health_on_an_unreachable_postgres_is_one_line() -> None:
    settings = replace(Settings(), db="postgresql://quiz:pw@127.0.0.1:1/quiz")
    with pytest.raises(StoreError, match="connection refused") as caught:
        maintenance.health(settings)
    assert "\n" not in str(caught.value)
    assert "pw@" not in str(caught.value)
