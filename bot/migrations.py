"""Numbered schema migrations; `PRAGMA user_version` holds how many have run.

A migration is appended, never edited once released: a database in the field may have run it.
"""

from __future__ import annotations

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
    -- without points in a period are not on its leaderboard, and every press saves two writes.
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
)
