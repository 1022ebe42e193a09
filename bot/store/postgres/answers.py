"""Recording a batch of answers on PostgreSQL, set-based, in the writer's transaction.

A press only records the answer and the member's name: points and streaks are settled when the
round closes (see scoring.py). The batch travels as arrays (`unnest`), whatever its size:

1. `SELECT ... FOR SHARE` on the batch's rounds. The foreign key alone would take only
   `FOR KEY SHARE`, which does not conflict with the close's `UPDATE rounds SET closed_at`: an
   answer that saw its round open could then commit after the close scored the round, and never
   be scored. With the share lock a close waits for the batch; a batch that waited for a close
   reads the round closed (READ COMMITTED re-reads the latest row).
2. One `INSERT ... ON CONFLICT DO NOTHING` of the first valid press of each (round, member): the
   database keeps the first answer, and a repeated delivery (here or in another process) inserts
   nothing. A unique violation would abort the whole transaction, so none is ever raised.
3. One query that classifies the presses not plainly recorded against what is now committed
   or written.
4. One upsert of the names of the members recorded, in key order (so two writers never
   deadlock on them).
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

_LOCK_ROUNDS = "SELECT id FROM rounds WHERE id = ANY($1::bigint[]) ORDER BY id FOR SHARE"

# The rounds are locked and re-read by this later statement, so `closed_at` is the latest.
_VALID = f"""
SELECT DISTINCT ON (p.round_id, p.user_id) p.seq, p.round_id, p.server, p.user_id, p.name,
    p.choice, (p.choice = r.answer)::int AS correct, p.at
FROM {_BATCH} JOIN rounds r ON r.id = p.round_id
WHERE r.server = p.server AND r.channel = p.channel AND r.closed_at IS NULL
  AND r.token = p.token AND r.message_ref IS NOT NULL AND r.message_ref != ''
  AND p.choice >= 0 AND p.choice < r.choice_count
ORDER BY p.round_id, p.user_id, p.seq
"""

# Returns only the keys inserted. Joining them back to `valid` in SQL was planned as a nested
# loop over two CTEs (estimated at one row each): quadratic, half a second for 2,000 presses.
_RECORD = f"""
WITH valid AS ({_VALID})
INSERT INTO answers (round_id, user_id, choice, correct, points, answered_at)
SELECT round_id, user_id, choice, correct, 0, at FROM valid
ON CONFLICT (round_id, user_id) DO NOTHING
RETURNING round_id, user_id
"""

# The name shown on leaderboards is the one of the member's latest answer; an unchanged name
# writes nothing. A member answering two rounds in one batch is upserted once.
_UPSERT_MEMBERS = """
INSERT INTO members (server, user_id, name)
SELECT DISTINCT ON (server, user_id) server, user_id, name
FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS m(seq, server, user_id, name)
ORDER BY server, user_id, seq DESC
ON CONFLICT (server, user_id) DO UPDATE SET name = excluded.name
WHERE members.name IS DISTINCT FROM excluded.name
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
    columns = (
        list(range(len(requests))),
        [r.round_id for r in requests],
        [r.server for r in requests],
        [r.channel for r in requests],
        [r.user_id for r in requests],
        [clean(r.name) for r in requests],
        [r.choice for r in requests],
        [r.at for r in requests],
        [r.token for r in requests],
    )
    await conn.execute(_LOCK_ROUNDS, sorted(set(columns[1])))
    inserted = {(row[0], row[1]) for row in await conn.fetch(_RECORD, *columns)}
    keys = [(r.round_id, r.user_id) for r in requests]
    presses = Counter(keys)
    # A press alone with its key, whose key was inserted, is the one recorded: the usual case,
    # known without asking. Only the others (refused, repeated, or sharing a key within the
    # batch) are classified against the database.
    recorded = {seq for seq, key in enumerate(keys) if key in inserted and presses[key] == 1}
    ask = [seq for seq in range(len(requests)) if seq not in recorded]
    states: dict[int, tuple[str, int | None]] = {}
    if ask:
        subset = tuple([column[seq] for seq in ask] for column in columns[1:])
        for seq, state, kept in await conn.fetch(_CLASSIFY, ask, *subset):
            states[seq] = (state, kept)
    # Of the keys shared within the batch, the first valid press ('open' is exactly what
    # `_VALID` keeps) is the one recorded, as DISTINCT ON chose it.
    for seq in ask:
        if keys[seq] in inserted and states[seq][0] == "open":
            inserted.discard(keys[seq])
            recorded.add(seq)
    first = sorted(recorded)
    if first:
        await conn.execute(
            _UPSERT_MEMBERS,
            first,
            [requests[seq].server for seq in first],
            [requests[seq].user_id for seq in first],
            [columns[5][seq] for seq in first],
        )
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
