"""Deliveries on PostgreSQL: what a channel must receive, recorded with the round that makes it
due, claimed for a lease by one process, marked once posted, released for a retry otherwise.

The same rules as sqlite/deliveries.py. A claim is one `UPDATE` of the channel's oldest undone
delivery: two processes claiming at once serialise on that row, and the second finds it claimed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.models import ChannelRef
from bot.store.api import SETTINGS_COLUMNS, ChannelSettings, Delivery, DeliveryKind, RoundRow
from bot.store.postgres.rows import ROUND_COLUMNS, Conn, clean, round_row

# The round's columns as the claim reads them (joined, so named by their table).
_CLAIMED_ROUND = ", ".join(f"r.{column.strip()}" for column in ROUND_COLUMNS.split(","))

# Made due at once by a new round and by a close: what they queue comes after these.
DUE_NOW = (
    "UPDATE deliveries SET due_at = $3 WHERE server = $1 AND channel = $2"
    " AND done_at IS NULL AND due_at > $3"
)


async def queue(conn: Conn, row: RoundRow, kind: DeliveryKind, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO deliveries (round_id, server, channel, kind, due_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        row.id,
        row.server,
        row.channel,
        kind.value,
        at,
    )


async def after_close(conn: Conn, closed: RoundRow, at: datetime) -> None:
    """A delivered round's reveal becomes due; an undelivered one's question is dropped."""
    if closed.delivered:
        await queue(conn, closed, DeliveryKind.REVEAL, at)
        return
    # A post that got no answer (or whose process died) may have reached the channel all the
    # same: its buttons are looked for and closed, so none stays live-looking. (A post still in
    # flight is closed by its finish instead, once its message is known.)
    await conn.execute(
        "WITH dropped AS (UPDATE deliveries SET done_at = $1, outcome = 'dropped'"
        " WHERE round_id = $2 AND kind = 'question' AND done_at IS NULL"
        " RETURNING claims > attempts AND (claimed_until IS NULL OR claimed_until < $1)"
        " AS in_doubt)"
        " INSERT INTO deliveries (round_id, server, channel, kind, due_at)"
        " SELECT $2, $3, $4, 'close', $1 FROM dropped WHERE in_doubt"
        " ON CONFLICT (round_id, kind) DO NOTHING",
        at,
        closed.id,
        closed.server,
        closed.channel,
    )


async def claim(
    conn: Conn, channel: ChannelRef, worker: str, now: datetime, lease: timedelta
) -> Delivery | None:
    # One statement claims the delivery and reads what posting it needs: the round (a left
    # join: a claim whose round is gone is still returned, to be given up) and the settings.
    row = await conn.fetchrow(
        "WITH claimed AS (UPDATE deliveries SET claimed_by = $1, claimed_until = $2,"
        " claims = claims + 1"
        " WHERE id = (SELECT id FROM deliveries WHERE server = $3 AND channel = $4"
        "             AND done_at IS NULL ORDER BY id LIMIT 1)"
        # Checked again here: a claim that waited for another process's finish re-reads
        # only this row (READ COMMITTED), and must not take a delivery that finish ended.
        " AND done_at IS NULL AND due_at <= $5"
        " AND (claimed_until IS NULL OR claimed_until < $5)"
        " RETURNING id, round_id, server, channel, kind, attempts, claims)"
        " SELECT d.id, d.round_id, d.server, d.channel, d.kind, d.attempts, d.claims,"
        f" {SETTINGS_COLUMNS}, r.id IS NOT NULL,"
        f" {_CLAIMED_ROUND}"
        " FROM claimed d LEFT JOIN rounds r ON r.id = d.round_id"
        " LEFT JOIN channel_settings s ON s.server = d.server AND s.channel = d.channel",
        worker,
        now + lease,
        channel.server,
        channel.channel,
        now,
    )
    if row is None:
        return None
    values = tuple(row)
    return Delivery(
        id=row[0],
        round_id=row[1],
        server=row[2],
        channel=row[3],
        kind=DeliveryKind(row[4]),
        attempts=row[5],
        in_doubt=row[6] - 1 > row[5],
        round=round_row(values[13:]) if row[12] else None,
        # `source` is never NULL in a settings row: NULL means the channel has none.
        settings=ChannelSettings.from_columns(values[7:12]) if row[7] is not None else None,
    )


# One statement, so no explicit transaction: mark the delivery; for a question, keep its message
# (the first one kept stays) and clear the channel's posting error; queue the steps on the
# question message that come after (closing its buttons and opening its thread after a reveal;
# closing the buttons of a question that reached the channel after its round closed). Every part
# reads the rows as they were before the statement, so the message a question may have just kept
# is `coalesce(r.message_ref, $3)`. A question's round is locked first, as closing it locks the
# round and then its deliveries: the same order, so a finish and a close never deadlock.
_FINISH = """
WITH round_locked AS (
    SELECT r.id FROM rounds r
    WHERE r.id = (SELECT round_id FROM deliveries WHERE id = $2 AND kind = 'question')
    FOR NO KEY UPDATE
),
d AS (
    UPDATE deliveries SET done_at = coalesce(done_at, $1),
        outcome = CASE WHEN done_at IS NULL THEN 'posted' ELSE outcome END,
        claimed_by = NULL, claimed_until = NULL
    WHERE id = $2 AND (SELECT count(*) FROM round_locked) >= 0
    RETURNING round_id, server, channel, kind, outcome
),
kept AS (
    UPDATE rounds r SET message_ref = $3 FROM d
    WHERE r.id = d.round_id AND d.kind = 'question' AND $3::text IS NOT NULL
      AND r.message_ref IS NULL
    RETURNING r.server, r.channel
),
cleared AS (
    UPDATE schedules s SET last_error = NULL, last_error_at = NULL FROM kept k
    WHERE s.server = k.server AND s.channel = k.channel AND s.last_error IS NOT NULL
),
steps AS (
    INSERT INTO deliveries (round_id, server, channel, kind, due_at)
    SELECT r.id, r.server, r.channel, step.kind, $1
    FROM d JOIN rounds r ON r.id = d.round_id
    CROSS JOIN (VALUES (1, 'close'), (2, 'thread')) AS step (n, kind)
    WHERE (d.kind = 'reveal' AND coalesce(r.message_ref, '') != '')
       OR (d.kind = 'question' AND d.outcome = 'dropped' AND step.kind = 'close'
           AND coalesce(r.message_ref, $3::text, '') != '')
    ORDER BY step.n
    ON CONFLICT (round_id, kind) DO NOTHING
    RETURNING 1
)
SELECT server, channel,
    EXISTS (SELECT 1 FROM steps) OR EXISTS (SELECT 1 FROM deliveries w
        WHERE w.server = d.server AND w.channel = d.channel AND w.done_at IS NULL AND w.id != $2)
