"""Recording a batch of answers on PostgreSQL, set-based, in the writer's transaction.

A press only records the answer and the member's name: points and streaks are settled when the
round closes (see scoring.py). The batch travels as arrays (`unnest`), whatever its size, in one
statement that locks its rounds, records the first answers and upserts the names (`_RECORD`);
only the presses that statement did not plainly record (refused, repeated, or sharing a key
within the batch) are then classified against what is committed or written (`_CLASSIFY`).
"""

from __future__ import annotations

from collections import Counter
from functools import cache

from bot.store.api import AnswerOutcome, AnswerRequest, AnswerStatus
from bot.store.postgres.rows import Conn, clean

_BATCH = """
unnest($1::int[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
       $8::timestamptz[], $9::text[])
    AS p(seq, round_id, server, channel, user_id, name, choice, at, token)
"""

# The batch's presses, and the few distinct rounds (with where they were pressed and the token)
# they name: sending each round once per press would encode and parse nine arrays, not five.
_PRESSES = """
unnest($5::int[], $6::text[], $7::text[], $8::int[], $9::timestamptz[])
    WITH ORDINALITY AS p(target, user_id, name, choice, at, seq)
"""
_TARGETS = """
unnest($1::bigint[], $2::text[], $3::text[], $4::text[])
    WITH ORDINALITY AS t(round_id, server, channel, token, target)
"""

# One statement records the batch:
# - `locked` takes `FOR SHARE` on the batch's rounds. The foreign key alone would take only
#   `FOR KEY SHARE`, which does not conflict with the close's `UPDATE rounds SET closed_at`: an
#   answer that saw its round open could then commit after the close scored the round, and never
#   be scored. With the share lock a close waits for the batch; a lock that waited for a close
#   returns the round as the close left it (READ COMMITTED re-reads a row it had to wait for),
#   and every later step reads the round from `locked`, never from an older snapshot.
# - `valid` keeps the first valid press of each (round, member) (DISTINCT ON by seq).
# - `recorded` inserts them; the database keeps the first answer, and a repeated delivery (here
#   or in another process) inserts nothing. A unique violation would abort the whole
#   transaction, so none is ever raised.
# - `named` upserts the names of the members who pressed validly, in key order (so two writers
#   never deadlock on them): the name shown on leaderboards is the one of the member's latest
#   press, and an unchanged name writes nothing.
# Only the keys inserted come back. (Joining `recorded` back to `valid` in SQL was planned as a
# nested loop over two CTEs estimated at one row each: quadratic.)
_RECORD = f"""
WITH locked AS MATERIALIZED (
    SELECT id, server, channel, token, message_ref, closed_at, choice_count, answer
    FROM rounds WHERE id = ANY($1::bigint[]) ORDER BY id FOR SHARE
),
valid AS MATERIALIZED (
    SELECT DISTINCT ON (t.round_id, p.user_id) p.seq, t.round_id, t.server, p.user_id, p.name,
        p.choice, (p.choice = r.answer)::int AS correct, p.at
    FROM {_PRESSES} JOIN {_TARGETS} USING (target) JOIN locked r ON r.id = t.round_id
    WHERE r.server = t.server AND r.channel = t.channel AND r.closed_at IS NULL
      AND r.token = t.token AND r.message_ref IS NOT NULL AND r.message_ref != ''
      AND p.choice >= 0 AND p.choice < r.choice_count
    ORDER BY t.round_id, p.user_id, p.seq
),
named AS (
    INSERT INTO members (server, user_id, name)
    SELECT DISTINCT ON (server, user_id) server, user_id, name FROM valid
    ORDER BY server, user_id, seq DESC
    ON CONFLICT (server, user_id) DO UPDATE SET name = excluded.name
    WHERE members.name IS DISTINCT FROM excluded.name
)
INSERT INTO answers (round_id, user_id, choice, correct, points, answered_at)
SELECT round_id, user_id, choice, correct, 0, at FROM valid
ON CONFLICT (round_id, user_id) DO NOTHING
RETURNING round_id, user_id
"""

_CLASSIFY = f"""
SELECT p.seq,
    CASE
        -- The token tells this round from another that reuses its id after a restore; a
        -- question that never reached the channel takes no answers.
        WHEN r.id IS NULL OR r.server != p.server OR r.channel != p.channel
            OR r.token != p.token OR r.message_ref IS NULL OR r.message_ref = '' THEN 'unknown'
        WHEN p.choice < 0 OR p.choice >= r.choice_count THEN 'bad_choice'
        WHEN r.closed_at IS NOT NULL THEN 'closed'
        ELSE 'open' END,
    a.choice
FROM {_BATCH}
LEFT JOIN rounds r ON r.id = p.round_id
LEFT JOIN answers a ON a.round_id = p.round_id AND a.user_id = p.user_id
"""


@cache
def _outcome(status: AnswerStatus, choice: int | None) -> AnswerOutcome:
    """Outcomes are immutable and few: one shared object for each status and choice."""
    return AnswerOutcome(status, choice)


async def record_answers(conn: Conn, requests: list[AnswerRequest]) -> list[AnswerOutcome]:
    """Record a batch inside the caller's transaction; one outcome per request, in order."""
    targets: dict[tuple[int, str, str, str], int] = {}
    for r in requests:
        targets.setdefault((r.round_id, r.server, r.channel, r.token), len(targets) + 1)
    names = [clean(r.name) for r in requests]
    inserted = {
        (row[0], row[1])
        for row in await conn.fetch(
            _RECORD,
            *zip(*targets, strict=True),
            [targets[r.round_id, r.server, r.channel, r.token] for r in requests],
            [r.user_id for r in requests],
            names,
            [r.choice for r in requests],
            [r.at for r in requests],
        )
    }
    keys = [(r.round_id, r.user_id) for r in requests]
    presses = Counter(keys)
    # A press alone with its key, whose key was inserted, is the one recorded: the usual case,
    # known without asking. Only the others (refused, repeated, or sharing a key within the
    # batch) are classified against the database.
    recorded = {seq for seq, key in enumerate(keys) if key in inserted and presses[key] == 1}
    ask = [seq for seq in range(len(requests)) if seq not in recorded]
    states: dict[int, tuple[str, int | None]] = {}
    if ask:
        subset = [requests[seq] for seq in ask]
        for seq, state, kept in await conn.fetch(
            _CLASSIFY,
            ask,
            [r.round_id for r in subset],
            [r.server for r in subset],
            [r.channel for r in subset],
            [r.user_id for r in subset],
            [names[seq] for seq in ask],
            [r.choice for r in subset],
            [r.at for r in subset],
            [r.token for r in subset],
        ):
            states[seq] = (state, kept)
    # Of the keys shared within the batch, the first valid press ('open' is exactly what
    # `valid` keeps) is the one recorded, as DISTINCT ON chose it.
    for seq in ask:
        if keys[seq] in inserted and states[seq][0] == "open":
            inserted.discard(keys[seq])
            recorded.add(seq)
    outcomes: list[AnswerOutcome | None] = [None] * len(requests)
    for seq in recorded:
        outcomes[seq] = _outcome(AnswerStatus.RECORDED, requests[seq].choice)
    for seq, (state, kept) in states.items():
        if seq in recorded:
            continue
        if state != "open":
            outcomes[seq] = _outcome(AnswerStatus(state), None)
        else:
            outcomes[seq] = _outcome(AnswerStatus.DUPLICATE, kept)
    assert all(o is not None for o in outcomes)
    return outcomes  # type: ignore[return-value]
