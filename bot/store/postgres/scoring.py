"""Closing a round on PostgreSQL: scoring it set-based, and feeding spaced repetition.

The rules are sqlite/scoring.py's: points and streaks are settled once, at the reveal, in the
transaction that closes the round. Each statement below is a separate statement on purpose: under
READ COMMITTED each one sees what committed before it started, so answers whose batch the close
waited for (see answers.py) are scored.
"""

from __future__ import annotations

from datetime import datetime

from bot.models import ChannelRef, Period
from bot.practice import TOP_BOX, due_after, next_box
from bot.scoring import STREAK_BONUS_CAP
from bot.store.api import RoundRow, period_key
from bot.store.postgres import deliveries
from bot.store.postgres.rows import ROUND_COLUMNS, Conn, round_row

# Closing is one statement with the channel's waiting posts made due (what the close queues comes
# after them). A question that never reached the channel has nothing to reveal there. The update
# waits for any answer batch that holds the round FOR SHARE.
_CLOSE = f"""
WITH due AS ({deliveries.DUE_NOW})
UPDATE rounds SET closed_at = $3 WHERE server = $1 AND channel = $2 AND closed_at IS NULL
RETURNING {ROUND_COLUMNS}
"""


async def close_open_round(conn: Conn, channel: ChannelRef, at: datetime) -> RoundRow | None:
    """Make the channel's waiting posts due, close its open round and return it. The caller
    holds the channel's lock, in its transaction."""
    row = await conn.fetchrow(_CLOSE, channel.server, channel.channel, at)
    if row is None:
        return None
    closed = round_row(row)
    await settle_closed(conn, closed, at)
    return closed


async def settle_closed(conn: Conn, closed: RoundRow, at: datetime) -> None:
    """Score the round just closed (in the caller's transaction) and queue what its close
    makes due."""
    if await conn.fetchval(_LOCK_SERVER_IF_ANSWERED, closed.id, closed.server):
        await score_round(conn, closed)
        await feed_practice(conn, closed.id, at)
    await deliveries.after_close(conn, closed, at)


async def feed_practice(conn: Conn, round_id: int, at: datetime) -> None:
    """A revealed daily answer counts for spaced repetition as a practice answer would."""
    boxes, corrects, new_boxes, dues = [], [], [], []
    for box in range(TOP_BOX + 1):
        for correct in (0, 1):
            new_box = next_box(box, correct=bool(correct))
            boxes.append(box)
            corrects.append(correct)
            new_boxes.append(new_box)
            dues.append(due_after(new_box, at))
    await conn.execute(
        "WITH rule AS (SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::timestamptz[])"
        " AS n(box, correct, new_box, due_at))"
        " INSERT INTO practice (server, user_id, question_id, topic, box, due_at, seen, correct,"
        " last_at)"
        " SELECT r.server, a.user_id, r.question_id, r.topic, n.new_box, n.due_at, 1, a.correct,"
        " $5"
        " FROM answers a JOIN rounds r ON r.id = a.round_id"
        " LEFT JOIN practice p ON p.server = r.server AND p.user_id = a.user_id"
        " AND p.question_id = r.question_id"
        " JOIN rule n ON n.box = coalesce(p.box, 0) AND n.correct = a.correct"
        " WHERE a.round_id = $6"
        " ORDER BY a.user_id"
        " ON CONFLICT (server, user_id, question_id) DO UPDATE SET box = excluded.box,"
        " due_at = excluded.due_at, seen = practice.seen + 1,"
        " correct = practice.correct + excluded.correct, last_at = excluded.last_at",
        boxes,
        corrects,
        new_boxes,
        dues,
        at,
        round_id,
    )


# --- scoring a round as it closes, set-based ---------------------------------------------------
#
# A member's streak goes on when their last right answer was the channel's previous round. A
# round's points count in the UTC week and month it was posted in. The statements run in this
# order: points read the streaks as they were before the round, and the totals read points.

# Scorings of one server's rounds (in any channel, any process) take turns: they share the
# server's totals and histogram. The lock is taken for every close (one trip, not two), and the
# answers are looked for in a statement after the close's, so answers committed while the close
# waited for them are seen.
_LOCK_SERVER_IF_ANSWERED = """
SELECT EXISTS (SELECT 1 FROM answers WHERE round_id = $1)
FROM (SELECT pg_advisory_xact_lock(hashtextextended('score:' || $2, 0))) AS locked
"""

