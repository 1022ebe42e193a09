"""The SQLite backend's single writer: every write of a process goes through one task, one
connection, group-committed.

No two coroutines ever share a half-done transaction. Answers that arrive together are committed
together: the writer drains whatever is queued, records it in one transaction with set-based SQL,
and only then resolves each caller's future, so an answer is acknowledged only once it is durable.
Other writes queued together share a transaction the same way: each is a plain function of the
sqlite3 connection, and the whole batch runs in one trip to the database thread, each write in a
savepoint of its own. A trip costs more than most writes (it waits behind everything the event
loop has queued), so a daily post's few writes were once mostly waiting. Across processes SQLite's
own write lock (`BEGIN IMMEDIATE`, `busy_timeout`) serialises the writers.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import aiosqlite

from bot.store.api import AnswerOutcome, AnswerRequest, StoreError
from bot.store.sqlite.answers import record_answers
from bot.store.sqlite.connection import on_thread, rollback

log = logging.getLogger(__name__)

T = TypeVar("T")
# Big enough to amortise a batch, small enough that one batch is written while the event loop
# confirms the one before.
MAX_BATCH = 2000


@dataclass
class _AnswerOp:
    request: AnswerRequest
    future: asyncio.Future[AnswerOutcome]


@dataclass
class _WriteOp:
    work: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]


_STOP = object()


class Writer:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        # A plain deque and one wake-up future: the writer drains everything queued at once,
        # without asyncio.Queue's per-item bookkeeping on the hot path of a button press.
        self._ops: deque[_AnswerOp | _WriteOp | object] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        # Answers committed but not yet confirmed to their callers (see _confirm).
        self._committed: list[tuple[list[_AnswerOp], list[AnswerOutcome]]] = []
        self._task = asyncio.create_task(self._write_loop(), name="dlquiz-store-writer")
        self._closed = False

    async def close(self) -> None:
        """Finish every queued write, then close the connection."""
        if self._closed:
            return
        self._closed = True
        self._push(_STOP)
        await self._task
        await self._db.close()

    async def submit_answer(self, request: AnswerRequest) -> AnswerOutcome:
        """Record one answer; returns once it is committed (or why it was not recorded)."""
        future: asyncio.Future[AnswerOutcome] = asyncio.get_running_loop().create_future()
        self._put(_AnswerOp(request, future))
        return await future

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the database thread in a write transaction, in order with every other
        write; what it changes is committed, or rolled back when it raises."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._put(_WriteOp(work, future))
        return await future

    def _put(self, op: _AnswerOp | _WriteOp) -> None:
        if self._closed:
            raise StoreError("the database is closed")
        self._push(op)

    def _push(self, op: _AnswerOp | _WriteOp | object) -> None:
        self._ops.append(op)
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def _write_loop(self) -> None:
        ops = self._ops
        while True:
            if not ops:
                self._confirm()
                self._wakeup = asyncio.get_running_loop().create_future()
                await self._wakeup
                self._wakeup = None
                continue
            op = ops.popleft()
            if op is _STOP:
                self._confirm()
                return
            # Consecutive operations of one kind share a transaction, so one commit serves them
            # all; the order of operations is kept.
            kind = type(op)
            batch = [op]
            while ops and len(batch) < MAX_BATCH and type(ops[0]) is kind:
                batch.append(ops.popleft())
            if kind is _WriteOp:
                self._confirm()
                await self._run_writes(cast(list[_WriteOp], batch))
            else:
                await self._run_answers(cast(list[_AnswerOp], batch))

    async def _run_writes(self, batch: list[_WriteOp]) -> None:
        """Run queued writes in one transaction, in one trip to the database thread; one that
        fails is rolled back alone (each runs inside its own savepoint)."""
        try:
            results = await on_thread(self._db, lambda conn: _write_batch(conn, batch))
        except BaseException as exc:
            for op in batch:
                if not op.future.done():
                    op.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for op, (failed, result) in zip(batch, results, strict=True):
            if op.future.done():
                continue
            if failed:
                op.future.set_exception(result)
            else:
                op.future.set_result(result)

    def _confirm(self) -> None:
        """Hand committed answers their outcomes.

        While another batch is queued, this waits until that batch's writes are on their way to
        the database thread: waking thousands of callers then takes the event loop's time while
        SQLite works, instead of before it starts.
        """
        committed, self._committed = self._committed, []
        for batch, outcomes in committed:
            for op, outcome in zip(batch, outcomes, strict=True):
                if not op.future.done():
                    op.future.set_result(outcome)

    async def _run_answers(self, batch: list[_AnswerOp]) -> None:
        db = self._db
        # Filled wave by wave: when a later wave fails, the members whose answers an earlier wave
        # committed still learn that theirs is recorded.
        outcomes: list[AnswerOutcome | None] = [None] * len(batch)
        try:
            await record_answers(
                db, [op.request for op in batch], outcomes, before_write=self._confirm
            )
        except BaseException as exc:
            self._confirm()
            await rollback(db)
            log.exception("could not record a batch of %d answers", len(batch))
            for op, outcome in zip(batch, outcomes, strict=True):
                if op.future.done():
                    continue
                if outcome is not None:
                    op.future.set_result(outcome)
                else:
                    op.future.set_exception(StoreError(f"the answer could not be saved: {exc}"))
            if not isinstance(exc, Exception):
                raise
            return
        self._committed.append((batch, cast(list[AnswerOutcome], outcomes)))


def _write_batch(conn: sqlite3.Connection, batch: list[_WriteOp]) -> list[tuple[bool, Any]]:
    """On the database thread: every write of the batch, then one COMMIT. Each result is
    (failed, value or exception)."""
    results: list[tuple[bool, Any]] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for op in batch:
            conn.execute("SAVEPOINT write")
            try:
                results.append((False, op.work(conn)))
            except Exception as exc:
                if not conn.in_transaction:
                    # Some errors (a full disk, an I/O error) end the whole transaction, and
                    # with it the writes before this one: the batch fails together.
                    raise
                conn.execute("ROLLBACK TO write")
                results.append((True, exc))
            conn.execute("RELEASE write")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return results
