"""The channel lock: serialises read-then-write work on one channel across processes until the
transaction that took it ends (a transaction lock, so nothing is left behind on the connection)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.store.postgres.rows import Conn

_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('channel:' || $1 || ':' || $2, 0))"


@asynccontextmanager
async def locked(conn: Conn, server: str, channel: str) -> AsyncIterator[Conn]:
    """A transaction on `conn` holding the channel's lock, committed when the block ends."""
    async with conn.transaction():
        await conn.execute(_LOCK, server, channel)
        yield conn
