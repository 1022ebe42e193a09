"""Columns and row conversions shared by the PostgreSQL backend's modules."""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bot.store.api import RoundRow, ScheduleRow

# A connection of its own (the writer's) or one lent by the pool: the queries take either.
Conn: TypeAlias = asyncpg.Connection | PoolConnectionProxy

SCHEDULE_COLUMNS = "server, channel, time, zone, last_error, last_error_at, updated_at, next_due_at"
ROUND_COLUMNS = (
    "id, server, channel, question_id, choice_count, answer, day, posted_at, reveal_at, "
    "closed_at, message_ref, token, question"
)

# Put in a statement (it returns 'off'), this commits the statement's transaction without waiting
# for the disk. Only for writes that nothing outside the database acts on before a later commit
# that does wait: WAL is flushed in order, so that commit makes this one durable too, and a crash
# before it loses only what nothing has been posted on. Opening a round with nothing to close
# qualifies (its question is posted, and shown to members, only once the delivery's claim has
# committed) and so does handing a schedule back (a lost one is claimed again and finds its day
# taken).
NO_DISK_WAIT = "set_config('synchronous_commit', 'off', true)"


def round_row(row: asyncpg.Record | tuple[Any, ...]) -> RoundRow:
    return RoundRow(
        id=row[0],
        server=row[1],
        channel=row[2],
        question_id=row[3],
        choice_count=row[4],
        answer=row[5],
        day=row[6],
        posted_at=row[7],
        reveal_at=row[8],
        closed_at=row[9],
        message_ref=row[10],
        token=row[11],
        question=row[12],
    )


def schedule_row(row: asyncpg.Record) -> ScheduleRow:
    return ScheduleRow(
        server=row[0],
        channel=row[1],
        time=row[2],
        zone=row[3],
        last_error=row[4],
        last_error_at=row[5],
        updated_at=row[6],
        next_due_at=row[7],
    )


def clean(text: str) -> str:
    """PostgreSQL text cannot hold NUL; a name or an error message with one is still kept."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text
