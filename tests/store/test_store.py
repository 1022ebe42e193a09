"""Opening a database: migrations, reopening, refusing what it cannot use.

Reopening and closing run on every backend; the rest is about the SQLite file (PostgreSQL's own
are in test_postgres.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store import StoreError, open_store
from bot.store.sqlite.migrations import MIGRATIONS
from tests.conftest import Backend


async def test_new_file_is_migrated_to_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    async with await open_store(path):
        pass
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"rounds", "answers", "members", "scores", "score_counts", "schedules"} <= tables


async def test_reopen_keeps_data(backend: Backend) -> None:
    path = await backend.new_location()
    async with await open_store(path) as store:
        from datetime import UTC, datetime

        from bot.models import ChannelRef

        await store.set_schedule(
            ChannelRef("s", "c"), time="09:00", zone="UTC", at=datetime.now(UTC)
        )
    async with await open_store(path) as store:
        [row] = await store.schedules()
        assert (row.server, row.channel, row.time) == ("s", "c", "09:00")


async def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE future (x)")
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer than this dlquiz knows"):
        await open_store(path)
    assert path.read_bytes() == before


async def test_corrupt_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not a database, just some text " * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="cannot use database"):
        await open_store(path)
    assert path.read_bytes() == before


async def test_missing_folder_and_folder_path(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        await open_store(tmp_path / "nope" / "quiz.db")
    with pytest.raises(StoreError, match="is a folder"):
        await open_store(tmp_path)


async def test_close_finishes_queued_writes(backend: Backend) -> None:
    from datetime import UTC, datetime

    from bot.models import ChannelRef

    path = await backend.new_location()
    store = await open_store(path)
    pending = [
        store.set_schedule(ChannelRef("s", f"c{i}"), time="09:00", zone="UTC", at=datetime.now(UTC))
        for i in range(50)
    ]
    import asyncio

    tasks = [asyncio.create_task(p) for p in pending]
    await asyncio.sleep(0)
    await store.close()
    await asyncio.gather(*tasks)
    assert await backend.query(path, "SELECT count(*) FROM schedules") == [(50,)]


def _add_schedule(db: sqlite3.Connection, channel: str) -> str:
    db.execute(
        "INSERT INTO schedules (server, channel, time, zone, updated_at)"
        " VALUES ('s', ?, '09:00', 'UTC', '2026-03-02T09:00:00+00:00')",
        (channel,),
    )
    return channel


async def test_a_failing_write_is_rolled_back_alone(tmp_path: Path) -> None:
    """Writes queued together share one transaction; one that fails undoes only itself."""
    import asyncio

    def add_then_fail(db: sqlite3.Connection) -> str:
        _add_schedule(db, "half-done")
        raise RuntimeError("the work failed")

    async with await open_store(tmp_path / "quiz.db") as store:
        first, failed, last = await asyncio.gather(
            store.write(lambda db: _add_schedule(db, "first")),
            store.write(add_then_fail),
            store.write(lambda db: _add_schedule(db, "last")),
            return_exceptions=True,
        )
        assert (first, last) == ("first", "last")
        assert isinstance(failed, RuntimeError)
        assert [row.channel for row in await store.schedules()] == ["first", "last"]


async def test_a_write_that_ends_the_transaction_fails_its_whole_batch(tmp_path: Path) -> None:
    """An error that ends the transaction (a full disk does) took the batch's earlier writes
    with it: every write of the batch learns it failed, none is half kept, and the next write
    works."""
    import asyncio

    def lose_the_transaction(db: sqlite3.Connection) -> str:
        db.execute("ROLLBACK")
        raise sqlite3.OperationalError("database or disk is full")

    async with await open_store(tmp_path / "quiz.db") as store:
        results = await asyncio.gather(
            store.write(lambda db: _add_schedule(db, "first")),
            store.write(lose_the_transaction),
            store.write(lambda db: _add_schedule(db, "last")),
            return_exceptions=True,
        )
        assert [str(r) for r in results] == ["database or disk is full"] * 3
        assert await store.schedules() == []
        assert await store.write(lambda db: _add_schedule(db, "after")) == "after"
        assert [row.channel for row in await store.schedules()] == ["after"]
