"""`dlquiz db copy FROM TO`: every table of one database into a new one, either backend each way.

The tables and their columns are read from the databases themselves, so a table a later
migration adds is copied without a change here. The source is read in one snapshot (a bot may
keep running on it); the target is created and migrated by `open_store`, must hold no rows, and is
written in one transaction, so a copy that fails leaves it empty. Rows go in bulk: PostgreSQL's
binary COPY, SQLite's `executemany`. Ids are kept, and PostgreSQL's identity sequences are moved
past them, so the copy hands out new ids as the original would.

Tables that dlquiz's migrations do not make (slack-sdk's installation and OAuth-state stores, in a
deployment serving many Slack workspaces) are made on the target from the source's own: their
columns, primary key and indexes are read with SQLAlchemy's reflection and created in the
target's dialect, in the transaction that copies the rows.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Column, Index, MetaData, Table, create_engine, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateIndex, CreateTable

from bot.store import is_postgres_url, open_store
from bot.store.api import StoreError
from bot.store.postgres.connection import connect as pg_connect
from bot.store.postgres.connection import guarded, redact
from bot.store.postgres.migrations import MIGRATIONS as PG_MIGRATIONS
from bot.store.postgres.migrations import schema_version as pg_schema_version
from bot.store.sqlite.connection import to_text
from bot.store.sqlite.migrations import MIGRATIONS as SQLITE_MIGRATIONS

BATCH = 20_000
# The schema's own bookkeeping: each backend keeps its version its own way.
BOOKKEEPING = {"schema_migrations"}
Row = tuple[Any, ...]
Totals = dict[tuple[str, str], int]


@dataclass(frozen=True, slots=True)
class CopyReport:
    source: str
    target: str
    tables: dict[str, int]  # rows per table, in copy order
    totals: Totals  # points per (server, period), equal on both sides
    seconds: float

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def summary(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else float(self.rows)
        return (
            f"copied {self.rows:,} rows in {len(self.tables)} tables from {self.source} to"
            f" {self.target} in {self.seconds:.1f} s ({rate:,.0f} rows/s); row counts match,"
            f" score totals match ({sum(self.totals.values()):,} points in"
            f" {len(self.totals)} server periods)"
        )


def describe(location: str | Path) -> str:
    return redact(str(location)) if is_postgres_url(location) else str(location)


def check_location(location: str, role: str) -> None:
    """A SQLite path or a PostgreSQL URL; any other URL is a mistake worth one clear line."""
    if "://" in location and not is_postgres_url(location):
        scheme = location.partition("://")[0]
        raise StoreError(
            f"{role} must be a SQLite file path or a PostgreSQL URL"
            f" (postgresql://user:password@host:port/dbname), not a {scheme}:// URL"
        )


# --- one side of the copy -----------------------------------------------------------------------


class _Sqlite:
    postgres = False

    def __init__(self, path: Path, *, write: bool) -> None:
        self.where = str(path)
        try:
            if write:
                self.db = sqlite3.connect(path, isolation_level=None)
            else:
                self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
            self.db.execute("PRAGMA busy_timeout = 5000")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def _all(self, sql: str, params: Row = ()) -> list[Row]:
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read database {self.where}: {exc}") from exc

    async def version(self) -> int:
        return int(self._all("PRAGMA user_version")[0][0])

    async def tables(self) -> list[str]:
        rows = self._all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
        return [r[0] for r in rows if r[0] not in BOOKKEEPING]

    async def columns(self, table: str) -> list[tuple[str, str]]:
        return [(r[1], str(r[2]).lower()) for r in self._all(f'PRAGMA table_info("{table}")')]

    async def parents(self, table: str) -> set[str]:
        return {r[2] for r in self._all(f'PRAGMA foreign_key_list("{table}")')}

    async def count(self, table: str) -> int:
        return int(self._all(f'SELECT count(*) FROM "{table}"')[0][0])

    async def totals(self) -> Totals:
        return _totals(self._all(_TOTALS))

    async def rows(self, table: str, columns: list[str]) -> AsyncIterator[list[Row]]:
        names = ", ".join(f'"{c}"' for c in columns)
        try:
            cursor = self.db.execute(f'SELECT {names} FROM "{table}"')
            while batch := cursor.fetchmany(BATCH):
                yield batch
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read table {table} of {self.where}: {exc}") from exc


class _Postgres:
    postgres = True

    def __init__(self, url: str, conn: asyncpg.Connection) -> None:
        self.url = url
        self.where = redact(url)
        self.conn = conn

    @classmethod
    async def connect(cls, url: str) -> _Postgres:
        return cls(url, await pg_connect(url))

    async def close(self) -> None:
        await self.conn.close()

    async def version(self) -> int:
        return await guarded(self.url, pg_schema_version(self.conn))

    async def tables(self) -> list[str]:
        rows = await self.conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        )
        return [r[0] for r in rows if r[0] not in BOOKKEEPING]

    async def columns(self, table: str) -> list[tuple[str, str]]:
        rows = await self.conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = $1"
            " ORDER BY ordinal_position",
            table,
        )
        return [(r[0], r[1]) for r in rows]

    async def sequenced(self, table: str) -> list[str]:
        """Columns numbered by a sequence: dlquiz's identity columns, and the SERIAL ones of
        tables made from another database's."""
        rows = await self.conn.fetch(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = $1"
            " AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL",
            table,
        )
        return [r[0] for r in rows]

    async def parents(self, table: str) -> set[str]:
        rows = await self.conn.fetch(
            "SELECT confrelid::regclass::text FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid = $1::regclass",
            table,
        )
        return {r[0].strip('"') for r in rows}

    async def count(self, table: str) -> int:
        return int(await self.conn.fetchval(f'SELECT count(*) FROM "{table}"'))

    async def totals(self) -> Totals:
        return _totals(await self.conn.fetch(_TOTALS))

    async def rows(self, table: str, columns: list[str]) -> AsyncIterator[list[Row]]:
        names = ", ".join(f'"{c}"' for c in columns)
        cursor = await self.conn.cursor(f'SELECT {names} FROM "{table}"')
        while batch := await cursor.fetch(BATCH):
            yield [tuple(r) for r in batch]


