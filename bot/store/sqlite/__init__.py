"""The embedded backend: one SQLite file through aiosqlite."""

from bot.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