# The members of the round, locked in key order as answer batches lock them: never a deadlock.
_LOCK_MEMBERS = """
SELECT 1 FROM members m JOIN answers a ON a.user_id = m.user_id
WHERE a.round_id = $1 AND m.server = $2
ORDER BY m.user_id FOR UPDATE OF m
"""

# Points and streaks in one statement: both parts read the members as they were before it, which
# is what the points must see (the streak a right answer extends is the one before this round).
_SET_POINTS_AND_STREAKS = f"""
WITH points AS (
    UPDATE answers SET points = r.base_points + coalesce((
        SELECT least(m.current_streak, {STREAK_BONUS_CAP}) FROM members m
        WHERE m.server = r.server AND m.user_id = answers.user_id
          AND m.streak_round_id = r.prev_round_id), 0)
    FROM rounds r
    WHERE r.id = $1 AND answers.round_id = $1 AND answers.correct = 1
)
UPDATE members SET
    current_streak = s.streak,
    longest_streak = greatest(members.longest_streak, s.streak),
    streak_round_id = CASE WHEN s.correct = 1 THEN $1::bigint END
FROM (
    SELECT a.user_id, a.correct,
        CASE WHEN a.correct = 0 THEN 0
             WHEN m.streak_round_id = r.prev_round_id THEN m.current_streak + 1
             ELSE 1 END AS streak
    FROM answers a JOIN rounds r ON r.id = a.round_id
    JOIN members m ON m.server = r.server AND m.user_id = a.user_id
    WHERE a.round_id = $1) s
WHERE members.server = $2 AND members.user_id = s.user_id
"""

_SCORED = "(SELECT user_id, correct, points FROM answers WHERE round_id = $1) AS s"
# Every answer counts all time; one that scored counts in the week and the month too.
_PERIODS = "(VALUES ('all'), ($3::text), ($4::text)) AS k (period)"

_LEAVE_BUCKETS = f"""
UPDATE score_counts SET members = score_counts.members - d.n FROM (
    SELECT t.period, t.points, count(*) AS n
    FROM {_SCORED} CROSS JOIN {_PERIODS} JOIN scores t
      ON t.server = $2 AND t.period = k.period AND t.user_id = s.user_id
    WHERE s.points > 0 AND t.points > 0
    GROUP BY t.period, t.points) d
WHERE score_counts.server = $2 AND score_counts.period = d.period
  AND score_counts.points = d.points
"""

_UPSERT_SCORES = f"""
INSERT INTO scores (server, period, user_id, points, answered, correct)
SELECT $2, k.period, s.user_id, s.points, 1, s.correct
FROM {_SCORED} CROSS JOIN {_PERIODS}
WHERE k.period = 'all' OR s.points > 0
ORDER BY k.period, s.user_id
ON CONFLICT (server, period, user_id) DO UPDATE SET
    points = scores.points + excluded.points,
    answered = scores.answered + 1,
    correct = scores.correct + excluded.correct
"""

_ENTER_BUCKETS = f"""
INSERT INTO score_counts (server, period, points, members)
SELECT $2, t.period, t.points, count(*)
FROM {_SCORED} CROSS JOIN {_PERIODS} JOIN scores t
  ON t.server = $2 AND t.period = k.period AND t.user_id = s.user_id
WHERE s.points > 0
GROUP BY t.period, t.points
ON CONFLICT (server, period, points) DO UPDATE SET
    members = score_counts.members + excluded.members
"""


async def score_round(conn: Conn, closed: RoundRow) -> None:
    """Settle the points and streaks of a round that has just closed (in the caller's
    transaction, which holds the server's scoring lock)."""
    await conn.execute(_LOCK_MEMBERS, closed.id, closed.server)
    await conn.execute(_SET_POINTS_AND_STREAKS, closed.id, closed.server)
    week = period_key(Period.WEEK, closed.posted_at)
    month = period_key(Period.MONTH, closed.posted_at)
    for statement in (_LEAVE_BUCKETS, _UPSERT_SCORES, _ENTER_BUCKETS):
        await conn.execute(statement, closed.id, closed.server, week, month)