_TOTALS = "SELECT server, period, sum(points) FROM scores GROUP BY server, period"


def _totals(rows: Iterable[Any]) -> Totals:
    return {(r[0], r[1]): int(r[2]) for r in rows}


# --- the copy -----------------------------------------------------------------------------------


async def copy_database(source: str | Path, target: str | Path) -> CopyReport:
    """Copy every table of `source` into `target` (created as needed, and empty), then verify."""
    check_location(str(source), "FROM")
    check_location(str(target), "TO")
    started = time.perf_counter()
    reader = await _open_source(source)
    try:
        await _refuse_rows_in(target)
        # dlquiz makes the target's schema itself: the same tables, keys and indexes as always.
        store = await open_store(target)
        await store.close()
        writer = await _open_target(target)
        try:
            tables = await _copy(reader, writer)
            totals = await reader.totals()
            await _verify(reader, writer, tables, totals)
        finally:
            await _close(writer)
    finally:
        await _close(reader)
    return CopyReport(
        source=describe(source),
        target=describe(target),
        tables=tables,
        totals=totals,
        seconds=time.perf_counter() - started,
    )


async def _open_source(location: str | Path) -> _Sqlite | _Postgres:
    side: _Sqlite | _Postgres
    if is_postgres_url(location):
        side = await _Postgres.connect(str(location))
        expected = len(PG_MIGRATIONS)
    else:
        path = Path(location)
        if _file_state(path) != "file":
            raise StoreError(f"source database {path} does not exist")
        side = _Sqlite(path, write=False)
        expected = len(SQLITE_MIGRATIONS)
    try:
        version = await side.version()
        if version != expected:
            how = (
                "start this dlquiz on it once to upgrade it"
                if 0 < version < expected
                else "use the dlquiz that wrote it"
            )
            raise StoreError(
                f"source {side.where} has schema version {version} but this dlquiz copies"
                f" version {expected}; {how}, then copy"
            )
        # One snapshot for the rows, the counts and the totals: a bot may write meanwhile.
        if isinstance(side, _Sqlite):
            side.db.execute("BEGIN")
            side._all("SELECT count(*) FROM sqlite_master")  # the snapshot starts at a read
        else:
            await side.conn.execute(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            )
    except BaseException:
        await _close(side)
        raise
    return side


async def _refuse_rows_in(location: str | Path) -> None:
    """Refuse a target holding any row, before anything is written to it."""
    side: _Sqlite | _Postgres
    if is_postgres_url(location):
        side = await _Postgres.connect(str(location))
    else:
        path = Path(location)
        state = _file_state(path)
        if state in ("missing", "empty"):
            return
        if state == "folder":
            raise StoreError(f"target {path} is a folder; give a file path such as {path}/new.db")
        side = _Sqlite(path, write=False)
    try:
        for table in await side.tables():
            rows = await side.count(table)
            if rows:
                raise StoreError(
                    f"target {side.where} is not empty (table {table} has {rows:,} rows);"
                    " copy into a new database"
                )
    finally:
        await _close(side)


