"""Connections to a SQLite file: pragmas, the schema version check, migrations, small helpers."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.api import StoreError
from bot.store.sqlite.migrations import MIGRATIONS

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000


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
        await db.execute("PRAGMA journal_mode = WAL")
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
            await db.execute("BEGIN IMMEDIATE")
            # Another process may have run it while this one waited for the write lock.
            if await schema_version(db) >= number:
                await db.commit()
                continue
            for statement in statements(MIGRATIONS[number - 1]):
                await db.execute(statement)
            await db.execute(f"PRAGMA user_version = {number}")
            await db.commit()
            log.info("database %s migrated to schema version %d", path, number)
    except sqlite3.DatabaseError as exc:
        await rollback(db)
        raise StoreError(f"cannot use database {path}: {exc}") from exc


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


async def one(
    db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()
) -> sqlite3.Row | tuple[Any, ...] | None:
    # One thread call that runs the statement to its end. A cursor left open between awaits
    # would keep the connection's read snapshot, and every other coroutine's read on it would
    # miss commits made since.
    rows = await db.execute_fetchall(sql, params)
    return next(iter(rows), None)
