"""Deliveries on PostgreSQL: what a channel must receive, recorded with the round that makes it
due, claimed for a lease by one process, marked once posted, released for a retry otherwise.

The same rules as sqlite/deliveries.py. A claim is one `UPDATE` of the channel's oldest undone
delivery: two processes claiming at once serialise on that row, and the second finds it claimed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.models import ChannelRef
from bot.store.api import Delivery, DeliveryKind, RoundRow
from bot.store.postgres.rows import Conn, clean


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
    else:
        await conn.execute(
            "UPDATE deliveries SET done_at = $1, outcome = 'dropped'"
            " WHERE round_id = $2 AND kind = 'question' AND done_at IS NULL",
            at,
            closed.id,
        )


async def claim(
    conn: Conn, channel: ChannelRef, worker: str, now: datetime, lease: timedelta
) -> Delivery | None:
    row = await conn.fetchrow(
        "UPDATE deliveries SET claimed_by = $1, claimed_until = $2, claims = claims + 1"
        " WHERE id = (SELECT id FROM deliveries WHERE server = $3 AND channel = $4"
        "             AND done_at IS NULL ORDER BY id LIMIT 1)"
        " AND due_at <= $5 AND (claimed_until IS NULL OR claimed_until < $5)"
        " RETURNING id, round_id, server, channel, kind, attempts, claims",
        worker,
        now + lease,
        channel.server,
        channel.channel,
        now,
    )
    if row is None:
        return None
    return Delivery(
        id=row[0],
        round_id=row[1],
        server=row[2],
        channel=row[3],
        kind=DeliveryKind(row[4]),
        attempts=row[5],
        in_doubt=row[6] - 1 > row[5],
    )


async def finish(conn: Conn, delivery_id: int, message_ref: str | None, at: datetime) -> None:
    row = await conn.fetchrow(
        "UPDATE deliveries SET done_at = coalesce(done_at, $1),"
        " outcome = CASE WHEN done_at IS NULL THEN 'posted' ELSE outcome END,"
        " claimed_by = NULL, claimed_until = NULL"
        " WHERE id = $2 RETURNING round_id, kind, outcome",
        at,
        delivery_id,
    )
    if row is None:
        return
    round_id, kind, outcome = row
    if kind == DeliveryKind.QUESTION and message_ref is not None:
        # Recording the message also clears the channel's last posting error.
        await conn.execute(
            "WITH delivered AS (UPDATE rounds SET message_ref = $1"
            " WHERE id = $2 AND message_ref IS NULL RETURNING server, channel)"
            " UPDATE schedules s SET last_error = NULL, last_error_at = NULL FROM delivered d"
            " WHERE s.server = d.server AND s.channel = d.channel AND s.last_error IS NOT NULL",
            message_ref,
            round_id,
        )
        if outcome == "dropped":
            # Closed while its question was on its way: the message is there, close its buttons.
            await _queue_close(conn, round_id, at)
    elif kind == DeliveryKind.REVEAL:
        await _queue_close(conn, round_id, at)
        # Only now, after the reveal is marked: a thread can never make the reveal post twice.
        await _queue_close(conn, round_id, at, kind=DeliveryKind.THREAD)


async def _queue_close(
    conn: Conn, round_id: int, at: datetime, *, kind: DeliveryKind = DeliveryKind.CLOSE
) -> None:
    """Queue a step on the question message (closing its buttons, or its discussion thread)."""
    await conn.execute(
        "INSERT INTO deliveries (round_id, server, channel, kind, due_at)"
        " SELECT id, server, channel, $3, $1 FROM rounds"
        " WHERE id = $2 AND message_ref IS NOT NULL AND message_ref != ''"
        " ON CONFLICT (round_id, kind) DO NOTHING",
        at,
        round_id,
        kind.value,
    )


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
