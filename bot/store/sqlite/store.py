"""The SQLite backend: an embedded file, one writer per process (see writer.py), reads on a
second connection that WAL lets run while the writer commits."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.models import ChannelRef
from bot.practice import MASTERED_BOX, due_after, next_box
from bot.store.api import (
    HANDLED_REQUESTS_KEPT,
    INSTALLATION_ROWS,
    SERVER_ROWS,
    SETTINGS_COLUMNS,
    AnswerOutcome,
    AnswerRequest,
    ChannelSettings,
    Delivery,
    DeliveryKind,
    DrawState,
    ItemColumns,
    MemberRow,
    NewRound,
    NewServerQuestion,
    PracticeMark,
    PracticeRow,
    RoundRow,
    ScheduleRow,
    ScoreRow,
    ServerQuestionRow,
    Shards,
    Standing,
    StartedRound,
    StoreError,
    SuggestionStatus,
    installation_team,
)
from bot.store.sqlite import claims, community, deliveries, items
from bot.store.sqlite.connection import connect, fetch_all, first, migrate, on_thread, one, to_text
from bot.store.sqlite.rows import (
    ROUND_COLUMNS,
    SCHEDULE_COLUMNS,
    platform_range,
    round_row,
    schedule_row,
)
from bot.store.sqlite.scoring import close_open_round
from bot.store.sqlite.writer import Writer

T = TypeVar("T")


class SqliteStore:
    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = Writer(writer)
        self._reader = reader
        self._closed = False

    @property
    def location(self) -> str:
        return str(self.path)

    @classmethod
    async def open(cls, path: str | Path) -> SqliteStore:
        """Open (creating and migrating as needed) the database at `path`."""
        path = Path(path)
        if path.is_dir():
            raise StoreError(
                f"database path {path} is a folder; give a file path such as {path}/dlquiz.db"
            )
        if not path.parent.exists():
            raise StoreError(f"cannot open database {path}: folder {path.parent} does not exist")
        writer = await connect(path, verify=True)
        try:
            await migrate(writer, path)
            reader = await connect(path)
        except BaseException:
            await writer.close()
            raise
        return cls(path, writer, reader)

    async def close(self) -> None:
        """Finish every queued write, then close both connections."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._writer.close()
        finally:
            await self._reader.close()

    async def __aenter__(self) -> SqliteStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def submit_answer(self, request: AnswerRequest) -> AnswerOutcome:
        return await self._writer.submit_answer(request)

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the database thread in a write transaction, in order with every other
        write (for tools such as the benchmarks that fill a database with SQL of their own)."""
        return await self._writer.write(work)

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

        def work(db: sqlite3.Connection) -> StartedRound | None:
            deliveries.due_now(db, channel, posted_at)
            closed = close_open_round(db, channel, posted_at, unless_day=day)
            try:
                rows = fetch_all(
                    db,
                    "INSERT INTO rounds (server, channel, question_id, topic, difficulty,"
                    " choice_count, answer, base_points, cycle, prev_round_id, day, posted_at,"
                    " reveal_at, token, question) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
                    # A streak runs over the rounds members saw: one that never reached the
                    # channel is skipped.
                    " (SELECT max(id) FROM rounds WHERE server = ?1 AND channel = ?2"
                    "  AND message_ref IS NOT NULL AND message_ref != ''),"
                    f" ?10, ?11, ?12, ?13, ?14) RETURNING {ROUND_COLUMNS}",
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
                        new.token,
                        new.snapshot,
                    ),
                )
            except sqlite3.IntegrityError:
                if day is None:
                    raise
                return None  # the day's round exists; the guard above left the open one open
            started = round_row(next(iter(rows)))
            deliveries.queue(db, started, DeliveryKind.QUESTION, posted_at)
            return StartedRound(round=started, closed=closed)

        return await self._writer.write(work)

    async def close_round(self, channel: ChannelRef, at: datetime) -> RoundRow | None:
        """Close the channel's open round; it, or None when none was open."""

        def work(db: sqlite3.Connection) -> RoundRow | None:
            deliveries.due_now(db, channel, at)
            return close_open_round(db, channel, at)

        return await self._writer.write(work)

    async def _execute_write(self, sql: str, params: tuple[Any, ...]) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute(sql, params)

        await self._writer.write(work)

    async def round_by_id(self, round_id: int) -> RoundRow | None:
        row = await one(
            self._reader, f"SELECT {ROUND_COLUMNS} FROM rounds WHERE id = ?", (round_id,)
        )
        return round_row(row) if row else None

    async def open_round(self, channel: ChannelRef) -> RoundRow | None:
        row = await one(
            self._reader,
            f"SELECT {ROUND_COLUMNS} FROM rounds"
            " WHERE server = ? AND channel = ? AND closed_at IS NULL",
            (channel.server, channel.channel),
        )
        return round_row(row) if row else None

    async def open_rounds(self, *, platform: str | None = None) -> list[RoundRow]:
        where, params = "", tuple[str, ...]()
        if platform is not None:
            where = " AND server >= ? AND server < ?"
            params = platform_range(platform)
        rows = await self._reader.execute_fetchall(
            f"SELECT {ROUND_COLUMNS} FROM rounds WHERE closed_at IS NULL{where} ORDER BY id",
            params,
        )
        return [round_row(row) for row in rows]

    # --- deliveries ---------------------------------------------------------------------------

    async def claim_delivery(
        self, channel: ChannelRef, *, worker: str, now: datetime, lease: timedelta
    ) -> Delivery | None:
        return await self._writer.write(
            lambda db: deliveries.claim(db, channel, worker, now, lease)
        )

    async def finish_delivery(
        self, delivery_id: int, *, message_ref: str | None, at: datetime
    ) -> bool:
        return await self._writer.write(
            lambda db: deliveries.finish(db, delivery_id, message_ref, at)
        )

    async def fail_delivery(
        self,
        delivery_id: int,
        *,
        error: str,
        retry_at: datetime,
        give_up: bool,
        at: datetime,
        ambiguous: bool = False,
    ) -> None:
        await self._writer.write(
            lambda db: deliveries.fail(
                db,
                delivery_id,
                error=error,
                retry_at=retry_at,
                give_up=give_up,
                at=at,
                ambiguous=ambiguous,
            )
        )

    async def abandon_deliveries(self, *, server: str, reason: str, at: datetime) -> int:
        def work(db: sqlite3.Connection) -> int:
            cursor = db.execute(
                "UPDATE deliveries SET done_at = ?, outcome = 'failed', last_error = ?,"
                " claimed_by = NULL, claimed_until = NULL WHERE server = ? AND done_at IS NULL",
                (to_text(at), reason, server),
            )
            return cursor.rowcount

        return await self._writer.write(work)

    async def release_deliveries(self, *, worker: str) -> int:
        def work(db: sqlite3.Connection) -> int:
            cursor = db.execute(
                "UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL"
                " WHERE claimed_by = ? AND done_at IS NULL",
                (worker,),
            )
            return cursor.rowcount

        return await self._writer.write(work)

    async def due_delivery_channels(
        self, *, platform: str | None, now: datetime, limit: int = 100, shards: Shards | None = None
    ) -> list[ChannelRef]:
        where, params = claims.shard_filter(shards)
        if platform is not None:
            where += " AND server >= :low AND server < :high"
            params["low"], params["high"] = platform_range(platform)
        moment = to_text(now)
        rows = await self._reader.execute_fetchall(
            "SELECT server, channel FROM deliveries WHERE done_at IS NULL AND due_at <= :now"
            f" AND (claimed_until IS NULL OR claimed_until < :now){where}"
            " GROUP BY server, channel ORDER BY min(id) LIMIT :limit",
            {"now": moment, "limit": limit, **params},
        )
        return [ChannelRef(row[0], row[1]) for row in rows]

    async def deliveries_of(self, round_id: int) -> dict[DeliveryKind, tuple[str | None, int]]:
        rows = await self._reader.execute_fetchall(
            "SELECT kind, outcome, attempts FROM deliveries WHERE round_id = ?", (round_id,)
        )
        return {DeliveryKind(row[0]): (row[1], row[2]) for row in rows}

    async def draw_state(self, channel: ChannelRef) -> DrawState:
        rows = await self._reader.execute_fetchall(
            f"SELECT r.cycle, r.question_id, {SETTINGS_COLUMNS}"
            " FROM (SELECT 1) AS one"
            " LEFT JOIN channel_settings s ON s.server = ?1 AND s.channel = ?2"
            " LEFT JOIN rounds r ON r.server = ?1 AND r.channel = ?2"
            "  AND r.cycle = (SELECT max(cycle) FROM rounds WHERE server = ?1 AND channel = ?2)"
            " ORDER BY r.id",
            (channel.server, channel.channel),
        )
        return DrawState.from_rows(list(rows))

    async def tally(self, round_id: int, choice_count: int) -> tuple[int, ...]:
        rows = await self._reader.execute_fetchall(
            "SELECT choice, count(*) FROM answers WHERE round_id = ? GROUP BY choice", (round_id,)
        )
        counts = [0] * choice_count
        for choice, count in rows:
            counts[choice] = count
        return tuple(counts)

    async def choice_of(self, round_id: int, user_id: str) -> int | None:
        row = await one(
            self._reader,
            "SELECT choice FROM answers WHERE round_id = ? AND user_id = ?",
            (round_id, user_id),
        )
        return row[0] if row else None

    # --- scores -------------------------------------------------------------------------------

    async def leaderboard(
        self, *, server: str, period: str, limit: int = 10, offset: int = 0
    ) -> list[tuple[int, ScoreRow]]:
        """`limit` members with points from place `offset` on, ranked; equal points share a rank.

        The rank comes from the histogram of totals, not from the page: a tie that starts on an
        earlier page keeps that page's rank, and one statement keeps rows and ranks consistent."""
        query, params = (
            (_PAGE, (server, period, limit, offset)) if offset else (_TOP, (server, period, limit))
        )
        rows = await self._reader.execute_fetchall(query, params)
        return [(row[0], ScoreRow(*row[1:])) for row in rows]

    async def position_of(self, *, server: str, period: str, user_id: str) -> int | None:
        row = await one(
            self._reader,
            "SELECT 1 + (SELECT coalesce(sum(c.members), 0) FROM score_counts c"
            "   WHERE c.server = s.server AND c.period = s.period AND c.points > s.points)"
            " + (SELECT count(*) FROM scores t WHERE t.server = s.server"
            "   AND t.period = s.period AND t.points = s.points AND t.user_id < s.user_id)"
            " FROM scores s WHERE s.server = ? AND s.period = ? AND s.user_id = ? AND s.points > 0",
            (server, period, user_id),
        )
        return int(row[0]) if row else None

    async def score_of(self, *, server: str, period: str, user_id: str) -> ScoreRow | None:
        row = await one(
            self._reader,
            "SELECT s.user_id, coalesce(m.name, s.user_id), s.points, s.answered, s.correct"
            " FROM scores s LEFT JOIN members m ON m.server = s.server AND m.user_id = s.user_id"
            " WHERE s.server = ? AND s.period = ? AND s.user_id = ?",
            (server, period, user_id),
        )
        return ScoreRow(*row) if row else None

    async def standing(
        self, *, server: str, period: str, user_id: str, with_place: bool = True
    ) -> Standing:
        # In-process reads: three small queries cost less than one that joins them.
        score = await self.score_of(server=server, period=period, user_id=user_id)
        rank, ranked = await self.rank_of(
            server=server, period=period, points=score.points if score else 0
        )
        place = None
        if with_place:
            place = await self.position_of(server=server, period=period, user_id=user_id)
        return Standing(score, rank, ranked, place)

    async def rank_of(self, *, server: str, period: str, points: int) -> tuple[int | None, int]:
        """The rank a member with `points` holds, and how many members hold any points."""
        row = await one(
            self._reader,
            "SELECT coalesce(sum(CASE WHEN points > ? THEN members END), 0),"
            " coalesce(sum(members), 0)"
            " FROM score_counts WHERE server = ? AND period = ? AND points > 0",
            (points, server, period),
        )
        above, ranked = (row[0], row[1]) if row else (0, 0)
        return (above + 1 if points > 0 else None), ranked

    async def member(self, *, server: str, user_id: str) -> MemberRow | None:
        row = await one(
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
            latest = await one(
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
        row = await one(
            self._reader,
            "SELECT user_id FROM members WHERE server = ? AND user_id = ?",
            (server, text),
        )
        if row:
            return str(row[0])
        row = await one(
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

    async def answer_days(
        self, *, server: str, user_id: str, since: date
    ) -> list[tuple[date, int, int]]:
        rows = await self._reader.execute_fetchall(
            # The answer's time is kept as UTC ISO text: its first ten characters are the day.
            "SELECT substr(a.answered_at, 1, 10), count(*), sum(a.correct) FROM rounds r"
            " JOIN answers a ON a.round_id = r.id AND a.user_id = ?"
            " WHERE r.server = ? AND r.closed_at IS NOT NULL AND a.answered_at >= ?"
            " GROUP BY 1 ORDER BY 1",
            (user_id, server, since.isoformat()),
        )
        return [(date.fromisoformat(row[0]), row[1], row[2]) for row in rows]

    # --- schedules ----------------------------------------------------------------------------

    async def set_schedule(
        self, channel: ChannelRef, *, time: str, zone: str, at: datetime
    ) -> None:
        await self._execute_write(
            "INSERT INTO schedules (server, channel, time, zone, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (server, channel) DO UPDATE SET time = excluded.time,"
            " zone = excluded.zone, updated_at = excluded.updated_at,"
            " last_error = NULL, last_error_at = NULL,"
            # Whichever process looks next works out the new time; a claim on the old one ends.
            " next_due_at = NULL, claimed_by = NULL, claimed_until = NULL",
            (channel.server, channel.channel, time, zone, to_text(at)),
        )

    async def delete_schedule(self, channel: ChannelRef) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "DELETE FROM schedules WHERE server = ? AND channel = ?",
                (channel.server, channel.channel),
            )
            return cursor.rowcount > 0

        return await self._writer.write(work)

    async def forget_server(self, server: str) -> dict[str, int]:
        def work(db: sqlite3.Connection) -> dict[str, int]:
            deleted = {}
            for table, rows in SERVER_ROWS:
                cursor = db.execute(f"DELETE FROM {table} WHERE {rows.format(p='?')}", (server,))
                deleted[table] = cursor.rowcount
            team = installation_team(server)
            if team is not None:
                names = [table for table, _ in INSTALLATION_ROWS]
                cursor = db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    f" AND name IN ({', '.join('?' * len(names))})",
                    names,
                )
                present = {r[0] for r in cursor.fetchall()}
                for table, rows in INSTALLATION_ROWS:
                    if table in present:
                        cursor = db.execute(
                            f"DELETE FROM {table} WHERE {rows.format(p='?')}", (team,)
                        )
                        deleted[table] = cursor.rowcount
            return deleted

        return await self._writer.write(work)

    async def first_time(self, key: str, at: datetime) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            db.execute(
                "DELETE FROM handled_requests WHERE at < ?", (to_text(at - HANDLED_REQUESTS_KEPT),)
            )
            cursor = db.execute(
                "INSERT INTO handled_requests (key, at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (key, to_text(at)),
            )
            return cursor.rowcount == 1

        return await self._writer.write(work)

    async def record_home_opened(self, *, server: str, user_id: str, at: datetime) -> None:
        await self._execute_write(
            "INSERT INTO home_views (server, user_id, opened_at) VALUES (?, ?, ?)"
            " ON CONFLICT (server, user_id) DO UPDATE SET opened_at = excluded.opened_at",
            (server, user_id, to_text(at)),
        )

    async def home_viewers(self, round_id: int) -> list[str]:
        rows = await self._reader.execute_fetchall(
            "SELECT a.user_id FROM answers a JOIN rounds r ON r.id = a.round_id"
            " JOIN home_views h ON h.server = r.server AND h.user_id = a.user_id"
            " WHERE a.round_id = ? ORDER BY a.user_id",
            (round_id,),
        )
        return [row[0] for row in rows]

    async def record_post_error(self, channel: ChannelRef, *, error: str, at: datetime) -> None:
        """Keep why posting failed, for `/dlquiz schedule`; a later delivery clears it."""
        await self._execute_write(
            "UPDATE schedules SET last_error = ?, last_error_at = ?"
            " WHERE server = ? AND channel = ?",
            (error, to_text(at), channel.server, channel.channel),
        )

    async def schedule(self, channel: ChannelRef) -> ScheduleRow | None:
        row = await one(
            self._reader,
            f"SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE server = ? AND channel = ?",
            (channel.server, channel.channel),
        )
        return schedule_row(row) if row else None

    async def schedules(self, *, platform: str | None = None) -> list[ScheduleRow]:
        """Every schedule, or those of one platform's servers."""
        where, params = "", tuple[str, ...]()
        if platform is not None:
            where = "WHERE server >= ? AND server < ?"
            params = platform_range(platform)
        rows = await self._reader.execute_fetchall(
            f"SELECT {SCHEDULE_COLUMNS} FROM schedules {where} ORDER BY server, channel", params
        )
        return [schedule_row(row) for row in rows]

    async def claim_due_schedules(
        self,
        *,
        platform: str | None,
        now: datetime,
        worker: str,
        lease: timedelta,
        limit: int = 50,
        shards: Shards | None = None,
    ) -> list[ScheduleRow]:
        return await self._writer.write(
            lambda db: claims.claim_due(
                db,
                platform=platform,
                now=now,
                worker=worker,
                lease=lease,
                limit=limit,
                shards=shards,
            )
        )

    async def finish_schedule(
        self, channel: ChannelRef, *, worker: str, next_due_at: datetime
    ) -> bool:
        return await self._writer.write(lambda db: claims.finish(db, channel, worker, next_due_at))

    async def reserve_identify(self, *, bucket: int, now: datetime, spacing: timedelta) -> datetime:
        return await self._writer.write(
            lambda db: claims.reserve_identify(db, bucket, now, spacing)
        )

    async def daily_round_exists(self, channel: ChannelRef, day: date) -> bool:
        row = await one(
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

        def work(db: sqlite3.Connection) -> PracticeMark | None:
            row = first(
                db,
                "SELECT box, asked, asked_filter FROM practice"
                " WHERE server = ? AND user_id = ? AND question_id = ?",
                (server, user_id, question_id),
            )
            if row is None or not row[1]:
                return None
            box = next_box(row[0], correct=correct)
            due = due_after(box, at)
            db.execute(
                "UPDATE practice SET box = ?, due_at = ?, seen = seen + 1,"
                " correct = correct + ?, last_at = ?, asked = 0"
                " WHERE server = ? AND user_id = ? AND question_id = ?",
                (box, to_text(due), int(correct), to_text(at), server, user_id, question_id),
            )
            return PracticeMark(box=box, due_at=due, filter=row[2])

        return await self._writer.write(work)

    async def mastery(self, *, server: str, user_id: str) -> dict[str, int]:
        rows = await self._reader.execute_fetchall(
            "SELECT topic, count(*) FROM practice"
            " WHERE server = ? AND user_id = ? AND box >= ? GROUP BY topic",
            (server, user_id, MASTERED_BOX),
        )
        return {r[0]: r[1] for r in rows}

    async def practice_boxes(self, *, server: str, user_id: str) -> list[tuple[str, int, int]]:
        rows = await self._reader.execute_fetchall(
            "SELECT topic, box, count(*) FROM practice WHERE server = ? AND user_id = ?"
            " AND box > 0 GROUP BY topic, box ORDER BY topic, box",
            (server, user_id),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    # --- item analysis ------------------------------------------------------------------------

    async def item_columns(self, server: str | None) -> ItemColumns:
        return await items.item_columns(self.path, server)

    # --- a server's own questions and channel settings ----------------------------------------

    async def add_server_questions(
        self, *, server: str, questions: list[NewServerQuestion], at: datetime
    ) -> list[int]:
        return await self._writer.write(lambda db: community.add(db, server, questions, at))

    async def server_questions(
        self, *, server: str, status: SuggestionStatus | None = None
    ) -> list[ServerQuestionRow]:
        return await community.listed(self._reader, server, status)

    async def server_question(self, *, server: str, id: int) -> ServerQuestionRow | None:
        return await community.by_id(self._reader, server, id)

    async def decide_server_question(
        self,
        *,
        server: str,
        id: int,
        status: SuggestionStatus,
        question: str | None,
        reason: str | None,
        at: datetime,
    ) -> bool:
        return await self._writer.write(
            lambda db: community.decide(
                db, server=server, id=id, status=status, question=question, reason=reason, at=at
            )
        )

    async def untold_outcomes(self, *, server: str, author_id: str) -> list[ServerQuestionRow]:
        return await community.untold(self._reader, server, author_id)

    async def mark_told(self, *, server: str, ids: list[int]) -> None:
        await self._writer.write(lambda db: community.mark_told(db, server, ids))

    async def channel_settings(self, channel: ChannelRef) -> ChannelSettings | None:
        return await on_thread(self._reader, lambda db: community.settings(db, channel))

    async def set_channel_settings(
        self, channel: ChannelRef, settings: ChannelSettings, *, at: datetime
    ) -> None:
        await self._writer.write(lambda db: community.set_settings(db, channel, settings, at))


# The first page needs no histogram to find where it starts.
_TOP = """
SELECT 1 + (SELECT coalesce(sum(c.members), 0) FROM score_counts c
            WHERE c.server = s.server AND c.period = s.period AND c.points > s.points),
    s.user_id, coalesce(m.name, s.user_id), s.points, s.answered, s.correct
FROM scores s LEFT JOIN members m ON m.server = s.server AND m.user_id = s.user_id
WHERE s.server = ?1 AND s.period = ?2 AND s.points > 0
ORDER BY s.points DESC, s.user_id LIMIT ?3
"""

# A page found from the histogram, never by OFFSET over the board (which reads every member
# before the page: seconds deep into a million). The histogram's running sum names the points
# total at which the page starts and how many members with that total come before it; the page
# is then those members from there on and the ones below, two short index range scans. One
# statement, so the page and its ranks come from one snapshot.
_PAGE = """
WITH h AS (
    SELECT points, members, sum(members) OVER (ORDER BY points DESC) AS through
    FROM score_counts WHERE server = ?1 AND period = ?2 AND points > 0
),
pick AS (
    SELECT points, ?4 - (through - members) AS skip FROM h WHERE through > ?4
    ORDER BY points DESC LIMIT 1
),
page AS (
    SELECT * FROM (
        SELECT s.user_id, s.points, s.answered, s.correct FROM scores s
        WHERE s.server = ?1 AND s.period = ?2 AND s.points = (SELECT points FROM pick)
        ORDER BY s.points DESC, s.user_id LIMIT ?3 OFFSET coalesce((SELECT skip FROM pick), 0)
    )
    UNION ALL
    SELECT * FROM (
        SELECT s.user_id, s.points, s.answered, s.correct FROM scores s
        WHERE s.server = ?1 AND s.period = ?2 AND s.points > 0
          AND s.points < (SELECT points FROM pick)
        ORDER BY s.points DESC, s.user_id LIMIT ?3
    )
)
SELECT 1 + (SELECT coalesce(sum(c.members), 0) FROM score_counts c
            WHERE c.server = ?1 AND c.period = ?2 AND c.points > p.points),
    p.user_id, coalesce(m.name, p.user_id), p.points, p.answered, p.correct
FROM page p LEFT JOIN members m ON m.server = ?1 AND m.user_id = p.user_id
ORDER BY p.points DESC, p.user_id LIMIT ?3
"""
