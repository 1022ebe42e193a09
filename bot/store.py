"""SQLite storage through aiosqlite: migrations, one writer with group commit, and the queries.

Writes go through a single writer task on their own connection, so no two coroutines ever share a
half-done transaction. Answers that arrive together are committed together: the writer drains
whatever is queued, records it in one transaction with set-based SQL, and only then resolves each
caller's future, so an answer is acknowledged only once it is durable. Other writes queued
together share a transaction the same way. Reads use a second connection; WAL lets them run while
the writer commits.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

import aiosqlite

from bot.migrations import MIGRATIONS
from bot.models import ChannelRef, Period
from bot.practice import MASTERED_BOX, TOP_BOX, due_after, next_box
from bot.scoring import STREAK_BONUS_CAP

log = logging.getLogger(__name__)

T = TypeVar("T")
# Big enough to amortise a batch, small enough that one batch is written while the event loop
# confirms the one before.
MAX_BATCH = 2000
BUSY_TIMEOUT_MS = 5000


class StoreError(Exception):
    """The database cannot be used; the message says why in one line."""


def to_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def from_text(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def period_key(period: Period, moment: datetime) -> str:
    """The key of the calendar period (UTC) that `moment` falls in."""
    moment = moment.astimezone(UTC)
    if period is Period.WEEK:
        iso = moment.isocalendar()
        return f"w{iso.year}-{iso.week:02d}"
    if period is Period.MONTH:
        return f"m{moment.year}-{moment.month:02d}"
    return "all"


class AnswerStatus(StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    CLOSED = "closed"
    UNKNOWN = "unknown"
    BAD_CHOICE = "bad_choice"


class AnswerRequest(NamedTuple):
    """One button press on its way to the writer (a tuple: built once per press, so cheap)."""

    round_id: int
    server: str
    channel: str
    user_id: str
    name: str
    choice: int
    at: datetime


@dataclass(frozen=True, slots=True)
class AnswerOutcome:
    status: AnswerStatus
    choice: int | None = None  # the recorded choice: this one, or the earlier one on a duplicate


@dataclass(frozen=True, slots=True)
class RoundRow:
    id: int
    server: str
    channel: str
    question_id: str
    choice_count: int
    answer: int
    day: str | None
    posted_at: datetime
    reveal_at: datetime | None
    closed_at: datetime | None
    message_ref: str | None
    reveal_posted: bool

    @property
    def channel_ref(self) -> ChannelRef:
        return ChannelRef(self.server, self.channel)

    @property
    def undelivered(self) -> bool:
        """Its question (while open) or its reveal (once closed) has not reached the channel."""
        if self.closed_at is None:
            return self.message_ref is None
        return not self.reveal_posted


@dataclass(frozen=True, slots=True)
class NewRound:
    question_id: str
    topic: str
    difficulty: str
    choice_count: int
    answer: int
    base_points: int


@dataclass(frozen=True, slots=True)
class StartedRound:
    round: RoundRow
    closed: RoundRow | None


@dataclass(frozen=True, slots=True)
class ScoreRow:
    user_id: str
    name: str
    points: int
    answered: int
    correct: int


@dataclass(frozen=True, slots=True)
class MemberRow:
    user_id: str
    name: str
    current_streak: int
    longest_streak: int


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    server: str
    channel: str
    time: str
    zone: str
    last_error: str | None
    last_error_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class PracticeRow:
    question_id: str
    box: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class PracticeMark:
    box: int
    due_at: datetime
    filter: str | None


_SCHEDULE_COLUMNS = "server, channel, time, zone, last_error, last_error_at, updated_at"
_ROUND_COLUMNS = (
    "id, server, channel, question_id, choice_count, answer, day, posted_at, reveal_at, "
    "closed_at, message_ref, reveal_posted"
)


def _round(row: sqlite3.Row | tuple[Any, ...]) -> RoundRow:
    posted_at = from_text(row[7])
    assert posted_at is not None
    return RoundRow(
        id=row[0],
        server=row[1],
        channel=row[2],
        question_id=row[3],
        choice_count=row[4],
        answer=row[5],
        day=row[6],
        posted_at=posted_at,
        reveal_at=from_text(row[8]),
        closed_at=from_text(row[9]),
        message_ref=row[10],
        reveal_posted=bool(row[11]),
    )


@dataclass
class _AnswerOp:
    request: AnswerRequest
    future: asyncio.Future[AnswerOutcome]


@dataclass
class _WriteOp:
    work: Callable[[aiosqlite.Connection], Awaitable[Any]]
    future: asyncio.Future[Any]


_STOP = object()


class Store:
    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self._reader = reader
        # A plain deque and one wake-up future: the writer drains everything queued at once,
        # without asyncio.Queue's per-item bookkeeping on the hot path of a button press.
        self._ops: deque[_AnswerOp | _WriteOp | object] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        # Answers committed but not yet confirmed to their callers (see _confirm).
        self._committed: list[tuple[list[_AnswerOp], list[AnswerOutcome]]] = []
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    # --- life cycle ---------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        """Open (creating and migrating as needed) the database at `path`."""
        path = Path(path)
        if path.is_dir():
            raise StoreError(
                f"database path {path} is a folder; give a file path such as {path}/dlquiz.db"
            )
        if not path.parent.exists():
            raise StoreError(f"cannot open database {path}: folder {path.parent} does not exist")
        writer = await _connect(path, check_version=True)
        try:
            await _migrate(writer, path)
            reader = await _connect(path)
        except BaseException:
            await writer.close()
            raise
        store = cls(path, writer, reader)
        store._task = asyncio.create_task(store._write_loop(), name="dlquiz-store-writer")
        return store

    async def close(self) -> None:
        """Finish every queued write, then close both connections."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._push(_STOP)
            await self._task
        await self._reader.close()
        await self._writer.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- the single writer --------------------------------------------------------------------

    async def submit_answer(self, request: AnswerRequest) -> AnswerOutcome:
        """Record one answer; returns once it is committed (or why it was not recorded)."""
        future: asyncio.Future[AnswerOutcome] = asyncio.get_running_loop().create_future()
        self._put(_AnswerOp(request, future))
        return await future

    async def write(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run `work` in its own write transaction, in order with every other write."""
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
        """Run queued writes in one transaction; when one fails, run each in its own instead.

        Every `work` only touches the database, so running it again after a rollback is safe.
        """
        if len(batch) == 1:
            await self._run_write(batch[0])
            return
        db = self._writer
        results: list[Any] = []
        try:
            await db.execute("BEGIN IMMEDIATE")
            for op in batch:
                results.append(await op.work(db))
            await db.commit()
        except Exception:
            await _rollback(db)
            for op in batch:
                await self._run_write(op)
            return
        except BaseException as exc:
            await _rollback(db)
            for op in batch:
                if not op.future.done():
                    op.future.set_exception(exc)
            raise
        for op, result in zip(batch, results, strict=True):
            if not op.future.done():
                op.future.set_result(result)

    async def _run_write(self, op: _WriteOp) -> None:
        db = self._writer
        try:
            await db.execute("BEGIN IMMEDIATE")
            result = await op.work(db)
            await db.commit()
        except BaseException as exc:
            await _rollback(db)
            if not op.future.done():
                op.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        if not op.future.done():
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
        db = self._writer
        try:
            outcomes = await _record_answers(
                db, [op.request for op in batch], before_write=self._confirm
            )
        except BaseException as exc:
            self._confirm()
            await _rollback(db)
            log.exception("could not record a batch of %d answers", len(batch))
            for op in batch:
                if not op.future.done():
                    op.future.set_exception(StoreError(f"the answer could not be saved: {exc}"))
            if not isinstance(exc, Exception):
                raise
            return
        self._committed.append((batch, outcomes))

    # --- rounds -------------------------------------------------------------------------------

    async def start_round(
        self,
        *,
        channel: ChannelRef,
        new: NewRound,
        cycle: int,
        day: date | None,
        posted_at: datetime,
        reveal_at: datetime | None,
    ) -> StartedRound | None:
        """Close the channel's open round and open a new one, atomically.

        Returns None, changing nothing, when `day` already has its daily round in this channel.
        """

        async def work(db: aiosqlite.Connection) -> StartedRound | None:
            closed = await _close_open_round(db, channel, posted_at, unless_day=day)
            try:
                rows = await db.execute_fetchall(
                    "INSERT INTO rounds (server, channel, question_id, topic, difficulty,"
                    " choice_count, answer, base_points, cycle, prev_round_id, day, posted_at,"
                    " reveal_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
                    " (SELECT max(id) FROM rounds WHERE server = ?1 AND channel = ?2),"
                    f" ?10, ?11, ?12) RETURNING {_ROUND_COLUMNS}",
                    (
                        channel.server,
                        channel.channel,
                        new.question_id,
                        new.topic,
                        new.difficulty,
                        new.choice_count,
                        new.answer,
                        new.base_points,
                        cycle,
                        day.isoformat() if day else None,
                        to_text(posted_at),
                        to_text(reveal_at) if reveal_at else None,
                    ),
                )
            except sqlite3.IntegrityError:
                if day is None:
                    raise
                return None  # the day's round exists; the guard above left the open one open
            return StartedRound(round=_round(next(iter(rows))), closed=closed)

        return await self.write(work)

    async def close_round(self, channel: ChannelRef, at: datetime) -> RoundRow | None:
        """Close the channel's open round; it, or None when none was open."""
        return await self.write(lambda db: _close_open_round(db, channel, at))

    async def mark_delivered(self, round_id: int, message_ref: str) -> None:
        """Record the question's message (which also clears the channel's last posting error:
        see migration 3)."""
        await self._execute_write(
            "UPDATE rounds SET message_ref = ? WHERE id = ?", (message_ref, round_id)
        )

    async def mark_reveal_posted(self, round_id: int) -> None:
        await self._execute_write("UPDATE rounds SET reveal_posted = 1 WHERE id = ?", (round_id,))

    async def _execute_write(self, sql: str, params: tuple[Any, ...]) -> None:
        async def work(db: aiosqlite.Connection) -> None:
            await db.execute(sql, params)

        await self.write(work)

    async def round_by_id(self, round_id: int) -> RoundRow | None:
        row = await _one(
            self._reader, f"SELECT {_ROUND_COLUMNS} FROM rounds WHERE id = ?", (round_id,)
        )
        return _round(row) if row else None

    async def open_round(self, channel: ChannelRef) -> RoundRow | None:
        row = await _one(
            self._reader,
            f"SELECT {_ROUND_COLUMNS} FROM rounds"
            " WHERE server = ? AND channel = ? AND closed_at IS NULL",
            (channel.server, channel.channel),
        )
        return _round(row) if row else None

    async def undelivered_rounds(
        self, channel: ChannelRef | None = None, *, platform: str | None = None
    ) -> list[RoundRow]:
        """Rounds whose question or reveal was committed but not (yet) posted, oldest first:
        of one channel, of one platform's servers, or all."""
        where = "(message_ref IS NULL OR reveal_posted = 0)"
        params: tuple[str, ...] = ()
        if channel is not None:
            where += " AND server = ? AND channel = ?"
            params = (channel.server, channel.channel)
        elif platform is not None:
            where += " AND server >= ? AND server < ?"
            params = _platform_range(platform)
        rows = await self._reader.execute_fetchall(
            f"SELECT {_ROUND_COLUMNS} FROM rounds WHERE {where} ORDER BY id", params
        )
        return [round_ for round_ in map(_round, rows) if round_.undelivered]

    async def posted_questions(self, channel: ChannelRef) -> tuple[int, set[str], str | None]:
        """The channel's current cycle, the questions posted in it, and the last one posted."""
        rows = await self._reader.execute_fetchall(
            "SELECT cycle, question_id FROM rounds WHERE server = ?1 AND channel = ?2"
            " AND cycle = (SELECT max(cycle) FROM rounds WHERE server = ?1 AND channel = ?2)"
            " ORDER BY id",
            (channel.server, channel.channel),
        )
        posted = [r[1] for r in rows]
        cycle = next(iter(rows))[0] if posted else 1
        return cycle, set(posted), posted[-1] if posted else None

    async def tally(self, round_id: int, choice_count: int) -> tuple[int, ...]:
        rows = await self._reader.execute_fetchall(
            "SELECT choice, count(*) FROM answers WHERE round_id = ? GROUP BY choice", (round_id,)
        )
        counts = [0] * choice_count
        for choice, count in rows:
            counts[choice] = count
        return tuple(counts)

    async def choice_of(self, round_id: int, user_id: str) -> int | None:
        row = await _one(
            self._reader,
            "SELECT choice FROM answers WHERE round_id = ? AND user_id = ?",
            (round_id, user_id),
        )
        return row[0] if row else None

    # --- scores -------------------------------------------------------------------------------

    async def leaderboard(
        self, *, server: str, period: str, limit: int = 10
    ) -> list[tuple[int, ScoreRow]]:
        """The top `limit` members with points, ranked; members with equal points share a rank."""
        rows = await self._reader.execute_fetchall(
            "SELECT s.user_id, coalesce(m.name, s.user_id), s.points, s.answered, s.correct"
            " FROM scores s LEFT JOIN members m ON m.server = s.server AND m.user_id = s.user_id"
            " WHERE s.server = ? AND s.period = ? AND s.points > 0"
            " ORDER BY s.points DESC, s.user_id LIMIT ?",
            (server, period, limit),
        )
        ranked: list[tuple[int, ScoreRow]] = []
        for position, row in enumerate(rows, start=1):
            score = ScoreRow(*row)
            same_as_above = ranked and ranked[-1][1].points == score.points
            ranked.append((ranked[-1][0] if same_as_above else position, score))
        return ranked

    async def score_of(self, *, server: str, period: str, user_id: str) -> ScoreRow | None:
        row = await _one(
            self._reader,
            "SELECT s.user_id, coalesce(m.name, s.user_id), s.points, s.answered, s.correct"
            " FROM scores s LEFT JOIN members m ON m.server = s.server AND m.user_id = s.user_id"
            " WHERE s.server = ? AND s.period = ? AND s.user_id = ?",
            (server, period, user_id),
        )
        return ScoreRow(*row) if row else None

    async def rank_of(self, *, server: str, period: str, points: int) -> tuple[int | None, int]:
        """The rank a member with `points` holds, and how many members hold any points."""
        row = await _one(
            self._reader,
            "SELECT coalesce(sum(CASE WHEN points > ? THEN members END), 0),"
            " coalesce(sum(members), 0)"
            " FROM score_counts WHERE server = ? AND period = ? AND points > 0",
            (points, server, period),
        )
        above, ranked = (row[0], row[1]) if row else (0, 0)
        return (above + 1 if points > 0 else None), ranked

    async def member(self, *, server: str, user_id: str) -> MemberRow | None:
        row = await _one(
            self._reader,
            "SELECT m.user_id, m.name, m.current_streak, m.longest_streak, m.streak_round_id,"
            " r.server, r.channel"
            " FROM members m LEFT JOIN rounds r ON r.id = m.streak_round_id"
            " WHERE m.server = ? AND m.user_id = ?",
            (server, user_id),
        )
        if not row:
            return None
        alive = False
        if row[4] is not None:
            latest = await _one(
                self._reader,
                "SELECT id, prev_round_id, closed_at FROM rounds"
                " WHERE server = ? AND channel = ? ORDER BY id DESC LIMIT 1",
                (row[5], row[6]),
            )
            # A streak survives until a later round closes without a right answer from them.
            alive = latest is not None and (
                latest[0] == row[4] or (latest[2] is None and latest[1] == row[4])
            )
        return MemberRow(
            user_id=row[0],
            name=row[1],
            current_streak=row[2] if alive else 0,
            longest_streak=row[3],
        )

    async def find_member(self, *, server: str, text: str) -> str | None:
        """The user id of the member named `text` (an id, or a name in any case)."""
        row = await _one(
            self._reader,
            "SELECT user_id FROM members WHERE server = ? AND user_id = ?",
            (server, text),
        )
        if row:
            return str(row[0])
        row = await _one(
            self._reader,
            "SELECT user_id FROM members WHERE server = ? AND lower(name) = lower(?)",
            (server, text),
        )
        return str(row[0]) if row else None

    async def topic_accuracy(self, *, server: str, user_id: str) -> list[tuple[str, int, int]]:
        rows = await self._reader.execute_fetchall(
            # From the server's rounds to each one's answer by primary key: answers keep no index
            # by member, which would cost every button press one more B-tree insert.
            "SELECT r.topic, count(*), sum(a.correct) FROM rounds r"
            " JOIN answers a ON a.round_id = r.id AND a.user_id = ?"
            # An open round's answers would tell whether they are right before the reveal.
            " WHERE r.server = ? AND r.closed_at IS NOT NULL GROUP BY r.topic ORDER BY r.topic",
            (user_id, server),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    # --- schedules ----------------------------------------------------------------------------

    async def set_schedule(
        self, channel: ChannelRef, *, time: str, zone: str, at: datetime
    ) -> None:
        await self._execute_write(
            "INSERT INTO schedules (server, channel, time, zone, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (server, channel) DO UPDATE SET time = excluded.time,"
            " zone = excluded.zone, updated_at = excluded.updated_at,"
            " last_error = NULL, last_error_at = NULL",
            (channel.server, channel.channel, time, zone, to_text(at)),
        )

    async def delete_schedule(self, channel: ChannelRef) -> bool:
        async def work(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute(
                "DELETE FROM schedules WHERE server = ? AND channel = ?",
                (channel.server, channel.channel),
            )
            return cursor.rowcount > 0

        return await self.write(work)

    async def record_post_error(self, channel: ChannelRef, *, error: str, at: datetime) -> None:
        """Keep why posting failed, for `/dlquiz schedule`; a later delivery clears it."""
        await self._execute_write(
            "UPDATE schedules SET last_error = ?, last_error_at = ?"
            " WHERE server = ? AND channel = ?",
            (error, to_text(at), channel.server, channel.channel),
        )

    async def schedule(self, channel: ChannelRef) -> ScheduleRow | None:
        row = await _one(
            self._reader,
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE server = ? AND channel = ?",
            (channel.server, channel.channel),
        )
        return _schedule(row) if row else None

    async def schedules(self, *, platform: str | None = None) -> list[ScheduleRow]:
        """Every schedule, or those of one platform's servers."""
        where, params = "", tuple[str, ...]()
        if platform is not None:
            where = "WHERE server >= ? AND server < ?"
            params = _platform_range(platform)
        rows = await self._reader.execute_fetchall(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedules {where} ORDER BY server, channel", params
        )
        return [_schedule(row) for row in rows]

    async def daily_round_exists(self, channel: ChannelRef, day: date) -> bool:
        row = await _one(
            self._reader,
            "SELECT 1 FROM rounds WHERE server = ? AND channel = ? AND day = ?",
            (channel.server, channel.channel, day.isoformat()),
        )
        return row is not None

    # --- practice -----------------------------------------------------------------------------

    async def practice_rows(self, *, server: str, user_id: str) -> dict[str, PracticeRow]:
        rows = await self._reader.execute_fetchall(
            "SELECT question_id, box, due_at FROM practice WHERE server = ? AND user_id = ?",
            (server, user_id),
        )
        return {r[0]: PracticeRow(r[0], r[1], datetime.fromisoformat(r[2])) for r in rows}

    async def open_question_ids(self, server: str) -> set[str]:
        """Questions open as a daily question anywhere in the server."""
        rows = await self._reader.execute_fetchall(
            "SELECT question_id FROM rounds WHERE server = ? AND closed_at IS NULL", (server,)
        )
        return {r[0] for r in rows}

    async def ask_practice(
        self,
        *,
        server: str,
        user_id: str,
        question_id: str,
        topic: str,
        filter: str | None,
        at: datetime,
    ) -> None:
        """Remember that the question was shown, so its first press (only) is marked."""
        await self._execute_write(
            "INSERT INTO practice (server, user_id, question_id, topic, box, due_at, asked,"
            " asked_filter) VALUES (?, ?, ?, ?, 0, ?, 1, ?)"
            " ON CONFLICT (server, user_id, question_id) DO UPDATE SET asked = 1,"
            " asked_filter = excluded.asked_filter",
            (server, user_id, question_id, topic, to_text(at), filter),
        )

    async def mark_practice(
        self, *, server: str, user_id: str, question_id: str, correct: bool, at: datetime
    ) -> PracticeMark | None:
        """Move the question to its next box; None when it was not waiting for an answer."""

        async def work(db: aiosqlite.Connection) -> PracticeMark | None:
            row = await _one(
                db,
                "SELECT box, asked, asked_filter FROM practice"
                " WHERE server = ? AND user_id = ? AND question_id = ?",
                (server, user_id, question_id),
            )
            if row is None or not row[1]:
                return None
            box = next_box(row[0], correct=correct)
            due = due_after(box, at)
            await db.execute(
                "UPDATE practice SET box = ?, due_at = ?, seen = seen + 1,"
                " correct = correct + ?, last_at = ?, asked = 0"
                " WHERE server = ? AND user_id = ? AND question_id = ?",
                (box, to_text(due), int(correct), to_text(at), server, user_id, question_id),
            )
            return PracticeMark(box=box, due_at=due, filter=row[2])

        return await self.write(work)

    async def mastery(self, *, server: str, user_id: str) -> dict[str, int]:
        rows = await self._reader.execute_fetchall(
            "SELECT topic, count(*) FROM practice"
            " WHERE server = ? AND user_id = ? AND box >= ? GROUP BY topic",
            (server, user_id, MASTERED_BOX),
        )
        return {r[0]: r[1] for r in rows}


def _platform_range(platform: str) -> tuple[str, str]:
    """Bounds of the server keys `<platform>:…`, as a range the primary keys can seek."""
    return f"{platform}:", f"{platform};"  # ';' sorts right after ':'


def _schedule(row: sqlite3.Row | tuple[Any, ...]) -> ScheduleRow:
    return ScheduleRow(
        server=row[0],
        channel=row[1],
        time=row[2],
        zone=row[3],
        last_error=row[4],
        last_error_at=from_text(row[5]),
        updated_at=from_text(row[6]),
    )


async def _connect(path: Path, *, check_version: bool = False) -> aiosqlite.Connection:
    try:
        db = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    try:
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if check_version:
            # Before anything writes to the file: a database we must refuse stays as it was.
            await _check_version(db, path)
        await db.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode never corrupts the file; a power cut may lose the last commits but
        # never a process crash, which is what a bot on a VPS meets.
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        await db.close()
        raise StoreError(f"cannot use database {path}: {exc}") from exc
    except BaseException:
        await db.close()
        raise
    return db


async def _schema_version(db: aiosqlite.Connection) -> int:
    row = await _one(db, "PRAGMA user_version")
    return int(row[0]) if row else 0


async def _check_version(db: aiosqlite.Connection, path: Path) -> None:
    version = await _schema_version(db)
    if version > len(MIGRATIONS):
        raise StoreError(
            f"database {path} has schema version {version}, newer than this dlquiz knows"
            f" ({len(MIGRATIONS)}); upgrade dlquiz or use another database"
        )


async def _migrate(db: aiosqlite.Connection, path: Path) -> None:
    try:
        version = await _schema_version(db)
        for number in range(version + 1, len(MIGRATIONS) + 1):
            await db.execute("BEGIN IMMEDIATE")
            for statement in _statements(MIGRATIONS[number - 1]):
                await db.execute(statement)
            await db.execute(f"PRAGMA user_version = {number}")
            await db.commit()
            log.info("database %s migrated to schema version %d", path, number)
    except sqlite3.DatabaseError as exc:
        await _rollback(db)
        raise StoreError(f"cannot use database {path}: {exc}") from exc


def _statements(script: str) -> Iterable[str]:
    """Split a migration into statements; a trigger's body keeps its own semicolons."""
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    statements, pending = [], ""
    for piece in "\n".join(lines).split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \n;"):
        statements.append(pending.strip())
    return statements


async def _rollback(db: aiosqlite.Connection) -> None:
    try:
        await db.rollback()
    except sqlite3.Error:
        log.exception("rollback failed")


async def _one(
    db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()
) -> sqlite3.Row | tuple[Any, ...] | None:
    # One thread call that runs the statement to its end. A cursor left open between awaits
    # would keep the connection's read snapshot, and every other coroutine's read on it would
    # miss commits made since.
    rows = await db.execute_fetchall(sql, params)
    return next(iter(rows), None)


async def _close_open_round(
    db: aiosqlite.Connection, channel: ChannelRef, at: datetime, *, unless_day: date | None = None
) -> RoundRow | None:
    """Close the channel's open round and return it; with `unless_day`, close nothing when
    that local day already has its round."""
    guard = ""
    params: tuple[str, ...] = (to_text(at), channel.server, channel.channel)
    if unless_day is not None:
        guard = (
            " AND NOT EXISTS (SELECT 1 FROM rounds WHERE server = ?2 AND channel = ?3 AND day = ?4)"
        )
        params += (unless_day.isoformat(),)
    # A question that never reached the channel has nothing to reveal there.
    rows = await db.execute_fetchall(
        "UPDATE rounds SET closed_at = ?1, reveal_posted = (message_ref IS NULL)"
        f" WHERE server = ?2 AND channel = ?3 AND closed_at IS NULL{guard}"
        f" RETURNING {_ROUND_COLUMNS},"
        " EXISTS (SELECT 1 FROM answers WHERE round_id = rounds.id)",
        params,
    )
    row = next(iter(rows), None)
    if row is None:
        return None
    closed = _round(row)
    if row[-1]:  # a round nobody answered has nothing to score
        await _score_round(db, closed)
        await _feed_practice(db, closed.id, at)
    return closed


async def _feed_practice(db: aiosqlite.Connection, round_id: int, at: datetime) -> None:
    """A revealed daily answer counts for spaced repetition as a practice answer would."""
    # next_box for every box a member can be in and either outcome, as a table SQL can join.
    rule = []
    for box in range(TOP_BOX + 1):
        for correct in (False, True):
            new_box = next_box(box, correct=correct)
            rule.append((box, int(correct), new_box, to_text(due_after(new_box, at))))
    await db.execute(
        "WITH rule (box, correct, new_box, due_at) AS"
        f" (VALUES {', '.join(['(?, ?, ?, ?)'] * len(rule))})"
        " INSERT INTO practice (server, user_id, question_id, topic, box, due_at, seen, correct,"
        " last_at)"
        " SELECT r.server, a.user_id, r.question_id, r.topic, n.new_box, n.due_at, 1, a.correct, ?"
        " FROM answers a JOIN rounds r ON r.id = a.round_id"
        " LEFT JOIN practice p ON p.server = r.server AND p.user_id = a.user_id"
        " AND p.question_id = r.question_id"
        " JOIN rule n ON n.box = coalesce(p.box, 0) AND n.correct = a.correct"
        " WHERE a.round_id = ?"
        " ON CONFLICT (server, user_id, question_id) DO UPDATE SET box = excluded.box,"
        " due_at = excluded.due_at, seen = seen + 1, correct = correct + excluded.correct,"
        " last_at = excluded.last_at",
        (*(value for row in rule for value in row), to_text(at), round_id),
    )


# --- recording a batch of answers, set-based ---------------------------------------------------
#
# A press only records the answer and the member's name: points and streaks are settled when the
# round closes (see _score_round), so nothing anyone can read changes with a right answer before
# the reveal. A batch takes four calls to the connection's thread whatever its size. Each call
# waits behind everything the event loop has queued (such as confirming the previous batch to its
# members), so the writes and the commit go in one script that runs while the loop does that work.

_PENDING_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY,
    round_id INTEGER, server TEXT, channel TEXT, user_id TEXT, name TEXT, choice INTEGER, at TEXT,
    status TEXT, correct INTEGER, prior_choice INTEGER
)
"""

# Each answer is classified as it enters the batch, from its round and the member's earlier answer
# to it.
_ADD_PENDING = """
INSERT INTO pending (seq, round_id, server, channel, user_id, name, choice, at,
                     status, correct, prior_choice)
SELECT i.*,
    CASE
        WHEN r.id IS NULL OR r.server != i.server OR r.channel != i.channel THEN 'unknown'
        WHEN i.choice < 0 OR i.choice >= r.choice_count THEN 'bad_choice'
        WHEN r.closed_at IS NOT NULL THEN 'closed'
        WHEN a.choice IS NOT NULL THEN 'duplicate'
        ELSE 'recorded' END,
    i.choice = r.answer,
    a.choice
FROM (SELECT ? AS seq, ? AS round_id, ? AS server, ? AS channel, ? AS user_id, ? AS name,
             ? AS choice, ? AS at) AS i
LEFT JOIN rounds r ON r.id = i.round_id
LEFT JOIN answers a ON a.round_id = i.round_id AND a.user_id = i.user_id
"""

_INSERT_ANSWERS = """
INSERT INTO answers (round_id, user_id, choice, correct, points, answered_at)
SELECT round_id, user_id, choice, correct, 0, at FROM pending WHERE status = 'recorded'
"""

# The name shown on leaderboards is the one of the member's latest answer; an unchanged name
# writes nothing.
_UPSERT_MEMBERS = """
INSERT INTO members (server, user_id, name)
SELECT server, user_id, name FROM pending WHERE status = 'recorded'
ON CONFLICT (server, user_id) DO UPDATE SET name = excluded.name WHERE name != excluded.name
"""

_OUTCOMES = """
SELECT seq, status, CASE status WHEN 'recorded' THEN choice WHEN 'duplicate' THEN prior_choice END
FROM pending
"""


@cache
def _outcome(status: str, choice: int | None) -> AnswerOutcome:
    """Outcomes are immutable and few: one shared object for each status and choice."""
    return AnswerOutcome(AnswerStatus(status), choice)


def _waves(requests: list[AnswerRequest]) -> list[list[tuple[int, AnswerRequest]]]:
    """Split a batch so no member answers one round twice in a wave: the second press must be
    classified after the first one is written. Almost every batch is a single wave."""
    if len({(r.round_id, r.user_id) for r in requests}) == len(requests):
        return [list(enumerate(requests))]
    waves: list[list[tuple[int, AnswerRequest]]] = []
    seen: list[set[tuple[int, str]]] = []
    for seq, request in enumerate(requests):
        key = (request.round_id, request.user_id)
        for wave, keys in zip(waves, seen, strict=True):
            if key not in keys:
                wave.append((seq, request))
                keys.add(key)
                break
        else:
            waves.append([(seq, request)])
            seen.append({key})
    return waves


_BEGIN_BATCH = f"{_PENDING_TABLE}; BEGIN; DELETE FROM pending;"

_WRITE_BATCH = ";\n".join(("BEGIN IMMEDIATE", _INSERT_ANSWERS, _UPSERT_MEMBERS, "COMMIT"))


async def _record_answers(
    db: aiosqlite.Connection,
    requests: list[AnswerRequest],
    *,
    before_write: Callable[[], None] = lambda: None,
) -> list[AnswerOutcome]:
    """Record a batch; every answer recorded here is committed when this returns.
    `before_write` runs just before the writes are handed to the database thread."""
    outcomes: list[AnswerOutcome | None] = [None] * len(requests)
    for wave in _waves(requests):
        # The batch is classified in a transaction of its own. Only this writer changes the
        # database, so nothing the classification read can change before the write below.
        await db.executescript(_BEGIN_BATCH)
        await db.executemany(
            _ADD_PENDING,
            [
                (seq, r.round_id, r.server, r.channel, r.user_id, r.name, r.choice, to_text(r.at))
                for seq, r in wave
            ],
        )
        # executescript commits the classification first, then runs the script as it is.
        written = db.executescript(_WRITE_BATCH)
        before_write()
        await written
        for seq, status, kept in await db.execute_fetchall(_OUTCOMES):
            outcomes[seq] = _outcome(status, kept)
    assert all(o is not None for o in outcomes)
    return [o for o in outcomes if o is not None]


# --- scoring a round as it closes, set-based ---------------------------------------------------
#
# Points and streaks are settled once, at the reveal: a right answer moves no total anyone can see
# before then. A member's streak goes on when their last right answer was the channel's previous
# round. A round's points count in the UTC week and month it was posted in. The statements run in
# this order: points read the streaks as they were before the round, and the totals read points.

_SET_POINTS = f"""
UPDATE answers SET points = r.base_points + coalesce((
    SELECT min(m.current_streak, {STREAK_BONUS_CAP}) FROM members m
    WHERE m.server = r.server AND m.user_id = answers.user_id
      AND m.streak_round_id = r.prev_round_id), 0)
FROM rounds r
WHERE r.id = :round AND answers.round_id = :round AND answers.correct
"""

_SET_STREAKS = """
UPDATE members SET
    current_streak = s.streak,
    longest_streak = max(longest_streak, s.streak),
    streak_round_id = CASE WHEN s.correct THEN :round END
FROM (
    SELECT a.user_id, a.correct,
        CASE WHEN NOT a.correct THEN 0
             WHEN m.streak_round_id = r.prev_round_id THEN m.current_streak + 1
             ELSE 1 END AS streak
    FROM answers a JOIN rounds r ON r.id = a.round_id
    JOIN members m ON m.server = r.server AND m.user_id = a.user_id
    WHERE a.round_id = :round) s
WHERE members.server = :server AND members.user_id = s.user_id
"""

_SCORED = "(SELECT user_id, correct, points FROM answers WHERE round_id = :round) AS s"
# Every answer counts all time; one that scored counts in the week and the month too.
_PERIODS = "(SELECT 'all' AS period UNION ALL SELECT :week UNION ALL SELECT :month) AS k"

_LEAVE_BUCKETS = f"""
UPDATE score_counts SET members = members - d.n FROM (
    SELECT t.period, t.points, count(*) AS n
    FROM {_SCORED} CROSS JOIN {_PERIODS} JOIN scores t
      ON t.server = :server AND t.period = k.period AND t.user_id = s.user_id
    WHERE s.points > 0 AND t.points > 0
    GROUP BY t.period, t.points) d
WHERE score_counts.server = :server AND score_counts.period = d.period
  AND score_counts.points = d.points
"""

_UPSERT_SCORES = f"""
INSERT INTO scores (server, period, user_id, points, answered, correct)
SELECT :server, k.period, s.user_id, s.points, 1, s.correct
FROM {_SCORED} CROSS JOIN {_PERIODS}
WHERE k.period = 'all' OR s.points > 0
ON CONFLICT (server, period, user_id) DO UPDATE SET
    points = points + excluded.points,
    answered = answered + 1,
    correct = correct + excluded.correct
"""

_ENTER_BUCKETS = f"""
INSERT INTO score_counts (server, period, points, members)
SELECT :server, t.period, t.points, count(*)
FROM {_SCORED} CROSS JOIN {_PERIODS} JOIN scores t
  ON t.server = :server AND t.period = k.period AND t.user_id = s.user_id
WHERE s.points > 0
GROUP BY t.period, t.points
ON CONFLICT (server, period, points) DO UPDATE SET members = members + excluded.members
"""

_SCORE_ROUND = (_SET_POINTS, _SET_STREAKS, _LEAVE_BUCKETS, _UPSERT_SCORES, _ENTER_BUCKETS)


async def _score_round(db: aiosqlite.Connection, closed: RoundRow) -> None:
    """Settle the points and streaks of a round that has just closed (in the caller's
    transaction)."""
    params = {
        "round": closed.id,
        "server": closed.server,
        "week": period_key(Period.WEEK, closed.posted_at),
        "month": period_key(Period.MONTH, closed.posted_at),
    }
    for statement in _SCORE_ROUND:
        await db.execute(statement, params)
