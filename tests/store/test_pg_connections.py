"""The PostgreSQL store's own connection pool: at most its size, each connection lent to one
caller at a time, and never one lent again that may not be clean."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from bot.models import ChannelRef
from bot.store import open_store
from bot.store.postgres.connection import Connections
from bot.store.postgres.store import PostgresStore
from tests.conftest import START, PgDatabases
from tests.store.test_conformance import new_round

pytestmark = pytest.mark.postgres


async def test_callers_beyond_the_size_wait_their_turn(pg_databases: PgDatabases) -> None:
    connections = Connections(await pg_databases.create(), 2)
    await connections.open()
    lent = [await connections.acquire(), await connections.acquire()]
    assert lent[0] is not lent[1]
    third = asyncio.create_task(connections.acquire())
    cancelled = asyncio.create_task(connections.acquire())
    fourth = asyncio.create_task(connections.acquire())
    await asyncio.sleep(0.05)
    assert not third.done()
    assert not fourth.done()
    cancelled.cancel()
    connections.release(lent[0], clean=True)
    assert await asyncio.wait_for(third, 5) is lent[0]
    connections.release(lent[1], clean=True)
    # The cancelled caller's place went to the next one.
    assert await asyncio.wait_for(fourth, 5) is lent[1]
    for conn in (lent[0], lent[1]):
        connections.release(conn, clean=True)
    await connections.close()
    assert all(conn.is_closed() for conn in lent)


async def test_a_connection_that_may_not_be_clean_is_dropped(pg_databases: PgDatabases) -> None:
    connections = Connections(await pg_databases.create(), 1)
    await connections.open()
    first = await connections.acquire()
    await first.execute("BEGIN")  # left open, as by a caller that failed halfway
    connections.release(first, clean=True)
    second = await connections.acquire()
    assert second is not first
    assert first.is_closed()
    assert not second.is_in_transaction()
    connections.release(second, clean=False)
    third = await connections.acquire()
    assert third is not second
    assert second.is_closed()
    assert await third.fetchval("SELECT 1") == 1
    connections.release(third, clean=True)
    await connections.close()


async def test_a_connection_the_server_closed_is_replaced(pg_databases: PgDatabases) -> None:
    url = await pg_databases.create()
    connections = Connections(url, 1)
    await connections.open()
    first = await connections.acquire()
    pid = first.get_server_pid()
    connections.release(first, clean=True)
    admin = await asyncpg.connect(url)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    for _ in range(100):
        if first.is_closed():
            break
        await asyncio.sleep(0.01)
    second = await connections.acquire()
    assert second is not first
    assert await second.fetchval("SELECT 1") == 1
    connections.release(second, clean=True)
    await connections.close()


async def test_a_commit_that_skips_the_disk_wait_leaves_the_connection_waiting(
    pg_databases: PgDatabases,
) -> None:
    """Opening a round and handing a schedule back commit without waiting for the disk; the
    connection's later commits (a delivery's claim, its mark) must still wait."""
    url = await pg_databases.create()
    async with await open_store(url) as store:
        assert isinstance(store, PostgresStore)
        channel = ChannelRef("test:s1", "c1")
        await store.set_schedule(channel, time="09:00", zone="UTC", at=START)
        await store.claim_due_schedules(
            platform=None, now=START, worker="w", lease=timedelta(minutes=1)
        )
        started = await store.start_round(
            channel=channel,
            new=new_round(1),
            cycle=1,
            day=START.date(),
            posted_at=START,
            reveal_at=None,
        )
        assert started is not None
        assert await store.finish_schedule(channel, worker="w", next_due_at=START)
        async with store._connection() as conn:
            assert await conn.fetchval("SHOW synchronous_commit") == "on"