FROM d
"""

# After the finish has committed, in a snapshot of its own: a post another process queued
# meanwhile (and could not claim, this one's claim being in its way) is seen, so this drain
# goes on to post it.
_MORE = (
    "SELECT EXISTS (SELECT 1 FROM deliveries"
    " WHERE server = $1 AND channel = $2 AND done_at IS NULL)"
)


async def finish(conn: Conn, delivery_id: int, message_ref: str | None, at: datetime) -> bool:
    """Mark the delivery (the caller holds no transaction: the mark commits on its own)."""
    where = await conn.fetchrow(_FINISH, at, delivery_id, message_ref)
    if where is None:
        return False
    if where[2]:
        # More was waiting already in the mark's own snapshot (or the mark queued it): the look
        # after the commit is only needed to see what nothing here saw.
        return True
    return bool(await conn.fetchval(_MORE, where[0], where[1]))


async def fail(
    conn: Conn,
    delivery_id: int,
    *,
    error: str,
    retry_at: datetime,
    give_up: bool,
    at: datetime,
    ambiguous: bool = False,
) -> None:
    # An ambiguous failure counts as one more claim whose outcome is unknown (see `claims`).
    await conn.execute(
        "UPDATE deliveries SET attempts = attempts + 1, last_error = $1, due_at = $2,"
        " claims = claims + $6,"
        " claimed_by = NULL, claimed_until = NULL,"
        " done_at = CASE WHEN $3 THEN $4::timestamptz END,"
        " outcome = CASE WHEN $3 THEN 'failed' END"
        " WHERE id = $5 AND done_at IS NULL",
        clean(error),
        retry_at,
        give_up,
        at,
        delivery_id,
        int(ambiguous),
    )
