"""Opening a PostgreSQL database: migrations, replicas starting together, clear errors."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from bot.store import StoreError, open_store
from bot.store.postgres.migrations import MIGRATIONS
from tests.conftest import PgDatabases
from tests.pg_server import PASSWORD, PASSWORD_ROLE, free_port

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


async def fetch(url: str, sql: str) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch(sql)]
    finally:
        await conn.close()


TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"


async def test_new_database_is_migrated_to_the_latest_schema(pg_databases: PgDatabases) -> None:
    url = await pg_databases.create(migrated=False)
    async with await open_store(url):
        pass
    assert await fetch(url, "SELECT version FROM schema_migrations ORDER BY 1") == [
        (n,) for n in range(1, len(MIGRATIONS) + 1)
    ]
    tables = {row[0] for row in await fetch(url, TABLES)}
    expected = {
        "rounds",
        "answers",
        "members",
        "scores",
        "score_counts",
        "schedules",
        "practice",
        "deliveries",
        "handled_requests",
        "identify_slots",
        "server_questions",
        "channel_settings",
        "home_views",
    }
    assert expected | {"schema_migrations"} == tables
    # Reopening runs nothing again.
    async with await open_store(url):
        pass
    assert len(await fetch(url, "SELECT * FROM schema_migrations")) == len(MIGRATIONS)


async def test_newer_migration_is_refused_untouched(pg_databases: PgDatabases) -> None:
    url = await pg_databases.create(migrated=True)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)", len(MIGRATIONS) + 1
        )
        await conn.execute("CREATE TABLE future (x int)")
    finally:
        await conn.close()
    before = (await fetch(url, TABLES), await fetch(url, "SELECT * FROM schema_migrations"))
    with pytest.raises(StoreError, match="newer than this dlquiz knows") as caught:
        await open_store(url)
    assert "\n" not in str(caught.value)
    after = (await fetch(url, TABLES), await fetch(url, "SELECT * FROM schema_migrations"))
    assert after == before


async def test_a_database_holding_other_tables_is_one_clear_error(
    pg_databases: PgDatabases,
) -> None:
    url = await pg_databases.create(migrated=False)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE rounds (something_else int)")
    finally:
        await conn.close()
    with pytest.raises(StoreError, match="cannot use database") as caught:
        await open_store(url)
    assert "\n" not in str(caught.value)
    # Nothing of the migration was left behind.
    assert await fetch(url, TABLES) == [("rounds",)]


_OPEN = """
import asyncio, sys
from bot.store import open_store

async def main():
    store = await open_store(sys.argv[1])
    await store.close()

asyncio.run(main())
"""


async def test_two_processes_starting_together_migrate_once(pg_databases: PgDatabases) -> None:
    url = await pg_databases.create(migrated=False)
    # Both processes wait behind the migration lock until both are connected, then race for it.
    holder = await asyncpg.connect(url)
    await holder.execute("SELECT pg_advisory_lock(hashtextextended('dlquiz:migrations', 0))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _OPEN,
            url,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        for _ in range(200):
            waiting = await holder.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            if waiting == 2:
                break
            await asyncio.sleep(0.05)
        assert waiting == 2
    finally:
        await holder.close()  # releases the lock
    results = [await p.communicate() for p in processes]
    for process, (_, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err.decode()
    assert await fetch(url, "SELECT version FROM schema_migrations ORDER BY 1") == [
        (n,) for n in range(1, len(MIGRATIONS) + 1)
    ]


async def test_location_hides_the_password(pg_databases: PgDatabases) -> None:
    url = await pg_databases.create()
    with_password = url.replace("postgres@", f"postgres:{PASSWORD}@")
    async with await open_store(with_password) as store:
        assert PASSWORD not in store.location
        assert store.location == url


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("unreachable", "cannot reach"),
        ("unknown host", "unknown host"),
        ("wrong password", "password authentication failed"),
        ("missing database", "does not exist"),
    ],
)
async def test_a_bad_url_is_one_clear_error_without_the_password(
    pg_databases: PgDatabases, problem: str, message: str
) -> None:
    server = pg_databases.server
    await pg_databases.create()  # makes the role that must give a password
    wrong = "Wr0ng-secret-xyz"
    url = {
        "unreachable": f"postgresql://postgres:{wrong}@127.0.0.1:{free_port()}/postgres",
        "unknown host": f"postgresql://postgres:{wrong}@no-such-host.invalid/postgres",
        "wrong password": (
            f"postgresql://{PASSWORD_ROLE}:{wrong}@127.0.0.1:{server.port}/postgres"
        ),
        "missing database": f"postgres://postgres:{wrong}@127.0.0.1:{server.port}/nope",
    }[problem]
    with pytest.raises(StoreError) as caught:
        await open_store(url)
    text = str(caught.value)
    assert message in text
    assert wrong not in text
    assert "\n" not in text
    assert caught.value.__cause__ is None  # no driver traceback chained to it


async def test_a_claim_that_waited_for_a_finish_does_not_take_the_finished_delivery(
    pg_databases: PgDatabases,
) -> None:
    """A post that ran past its lease is being marked by its process while another process
    claims the same delivery: the claim waits for the mark's row lock, then must find the
    delivery done (READ COMMITTED re-reads only the row it waited for)."""
    from datetime import timedelta

    from bot.models import ChannelRef
    from bot.store.postgres import deliveries
    from tests.conftest import START
    from tests.store.test_conformance import new_round

    url = await pg_databases.create()
    channel = ChannelRef("discord:1", "quiz")
    async with await open_store(url) as store:
        started = await store.start_round(
            channel=channel, new=new_round(1), cycle=1, day=None, posted_at=START, reveal_at=None
        )
        assert started is not None
        lease = timedelta(minutes=2)
        first = await store.claim_delivery(channel, worker="a", now=START, lease=lease)
        assert first is not None
        marking = await asyncpg.connect(url)
        try:
            transaction = marking.transaction()
            await transaction.start()
            await deliveries.finish(marking, first.id, "m1", START + timedelta(minutes=3))
            late = START + timedelta(minutes=3)  # the lease is over: the row is claimable
            claim = asyncio.create_task(
                store.claim_delivery(channel, worker="b", now=late, lease=lease)
            )
            await asyncio.sleep(0.3)
            assert not claim.done(), "the claim waits for the mark's row lock"
            await transaction.commit()
            assert await claim is None
        finally:
            await marking.close()
        assert (await store.deliveries_of(started.round.id))[first.kind] == ("posted", 0)