def _file_state(path: Path) -> str:
    """missing, folder, empty or file: a few syscalls, before the loop has anything else to do."""
    if not path.exists():
        return "missing"
    if path.is_dir():
        return "folder"
    return "empty" if path.stat().st_size == 0 else "file"


async def _open_target(location: str | Path) -> _Sqlite | _Postgres:
    if is_postgres_url(location):
        return await _Postgres.connect(str(location))
    return _Sqlite(Path(location), write=True)


async def _close(side: _Sqlite | _Postgres) -> None:
    if isinstance(side, _Sqlite):
        side.close()
    else:
        await side.close()


async def _order(side: _Sqlite | _Postgres, tables: list[str]) -> list[str]:
    """Tables with the ones a foreign key points to first."""
    parents = {t: (await side.parents(t)) & set(tables) - {t} for t in tables}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and parents[t] <= set(ordered)]
        if not ready:  # a cycle: nothing can go first; copy the rest as they come
            ready = [t for t in tables if t not in ordered]
        ordered.extend(ready)
    return ordered


async def _copy(reader: _Sqlite | _Postgres, writer: _Sqlite | _Postgres) -> dict[str, int]:
    source_tables = await reader.tables()
    target_tables = await writer.tables()
    missing = [t for t in source_tables if t not in target_tables]
    made = await _reflect(reader, missing) if missing else []
    copied: dict[str, int] = {}
    if isinstance(writer, _Postgres):
        transaction = writer.conn.transaction()
        await transaction.start()
    else:
        writer.db.execute("PRAGMA foreign_keys = OFF")
        writer.db.execute("BEGIN IMMEDIATE")
    try:
        native = reader.postgres == writer.postgres
        for statement in _create(made, postgres=writer.postgres, native=native):
            await _execute(writer, statement)
        for table in await _order(writer, source_tables):
            copied[table] = await _copy_table(reader, writer, table)
            if isinstance(writer, _Postgres):
                await _reset_identities(writer, table)
    except BaseException:
        if isinstance(writer, _Postgres):
            await transaction.rollback()
        else:
            writer.db.execute("ROLLBACK")
        raise
    if isinstance(writer, _Postgres):
        await transaction.commit()
        # Planner statistics now, not whenever autovacuum comes round: the first leaderboards
        # on a copied million-member server would otherwise be planned blind.
        await writer.conn.execute("ANALYZE")
    else:
        writer.db.execute("COMMIT")
    return copied


async def _reflect(reader: _Sqlite | _Postgres, tables: list[str]) -> list[Table]:
    """The source's `tables` as SQLAlchemy reads them (on a connection of its own)."""
    metadata = MetaData()
    try:
        if isinstance(reader, _Postgres):
            url = reader.url
            engine = create_async_engine(
                "postgresql+asyncpg://",
                async_creator=lambda: pg_connect(url),
                poolclass=NullPool,
            )
            try:
                async with engine.connect() as conn:
                    await conn.run_sync(lambda sync: metadata.reflect(sync, only=tables))
            finally:
                await engine.dispose()
        else:
            path = reader.where
            sync_engine = create_engine(
                "sqlite://",
                creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True),
                poolclass=NullPool,
            )
            try:
                with sync_engine.connect() as conn:
                    metadata.reflect(conn, only=tables)
            finally:
                sync_engine.dispose()
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot read the tables {', '.join(tables)} of {reader.where}: {exc}"
        ) from None
    return [metadata.tables[t] for t in tables]


def _create(tables: list[Table], *, postgres: bool, native: bool) -> list[str]:
    """CREATE TABLE and CREATE INDEX statements for `tables` in the target's dialect; with
    `native` (both sides the same backend) the column types are kept as they are."""
    dialect: Dialect = make_url("postgresql://" if postgres else "sqlite://").get_dialect()()
    metadata = MetaData()
    statements: list[str] = []
    for source in tables:
        columns = []
        for c in source.columns:
            try:
                kind = c.type if native else c.type.as_generic()
            except NotImplementedError:
                raise StoreError(
                    f"column {source.name}.{c.name} has type {c.type}, which the target's"
                    " database has no counterpart for"
                ) from None
            # Server defaults are left out: they are expressions of the source's dialect
            # (nextval of a sequence the target lacks, say), and every row copied carries its
            # values; the stores that write these tables fill each column themselves.
            columns.append(
                Column(
                    c.name,
                    kind,
                    primary_key=c.primary_key,
                    nullable=c.nullable,
                    autoincrement=c.autoincrement,
                )
            )
        table = Table(source.name, metadata, *columns)
        statements.append(str(CreateTable(table).compile(dialect=dialect)))
        for index in sorted(source.indexes, key=lambda i: str(i.name)):
            names = [getattr(e, "name", None) for e in index.expressions]
            if index.name is None or None in names:
                continue  # an index on expressions: a speed-up the copy does without
            made = Index(index.name, *(table.c[str(n)] for n in names), unique=index.unique)
            statements.append(str(CreateIndex(made).compile(dialect=dialect)))
    return statements


