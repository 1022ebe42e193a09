"""Recording a batch of answers on SQLite, set-based, in one write transaction.

A press only records the answer and the member's name: points and streaks are settled when the
round closes (see scoring.py), so nothing anyone can read changes with a right answer before the
reveal. The batch is first copied into a temporary table (which takes no lock on the database
file), then classified and written in one `BEGIN IMMEDIATE` transaction: another process cannot
close the round between the moment an answer is found open and the moment it is inserted.

A wave of the batch is one trip to the connection's thread whatever its size, with statements
SQLite keeps compiled: every trip waits behind everything the event loop has queued, and
`executescript` compiles its statements again on every call, which cost more than the writes
themselves for the few answers a batch holds under a steady stream of presses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import cache, partial
from typing import Any

import aiosqlite

from bot.store.api import AnswerOutcome, AnswerRequest, AnswerStatus
from bot.store.sqlite.connection import on_thread, to_text

_PENDING_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY,
    round_id INTEGER, server TEXT, channel TEXT, user_id TEXT, name TEXT, choice INTEGER, at TEXT,
    token TEXT, status TEXT, correct INTEGER, prior_choice INTEGER
)
"""

_ADD_PENDING = """
INSERT INTO pending (seq, round_id, server, channel, user_id, name, choice, at, token)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

# Each answer is classified from its round and the member's earlier answer to it, inside the
# transaction that writes it.
_CLASSIFY = """
UPDATE pending SET (status, correct, prior_choice) = (
    SELECT
        CASE
            -- The token tells this round from another that reuses its id after a restore; a
            -- question that never reached the channel takes no answers.
            WHEN r.id IS NULL OR r.server != pending.server OR r.channel != pending.channel
                OR r.token != pending.token OR r.message_ref IS NULL OR r.message_ref = ''
                THEN 'unknown'
            WHEN pending.choice < 0 OR pending.choice >= r.choice_count THEN 'bad_choice'
            WHEN r.closed_at IS NOT NULL THEN 'closed'
            WHEN a.choice IS NOT NULL THEN 'duplicate'
            ELSE 'recorded' END,
        pending.choice = r.answer,
        a.choice
    FROM (SELECT 1) AS one
    LEFT JOIN rounds r ON r.id = pending.round_id
    LEFT JOIN answers a ON a.round_id = pending.round_id AND a.user_id = pending.user_id)
"""

_INSERT_ANSWERS = """
INSERT INTO answers (round_id, user_id, choice, correct, points, answered_at)
SELECT round_id, user_id, choice, correct, 0, at FROM pending WHERE status = 'recorded'
"""

# The name shown on leaderboards is the one of the member's latest valid press (a repeated press
# too: a member renamed since their answer is shown by the new name), as on PostgreSQL; the
# presses are written in order, so the latest is written last. An unchanged name writes nothing.
_UPSERT_MEMBERS = """
INSERT INTO members (server, user_id, name)
SELECT server, user_id, name FROM pending WHERE status IN ('recorded', 'duplicate') ORDER BY seq
ON CONFLICT (server, user_id) DO UPDATE SET name = excluded.name WHERE name != excluded.name
"""

_OUTCOMES = """
SELECT seq, status, CASE status WHEN 'recorded' THEN choice WHEN 'duplicate' THEN prior_choice END
FROM pending
"""

_CLEAR_PENDING = "DELETE FROM pending"


@cache
def _outcome(status: str, choice: int | None) -> AnswerOutcome:
    """Outcomes are immutable and few: one shared object for each status and choice."""
    return AnswerOutcome(AnswerStatus(status), choice)


def waves(requests: list[AnswerRequest]) -> list[list[tuple[int, AnswerRequest]]]:
    """Split a batch so no member answers one round twice in a wave: the second press must be
    classified after the first one is written. Almost every batch is a single wave."""
    if len({(r.round_id, r.user_id) for r in requests}) == len(requests):
        return [list(enumerate(requests))]
    found: list[list[tuple[int, AnswerRequest]]] = []
    seen: list[set[tuple[int, str]]] = []
    for seq, request in enumerate(requests):
        key = (request.round_id, request.user_id)
        for wave, keys in zip(found, seen, strict=True):
            if key not in keys:
                wave.append((seq, request))
                keys.add(key)
                break
        else:
            found.append([(seq, request)])
            seen.append({key})
    return found


async def record_answers(
    db: aiosqlite.Connection,
    requests: list[AnswerRequest],
    outcomes: list[AnswerOutcome | None],
    *,
    before_write: Callable[[], None] = lambda: None,
) -> None:
    """Record a batch, filling `outcomes` (one per request) as each wave commits.
    `before_write` runs just before the writes are handed to the database thread."""
    for wave in waves(requests):
        rows = [
            (
                seq,
                r.round_id,
                r.server,
                r.channel,
                r.user_id,
                r.name,
                r.choice,
                to_text(r.at),
                r.token,
            )
            for seq, r in wave
        ]
        before_write()
        found = await on_thread(db, partial(_write_wave, rows=rows))
        for seq, status, kept in found:
            outcomes[seq] = _outcome(status, kept)


def _write_wave(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[Any]:
    """On the connection's thread: one wave from the temporary table to its commit."""
    conn.execute(_PENDING_TABLE)
    # Only the temporary table is written in this first transaction: it takes no lock.
    conn.execute("BEGIN")
    conn.execute(_CLEAR_PENDING)
    conn.executemany(_ADD_PENDING, rows)
    conn.execute("COMMIT")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(_CLASSIFY)
    conn.execute(_INSERT_ANSWERS)
    conn.execute(_UPSERT_MEMBERS)
    conn.execute("COMMIT")
    return conn.execute(_OUTCOMES).fetchall()
