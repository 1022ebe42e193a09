"""Connections to a SQLite file: pragmas, the schema version check, migrations, small helpers."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.store.api import StoreError
from bot.store.sqlite.migrations import MIGRATIONS

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000

T = TypeVar("T")


def to_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def from_text(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


async def connect(path: Path, *, verify: bool = False) -> aiosqlite.Connection:
    try:
        db = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    try:
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if verify:
            # Before anything writes to the file: a database we must refuse stays as it was.
            await check_version(db, path)
        await when_not_busy(lambda: db.execute("PRAGMA journal_mode = WAL"))
        # NORMAL in WAL mode never corrupts the file; a power cut may lose the last commits but
        # never a process crash, which is what a bot on a VPS meets.
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        await db.close()
        raise StoreError(f"cannot use database {path}: {exc}") from exc
    except BaseException:
        await db.close()
        raise
    return db


async def when_not_busy(action: Callable[[], Awaitable[T]]) -> T:
    """`action`, tried again while the database is busy, for as long as busy_timeout allows.

    SQLite waits out a lock held by another connection (busy_timeout) except when waiting could
    deadlock: a statement that read first and then needs to write, such as the switch to WAL,
    gets SQLITE_BUSY at once when another process holds the write lock. Two processes opening
    a new file together meet exactly that; the one that lost tries again once the other is done.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return await action()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() > deadline:
                raise
        # Jittered, so that two processes that lost together do not collide again.
        await asyncio.sleep(random.uniform(0.005, 0.05))


def is_busy(exc: sqlite3.Error) -> bool:
    # The primary code: SQLITE_BUSY_RECOVERY and SQLITE_BUSY_SNAPSHOT are busy too.
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


async def schema_version(db: aiosqlite.Connection) -> int:
    row = await one(db, "PRAGMA user_version")
    return int(row[0]) if row else 0


async def check_version(db: aiosqlite.Connection, path: Path) -> None:
    version = await schema_version(db)
    if version < 0:
        raise StoreError(
            f"database {path} has schema version {version}, which no dlquiz writes;"
            " it is not a dlquiz database (or it was damaged)"
        )
    if version > len(MIGRATIONS):
        raise StoreError(
            f"database {path} has schema version {version}, newer than this dlquiz knows"
            f" ({len(MIGRATIONS)}); upgrade dlquiz or use another database"
        )


async def migrate(db: aiosqlite.Connection, path: Path) -> None:
    try:
        version = await schema_version(db)
        for number in range(version + 1, len(MIGRATIONS) + 1):
            await when_not_busy(functools.partial(_migrate_to, db, path, number))
    except sqlite3.DatabaseError as exc:
        await rollback(db)
        raise StoreError(f"cannot use database {path}: {exc}") from exc


async def _migrate_to(db: aiosqlite.Connection, path: Path, number: int) -> None:
    await db.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have run it while this one waited for the write lock.
        needed = await schema_version(db) < number
        if needed:
            for statement in statements(MIGRATIONS[number - 1]):
                await db.execute(statement)
            await db.execute(f"PRAGMA user_version = {number}")
        await db.commit()
    except sqlite3.OperationalError:
        await rollback(db)  # so a retry starts its own transaction
        raise
    if needed:
        log.info("database %s migrated to schema version %d", path, number)


def statements(script: str) -> Iterable[str]:
    """Split a migration into statements; a trigger's body keeps its own semicolons."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    found, pending = [], ""
    for piece in "\n".join(lines).split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                found.append(pending.strip())
            pending = ""
    if pending.strip(" \n;"):
        found.append(pending.strip())
    return found


async def rollback(db: aiosqlite.Connection) -> None:
    try:
        await db.rollback()
    except sqlite3.Error:
        log.exception("rollback failed")


async def on_thread(db: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` on the connection's own thread, with the plain sqlite3 connection.

    Every aiosqlite call is a hop to that thread and back, and each hop waits behind everything
    the event loop has queued: a write of several statements done as one function is one hop
    instead of one per statement. aiosqlite has no public call for it; `_execute` is how its own
    methods do it (aiosqlite is pinned below 0.23, and every write test goes through here).
    """
    found: T = await db._execute(_with_connection, db, work)  # type: ignore[no-untyped-call]
    return found


def _with_connection(db: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    return work(db._conn)


def fetch_all(conn: sqlite3.Connection, sql: str, params: Any = ()) -> list[Any]:
    return conn.execute(sql, params).fetchall()


def first(conn: sqlite3.Connection, sql: str, params: Any = ()) -> Any:
    """The first row of `sql`, the statement run to its end (see `one`)."""
    return next(iter(fetch_all(conn, sql, params)), None)


async def one(
    db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()
) -> sqlite3.Row | tuple[Any, ...] | None:
    # One thread call that runs the statement to its end. A cursor left open between awaits
    # would keep the connection's read snapshot, and every other coroutine's read on it would
    # miss commits made since.
    rows = await db.execute_fetchall(sql, params)
    return next(iter(rows), None)
