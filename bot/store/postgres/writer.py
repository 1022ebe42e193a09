"""The PostgreSQL backend's answer writer: one connection per process, group-committed.

Presses that arrive together are recorded together: the writer drains whatever is queued, records
it in one transaction with set-based SQL (see answers.py), and only after COMMIT resolves each
caller's future, so an answer is acknowledged only once it is durable. Other processes write to
the same tables at the same time; the database's locks and unique keys keep the rules.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

import asyncpg

from bot.store.api import AnswerOutcome, AnswerRequest, StoreError
from bot.store.postgres.answers import record_answers

log = logging.getLogger(__name__)

# Big enough to amortise a batch, small enough that one batch is written while the event loop
# confirms the one before.
MAX_BATCH = 2000
# A deadlock or serialisation failure rolls the whole batch back; nothing was acknowledged, so
# running it again is safe.
RETRIES = 3
RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)
# The connection itself is gone (the server restarted, the network dropped): open a new one.
CONNECTION_LOST = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    OSError,
)

_STOP = object()


class Writer:
    def __init__(
        self, conn: asyncpg.Connection, reconnect: Callable[[], Awaitable[asyncpg.Connection]]
    ):
        self._conn: asyncpg.Connection | None = conn
        self._reconnect = reconnect
        self._ops: deque[tuple[AnswerRequest, asyncio.Future[AnswerOutcome]] | object] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._task = asyncio.create_task(self._write_loop(), name="dlquiz-store-writer")
        self._closed = False

    async def close(self) -> None:
        """Finish every queued answer, then close the connection."""
        if self._closed:
            return
        self._closed = True
        self._push(_STOP)
        await self._task
        if self._conn is not None:
            await self._conn.close()

    async def submit_answer(self, request: AnswerRequest) -> AnswerOutcome:
        """Record one answer; returns once it is committed (or why it was not recorded)."""
        if self._closed:
            raise StoreError("the database is closed")
        future: asyncio.Future[AnswerOutcome] = asyncio.get_running_loop().create_future()
        self._push((request, future))
        return await future

    def _push(self, op: object) -> None:
        self._ops.append(op)
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def _write_loop(self) -> None:
        ops = self._ops
        while True:
            if not ops:
                self._wakeup = asyncio.get_running_loop().create_future()
                await self._wakeup
                self._wakeup = None
                continue
            batch: list[tuple[AnswerRequest, asyncio.Future[AnswerOutcome]]] = []
            stop = False
            while ops and len(batch) < MAX_BATCH:
                op = ops.popleft()
                if op is _STOP:
                    stop = True
                    break
                batch.append(op)  # type: ignore[arg-type]
            if batch:
                await self._run(batch)
            if stop:
                return

    async def _run(self, batch: list[tuple[AnswerRequest, asyncio.Future[AnswerOutcome]]]) -> None:
        requests = [request for request, _ in batch]
        try:
            outcomes = await self._commit(requests)
        except Exception as exc:
            log.exception("could not record a batch of %d answers", len(batch))
            error = StoreError(f"the answer could not be saved: {exc}")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            raise
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)

    async def _commit(self, requests: list[AnswerRequest]) -> list[AnswerOutcome]:
        """Record the batch in one transaction; returns after COMMIT."""
        for attempt in range(1, RETRIES + 1):
            conn = await self._connection()
            try:
                async with conn.transaction():
                    outcomes = await record_answers(conn, requests)
                # Only now has COMMIT returned: the callers may learn their outcomes.
                return outcomes  # noqa: RET504
            except RETRYABLE:
                if attempt == RETRIES:
                    raise
                log.warning("a batch of %d answers met a deadlock; writing it again", len(requests))
            except CONNECTION_LOST:
                # Whether the COMMIT landed is unknown: the callers learn it failed, and a press
                # sent again is harmless (the first answer is final).
                self._conn = None
                conn.terminate()
                raise
        raise AssertionError("unreachable")

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._conn = await self._reconnect()
        return self._conn
