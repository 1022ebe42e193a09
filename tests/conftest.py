"""Fixtures shared by every test: a real database (a SQLite file, and a PostgreSQL database when
a server can be started), the memory platform, a manual clock.

The `store` fixture, and so `engine`, runs each test once per backend (`[sqlite]`, `[postgres]`).
Where PostgreSQL is not installed its runs skip, saying why; under CI (`CI` set) they fail instead,
so a green CI always means both backends passed.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from adapters.memory import ManualClock, MemoryPlatform
from bot.content import Bank, default_bank_dir, load_bank
from bot.engine import QuizEngine
from bot.models import ChannelRef, Difficulty, Invocation, Member, Notice, Question, Topic
from bot.store import Store, open_store
from tests.pg_server import PASSWORD, PASSWORD_ROLE, PgServer, ServerUnavailable

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
# Everything scoring leaves in a database, in a stable order: two databases that went through
# the same rounds give the same rows.
SCORING_STATE = (
    "SELECT server, period, user_id, points, answered, correct FROM scores ORDER BY 1, 2, 3",
    "SELECT server, period, points, members FROM score_counts WHERE members > 0 ORDER BY 1, 2, 3",
    "SELECT server, user_id, name, current_streak, longest_streak, streak_round_id FROM members"
    " ORDER BY 1, 2",
    "SELECT round_id, user_id, choice, correct, points, answered_at FROM answers ORDER BY 1, 2",
)


@pytest.fixture(scope="session")
def bundled_bank() -> Bank:
    return load_bank([default_bank_dir()])


def make_bank(count: int = 6, *, topics: tuple[str, ...] = ("alpha", "beta")) -> Bank:
    """A small bank whose right answer is always B and whose difficulties cycle."""
    levels = list(Difficulty)
    questions = tuple(
        Question(
            id=f"q-{i:03d}",
            topic=topics[i % len(topics)],
            difficulty=levels[i % len(levels)],
            prompt=f"Question number {i}?",
            choices=("first", "second", "third", "fourth"),
            answer=1,
            explanation=f"Because {i}.",
        )
        for i in range(count)
    )
    counts = {t: sum(q.topic == t for q in questions) for t in topics}
    return Bank(
        questions=questions,
        topics=tuple(Topic(t, t.title(), counts[t]) for t in topics),
    )


@pytest.fixture
def bank() -> Bank:
    return make_bank()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def platform() -> MemoryPlatform:
    return MemoryPlatform()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs against a throwaway PostgreSQL server")
    config.addinivalue_line(
        "markers", "sqlite_only: the test reads a SQLite file; `store` runs it on SQLite only"
    )


# --- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One server for the whole session, stopped at its end (also when tests fail)."""
    try:
        server = PgServer.start()
    except ServerUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and could not start: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    try:
        yield server
    finally:
        server.stop()


class PgDatabases:
    """Fresh databases on the session's server: clones of a migrated template, or empty ones."""

    TEMPLATE = "dlquiz_template"

    def __init__(self, server: PgServer) -> None:
        self.server = server
        self._numbers = itertools.count(1)
        self._ready = False

    async def create(self, *, migrated: bool = True) -> str:
        admin = await asyncpg.connect(self.server.url())
        try:
            if not self._ready:
                await admin.execute(f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD}'")
                await admin.execute(f"CREATE DATABASE {self.TEMPLATE} TEMPLATE template0")
                store = await open_store(self.server.url(self.TEMPLATE))
                await store.close()
                self._ready = True
            name = f"test_{next(self._numbers)}"
            template = self.TEMPLATE if migrated else "template0"
            await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        finally:
            await admin.close()
        return self.server.url(name)


@pytest.fixture(scope="session")
def pg_databases(pg_server: PgServer) -> PgDatabases:
    return PgDatabases(pg_server)


# --- one fixture, every backend -----------------------------------------------------------------


def to_numbered(sql: str) -> str:
    """`?` placeholders (SQLite's) as `$1, $2, ...` (PostgreSQL's)."""
    numbers = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(numbers)}", sql)


@dataclass
class Backend:
    """A kind of database the store runs on, and the means to look into one directly."""

    name: str
    tmp_path: Path
    databases: PgDatabases | None = None

    async def new_location(self, *, migrated: bool = True) -> str | Path:
        """A fresh database: a new SQLite file path, or the URL of a new PostgreSQL database."""
        if self.databases is None:
            return self.tmp_path / f"quiz-{next(_files)}.db"
        return await self.databases.create(migrated=migrated)

    async def query(self, location: str | Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of `sql` (with `?` placeholders), read on a connection of its own."""
        if self.databases is None:
            with sqlite3.connect(location) as db:
                return [tuple(row) for row in db.execute(sql, params)]
        conn = await asyncpg.connect(str(location))
        try:
            return [tuple(row) for row in await conn.fetch(to_numbered(sql), *params)]
        finally:
            await conn.close()


_files = itertools.count(1)
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# Modules whose tests open the store's SQLite file themselves: bot/maintenance.py's health and
# backup work on a SQLite file only.
SQLITE_ONLY_MODULES = {"test_maintenance.py"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses `backend` (so `store` and `engine`) runs once per backend."""
    if "backend" not in metafunc.fixturenames:
        return
    sqlite_only = (
        metafunc.definition.get_closest_marker("sqlite_only") is not None
        or metafunc.definition.path.name in SQLITE_ONLY_MODULES
    )
    metafunc.parametrize("backend", ["sqlite"] if sqlite_only else BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "postgres":
        return Backend("postgres", tmp_path, request.getfixturevalue("pg_databases"))
    return Backend("sqlite", tmp_path)


class _SqlOn:
    """`execute_fetchall` for the tests that read a SQLite store's rows through
    `store._reader`: the same SQL on a PostgreSQL store's database."""

    def __init__(self, backend: Backend, location: str | Path) -> None:
        self._backend = backend
        self._location = location

    async def execute_fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return await self._backend.query(self._location, sql, *params)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    location = await backend.new_location()
    store = await open_store(location)
    if backend.name == "postgres":
        store._reader = _SqlOn(backend, location)  # type: ignore[attr-defined]
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def engine(store: Store, bank: Bank, platform: MemoryPlatform, clock: ManualClock) -> QuizEngine:
    return QuizEngine(store=store, bank=bank, platform=platform, clock=clock, rng=random.Random(7))


def member(name: str, *, server: str = "test:s1", admin: bool = False) -> Member:
    return Member(server=server, user_id=f"u-{name}", name=name, is_admin=admin)


def invocation(
    name: str, *, server: str = "test:s1", channel: str = "c1", admin: bool = False
) -> Invocation:
    return Invocation(
        channel=ChannelRef(server, channel), member=member(name, server=server, admin=admin)
    )


async def answer_round(
    engine: QuizEngine, *, channel: ChannelRef, member: Member, round_id: int, choice: int
) -> Notice:
    """A press as a platform's button sends it: with the round's token from its message."""
    row = await engine.store.round_by_id(round_id)
    token = row.token if row is not None else ""
    return await engine.answer(
        channel=channel, member=member, round_id=round_id, choice=choice, token=token
    )
