"""Deliveries on SQLite: what a channel must receive, recorded with the round that makes it due.

A delivery is claimed by one process for a lease before it is posted, marked done as soon as the
platform accepted it, and otherwise released for a retry. A channel's deliveries go out in the
order they were recorded: only the oldest undone one can be claimed.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from bot.models import ChannelRef
from bot.store.api import Delivery, DeliveryKind, RoundRow
from bot.store.sqlite import community
from bot.store.sqlite.connection import fetch_all, first, to_text
from bot.store.sqlite.rows import ROUND_COLUMNS, round_row

_QUEUE = "INSERT INTO deliveries (round_id, server, channel, kind, due_at) VALUES (?, ?, ?, ?, ?)"


def queue(db: sqlite3.Connection, row: RoundRow, kind: DeliveryKind, at: datetime) -> None:
    db.execute(_QUEUE, (row.id, row.server, row.channel, kind.value, to_text(at)))


def due_now(db: sqlite3.Connection, channel: ChannelRef, now: datetime) -> None:
    """The channel's waiting deliveries become due at once (a new round queues behind them)."""
    db.execute(
        "UPDATE deliveries SET due_at = ? WHERE server = ? AND channel = ?"
        " AND done_at IS NULL AND due_at > ?",
        (to_text(now), channel.server, channel.channel, to_text(now)),
    )


def after_close(db: sqlite3.Connection, closed: RoundRow, at: datetime) -> None:
    """A delivered round's reveal becomes due; an undelivered one's question is dropped: nobody
    saw it, so nothing is revealed (if a post of it was in flight, finishing it queues the edit
    that closes its buttons)."""
    if closed.delivered:
        queue(db, closed, DeliveryKind.REVEAL, at)
        return
    moment = to_text(at)
    dropped = fetch_all(
        db,
        "UPDATE deliveries SET done_at = ?1, outcome = 'dropped'"
        " WHERE round_id = ?2 AND kind = 'question' AND done_at IS NULL"
        " RETURNING claims > attempts AND (claimed_until IS NULL OR claimed_until < ?1)",
        (moment, closed.id),
    )
    if any(in_doubt for (in_doubt,) in dropped):
        # A post that got no answer (or whose process died) may have reached the channel all
        # the same: its buttons are looked for and closed. (A post still in flight is closed
        # by its finish instead, once its message is known.)
        db.execute(
            "INSERT INTO deliveries (round_id, server, channel, kind, due_at)"
            " VALUES (?, ?, ?, 'close', ?) ON CONFLICT (round_id, kind) DO NOTHING",
            (closed.id, closed.server, closed.channel, moment),
        )


def claim(
    db: sqlite3.Connection, channel: ChannelRef, worker: str, now: datetime, lease: timedelta
) -> Delivery | None:
    rows = fetch_all(
        db,
        "UPDATE deliveries SET claimed_by = :worker, claimed_until = :until, claims = claims + 1"
        " WHERE id = (SELECT id FROM deliveries WHERE server = :server AND channel = :channel"
        "             AND done_at IS NULL ORDER BY id LIMIT 1)"
        " AND done_at IS NULL AND due_at <= :now"
        " AND (claimed_until IS NULL OR claimed_until < :now)"
        " RETURNING id, round_id, server, channel, kind, attempts, claims",
        {
            "worker": worker,
            "until": to_text(now + lease),
            "server": channel.server,
            "channel": channel.channel,
            "now": to_text(now),
        },
    )
    row = next(iter(rows), None)
    if row is None:
        return None
    kept = first(db, f"SELECT {ROUND_COLUMNS} FROM rounds WHERE id = ?", (row[1],))
    return Delivery(
        id=row[0],
        round_id=row[1],
        server=row[2],
        channel=row[3],
        kind=DeliveryKind(row[4]),
        attempts=row[5],
        in_doubt=row[6] - 1 > row[5],
        round=round_row(kept) if kept is not None else None,
        settings=community.settings(db, channel),
    )


def finish(db: sqlite3.Connection, delivery_id: int, message_ref: str | None, at: datetime) -> bool:
    rows = fetch_all(
        db,
        "UPDATE deliveries SET done_at = coalesce(done_at, :at),"
        " outcome = CASE WHEN done_at IS NULL THEN 'posted' ELSE outcome END,"
        " claimed_by = NULL, claimed_until = NULL"
        " WHERE id = :id RETURNING round_id, kind, outcome, server, channel",
        {"at": to_text(at), "id": delivery_id},
    )
    row = next(iter(rows), None)
    if row is None:
        return False
    round_id, kind, outcome, server, channel = row
    if kind == DeliveryKind.QUESTION and message_ref is not None:
        db.execute(
            "UPDATE rounds SET message_ref = ? WHERE id = ? AND message_ref IS NULL",
            (message_ref, round_id),
        )
        if outcome == "dropped":
            # The round closed while its question was on its way: the message reached the
            # channel after all, so its buttons must be closed.
            _queue_close(db, round_id, at)
    elif kind == DeliveryKind.REVEAL:
        _queue_close(db, round_id, at)
        # Only now, after the reveal is marked: a thread can never make the reveal post twice.
        _queue_close(db, round_id, at, kind=DeliveryKind.THREAD)
    left = first(
        db,
        "SELECT 1 FROM deliveries WHERE server = ? AND channel = ? AND done_at IS NULL LIMIT 1",
        (server, channel),
    )
    return left is not None


def _queue_close(
    db: sqlite3.Connection,
    round_id: int,
    at: datetime,
    *,
    kind: DeliveryKind = DeliveryKind.CLOSE,
) -> None:
    """Queue a step on the question message (closing its buttons, or its discussion thread)."""
    db.execute(
        "INSERT INTO deliveries (round_id, server, channel, kind, due_at)"
        " SELECT id, server, channel, ?, ? FROM rounds"
        " WHERE id = ? AND message_ref IS NOT NULL AND message_ref != ''"
        " ON CONFLICT (round_id, kind) DO NOTHING",
        (kind.value, to_text(at), round_id),
    )


def fail(
    db: sqlite3.Connection,
    delivery_id: int,
    *,
    error: str,
    retry_at: datetime,
    give_up: bool,
    at: datetime,
    ambiguous: bool = False,
) -> None:
    # An ambiguous failure counts as one more claim whose outcome is unknown (see `claims`).
    db.execute(
        "UPDATE deliveries SET attempts = attempts + 1, last_error = :error, due_at = :retry,"
        " claims = claims + :ambiguous,"
        " claimed_by = NULL, claimed_until = NULL,"
        " done_at = CASE WHEN :give_up THEN :at END,"
        " outcome = CASE WHEN :give_up THEN 'failed' END"
        " WHERE id = :id AND done_at IS NULL",
        {
            "error": error,
            "retry": to_text(retry_at),
            "give_up": give_up,
            "at": to_text(at),
            "id": delivery_id,
            "ambiguous": int(ambiguous),
        },
    )
