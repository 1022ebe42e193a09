"""Closing a round on SQLite: scoring it set-based, and feeding spaced repetition.

Points and streaks are settled once, at the reveal, in the transaction that closes the round: a
right answer moves no total anyone can see before then.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

from bot.models import ChannelRef, Period
from bot.practice import TOP_BOX, due_after, next_box
from bot.scoring import STREAK_BONUS_CAP
from bot.store.api import RoundRow, period_key
from bot.store.sqlite import deliveries
from bot.store.sqlite.connection import fetch_all, to_text
from bot.store.sqlite.rows import ROUND_COLUMNS, round_row


def close_open_round(
    db: sqlite3.Connection, channel: ChannelRef, at: datetime, *, unless_day: date | None = None
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
    rows = fetch_all(
        db,
        "UPDATE rounds SET closed_at = ?1"
        f" WHERE server = ?2 AND channel = ?3 AND closed_at IS NULL{guard}"
        f" RETURNING {ROUND_COLUMNS},"
        " EXISTS (SELECT 1 FROM answers WHERE round_id = rounds.id)",
        params,
    )
    row = next(iter(rows), None)
    if row is None:
        return None
    closed = round_row(row)
    if row[-1]:  # a round nobody answered has nothing to score
        score_round(db, closed)
        feed_practice(db, closed.id, at)
    deliveries.after_close(db, closed, at)
    return closed


def feed_practice(db: sqlite3.Connection, round_id: int, at: datetime) -> None:
    """A revealed daily answer counts for spaced repetition as a practice answer would."""
    # next_box for every box a member can be in and either outcome, as a table SQL can join.
    rule = []
    for box in range(TOP_BOX + 1):
        for correct in (False, True):
            new_box = next_box(box, correct=correct)
            rule.append((box, int(correct), new_box, to_text(due_after(new_box, at))))
    db.execute(
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


def score_round(db: sqlite3.Connection, closed: RoundRow) -> None:
    """Settle the points and streaks of a round that has just closed (in the caller's
    transaction)."""
    params = {
        "round": closed.id,
        "server": closed.server,
        "week": period_key(Period.WEEK, closed.posted_at),
        "month": period_key(Period.MONTH, closed.posted_at),
    }
    for statement in _SCORE_ROUND:
        db.execute(statement, params)