async def _execute(writer: _Sqlite | _Postgres, statement: str) -> None:
    try:
        if isinstance(writer, _Postgres):
            await writer.conn.execute(statement)
        else:
            writer.db.execute(statement)
    except (sqlite3.Error, asyncpg.PostgresError) as exc:
        raise StoreError(f"cannot create a table in {writer.where}: {exc}") from None


async def _copy_table(reader: _Sqlite | _Postgres, writer: _Sqlite | _Postgres, table: str) -> int:
    source_columns = dict(await reader.columns(table))
    target_columns = dict(await writer.columns(table))
    lost = [c for c in source_columns if c not in target_columns]
    if lost:
        raise StoreError(f"column {table}.{lost[0]} of {reader.where} is not in {writer.where}")
    columns = list(source_columns)
    # Types come from the PostgreSQL side: SQLite keeps times as ISO text and booleans as 0/1.
    pg_types = target_columns if writer.postgres else source_columns
    converters = [
        _converter(table, c, pg_types[c], to_postgres=writer.postgres)
        if reader.postgres != writer.postgres
        else None
        for c in columns
    ]
    plan = [(i, f) for i, f in enumerate(converters) if f is not None]
    copied = 0
    async for batch in reader.rows(table, columns):
        rows = batch
        if plan:
            rows = [_convert(row, plan) for row in batch]
        await _write(writer, table, columns, rows)
        copied += len(rows)
    return copied


def _convert(row: Row, plan: list[tuple[int, Callable[[Any], Any]]]) -> Row:
    values = list(row)
    for i, convert in plan:
        if values[i] is not None:
            values[i] = convert(values[i])
    return tuple(values)


def _converter(
    table: str, column: str, pg_type: str, *, to_postgres: bool
) -> Callable[[Any], Any] | None:
    if pg_type == "boolean":
        return bool if to_postgres else int
    if pg_type == "timestamp with time zone":
        if not to_postgres:
            return to_text

        def to_time(value: Any) -> datetime:
            try:
                moment = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise StoreError(
                    f"{table}.{column} holds {value!r}, not a time (YYYY-MM-DDTHH:MM:SS+00:00)"
                ) from None
            # dlquiz writes UTC times with their offset; a time without one is UTC too.
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

        return to_time
    if pg_type == "timestamp without time zone":
        # SQLAlchemy's DateTime (slack-sdk's stores): naive times, kept in SQLite as text in
        # SQLAlchemy's own form, which its SQLite dialect reads back.
        if not to_postgres:
            return lambda value: value.isoformat(sep=" ", timespec="microseconds")

        def to_naive(value: Any) -> datetime:
            try:
                moment = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise StoreError(
                    f"{table}.{column} holds {value!r}, not a time (YYYY-MM-DD HH:MM:SS)"
                ) from None
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC).replace(tzinfo=None)
            return moment

        return to_naive
    if pg_type == "date":
        return date.fromisoformat if to_postgres else date.isoformat
    return None


async def _write(
    writer: _Sqlite | _Postgres, table: str, columns: list[str], rows: list[Row]
) -> None:
    if isinstance(writer, _Postgres):
        try:
            await writer.conn.copy_records_to_table(table, records=rows, columns=columns)
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"cannot write table {table} of {writer.where}: {exc}") from None
        return
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" * len(columns))
    try:
        writer.db.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot write table {table} of {writer.where}: {exc}") from exc


async def _reset_identities(writer: _Postgres, table: str) -> None:
    """Move each identity sequence past the ids copied, so the next row gets a new one."""
    for column in await writer.sequenced(table):
        await writer.conn.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'),"
            f' coalesce(max("{column}"), 0) + 1, false) FROM "{table}"'
        )


async def _verify(
    reader: _Sqlite | _Postgres, writer: _Sqlite | _Postgres, tables: dict[str, int], totals: Totals
) -> None:
    for table, copied in tables.items():
        expected = await reader.count(table)
        found = await writer.count(table)
        if not expected == copied == found:
            raise StoreError(
                f"copy check failed: table {table} has {expected:,} rows in {reader.where}"
                f" but {found:,} in {writer.where}"
            )
    if await writer.totals() != totals:
        raise StoreError(
            f"copy check failed: table scores sums to other totals in {writer.where}"
            f" than in {reader.where}"
        )
