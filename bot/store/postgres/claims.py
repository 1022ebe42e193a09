"""Schedules claimed by one process at a time, and Discord's login slots, on PostgreSQL.

A claim takes due rows with `FOR UPDATE SKIP LOCKED`: replicas polling together each get
different schedules, none waits for another, and a row stays claimed (by its lease) after the
claiming transaction commits, so a replica that dies holding it loses it when the lease ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.models import ChannelRef
from bot.store.api import ScheduleRow, Shards
from bot.store.postgres.rows import NO_DISK_WAIT, SCHEDULE_COLUMNS, Conn, schedule_row


def shard_filter(shards: Shards | None, first: int) -> tuple[str, list[object]]:
    """A condition on `server` keeping the servers of `shards` only, with its parameters
    numbered from `$first`."""
    if shards is None:
        return "", []
    # CASE, so the guild id is only ever cast on a Discord key, whatever order the planner picks.
    condition = (
        " AND starts_with(server, 'discord:') AND CASE WHEN server ~ '^discord:[0-9]{1,19}$'"
        f" THEN ((substr(server, 9)::bigint >> 22) % ${first})::int END = ANY(${first + 1}::int[])"
    )
    return condition, [shards.count, sorted(shards.ids)]


async def claim_due(
    conn: Conn,
    *,
    platform: str | None,
    now: datetime,
    worker: str,
    lease: timedelta,
    limit: int,
    shards: Shards | None,
) -> list[ScheduleRow]:
    where, params = shard_filter(shards, 5)
    if platform is not None:
        where += f" AND starts_with(server, ${5 + len(params)})"
        params.append(f"{platform}:")
    rows = await conn.fetch(
        "WITH due AS (SELECT server, channel FROM schedules"
        "  WHERE (next_due_at IS NULL OR next_due_at <= $3)"
        f"  AND (claimed_until IS NULL OR claimed_until < $3){where}"
        "  ORDER BY next_due_at NULLS FIRST LIMIT $4 FOR UPDATE SKIP LOCKED)"
        " UPDATE schedules s SET claimed_by = $1, claimed_until = $2"
        " FROM due WHERE s.server = due.server AND s.channel = due.channel"
        f" RETURNING {', '.join('s.' + c.strip() for c in SCHEDULE_COLUMNS.split(','))}",
        worker,
        now + lease,
        now,
        limit,
        *params,
    )
    found = [schedule_row(row) for row in rows]
    found.sort(key=lambda row: (row.next_due_at is not None, row.next_due_at or now))
    return found


async def finish(conn: Conn, channel: ChannelRef, worker: str, next_due_at: datetime) -> bool:
    status = await conn.execute(
        "UPDATE schedules SET next_due_at = $1, claimed_by = NULL, claimed_until = NULL"
        f" WHERE server = $2 AND channel = $3 AND claimed_by = $4 AND {NO_DISK_WAIT} = 'off'",
        next_due_at,
        channel.server,
        channel.channel,
        worker,
    )
    return status != "UPDATE 0"


async def reserve_identify(conn: Conn, bucket: int, now: datetime, spacing: timedelta) -> datetime:
    # One statement: a second process reserving the same bucket waits on the row, then sees
    # the slot the first one took.
    slot = await conn.fetchval(
        "INSERT INTO identify_slots AS s (bucket, next_at)"
        " VALUES ($1, $2::timestamptz + $3::interval) ON CONFLICT (bucket) DO UPDATE"
        " SET next_at = greatest(s.next_at, $2::timestamptz) + $3::interval"
        " RETURNING next_at - $3::interval",
        bucket,
        now,
        spacing,
    )
    assert isinstance(slot, datetime)
    return slot
