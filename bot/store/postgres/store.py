"""The PostgreSQL backend: several processes on one database, the database deciding every rule.

Answers go through one writer connection per process that group-commits them (writer.py). Reads
and the other writes use a small pool (connection.py); each write is one transaction, and the
read-then-write ones (closing rounds, marking practice) lock what they read first: a channel's
advisory lock, a row `FOR UPDATE`. Opening a round with nothing to close is one statement that
the unique keys guard instead (rounds.py). Unique keys are written with `ON CONFLICT`, never by
catching a violation (which would abort the whole transaction).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta

import asyncpg

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
from bot.store.postgres import claims, community, deliveries, items, rounds
from bot.store.postgres.connection import Connections, Lent, connect, guarded, redact
from bot.store.postgres.locks import locked
from bot.store.postgres.migrations import migrate
from bot.store.postgres.rows import (
    ROUND_COLUMNS,
    SCHEDULE_COLUMNS,
    Conn,
    clean,
    round_row,
    schedule_row,
)
from bot.store.postgres.scoring import close_open_round
from bot.store.postgres.writer import Writer

POOL_SIZE = 10


class PostgresStore:
    def __init__(self, url: str, writer: asyncpg.Connection, pool: Connections) -> None:
        self._url = url
        self._writer = Writer(writer, lambda: connect(url))
        self._pool = pool
        self._closed = False

    @property
    def location(self) -> str:
        """The URL without its password."""
        return redact(self._url)

    @classmethod
    async def open(cls, url: str) -> PostgresStore:
        """Connect to the database at `url`, migrating it as needed (once, whatever the number
        of processes starting together)."""
        writer = await connect(url)
        try:
            await guarded(url, migrate(writer, redact(url)))
            pool = Connections(url, POOL_SIZE)
            await pool.open()
        except BaseException:
            await writer.close()
            raise
        return cls(url, writer, pool)

    async def close(self) -> None:
        """Finish every queued or running write, then release the connections."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._writer.close()
        finally:
            await self._pool.close()

    async def __aenter__(self) -> PostgresStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _connection(self) -> Lent:
        if self._closed:
            raise StoreError("the database is closed")
        return self._pool.lend()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Conn]:
        async with self._connection() as conn, conn.transaction():
            yield conn

    async def _fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        async with self._connection() as conn:
            return await conn.fetch(sql, *args)

    async def _fetchrow(self, sql: str, *args: object) -> asyncpg.Record | None:
        async with self._connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def _execute(self, sql: str, *args: object) -> str:
        async with self._connection() as conn:
            return await conn.execute(sql, *args)

    # --- answers ------------------------------------------------------------------------------

    async def submit_answer(self, request: AnswerRequest) -> AnswerOutcome:
        return await self._writer.submit_answer(request)

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
        async with self._connection() as conn:
            return await rounds.start(
                conn,
                channel,
                new,
                cycle=cycle,
                day=day,
                posted_at=posted_at,
                reveal_at=reveal_at,
            )

    async def close_round(self, channel: ChannelRef, at: datetime) -> RoundRow | None:
        """Close the channel's open round; it, or None when none was open."""
        async with (
            self._connection() as conn,
            locked(conn, channel.server, channel.channel),
        ):
            return await close_open_round(conn, channel, at)

    async def round_by_id(self, round_id: int) -> RoundRow | None:
        row = await self._fetchrow(f"SELECT {ROUND_COLUMNS} FROM rounds WHERE id = $1", round_id)
        return round_row(row) if row else None

    async def open_round(self, channel: ChannelRef) -> RoundRow | None:
        row = await self._fetchrow(
            f"SELECT {ROUND_COLUMNS} FROM rounds"
            " WHERE server = $1 AND channel = $2 AND closed_at IS NULL",
            channel.server,
            channel.channel,
        )
        return round_row(row) if row else None

    async def open_rounds(self, *, platform: str | None = None) -> list[RoundRow]:
        where, params = "", tuple[str, ...]()
        if platform is not None:
            where, params = " AND starts_with(server, $1)", (f"{platform}:",)
        rows = await self._fetch(
            f"SELECT {ROUND_COLUMNS} FROM rounds WHERE closed_at IS NULL{where} ORDER BY id",
            *params,
        )
        return [round_row(row) for row in rows]

    # --- deliveries ---------------------------------------------------------------------------

    async def claim_delivery(
        self, channel: ChannelRef, *, worker: str, now: datetime, lease: timedelta
    ) -> Delivery | None:
        async with self._connection() as conn:
            return await deliveries.claim(conn, channel, worker, now, lease)

    async def finish_delivery(
        self, delivery_id: int, *, message_ref: str | None, at: datetime
    ) -> bool:
        async with self._connection() as conn:
            return await deliveries.finish(conn, delivery_id, message_ref, at)

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
        async with self._connection() as conn:
            await deliveries.fail(
                conn,
                delivery_id,
                error=error,
                retry_at=retry_at,
                give_up=give_up,
                at=at,
                ambiguous=ambiguous,
            )

    async def abandon_deliveries(self, *, server: str, reason: str, at: datetime) -> int:
        status = await self._execute(
            "UPDATE deliveries SET done_at = $1, outcome = 'failed', last_error = $2,"
            " claimed_by = NULL, claimed_until = NULL WHERE server = $3 AND done_at IS NULL",
            at,
            clean(reason),
            server,
        )
        return int(status.split()[-1])

    async def release_deliveries(self, *, worker: str) -> int:
        status = await self._execute(
            "UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL"
            " WHERE claimed_by = $1 AND done_at IS NULL",
            worker,
        )
        return int(status.split()[-1])

    async def due_delivery_channels(
        self, *, platform: str | None, now: datetime, limit: int = 100, shards: Shards | None = None
    ) -> list[ChannelRef]:
        where, params = claims.shard_filter(shards, 3)
        if platform is not None:
            where += f" AND starts_with(server, ${3 + len(params)})"
            params.append(f"{platform}:")
        rows = await self._fetch(
            "SELECT server, channel FROM deliveries WHERE done_at IS NULL AND due_at <= $1"
            f" AND (claimed_until IS NULL OR claimed_until < $1){where}"
            " GROUP BY server, channel ORDER BY min(id) LIMIT $2",
            now,
            limit,
            *params,
        )
        return [ChannelRef(row[0], row[1]) for row in rows]

    async def deliveries_of(self, round_id: int) -> dict[DeliveryKind, tuple[str | None, int]]:
        rows = await self._fetch(
            "SELECT kind, outcome, attempts FROM deliveries WHERE round_id = $1", round_id
        )
        return {DeliveryKind(row[0]): (row[1], row[2]) for row in rows}

    async def draw_state(self, channel: ChannelRef) -> DrawState:
        rows = await self._fetch(
            f"SELECT r.cycle, r.question_id, {SETTINGS_COLUMNS}"
            " FROM (SELECT 1) AS one"
            " LEFT JOIN channel_settings s ON s.server = $1 AND s.channel = $2"
            " LEFT JOIN rounds r ON r.server = $1 AND r.channel = $2"
            "  AND r.cycle = (SELECT max(cycle) FROM rounds WHERE server = $1 AND channel = $2)"
            " ORDER BY r.id",
            channel.server,
            channel.channel,
        )
        return DrawState.from_rows([tuple(row) for row in rows])

    async def tally(self, round_id: int, choice_count: int) -> tuple[int, ...]:
        rows = await self._fetch(
            "SELECT choice, count(*) FROM answers WHERE round_id = $1 GROUP BY choice", round_id
        )
        counts = [0] * choice_count
        for choice, count in rows:
            counts[choice] = count
        return tuple(counts)

    async def choice_of(self, round_id: int, user_id: str) -> int | None:
        row = await self._fetchrow(
            "SELECT choice FROM answers WHERE round_id = $1 AND user_id = $2", round_id, user_id
        )
        return row[0] if row else None

    async def daily_round_exists(self, channel: ChannelRef, day: date) -> bool:
        async with self._connection() as conn:
            return await _has_day(conn, channel, day)

    # --- scores -------------------------------------------------------------------------------

    async def leaderboard(
        self, *, server: str, period: str, limit: int = 10, offset: int = 0
    ) -> list[tuple[int, ScoreRow]]:
        """`limit` members with points from place `offset` on, ranked; equal points share a rank.

        The rank comes from the histogram of totals, not from the page: a tie that starts on an
        earlier page keeps that page's rank, and one statement keeps rows and ranks consistent."""
        if offset:
            rows = await self._fetch(_PAGE, server, period, limit, offset)
        else:
            rows = await self._fetch(_TOP, server, period, limit)
        return [(int(row[0]), ScoreRow(*row[1:])) for row in rows]

    async def position_of(self, *, server: str, period: str, user_id: str) -> int | None:
        row = await self._fetchrow(
            "SELECT 1 + (SELECT coalesce(sum(c.members), 0) FROM score_counts c"
            "   WHERE c.server = s.server AND c.period = s.period AND c.points > s.points)"
            " + (SELECT count(*) FROM scores t WHERE t.server = s.server"
            "   AND t.period = s.period AND t.points = s.points AND t.user_id < s.user_id)"
            " FROM scores s WHERE s.server = $1 AND s.period = $2 AND s.user_id = $3"
            " AND s.points > 0",
            server,
            period,
            user_id,
        )
        return int(row[0]) if row else None

    async def score_of(self, *, server: str, period: str, user_id: str) -> ScoreRow | None:
        row = await self._fetchrow(
            "SELECT s.user_id, coalesce(m.name, s.user_id), s.points, s.answered, s.correct"
            " FROM scores s LEFT JOIN members m ON m.server = s.server AND m.user_id = s.user_id"
            " WHERE s.server = $1 AND s.period = $2 AND s.user_id = $3",
            server,
            period,
            user_id,
        )
        return ScoreRow(*row) if row else None

    async def standing(
        self, *, server: str, period: str, user_id: str, with_place: bool = True
    ) -> Standing:
        # One trip: the score, the histogram's sums above it and in all, and the members tied
        # with it that sort first (its place among equals on the page).
        row = await self._fetchrow(
            "WITH own AS (SELECT s.user_id, coalesce(m.name, s.user_id) AS name, s.points,"
            "   s.answered, s.correct FROM scores s"
            "   LEFT JOIN members m ON m.server = s.server AND m.user_id = s.user_id"
            "   WHERE s.server = $1 AND s.period = $2 AND s.user_id = $3)"
            " SELECT o.user_id, o.name, o.points, o.answered, o.correct,"
            " (SELECT coalesce(sum(c.members) FILTER (WHERE c.points > coalesce(o.points, 0)), 0)"
            "  FROM score_counts c WHERE c.server = $1 AND c.period = $2 AND c.points > 0),"
            " (SELECT coalesce(sum(c.members), 0) FROM score_counts c"
            "  WHERE c.server = $1 AND c.period = $2 AND c.points > 0),"
            " CASE WHEN $4 AND o.points > 0 THEN (SELECT count(*) FROM scores t WHERE t.server = $1"
            "  AND t.period = $2 AND t.points = o.points AND t.user_id < o.user_id) END"
            " FROM (SELECT 1) AS one LEFT JOIN own o ON true",
            server,
            period,
            user_id,
            with_place,
        )
        assert row is not None  # the outer side is one row, always there
        score = ScoreRow(*row[:5]) if row[0] is not None else None
        above, ranked, tied_before = int(row[5]), int(row[6]), row[7]
        if score is None or score.points <= 0:
            return Standing(score, None, ranked, None)
        place = above + 1 + int(tied_before) if with_place else None
        return Standing(score, above + 1, ranked, place)

    async def rank_of(self, *, server: str, period: str, points: int) -> tuple[int | None, int]:
        """The rank a member with `points` holds, and how many members hold any points: from the
        histogram, a few hundred rows whatever the number of members."""
        row = await self._fetchrow(
            "SELECT coalesce(sum(members) FILTER (WHERE points > $1), 0),"
            " coalesce(sum(members), 0)"
            " FROM score_counts WHERE server = $2 AND period = $3 AND points > 0",
            points,
            server,
            period,
        )
        above, ranked = (int(row[0]), int(row[1])) if row else (0, 0)
        return (above + 1 if points > 0 else None), ranked

    async def member(self, *, server: str, user_id: str) -> MemberRow | None:
        row = await self._fetchrow(
            "SELECT m.user_id, m.name, m.current_streak, m.longest_streak, m.streak_round_id,"
            " latest.id, latest.prev_round_id, latest.closed_at"
            " FROM members m LEFT JOIN rounds r ON r.id = m.streak_round_id"
            " LEFT JOIN LATERAL (SELECT id, prev_round_id, closed_at FROM rounds"
            "   WHERE server = r.server AND channel = r.channel ORDER BY id DESC LIMIT 1) latest"
            " ON true"
            " WHERE m.server = $1 AND m.user_id = $2",
            server,
            user_id,
        )
        if not row:
            return None
        streak_round, latest, latest_prev, latest_closed = row[4], row[5], row[6], row[7]
        # A streak survives until a later round closes without a right answer from them.
        alive = streak_round is not None and (
            latest == streak_round or (latest_closed is None and latest_prev == streak_round)
        )
        return MemberRow(
            user_id=row[0],
            name=row[1],
            current_streak=row[2] if alive else 0,
            longest_streak=row[3],
        )

    async def find_member(self, *, server: str, text: str) -> str | None:
        """The user id of the member named `text` (an id, or a name in any case)."""
        text = clean(text)
        row = await self._fetchrow(
            "SELECT user_id FROM members WHERE server = $1 AND user_id = $2", server, text
        )
        if row:
            return str(row[0])
        row = await self._fetchrow(
            "SELECT user_id FROM members WHERE server = $1 AND lower(name) = lower($2)"
            " ORDER BY user_id LIMIT 1",
            server,
            text,
        )
        return str(row[0]) if row else None

    async def topic_accuracy(self, *, server: str, user_id: str) -> list[tuple[str, int, int]]:
        rows = await self._fetch(
            "SELECT r.topic, count(*), sum(a.correct) FROM rounds r"
            " JOIN answers a ON a.round_id = r.id AND a.user_id = $1"
            # An open round's answers would tell whether they are right before the reveal.
            " WHERE r.server = $2 AND r.closed_at IS NOT NULL GROUP BY r.topic ORDER BY r.topic",
            user_id,
            server,
        )
        return [(row[0], int(row[1]), int(row[2])) for row in rows]

    async def answer_days(
        self, *, server: str, user_id: str, since: date
    ) -> list[tuple[date, int, int]]:
        rows = await self._fetch(
            "SELECT (a.answered_at AT TIME ZONE 'UTC')::date, count(*), sum(a.correct)"
            " FROM rounds r JOIN answers a ON a.round_id = r.id AND a.user_id = $1"
            " WHERE r.server = $2 AND r.closed_at IS NOT NULL"
            " AND a.answered_at >= ($3::date)::timestamp AT TIME ZONE 'UTC'"
            " GROUP BY 1 ORDER BY 1",
            user_id,
            server,
            since,
        )
        return [(row[0], int(row[1]), int(row[2])) for row in rows]

    # --- schedules ----------------------------------------------------------------------------

    async def set_schedule(
        self, channel: ChannelRef, *, time: str, zone: str, at: datetime
    ) -> None:
        await self._execute(
            "INSERT INTO schedules (server, channel, time, zone, updated_at)"
            " VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (server, channel) DO UPDATE SET time = excluded.time,"
            " zone = excluded.zone, updated_at = excluded.updated_at,"
            " last_error = NULL, last_error_at = NULL,"
            # Whichever process looks next works out the new time; a claim on the old one ends.
            " next_due_at = NULL, claimed_by = NULL, claimed_until = NULL",
            channel.server,
            channel.channel,
            time,
            zone,
            at,
        )

    async def delete_schedule(self, channel: ChannelRef) -> bool:
        row = await self._fetchrow(
            "DELETE FROM schedules WHERE server = $1 AND channel = $2 RETURNING 1",
            channel.server,
            channel.channel,
        )
        return row is not None

    async def forget_server(self, server: str) -> dict[str, int]:
        deleted = {}
        async with self._connection() as conn, conn.transaction():
            for table, rows in SERVER_ROWS:
                status = await conn.execute(
                    f"DELETE FROM {table} WHERE {rows.format(p='$1')}", server
                )
                deleted[table] = int(status.split()[-1])  # "DELETE <count>"
            team = installation_team(server)
            if team is not None:
                present = {
                    r[0]
                    for r in await conn.fetch(
                        "SELECT tablename FROM pg_tables"
                        " WHERE schemaname = current_schema() AND tablename = ANY($1::text[])",
                        [table for table, _ in INSTALLATION_ROWS],
                    )
                }
                for table, rows in INSTALLATION_ROWS:
                    if table in present:
                        status = await conn.execute(
                            f"DELETE FROM {table} WHERE {rows.format(p='$1')}", team
                        )
                        deleted[table] = int(status.split()[-1])
        return deleted

    async def first_time(self, key: str, at: datetime) -> bool:
        async with self._connection() as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM handled_requests WHERE at < $1", at - HANDLED_REQUESTS_KEPT
            )
            # A second process inserting the same key waits for this one and gets no row.
            row = await conn.fetchrow(
                "INSERT INTO handled_requests (key, at) VALUES ($1, $2)"
                " ON CONFLICT (key) DO NOTHING RETURNING 1",
                clean(key),
                at,
            )
        return row is not None

    async def record_home_opened(self, *, server: str, user_id: str, at: datetime) -> None:
        await self._execute(
            "INSERT INTO home_views (server, user_id, opened_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (server, user_id) DO UPDATE SET opened_at = excluded.opened_at",
            server,
            user_id,
            at,
        )

    async def home_viewers(self, round_id: int) -> list[str]:
        rows = await self._fetch(
            "SELECT a.user_id FROM answers a JOIN rounds r ON r.id = a.round_id"
            " JOIN home_views h ON h.server = r.server AND h.user_id = a.user_id"
            " WHERE a.round_id = $1 ORDER BY a.user_id",
            round_id,
        )
        return [row[0] for row in rows]

    async def record_post_error(self, channel: ChannelRef, *, error: str, at: datetime) -> None:
        """Keep why posting failed, for `/dlquiz schedule`; a later delivery clears it."""
        await self._execute(
            "UPDATE schedules SET last_error = $1, last_error_at = $2"
            " WHERE server = $3 AND channel = $4",
            clean(error),
            at,
            channel.server,
            channel.channel,
        )

    async def schedule(self, channel: ChannelRef) -> ScheduleRow | None:
        row = await self._fetchrow(
            f"SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE server = $1 AND channel = $2",
            channel.server,
            channel.channel,
        )
        return schedule_row(row) if row else None

    async def schedules(self, *, platform: str | None = None) -> list[ScheduleRow]:
        """Every schedule, or those of one platform's servers."""
        where, params = "", tuple[str, ...]()
        if platform is not None:
            where = "WHERE starts_with(server, $1)"
            params = (f"{platform}:",)
        rows = await self._fetch(
            f"SELECT {SCHEDULE_COLUMNS} FROM schedules {where} ORDER BY server, channel", *params
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
        async with self._connection() as conn:
            return await claims.claim_due(
                conn,
                platform=platform,
                now=now,
                worker=worker,
                lease=lease,
                limit=limit,
                shards=shards,
            )

    async def finish_schedule(
        self, channel: ChannelRef, *, worker: str, next_due_at: datetime
    ) -> bool:
        async with self._connection() as conn:
            return await claims.finish(conn, channel, worker, next_due_at)

    async def reserve_identify(self, *, bucket: int, now: datetime, spacing: timedelta) -> datetime:
        async with self._connection() as conn:
            return await claims.reserve_identify(conn, bucket, now, spacing)

    # --- practice -----------------------------------------------------------------------------

    async def practice_rows(self, *, server: str, user_id: str) -> dict[str, PracticeRow]:
        rows = await self._fetch(
            "SELECT question_id, box, due_at FROM practice WHERE server = $1 AND user_id = $2",
            server,
            user_id,
        )
        return {r[0]: PracticeRow(r[0], r[1], r[2]) for r in rows}

    async def open_question_ids(self, server: str) -> set[str]:
        """Questions open as a daily question anywhere in the server."""
        rows = await self._fetch(
            "SELECT question_id FROM rounds WHERE server = $1 AND closed_at IS NULL", server
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
        await self._execute(
            "INSERT INTO practice (server, user_id, question_id, topic, box, due_at, asked,"
            " asked_filter) VALUES ($1, $2, $3, $4, 0, $5, true, $6)"
            " ON CONFLICT (server, user_id, question_id) DO UPDATE SET asked = true,"
            " asked_filter = excluded.asked_filter",
            server,
            user_id,
            question_id,
            topic,
            at,
            filter,
        )

    async def mark_practice(
        self, *, server: str, user_id: str, question_id: str, correct: bool, at: datetime
    ) -> PracticeMark | None:
        """Move the question to its next box; None when it was not waiting for an answer."""
        async with self._transaction() as conn:
            # Locked, so two presses (here or in another process) mark it once.
            row = await conn.fetchrow(
                "SELECT box, asked, asked_filter FROM practice"
                " WHERE server = $1 AND user_id = $2 AND question_id = $3 FOR UPDATE",
                server,
                user_id,
                question_id,
            )
            if row is None or not row[1]:
                return None
            box = next_box(row[0], correct=correct)
            due = due_after(box, at)
            await conn.execute(
                "UPDATE practice SET box = $1, due_at = $2, seen = seen + 1,"
                " correct = correct + $3, last_at = $4, asked = false"
                " WHERE server = $5 AND user_id = $6 AND question_id = $7",
                box,
                due,
                int(correct),
                at,
                server,
                user_id,
                question_id,
            )
            return PracticeMark(box=box, due_at=due, filter=row[2])

    async def mastery(self, *, server: str, user_id: str) -> dict[str, int]:
        rows = await self._fetch(
            "SELECT topic, count(*) FROM practice"
            " WHERE server = $1 AND user_id = $2 AND box >= $3 GROUP BY topic",
            server,
            user_id,
            MASTERED_BOX,
        )
        return {r[0]: r[1] for r in rows}

    async def practice_boxes(self, *, server: str, user_id: str) -> list[tuple[str, int, int]]:
        rows = await self._fetch(
            "SELECT topic, box, count(*) FROM practice WHERE server = $1 AND user_id = $2"
            " AND box > 0 GROUP BY topic, box ORDER BY topic, box",
            server,
            user_id,
        )
        return [(row[0], row[1], int(row[2])) for row in rows]

    # --- item analysis ------------------------------------------------------------------------

    async def item_columns(self, server: str | None) -> ItemColumns:
        async with self._connection() as conn:
            return await items.item_columns(conn, server)

    # --- a server's own questions and channel settings ----------------------------------------

    async def add_server_questions(
        self, *, server: str, questions: list[NewServerQuestion], at: datetime
    ) -> list[int]:
        async with self._transaction() as conn:
            return await community.add(conn, server, questions, at)

    async def server_questions(
        self, *, server: str, status: SuggestionStatus | None = None
    ) -> list[ServerQuestionRow]:
        async with self._connection() as conn:
            return await community.listed(conn, server, status)

    async def server_question(self, *, server: str, id: int) -> ServerQuestionRow | None:
        async with self._connection() as conn:
            return await community.by_id(conn, server, id)

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
        async with self._connection() as conn:
            return await community.decide(
                conn, server=server, id=id, status=status, question=question, reason=reason, at=at
            )

    async def untold_outcomes(self, *, server: str, author_id: str) -> list[ServerQuestionRow]:
        async with self._connection() as conn:
            return await community.untold(conn, server, author_id)

    async def mark_told(self, *, server: str, ids: list[int]) -> None:
        async with self._connection() as conn:
            await community.mark_told(conn, server, ids)

    async def channel_settings(self, channel: ChannelRef) -> ChannelSettings | None:
        async with self._connection() as conn:
            return await community.settings(conn, channel)

    async def set_channel_settings(
        self, channel: ChannelRef, settings: ChannelSettings, *, at: datetime
    ) -> None:
        async with self._connection() as conn:
            await community.set_settings(conn, channel, settings, at)


# The first page needs no histogram to find where it starts.
_TOP = """
SELECT 1 + (SELECT coalesce(sum(c.members), 0) FROM score_counts c
            WHERE c.server = s.server AND c.period = s.period AND c.points > s.points),
    s.user_id, coalesce(m.name, s.user_id), s.points, s.answered, s.correct
FROM scores s LEFT JOIN members m ON m.server = s.server AND m.user_id = s.user_id
WHERE s.server = $1 AND s.period = $2 AND s.points > 0
ORDER BY s.points DESC, s.user_id LIMIT $3
"""

# A page found from the histogram, never by OFFSET over the board (which reads every member
# before the page: seconds deep into a million). The histogram's running sum names the points
# total at which the page starts and how many members with that total come before it; the page
# is then those members from there on and the ones below, two short index range scans.
_PAGE = """
WITH h AS (
    SELECT points, members, sum(members) OVER (ORDER BY points DESC) AS through
    FROM score_counts WHERE server = $1 AND period = $2 AND points > 0
),
pick AS (
    SELECT points, $4 - (through - members) AS skip FROM h WHERE through > $4
    ORDER BY points DESC LIMIT 1
),
page AS (
    (SELECT s.user_id, s.points, s.answered, s.correct FROM scores s
     WHERE s.server = $1 AND s.period = $2 AND s.points = (SELECT points FROM pick)
     ORDER BY s.user_id LIMIT $3 OFFSET (SELECT skip FROM pick))
    UNION ALL
    (SELECT s.user_id, s.points, s.answered, s.correct FROM scores s
     WHERE s.server = $1 AND s.period = $2 AND s.points > 0
       AND s.points < (SELECT points FROM pick)
     ORDER BY s.points DESC, s.user_id LIMIT $3)
)
SELECT 1 + (SELECT coalesce(sum(c.members), 0) FROM score_counts c
            WHERE c.server = $1 AND c.period = $2 AND c.points > p.points),
    p.user_id, coalesce(m.name, p.user_id), p.points, p.answered, p.correct
FROM page p LEFT JOIN members m ON m.server = $1 AND m.user_id = p.user_id
ORDER BY p.points DESC, p.user_id LIMIT $3
"""


async def _has_day(conn: Conn, channel: ChannelRef, day: date) -> bool:
    found = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM rounds WHERE server = $1 AND channel = $2 AND day = $3)",
        channel.server,
        channel.channel,
        day.isoformat(),
    )
    return bool(found)
