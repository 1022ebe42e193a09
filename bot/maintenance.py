"""Operator commands that work beside a running bot: health and online backup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.config import ConfigError, Settings
from bot.runtime import configured_bank
from bot.store import StoreError
from bot.store.sqlite.migrations import MIGRATIONS


def _open_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise StoreError(f"database {path} does not exist (set DLQUIZ_DB or start the bot once)")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise StoreError(f"cannot use database {path}: {exc}") from exc
    if version > len(MIGRATIONS):
        db.close()
        raise StoreError(
            f"database {path} has schema version {version}, newer than this dlquiz knows"
            f" ({len(MIGRATIONS)})"
        )
    return db


def health(settings: Settings) -> str:
    """One line saying the bank is valid and the database answers; raises on any problem."""
    bank = configured_bank(settings)
    db = _open_read_only(Path(settings.db))
    try:
        rounds = db.execute("SELECT count(*) FROM rounds").fetchone()[0]
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read database {settings.db}: {exc}") from exc
    finally:
        db.close()
    return (
        f"ok: {len(bank.questions)} questions, database {settings.db}"
        f" at schema {len(MIGRATIONS)} with {rounds} rounds"
    )


def backup(settings: Settings, target: Path) -> str:
    """Copy the live database with SQLite's online backup API; the bot may keep running."""
    if target.exists():
        raise ConfigError(f"{target} already exists; give a new file name for the backup")
    if not target.parent.is_dir():
        raise ConfigError(f"cannot write {target}: folder {target.parent} does not exist")
    source = _open_read_only(Path(settings.db))
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
