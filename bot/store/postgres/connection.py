"""Connecting to PostgreSQL: one-line errors that say what is wrong, and never the password."""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import Awaitable
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from bot.store.api import StoreError

T = TypeVar("T")

CONNECT_TIMEOUT_S = 10.0
# Query parameters libpq accepts that carry a secret.
_SECRET_PARAMS = {"password", "sslpassword"}


def redact(url: str) -> str:
    """The URL without its password (in the user part or as a query parameter)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hosts = netloc.rpartition("@")
            user = userinfo.partition(":")[0]
            netloc = f"{user}@{hosts}" if user else hosts
        query = urlencode(
            [(k, v) for k, v in parse_qsl(parts.query) if k.lower() not in _SECRET_PARAMS]
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return f"{url.partition('://')[0]}://(unreadable URL)"


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def describe(exc: BaseException, url: str) -> str:
    """Why `url` cannot be used, in one line without the password."""
    where = redact(url)
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        reason = f"database {where} does not exist (create it, or fix the URL)"
    elif isinstance(
        exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        reason = f"cannot log in to {where}: {exc}"
    elif isinstance(exc, socket.gaierror):
        reason = f"cannot reach {where}: unknown host"
    elif isinstance(exc, TimeoutError):
        reason = f"cannot reach {where}: no answer within {CONNECT_TIMEOUT_S:g} s"
    elif isinstance(exc, ConnectionRefusedError):
        reason = f"cannot reach {where}: connection refused (is PostgreSQL running there?)"
    elif isinstance(exc, OSError):
        reason = f"cannot reach {where}: {exc.strerror or exc}"
    else:
        reason = f"cannot use database {where}: {exc}"
    password = _password(url)
    if password:
        reason = reason.replace(password, "***")
    return " ".join(reason.split())  # one line, whatever the server said


async def guarded(url: str, step: Awaitable[T]) -> T:
    """Await `step`, turning any failure to connect or to use the database into a StoreError."""
    try:
        return await step
    except StoreError:
        raise
    except (
        OSError,
        TimeoutError,
        ValueError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
    ) as exc:
        raise StoreError(describe(exc, url)) from None


async def connect(url: str) -> asyncpg.Connection:
    return await guarded(
        url,
        asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S, server_settings=_SETTINGS),
    )


class Connections:
    """The store's connections (at most `size`), each lent to one caller at a time.

    Not asyncpg's pool: its acquire and release (a shielded task, the reset, a proxy object)
    cost about a third of a short query's client time, and a daily post borrows a connection
    six times. Nothing is sent on release: dlquiz leaves no session state behind (its locks
    are transaction locks, it never listens or sets anything). A connection that may not be
    clean (an error other than the server's, a transaction left open) is dropped, not lent
    again."""

    def __init__(self, url: str, size: int) -> None:
        self._url = url
        self._size = size
        self._idle: list[asyncpg.Connection] = []
        self._count = 0  # idle, lent, or being opened
        self._waiters: deque[asyncio.Future[None]] = deque()
        # Callers holding a connection or waiting for one: close waits until none is left.
        self._out = 0
        self._none_out = asyncio.Event()

    async def open(self) -> None:
        """Open the first connection, so a database that cannot be used is found at start."""
        self._count += 1
        try:
            self._idle.append(await connect(self._url))
        except BaseException:
            self._count -= 1
            raise

    def lend(self) -> Lent:
        """A connection for an `async with` block, released when the block ends."""
        return Lent(self)

    async def acquire(self) -> asyncpg.Connection:
        self._out += 1
        try:
            return await self._take()
        except BaseException:
            self._returned()
            raise

    async def _take(self) -> asyncpg.Connection:
        while True:
            while self._idle:
                conn = self._idle.pop()
                if not conn.is_closed():
                    return conn
                self._count -= 1  # the server closed it while it was idle
            if self._count < self._size:
                self._count += 1
                try:
                    return await connect(self._url)
                except BaseException:
                    self._count -= 1
                    self._wake()
                    raise
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # woken, then cancelled: the turn goes to the next one
                else:
                    self._waiters.remove(waiter)
                raise

    def release(self, conn: asyncpg.Connection, *, clean: bool) -> None:
        if clean and not conn.is_closed() and not conn.is_in_transaction():
            self._idle.append(conn)
        else:
            self._count -= 1
            conn.terminate()
        self._wake()
        self._returned()

    def _returned(self) -> None:
        self._out -= 1
        if not self._out:
            self._none_out.set()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def close(self) -> None:
        """Close the connections, once every one lent (or waited for) is back."""
        while self._out:
            self._none_out.clear()
            await self._none_out.wait()
        idle, self._idle = self._idle, []
        self._count -= len(idle)
        for conn in idle:
            await conn.close()


class Lent:
    """A connection lent for an `async with` block (a class, not a generator context manager:
    every store call goes through it)."""

    __slots__ = ("_conn", "_pool")

    def __init__(self, pool: Connections) -> None:
        self._pool = pool

    async def __aenter__(self) -> asyncpg.Connection:
        self._conn = await self._pool.acquire()
        return self._conn

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        # A statement the server refused leaves the connection in step with it.
        clean = kind is None or issubclass(kind, asyncpg.PostgresError)
        self._pool.release(self._conn, clean=clean)


# No JIT: dlquiz's queries are short, and compiling them cost more than it saved (scoring a
# 20,000-answer round took 1.6 s with JIT, 0.9 s without, measured by `python -m bench`).
_SETTINGS = {"application_name": "dlquiz", "jit": "off"}
