"""Numbered schema migrations for PostgreSQL; the `schema_migrations` table lists those run.

A migration is appended, never edited once released: a database in the field may have run it.
Migration 1 is the SQLite schema as its migration 3 leaves it, in PostgreSQL's own types: the two
backends keep the same tables, columns and unique keys, so one conformance suite checks both.
Keys that are compared or sorted (servers, channels, members, periods) use the "C" collation: the
same byte order as SQLite whatever the database's locale, so a platform's servers are one range.
"""

from __future__ import annotations

import logging

from bot.store.api import StoreError
from bot.store.postgres.rows import Conn

log = logging.getLogger(__name__)

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE rounds (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        server TEXT COLLATE "C" NOT NULL,
        channel TEXT COLLATE "C" NOT NULL,
        question_id TEXT COLLATE "C" NOT NULL,
        topic TEXT COLLATE "C" NOT NULL,
        difficulty TEXT NOT NULL,
        choice_count INTEGER NOT NULL,
        answer INTEGER NOT NULL,
        base_points INTEGER NOT NULL,
        cycle INTEGER NOT NULL,
        prev_round_id BIGINT REFERENCES rounds (id),
        day TEXT COLLATE "C",
        posted_at TIMESTAMPTZ NOT NULL,
        reveal_at TIMESTAMPTZ,
        closed_at TIMESTAMPTZ,
        message_ref TEXT,
        -- Carried by the round's buttons: a button from before a restore that hands this id
        -- out again answers nothing.
        token TEXT NOT NULL DEFAULT '',
        -- The question as asked (JSON), whatever the bank says later.
        question TEXT,
        UNIQUE (server, channel, day)
    );
    CREATE UNIQUE INDEX rounds_one_open ON rounds (server, channel) WHERE closed_at IS NULL;
    CREATE INDEX rounds_by_channel ON rounds (server, channel, id);

    -- What a channel must receive: recorded with the round that makes it due, claimed by one
    -- process for a lease, marked once the platform accepted it, retried otherwise.
    CREATE TABLE deliveries (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        round_id BIGINT NOT NULL REFERENCES rounds (id),
        server TEXT COLLATE "C" NOT NULL,
        channel TEXT COLLATE "C" NOT NULL,
        kind TEXT NOT NULL,
        due_at TIMESTAMPTZ NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        -- Claims beyond attempts ended in no known outcome: the process died posting, or the
        -- platform did not answer; the platform may or may not have the message ("in doubt").
        claims INTEGER NOT NULL DEFAULT 0,
        claimed_by TEXT,
        claimed_until TIMESTAMPTZ,
        done_at TIMESTAMPTZ,
        outcome TEXT,
        last_error TEXT,
        UNIQUE (round_id, kind)
    );
    CREATE INDEX deliveries_open ON deliveries (server, channel, id) WHERE done_at IS NULL;

    -- `correct` is 0 or 1, as in SQLite: totals sum it.
    CREATE TABLE answers (
        round_id BIGINT NOT NULL REFERENCES rounds (id),
        user_id TEXT COLLATE "C" NOT NULL,
        choice INTEGER NOT NULL,
        correct INTEGER NOT NULL,
        points INTEGER NOT NULL,
        answered_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (round_id, user_id)
    );

    CREATE TABLE members (
        server TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        name TEXT NOT NULL,
        current_streak INTEGER NOT NULL DEFAULT 0,
        longest_streak INTEGER NOT NULL DEFAULT 0,
        streak_round_id BIGINT,
        PRIMARY KEY (server, user_id)
    );
    CREATE INDEX members_by_name ON members (server, lower(name));

    -- Maintained totals per period ('all', 'w2026-47', 'm2026-11'), so a leaderboard never sums
    -- answers at query time. A week or month row counts only answers that scored.
    CREATE TABLE scores (
        server TEXT COLLATE "C" NOT NULL,
        period TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        points INTEGER NOT NULL,
        answered INTEGER NOT NULL,
        correct INTEGER NOT NULL,
        PRIMARY KEY (server, period, user_id)
    );
    CREATE INDEX scores_by_rank ON scores (server, period, points DESC, user_id);

    -- How many members hold each point total: a rank is one plus the members above, summed over
    -- a few hundred totals instead of counted over a million members.
    CREATE TABLE score_counts (
        server TEXT COLLATE "C" NOT NULL,
        period TEXT COLLATE "C" NOT NULL,
        points INTEGER NOT NULL,
        members INTEGER NOT NULL,
        PRIMARY KEY (server, period, points)
    );

    CREATE TABLE schedules (
        server TEXT COLLATE "C" NOT NULL,
        channel TEXT COLLATE "C" NOT NULL,
        time TEXT NOT NULL,
        zone TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        last_error TEXT,
        last_error_at TIMESTAMPTZ,
        PRIMARY KEY (server, channel)
    );

    CREATE TABLE practice (
        server TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        question_id TEXT COLLATE "C" NOT NULL,
        topic TEXT COLLATE "C" NOT NULL,
        box INTEGER NOT NULL,
        due_at TIMESTAMPTZ NOT NULL,
        seen INTEGER NOT NULL DEFAULT 0,
        correct INTEGER NOT NULL DEFAULT 0,
        last_at TIMESTAMPTZ,
        asked BOOLEAN NOT NULL DEFAULT false,
        asked_filter TEXT,
        PRIMARY KEY (server, user_id, question_id)
    );
    CREATE INDEX practice_by_due ON practice (server, user_id, due_at);
    """,
    # 2: requests acted on once (SQLite's migration 5).
    """
    CREATE TABLE handled_requests (
        key TEXT COLLATE "C" PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX handled_requests_by_age ON handled_requests (at);
    """,
    # 3: several processes on one database (SQLite's migration 6). A schedule is claimed by one
    # process at a time: `next_due_at` says when a process should next look at it (NULL: set or
    # changed since, work it out), `claimed_by`/`claimed_until` hold it for a lease. Discord's
    # login slots per identify bucket are shared by every process of the bot.
    """
    ALTER TABLE schedules ADD COLUMN next_due_at TIMESTAMPTZ;
    ALTER TABLE schedules ADD COLUMN claimed_by TEXT;
    ALTER TABLE schedules ADD COLUMN claimed_until TIMESTAMPTZ;
    CREATE INDEX schedules_due ON schedules (next_due_at);

    CREATE TABLE identify_slots (
        bucket INTEGER PRIMARY KEY,
        next_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 4: a server's own questions (suggested, reviewed, imported) and per-channel settings. A
    # question is kept as `bot.snapshot` writes it, so the set has the bank's shape exactly.
    """
    CREATE TABLE server_questions (
        id BIGSERIAL PRIMARY KEY,
        server TEXT COLLATE "C" NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        question TEXT NOT NULL,
        status TEXT NOT NULL,
        author_id TEXT COLLATE "C" NOT NULL,
        author_name TEXT NOT NULL,
        channel TEXT COLLATE "C" NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        decided_at TIMESTAMPTZ,
        reason TEXT,
        told BOOLEAN NOT NULL DEFAULT true,
        UNIQUE (server, key)
    );
    CREATE INDEX server_questions_by_status ON server_questions (server, status, id);

    CREATE TABLE channel_settings (
        server TEXT COLLATE "C" NOT NULL,
        channel TEXT COLLATE "C" NOT NULL,
        source TEXT NOT NULL,
        topics TEXT NOT NULL,
        difficulty TEXT,
        thread BOOLEAN NOT NULL,
        ping TEXT,
        updated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (server, channel)
    );
    """,
    # 5: who has opened the app's Home tab on Slack, per workspace (SQLite's migration 8).
    """
    CREATE TABLE home_views (
        server TEXT COLLATE "C" NOT NULL,
        user_id TEXT COLLATE "C" NOT NULL,
        opened_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (server, user_id)
    );
    """,
)

# Every process that opens the database takes this lock before it looks at the schema, so
# replicas starting together migrate once; the others wait, then find nothing left to do.
MIGRATION_LOCK = "hashtextextended('dlquiz:migrations', 0)"


async def migrate(conn: Conn, where: str) -> None:
    """Bring the schema up to date in one transaction, or refuse a newer one untouched."""
    async with conn.transaction():
        await conn.execute(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        version = await schema_version(conn)
        if version > len(MIGRATIONS):
            raise StoreError(
                f"database {where} has schema version {version}, newer than this dlquiz knows"
                f" ({len(MIGRATIONS)}); upgrade dlquiz or use another database"
            )
        if version == len(MIGRATIONS):
            return
        if version == 0:
            await conn.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        for number in range(version + 1, len(MIGRATIONS) + 1):
            await conn.execute(MIGRATIONS[number - 1])
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", number)
            log.info("database %s migrated to schema version %d", where, number)


async def schema_version(conn: Conn) -> int:
    """The highest migration run, 0 for a database dlquiz has never used (read only)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    version = await conn.fetchval("SELECT max(version) FROM schema_migrations")
    return int(version or 0)
