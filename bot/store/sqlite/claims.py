"""Schedules claimed by one process at a time, and Discord's login slots, on SQLite.

Each runs in the writer's `BEGIN IMMEDIATE` transaction: SQLite's write lock makes a claim atomic
across every process on the file, so two processes never claim the same schedule or login slot.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import Any

from bot.models import ChannelRef
from bot.store.api import ScheduleRow, Shards
from bot.store.sqlite.connection import fetch_all, from_text, to_text
from bot.store.sqlite.rows import SCHEDULE_COLUMNS, platform_range, schedule_row


def shard_filter(shards: Shards | None) -> tuple[str, dict[str, Any]]:
    """A condition on `server` (named parameters) keeping the servers of `shards` only."""
    if shards is None:
        return "", {}
    ids = sorted(shards.ids)
    names = ", ".join(f":shard{i}" for i in range(len(ids)))
    # The guild id follows 'discord:' (8 characters); other platforms' keys never match.
    condition = (
        " AND server >= 'discord:' AND server < 'discord;'"
        f" AND (CAST(substr(server, 9) AS INTEGER) >> 22) % :shard_count IN ({names})"
    )
    params: dict[str, Any] = {"shard_count": shards.count}
    params.update({f"shard{i}": shard for i, shard in enumerate(ids)})
    return condition, params


def claim_due(
    db: sqlite3.Connection,
    *,
    platform: str | None,
    now: datetime,
    worker: str,
    lease: timedelta,
    limit: int,
    shards: Shards | None,
) -> list[ScheduleRow]:
    where, params = shard_filter(shards)
    if platform is not None:
        where += " AND server >= :low AND server < :high"
        params["low"], params["high"] = platform_range(platform)
    rows = fetch_all(
        db,
        "UPDATE schedules SET claimed_by = :worker, claimed_until = :until"
        " WHERE (server, channel) IN (SELECT server, channel FROM schedules"
        "  WHERE (next_due_at IS NULL OR next_due_at <= :now)"
        f"  AND (claimed_until IS NULL OR claimed_until < :now){where}"
        "  ORDER BY next_due_at IS NOT NULL, next_due_at LIMIT :limit)"
        f" RETURNING {SCHEDULE_COLUMNS}",
        {
            "worker": worker,
            "until": to_text(now + lease),
            "now": to_text(now),
            "limit": limit,
            **params,
        },
    )
    found = [schedule_row(row) for row in rows]
    found.sort(key=lambda row: (row.next_due_at is not None, row.next_due_at or now))
    return found


def finish(db: sqlite3.Connection, channel: ChannelRef, worker: str, next_due_at: datetime) -> bool:
    cursor = db.execute(
        "UPDATE schedules SET next_due_at = ?, claimed_by = NULL, claimed_until = NULL"
        " WHERE server = ? AND channel = ? AND claimed_by = ?",
        (to_text(next_due_at), channel.server, channel.channel, worker),
    )
    return cursor.rowcount > 0


def reserve_identify(
    db: sqlite3.Connection, bucket: int, now: datetime, spacing: timedelta
) -> datetime:
    rows = fetch_all(db, "SELECT next_at FROM identify_slots WHERE bucket = ?", (bucket,))
    earliest = from_text(next(iter(rows))[0]) if rows else None
    slot = max(now, earliest) if earliest is not None else now
    db.execute(
        "INSERT INTO identify_slots (bucket, next_at) VALUES (?, ?)"
        " ON CONFLICT (bucket) DO UPDATE SET next_at = excluded.next_at",
        (bucket, to_text(slot + spacing)),
    )
    return slot
