"""The PostgreSQL side of the benchmarks: a server, fresh databases, and PostgreSQL's baselines.

`--db URL` names a server (any database on it, as a role that may create databases); without
it a throwaway server is started the way the tests start one (as the `postgres` user when run as
root), but with its durability settings left as PostgreSQL ships them (fsync on, synchronous
commit): a commit costs here what it costs in production.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench.common import START, user_id
from bench.ingest import NAIVE_ROUND, SERVER, Location, Side, choice_for
from bot.store import open_store
from tests.pg_server import PgServer, ServerUnavailable


class DurableServer(PgServer):
    """The tests' throwaway server, with commits that reach the disk."""

    def _start(self) -> bool:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port}"
            f" -c unix_socket_directories={self.root}"
            " -c max_connections=100 -c shared_buffers=256MB -c maintenance_work_mem=256MB"
            " -c max_wal_size=4GB"
        )
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
            "-t", "30", "-o", options, "start",
        )  # fmt: skip
        return done.returncode == 0


@dataclass
class Postgres:
    """Where the benchmark's databases go; each scenario gets new ones, dropped at the end."""

    url: str
    server: PgServer | None = None
    version: str = ""
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _made: list[str] = field(default_factory=list)

    def database_url(self, name: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{name}"))

    async def new(self, use: str) -> str:
        name = f"dlquiz_bench_{use.replace('-', '_')}_{next(self._names)}"
        admin = await asyncpg.connect(self.url)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name}")
            await admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
            if not self.version:
                self.version = str(await admin.fetchval("SHOW server_version"))
        finally:
            await admin.close()
        self._made.append(name)
        return self.database_url(name)

    async def drop_all(self) -> None:
        admin = await asyncpg.connect(self.url)
        try:
            for name in self._made:
                await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()
        self._made.clear()

    def stop(self) -> None:
        if self._made:
            run(self.drop_all())
        if self.server is not None:
            self.server.stop()


def run(work: Coroutine[Any, Any, None]) -> None:
    asyncio.run(work)


def start(url: str | None) -> tuple[Postgres | None, str]:
    """The server to measure on, or None and why there is none."""
    if url:
        return Postgres(url), f"PostgreSQL at {urlsplit(url).hostname}"
    try:
        server = DurableServer.start()
    except ServerUnavailable as exc:
        return None, f"PostgreSQL skipped: {exc} (give one with --db URL)"
    return Postgres(server.url(), server), "PostgreSQL started here (fsync on)"


# --- ingestion baselines ------------------------------------------------------------------------


def side(pg: Postgres) -> Side:
    async def prepare(use: str) -> Location:
        url = await pg.new(use)
        store = await open_store(url)
        await store.close()
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "INSERT INTO rounds (id, server, channel, question_id, topic, difficulty,"
                " choice_count, answer, base_points, cycle, posted_at) OVERRIDING SYSTEM VALUE"
                " VALUES ($1, $2, 'daily', 'bench-000', 'bench', 'easy', 4, 0, 10, 1, $3)",
                NAIVE_ROUND,
                SERVER,
                START,
            )
        finally:
            await conn.close()
        return url

    async def new(use: str) -> Location:
        return await pg.new(use)

    return Side(
        new=new,
        prepare=prepare,
        naive=naive,
        raw_same_rows=raw_same_rows,
        raw_answers_only=raw_answers_only,
        raw_engine_rows=raw_engine_rows,
        paired=raw_engine_rows,
        raw_engine_copy=raw_engine_copy,
    )


def _rows(count: int) -> list[tuple[int, str, int, int, int, Any]]:
    rows = []
    for i in range(count):
        choice = choice_for(i, 0)
        correct = int(choice == 0)
        rows.append((NAIVE_ROUND, user_id(i), choice, correct, 10 * correct, START))
    return rows


_ANSWER = (
    "INSERT INTO answers (round_id, user_id, choice, correct, points, answered_at)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
)
_SCORE = (
    "INSERT INTO scores (server, period, user_id, points, answered, correct)"
    f" VALUES ('{SERVER}', 'all', $1, $2, 1, $3)"
    " ON CONFLICT (server, period, user_id) DO UPDATE SET"
    " points = scores.points + excluded.points, answered = scores.answered + 1,"
    " correct = scores.correct + excluded.correct"
)
_MEMBER = "INSERT INTO members (server, user_id, name) VALUES ($1, $2, $3)"
_ANSWER_COLUMNS = ["round_id", "user_id", "choice", "correct", "points", "answered_at"]


async def naive(count: int, url: Location) -> float:
    """What a typical bot does per press: insert, bump the score, commit; the same presses at
    once as the engine's closed loop, on one connection (a lock keeps transactions apart)."""
    rows = _rows(count)
    conn = await asyncpg.connect(str(url))
    try:
        lock = asyncio.Lock()

        async def press(row: tuple[int, str, int, int, int, Any]) -> None:
            async with lock, conn.transaction():
                await conn.execute(_ANSWER, *row)
                await conn.execute(_SCORE, row[1], row[4], row[3])

        started = time.perf_counter()
        await asyncio.gather(*(press(row) for row in rows))
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    return count / elapsed


async def _timed(url: Location, write: Callable[[asyncpg.Connection], Any]) -> float:
    conn = await asyncpg.connect(str(url))
    try:
        started = time.perf_counter()
        async with conn.transaction():
            await write(conn)
        return time.perf_counter() - started
    finally:
        await conn.close()


async def raw_same_rows(count: int, url: Location) -> float:
    """The naive baseline's rows (answer and score) by executemany in one transaction."""
    rows = _rows(count)

    async def write(conn: asyncpg.Connection) -> None:
        await conn.executemany(_ANSWER, rows)
        await conn.executemany(_SCORE, [(r[1], r[4], r[3]) for r in rows])

    return count / await _timed(url, write)


async def raw_answers_only(count: int, url: Location) -> float:
    rows = _rows(count)

    async def write(conn: asyncpg.Connection) -> None:
        await conn.copy_records_to_table("answers", records=rows, columns=_ANSWER_COLUMNS)

    return count / await _timed(url, write)


async def raw_engine_rows(count: int, url: Location) -> float:
    """Every row the engine writes for a press (the answer and the member) by batched INSERTs
    (`executemany`) in one transaction: PostgreSQL's raw batched insert of the engine's rows,
    the limit the engine's target compares against."""
    rows = _rows(count)

    async def write(conn: asyncpg.Connection) -> None:
        await conn.executemany(_ANSWER, rows)
        await conn.executemany(_MEMBER, [(SERVER, r[1], f"member {r[1]}") for r in rows])

    return count / await _timed(url, write)


async def raw_engine_copy(count: int, url: Location) -> float:
    """The same rows by binary COPY in one transaction: faster than any INSERT, shown beside."""
    rows = _rows(count)

    async def write(conn: asyncpg.Connection) -> None:
        await conn.copy_records_to_table("answers", records=rows, columns=_ANSWER_COLUMNS)
        await conn.copy_records_to_table(
            "members",
            records=[(SERVER, r[1], f"member {r[1]}") for r in rows],
            columns=["server", "user_id", "name"],
        )

    return count / await _timed(url, write)


# --- fan-out set-up -----------------------------------------------------------------------------


async def schedule_all(url: str, refs: list[tuple[str, str]], *, at: str, since: Any) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.executemany(
            "INSERT INTO schedules (server, channel, time, zone, updated_at)"
            " VALUES ($1, $2, $3, 'UTC', $4)",
            [(server, channel, at, since) for server, channel in refs],
        )
    finally:
        await conn.close()
