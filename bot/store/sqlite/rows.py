"""Columns and row conversions shared by the SQLite backend's modules."""

from __future__ import annotations

import sqlite3
from typing import Any

from bot.store.api import RoundRow, ScheduleRow
from bot.store.sqlite.connection import from_text

SCHEDULE_COLUMNS = "server, channel, time, zone, last_error, last_error_at, updated_at, next_due_at"
ROUND_COLUMNS = (
    "id, server, channel, question_id, choice_count, answer, day, posted_at, reveal_at, "
    "closed_at, message_ref, token, question"
)


def round_row(row: sqlite3.Row | tuple[Any, ...]) -> RoundRow:
    posted_at = from_text(row[7])
    assert posted_at is not None
    return RoundRow(
        id=row[0],
        server=row[1],
        channel=row[2],
        question_id=row[3],
        choice_count=row[4],
        answer=row[5],
        day=row[6],
        posted_at=posted_at,
        reveal_at=from_text(row[8]),
        closed_at=from_text(row[9]),
        message_ref=row[10],
        token=row[11],
        question=row[12],
    )


def schedule_row(row: sqlite3.Row | tuple[Any, ...]) -> ScheduleRow:
    return ScheduleRow(
        server=row[0],
        channel=row[1],
        time=row[2],
        zone=row[3],
        last_error=row[4],
        last_error_at=from_text(row[5]),
        updated_at=from_text(row[6]),
        next_due_at=from_text(row[7]),
    )


def platform_range(platform: str) -> tuple[str, str]:
    """Bounds of the server keys `<platform>:…`, as a range the primary keys can seek."""
    return f"{platform}:", f"{platform};"  # ';' sorts right after ':'
