"""Numbered schema migrations; `PRAGMA user_version` holds how many have run.

A migration is appended, never edited once released: a database in the field may have run it.
"""

from __future__ import annotations


def iso_week_sql(column: str) -> str:
    """SQL for the key `bot.store.period_key` gives the ISO week of the UTC time in `column`
    ('w2026-10'); SQLite 3.40 has no %G or %V. An ISO week's year is the year of its Thursday."""
    thursday = f"date({column}, '-3 days', 'weekday 4')"
    return (
        f"'w' || strftime('%Y', {thursday}) || '-' ||"
        f" printf('%02d', (CAST(strftime('%j', {thursday}) AS INTEGER) - 1) / 7 + 1)"
    )


# `server` is always "<platform>:<id>" (a Discord guild, a Slack workspace, the console), so one
# column keeps every server apart and no query can mix two platforms up.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE rounds (
        id INTEGER PRIMARY KEY,
        server TEXT NOT NULL,
        channel TEXT NOT NULL,
        question_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        difficulty TEXT NOT NULL,
        choice_count INTEGER NOT NULL,
        answer INTEGER NOT NULL,
        base_points INTEGER NOT NULL,
        cycle INTEGER NOT NULL,
        prev_round_id INTEGER REFERENCES rounds(id),
        day TEXT,
        posted_at TEXT NOT NULL,
        reveal_at TEXT,
        closed_at TEXT,
        message_ref TEXT,
        reveal_posted INTEGER NOT NULL DEFAULT 0,
        UNIQUE (server, channel, day)
    );
    CREATE UNIQUE INDEX rounds_one_open ON rounds (server, channel) WHERE closed_at IS NULL;
    CREATE INDEX rounds_by_channel ON rounds (server, channel, id);
    CREATE INDEX rounds_undelivered ON rounds (id) WHERE message_ref IS NULL OR reveal_posted = 0;

    CREATE TABLE answers (
        round_id INTEGER NOT NULL REFERENCES rounds(id),
        user_id TEXT NOT NULL,
        choice INTEGER NOT NULL,
        correct INTEGER NOT NULL,
        points INTEGER NOT NULL,
        answered_at TEXT NOT NULL,
        PRIMARY KEY (round_id, user_id)
    ) WITHOUT ROWID;

    CREATE TABLE members (
        server TEXT NOT NULL,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        current_streak INTEGER NOT NULL DEFAULT 0,
        longest_streak INTEGER NOT NULL DEFAULT 0,
        streak_round_id INTEGER,
        PRIMARY KEY (server, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX members_by_name ON members (server, name);

    -- Maintained totals per period ('all', 'w2026-47', 'm2026-11'), so a leaderboard never sums
    -- answers at query time. A week or month row counts only answers that scored: members
    -- without points in a period are not on its leaderboard, and an answer without points saves
    -- two writes.
    CREATE TABLE scores (
        server TEXT NOT NULL,
        period TEXT NOT NULL,
        user_id TEXT NOT NULL,
        points INTEGER NOT NULL,
        answered INTEGER NOT NULL,
        correct INTEGER NOT NULL,
        PRIMARY KEY (server, period, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX scores_by_rank ON scores (server, period, points DESC, user_id);

    -- How many members hold each point total: a rank is one plus the members above, summed over
    -- a few hundred totals instead of counted over a million members.
    CREATE TABLE score_counts (
        server TEXT NOT NULL,
        period TEXT NOT NULL,
        points INTEGER NOT NULL,
        members INTEGER NOT NULL,
        PRIMARY KEY (server, period, points)
    ) WITHOUT ROWID;

    CREATE TABLE schedules (
        server TEXT NOT NULL,
        channel TEXT NOT NULL,
        time TEXT NOT NULL,
        zone TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_error TEXT,
        last_error_at TEXT,
        PRIMARY KEY (server, channel)
    ) WITHOUT ROWID;
    """,
    # 2: practice mode. One row per member and question met, in practice or in a daily round.
    """
    CREATE TABLE practice (
        server TEXT NOT NULL,
        user_id TEXT NOT NULL,
        question_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        box INTEGER NOT NULL,
        due_at TEXT NOT NULL,
        seen INTEGER NOT NULL DEFAULT 0,
        correct INTEGER NOT NULL DEFAULT 0,
        last_at TEXT,
        asked INTEGER NOT NULL DEFAULT 0,
        asked_filter TEXT,
        PRIMARY KEY (server, user_id, question_id)
    ) WITHOUT ROWID;
    CREATE INDEX practice_by_due ON practice (server, user_id, due_at);
    """,
    # 3: points and streaks are settled when a round closes. Until now a press scored at once, so
    # the answers to rounds still open are already in the totals: take them back out, to be
    # counted again, by the new rule, when their round closes.
    """
    -- The week and month of each answer as the press used them: the ISO week (its year is
    -- the year of its Thursday) and the month of the answer's UTC time.
    CREATE TEMP TABLE unscored AS
    SELECT r.server, a.user_id, a.points, a.correct,
        """
    + iso_week_sql("a.answered_at")
    + """ AS week,
        'm' || strftime('%Y-%m', a.answered_at) AS month
    FROM answers a JOIN rounds r ON r.id = a.round_id
    WHERE r.closed_at IS NULL;

    UPDATE scores SET points = scores.points - u.points,
        answered = scores.answered - u.answered, correct = scores.correct - u.correct
    FROM (
        SELECT server, 'all' AS period, user_id, sum(points) AS points, count(*) AS answered,
            sum(correct) AS correct
        FROM unscored GROUP BY server, user_id
        UNION ALL
        SELECT server, week, user_id, sum(points), count(*), sum(correct)
        FROM unscored WHERE points > 0 GROUP BY server, week, user_id
        UNION ALL
        SELECT server, month, user_id, sum(points), count(*), sum(correct)
        FROM unscored WHERE points > 0 GROUP BY server, month, user_id
    ) u
    WHERE scores.server = u.server AND scores.period = u.period AND scores.user_id = u.user_id;
    DELETE FROM scores WHERE answered <= 0;

    DELETE FROM score_counts;
    INSERT INTO score_counts (server, period, points, members)
    SELECT server, period, points, count(*) FROM scores WHERE points > 0
    GROUP BY server, period, points;

    UPDATE answers SET points = 0
    WHERE round_id IN (SELECT id FROM rounds WHERE closed_at IS NULL);

    -- A right answer to an open round moved the streak on to that round: move it back to the
    -- round before. (A wrong one ended the streak, as the close will do again.)
    UPDATE members SET
        current_streak = current_streak - 1,
        streak_round_id = CASE WHEN current_streak > 1
            THEN (SELECT prev_round_id FROM rounds WHERE id = members.streak_round_id) END
    WHERE streak_round_id IN (SELECT id FROM rounds WHERE closed_at IS NULL);

    DROP TABLE temp.unscored;

    -- A question that reached its channel clears the channel's last posting error. As a
    -- trigger, recording the delivery is one statement: a daily fan-out records thousands.
    CREATE TRIGGER rounds_delivered_clears_error AFTER UPDATE OF message_ref ON rounds
    WHEN NEW.message_ref IS NOT NULL
    BEGIN
        UPDATE schedules SET last_error = NULL, last_error_at = NULL
        WHERE server = NEW.server AND channel = NEW.channel AND last_error IS NOT NULL;
    END;
    """,
    # 4: deliveries. What a channel must receive is data: recorded in the transaction that makes
    # it due, claimed by one process, marked once the platform accepted it, retried otherwise.
    # A round keeps the question it asked (whatever the bank says later) and a random token that
    # its buttons carry, so a button of a message posted before a restore never answers a
    # different round that reuses its id. Rounds from before have token '' (legacy buttons).
    """
    ALTER TABLE rounds ADD COLUMN token TEXT NOT NULL DEFAULT '';
    ALTER TABLE rounds ADD COLUMN question TEXT;
    DROP INDEX rounds_undelivered;

    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        round_id INTEGER NOT NULL REFERENCES rounds(id),
        server TEXT NOT NULL,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        due_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        -- Claims beyond attempts ended in no known outcome: the process died posting, or the
        -- platform did not answer; the platform may or may not have the message ("in doubt").
        claims INTEGER NOT NULL DEFAULT 0,
        claimed_by TEXT,
        claimed_until TEXT,
        done_at TEXT,
        outcome TEXT,
        last_error TEXT,
        UNIQUE (round_id, kind)
    );
    CREATE INDEX deliveries_open ON deliveries (server, channel, id) WHERE done_at IS NULL;

    INSERT INTO deliveries (round_id, server, channel, kind, due_at)
    SELECT id, server, channel, kind, due_at FROM (
        SELECT id, server, channel, 'question' AS kind, posted_at AS due_at, 0 AS step
        FROM rounds WHERE closed_at IS NULL AND message_ref IS NULL
        UNION ALL
        SELECT id, server, channel, 'reveal', closed_at, 1
        FROM rounds WHERE closed_at IS NOT NULL AND reveal_posted = 0
    ) ORDER BY id, step;
    -- Whether a reveal went out is the reveal delivery's outcome from now on.
    ALTER TABLE rounds DROP COLUMN reveal_posted;
    """,
    # 5: requests acted on once. A signed request replayed within its validity window must not
    # post or reschedule again; the key is the request's own identity, kept a day.
    """
    CREATE TABLE handled_requests (
        key TEXT PRIMARY KEY,
        at TEXT NOT NULL
    );
    CREATE INDEX handled_requests_by_age ON handled_requests (at);
    """,
    # 6: several processes on one database. A schedule is claimed by one process at a time:
    # `next_due_at` says when a process should next look at it (NULL: set or changed since,
    # work it out), `claimed_by`/`claimed_until` hold it for a lease. Discord's login slots per
    # identify bucket are shared by every process of the bot.
    """
    ALTER TABLE schedules ADD COLUMN next_due_at TEXT;
    ALTER TABLE schedules ADD COLUMN claimed_by TEXT;
    ALTER TABLE schedules ADD COLUMN claimed_until TEXT;
    CREATE INDEX schedules_due ON schedules (next_due_at);

    CREATE TABLE identify_slots (
        bucket INTEGER PRIMARY KEY,
        next_at TEXT NOT NULL
    );
    """,
    # 7: a server's own questions (suggested, reviewed, imported) and per-channel settings. A
    # question is kept as `bot.snapshot` writes it, so the set has the bank's shape exactly.
    """
    CREATE TABLE server_questions (
        id INTEGER PRIMARY KEY,
        server TEXT NOT NULL,
        key TEXT NOT NULL,
        question TEXT NOT NULL,
        status TEXT NOT NULL,
        author_id TEXT NOT NULL,
        author_name TEXT NOT NULL,
        channel TEXT NOT NULL,
        created_at TEXT NOT NULL,
        decided_at TEXT,
        reason TEXT,
        told INTEGER NOT NULL DEFAULT 1,
        UNIQUE (server, key)
    );
    CREATE INDEX server_questions_by_status ON server_questions (server, status, id);

    CREATE TABLE channel_settings (
        server TEXT NOT NULL,
        channel TEXT NOT NULL,
        source TEXT NOT NULL,
        topics TEXT NOT NULL,
        difficulty TEXT,
        thread INTEGER NOT NULL,
        ping TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (server, channel)
    );
    """,
    # 8: who has opened the app's Home tab on Slack, per workspace, so the Home views that a
    # reveal changed are re-published for them only (publishing to anyone else is wasted calls
    # against Slack's rate limit: their Home is drawn fresh when they first open it).
    """
    CREATE TABLE home_views (
        server TEXT NOT NULL,
        user_id TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        PRIMARY KEY (server, user_id)
    ) WITHOUT ROWID;
    """,
)
