"""Connecting to PostgreSQL: one-line errors that say what is wrong, and never the password."""

from __future__ import annotations

import socket
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


class _PooledConnection(asyncpg.Connection):
    """A pooled connection returned without the reset query (UNLISTEN, RESET ALL, advisory
    unlock, CLOSE ALL): dlquiz leaves no session state behind (its locks are transaction
    locks, it never listens or sets anything), and the query was a round trip on every release,
    a tenth of the client's time in a daily fan-out. Open transactions are still rolled back."""

    def get_reset_query(self) -> str:
        return ""


async def create_pool(url: str, *, size: int) -> asyncpg.Pool:
    pool = asyncpg.create_pool(
        url,
        min_size=1,
        max_size=size,
        timeout=CONNECT_TIMEOUT_S,
        server_settings=_SETTINGS,
        connection_class=_PooledConnection,
    )
    return await guarded(url, pool)


# No JIT: dlquiz's queries are short, and compiling them cost more than it saved (scoring a
# 20,000-answer round took 1.6 s with JIT, 0.9 s without, measured by `python -m bench`).
_SETTINGS = {"application_name": "dlquiz", "jit": "off"}
