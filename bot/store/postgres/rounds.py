"""Opening a round on PostgreSQL: in one statement when there is nothing to close.

A channel whose last round is closed (or that has none) gets its new round, the round's queued
question and its waiting posts made due from one autocommit statement, without the channel's
lock: the unique keys decide a race (one daily round per channel and day, one open round per
channel), and a statement that loses one inserts nothing. A channel with an open round to close,
or a statement that lost a race, goes the locked way: the lock, then the day's check and the
close in a statement whose snapshot comes after the lock, then the scoring in statements of their
own, then the same opening statement.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.models import ChannelRef
from bot.store.api import NewRound, RoundRow, StartedRound
from bot.store.postgres.deliveries import DUE_NOW
from bot.store.postgres.locks import locked
from bot.store.postgres.rows import NO_DISK_WAIT, ROUND_COLUMNS, Conn, clean, round_row
from bot.store.postgres.scoring import settle_closed


def _of(table: str) -> str:
    return ", ".join(f"{table}.{column.strip()}" for column in ROUND_COLUMNS.split(","))


# Opens nothing when the day is taken or a round is open (it reports which); otherwise the
# INSERT can still meet a unique key another process has just taken, and does nothing then. On
# its own ($15), it commits without waiting for the disk; after a close, the scores it is
# committed with wait.
_OPEN = f"""
WITH due AS ({DUE_NOW}),
state AS (
    SELECT CASE WHEN $15 THEN {NO_DISK_WAIT} END AS quiet,
        EXISTS (SELECT 1 FROM rounds WHERE server = $1 AND channel = $2 AND day = $11)
            AS taken,
        EXISTS (SELECT 1 FROM rounds WHERE server = $1 AND channel = $2 AND closed_at IS NULL)
            AS open
),
new AS (
    INSERT INTO rounds (server, channel, question_id, topic, difficulty, choice_count, answer,
        base_points, cycle, prev_round_id, day, posted_at, reveal_at, token, question)
    SELECT $1, $2, $4, $5, $6, $7, $8, $9, $10,
        -- A streak runs over the rounds members saw: one that never reached the channel is
        -- skipped.
        (SELECT max(id) FROM rounds WHERE server = $1 AND channel = $2
         AND message_ref IS NOT NULL AND message_ref != ''),
        $11, $3, $12, $13, $14
    FROM state WHERE NOT taken AND NOT open
    ON CONFLICT DO NOTHING
    RETURNING {ROUND_COLUMNS}
),
queued AS (
    INSERT INTO deliveries (round_id, server, channel, kind, due_at)
    SELECT id, server, channel, 'question', $3 FROM new
)
SELECT s.taken, s.open, {_of("n")} FROM state s LEFT JOIN new n ON true
"""

# Under the channel's lock. The close waits for any answer batch that holds the round FOR SHARE.
_CLOSE_UNLESS_TAKEN = f"""
WITH due AS ({DUE_NOW}),
state AS (
    SELECT EXISTS (SELECT 1 FROM rounds WHERE server = $1 AND channel = $2 AND day = $4)
        AS taken
),
closed AS (
    UPDATE rounds SET closed_at = $3
    WHERE server = $1 AND channel = $2 AND closed_at IS NULL AND NOT (SELECT taken FROM state)
    RETURNING {ROUND_COLUMNS}
)
SELECT s.taken, {_of("c")} FROM state s LEFT JOIN closed c ON true
"""


class _Undo(Exception):
    """Rolls back a pass that opened nothing after all (a round of another process came first)."""

    def __init__(self, *, taken: bool) -> None:
        super().__init__()
        self.taken = taken


async def start(
    conn: Conn,
    channel: ChannelRef,
    new: NewRound,
    *,
    cycle: int,
    day: date | None,
    posted_at: datetime,
    reveal_at: datetime | None,
) -> StartedRound | None:
    """Close the channel's open round and open a new one, atomically; None, changing nothing
    but the waiting posts made due, when `day` already has its daily round in the channel."""
    args = (
        channel.server,
        channel.channel,
        posted_at,
        new.question_id,
        new.topic,
        new.difficulty,
        new.choice_count,
        new.answer,
        new.base_points,
        cycle,
        day.isoformat() if day else None,
        reveal_at,
        new.token,
        clean(new.snapshot),
    )
    row = await conn.fetchrow(_OPEN, *args, True)
    assert row is not None
    if row[0]:
        return None
    if row[2] is not None:
        return StartedRound(round=round_row(tuple(row)[2:]), closed=None)
    # A second pass is for a round another process opened the one-statement way (no lock) after
    # this pass's check: the insert here waited for its commit, so the next pass sees it.
    for _ in range(2):
        try:
            async with locked(conn, channel.server, channel.channel):
                found = await conn.fetchrow(_CLOSE_UNLESS_TAKEN, *args[:3], args[10])
                assert found is not None
                if found[0]:
                    return None
                closed: RoundRow | None = None
                if found[1] is not None:
                    closed = round_row(tuple(found)[1:])
                    await settle_closed(conn, closed, posted_at)
                row = await conn.fetchrow(_OPEN, *args, False)
                assert row is not None
                if row[2] is None:
                    raise _Undo(taken=bool(row[0]))
                return StartedRound(round=round_row(tuple(row)[2:]), closed=closed)
        except _Undo as undo:
            if undo.taken:
                return None
    return None
