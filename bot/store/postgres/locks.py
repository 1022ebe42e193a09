"""The channel lock, taken in the same round trip as the transaction's BEGIN.

A statement with parameters cannot share a round trip with BEGIN, but the simple protocol (a
query with no parameters) runs several statements in one. The lock's key is therefore worked out
here, as an integer that can be written into the query: `hashtextextended` ported from
PostgreSQL's `hash_bytes_extended` (Bob Jenkins' lookup3, as PostgreSQL computes it on
little-endian hardware for a UTF-8 database). It gives the key the server gives for the same
text, so a process of an older dlquiz, which asks the server for the key, takes the same lock
while both run against one database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.store.postgres.rows import Conn

_MASK = 0xFFFFFFFF


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _MASK


def _mix(a: int, b: int, c: int) -> tuple[int, int, int]:
    a = (a - c) & _MASK
    a ^= _rot(c, 4)
    c = (c + b) & _MASK
    b = (b - a) & _MASK
    b ^= _rot(a, 6)
    a = (a + c) & _MASK
    c = (c - b) & _MASK
    c ^= _rot(b, 8)
    b = (b + a) & _MASK
    a = (a - c) & _MASK
    a ^= _rot(c, 16)
    c = (c + b) & _MASK
    b = (b - a) & _MASK
    b ^= _rot(a, 19)
    a = (a + c) & _MASK
    c = (c - b) & _MASK
    c ^= _rot(b, 4)
    b = (b + a) & _MASK
    return a, b, c


def _final(a: int, b: int, c: int) -> tuple[int, int]:
    c ^= b
    c = (c - _rot(b, 14)) & _MASK
    a ^= c
    a = (a - _rot(c, 11)) & _MASK
    b ^= a
    b = (b - _rot(a, 25)) & _MASK
    c ^= b
    c = (c - _rot(b, 16)) & _MASK
    a ^= c
    a = (a - _rot(c, 4)) & _MASK
    b ^= a
    b = (b - _rot(a, 14)) & _MASK
    c ^= b
    c = (c - _rot(b, 24)) & _MASK
    return b, c


def hashtextextended(text: str) -> int:
    """PostgreSQL's `hashtextextended(text, 0)`: a signed 64-bit integer."""
    key = text.encode()
    size = len(key)
    a = b = c = (0x9E3779B9 + size + 3923095) & _MASK
    at = 0
    while size - at >= 12:
        a = (a + int.from_bytes(key[at : at + 4], "little")) & _MASK
        b = (b + int.from_bytes(key[at + 4 : at + 8], "little")) & _MASK
        c = (c + int.from_bytes(key[at + 8 : at + 12], "little")) & _MASK
        a, b, c = _mix(a, b, c)
        at += 12
    # The last 0 to 11 bytes, zero-padded; c's lowest byte is left for the length.
    tail = key[at:].ljust(11, b"\0")
    a = (a + int.from_bytes(tail[0:4], "little")) & _MASK
    b = (b + int.from_bytes(tail[4:8], "little")) & _MASK
    c = (c + (int.from_bytes(tail[8:11], "little") << 8)) & _MASK
    high, low = _final(a, b, c)
    value = (high << 32) | low
    return value - (1 << 64) if value >= 1 << 63 else value


def begin_locked(server: str, channel: str) -> str:
    """BEGIN and the lock that serialises read-then-write work on a channel across processes
    until the transaction ends: one query, for the simple protocol (`execute` with no
    arguments). The key is an integer, so writing it into the query is safe."""
    key = hashtextextended(f"channel:{server}:{channel}")
    return f"BEGIN; SELECT pg_advisory_xact_lock({key})"


@asynccontextmanager
async def locked(conn: Conn, server: str, channel: str) -> AsyncIterator[Conn]:
    """A transaction on `conn` holding the channel's lock, committed when the block ends."""
    try:
        await conn.execute(begin_locked(server, channel))
        yield conn
    except BaseException:
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")
