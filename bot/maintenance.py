"""Operator commands that work beside a running bot: health, online backup, copy."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.config import ConfigError, Settings
from bot.runtime import configured_bank
from bot.store import StoreError, is_postgres_url
from bot.store.sqlite.migrations import MIGRATIONS

PG_DUMP_EXAMPLE = "pg_dump --format=custom --file=dlquiz.dump 'postgresql://user@host/dbname'"


def _open_read_only(path: Path) -> tuple[sqlite3.Connection, int]:
    """A read-only connection and the file's schema version; refuses a version dlquiz never
    wrote, before anything reads the tables."""
    if not path.is_file():
        raise StoreError(f"database {path} does not exist (set DLQUIZ_DB or start the bot once)")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as exc:
        raise StoreError(f"cannot use database {path}: {exc}") from exc
    if version < 0:
        db.close()
        raise StoreError(
            f"database {path} has schema version {version}, which no dlquiz writes;"
            " it is not a dlquiz database (or it was damaged)"
        )
    if version > len(MIGRATIONS):
        db.close()
        raise StoreError(
            f"database {path} has schema version {version}, newer than this dlquiz knows"
            f" ({len(MIGRATIONS)})"
        )
    return db, version


def _quick_check(db: sqlite3.Connection, path: Path) -> None:
    """Refuse a file whose pages are damaged: without the check such a file opens and counts
    its rows happily until a query reaches a broken page."""
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    if problems != ["ok"]:
        raise StoreError(f"database {path} is damaged ({problems[0]}); restore it from a backup")


def _schema_note(version: int, current: int) -> str:
    if version == current:
        return f"at schema {version}"
    return f"at schema {version} (this dlquiz upgrades it to {current} when it starts)"


def health(settings: Settings) -> str:
    """One line saying the bank is valid and the database answers; raises on any problem."""
    bank = configured_bank(settings)
    if is_postgres_url(settings.db):
        where, version, current, rounds = asyncio.run(_postgres_health(str(settings.db)))
    else:
        where, current = str(settings.db), len(MIGRATIONS)
        db, version = _open_read_only(Path(settings.db))
        try:
            _quick_check(db, Path(settings.db))
            rounds = 0
            if version > 0:
                rounds = db.execute("SELECT count(*) FROM rounds").fetchone()[0]
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read database {settings.db}: {exc}") from exc
        finally:
            db.close()
    return (
        f"ok: {len(bank.questions)} questions, database {where}"
        f" {_schema_note(version, current)} with {rounds} rounds"
    )


async def _postgres_health(url: str) -> tuple[str, int, int, int]:
    from bot.store.postgres.connection import connect, guarded, redact
    from bot.store.postgres.migrations import MIGRATIONS as PG_MIGRATIONS
    from bot.store.postgres.migrations import schema_version

    where = redact(url)
    conn = await connect(url)
    try:
        version = await guarded(url, schema_version(conn))
        if version > len(PG_MIGRATIONS):
            raise StoreError(
                f"database {where} has schema version {version}, newer than this dlquiz knows"
                f" ({len(PG_MIGRATIONS)})"
            )
        rounds = 0
        if version > 0:
            rounds = await guarded(url, conn.fetchval("SELECT count(*) FROM rounds"))
    finally:
        await conn.close()
    return where, version, len(PG_MIGRATIONS), int(rounds)


def backup(settings: Settings, target: Path) -> str:
    """Copy the live database with SQLite's online backup API; the bot may keep running."""
    if is_postgres_url(settings.db):
        raise ConfigError(
            f"dlquiz db backup copies a SQLite file; back up PostgreSQL with pg_dump, e.g."
            f" {PG_DUMP_EXAMPLE}"
        )
    if target.exists():
        raise ConfigError(f"{target} already exists; give a new file name for the backup")
    if not target.parent.is_dir():
        raise ConfigError(f"cannot write {target}: folder {target.parent} does not exist")
    source, _ = _open_read_only(Path(settings.db))
    try:
        copy = sqlite3.connect(target)
        try:
            # Pages are copied in steps so the bot's writer is never blocked for long.
            source.backup(copy, pages=1024)
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise StoreError(f"backup to {target} failed: {exc}") from exc
    finally:
        source.close()
    if check != "ok":
        raise StoreError(f"backup {target} failed its integrity check: {check}")
    return f"backed up {settings.db} to {target} ({target.stat().st_size} bytes, integrity ok)"


def copy(source: str, target: str) -> str:
    """`dlquiz db copy`: the summary line of a verified copy; raises StoreError naming what
    failed (a missing source, a non-empty target, a table whose rows do not match)."""
    from bot.store.copy import copy_database

    return asyncio.run(copy_database(source, target)).summary()


SERVER_KEY_FORM = "discord:<guild id>, slack:<team id> or console:local"
SERVER_PLATFORMS = ("discord", "slack", "console")


def forget(settings: Settings, key: str) -> str:
    """`dlquiz db forget KEY`: delete every row of one server; what was deleted, per table."""
    platform, _, ident = key.partition(":")
    if platform not in SERVER_PLATFORMS or not ident or ident != ident.strip() or " " in ident:
        raise ConfigError(f"{key!r} is not a server key: use {SERVER_KEY_FORM}")
    if not is_postgres_url(settings.db) and not Path(settings.db).is_file():
        # Opening a missing file would create an empty database just to find nothing in it.
        raise ConfigError(f"database {settings.db} does not exist: check DLQUIZ_DB")
    deleted = asyncio.run(_forget(settings, key))
    total = sum(deleted.values())
    lines = [f"forgot {key}: {total} rows deleted"]
    lines += [f"  {table}: {count}" for table, count in deleted.items()]
    return "\n".join(lines)


async def _forget(settings: Settings, key: str) -> dict[str, int]:
    from bot.store import open_store

    store = await open_store(settings.db)
    try:
        return await store.forget_server(key)
    finally:
        await store.close()
