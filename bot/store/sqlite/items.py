"""The read behind item analysis: closed rounds and their answers, as columns, from one
read transaction."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.store.api import (
    MEMBER_KEY_SEPARATOR,
    ItemColumns,
    ItemColumnsBuilder,
    ItemRound,
)
from bot.store.sqlite.connection import from_text

_ROUNDS = (
    "SELECT r.id, r.server, r.question_id, r.topic, r.difficulty, r.choice_count, r.answer,"
    " r.posted_at, r.question FROM rounds r WHERE r.closed_at IS NOT NULL {where} ORDER BY r.id"
)
# In the order of the answers' primary key, so members are numbered the same way every time.
_ANSWER_COLUMNS = (
    f"SELECT a.round_id, r.server || char({ord(MEMBER_KEY_SEPARATOR)}) || a.user_id, a.choice,"
    " a.correct,"
    # The time is kept as UTC ISO text: its first ten characters are the day.
    " substr(a.answered_at, 1, 10) FROM rounds r JOIN answers a ON a.round_id = r.id"
    " WHERE r.closed_at IS NOT NULL {where} ORDER BY a.round_id, a.user_id"
)
BATCH = 50_000


async def item_columns(path: Path, server: str | None) -> ItemColumns:
    # Millions of rows: a connection of its own in one worker thread, rather than a hop to
    # aiosqlite's thread and back for every batch.
    return await asyncio.to_thread(_read_columns, path, server)


def _read_columns(path: Path, server: str | None) -> ItemColumns:
    where, params = ("AND r.server = ?", (server,)) if server is not None else ("", ())
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        # One read transaction: a round closing meanwhile shows in both reads or neither.
        db.execute("BEGIN")
        builder = ItemColumnsBuilder(
            _rounds(db.execute(_ROUNDS.format(where=where), params).fetchall())
        )
        cursor = db.execute(_ANSWER_COLUMNS.format(where=where), params)
        while batch := cursor.fetchmany(BATCH):
            round_ids, members, choices, correct, days = zip(*batch, strict=True)
            builder.add(round_ids, members, choices, correct)
            builder.add_days(days)
        db.execute("COMMIT")
    finally:
        db.close()
    return builder.finish()


def _rounds(rows: list[Any]) -> list[ItemRound]:
    return [
        ItemRound(
            id=row[0],
            server=row[1],
            question_id=row[2],
            topic=row[3],
            difficulty=row[4],
            choice_count=row[5],
            answer=row[6],
            posted_at=_moment(row[7]),
            question=row[8],
        )
        for row in rows
    ]


def _moment(text: str) -> datetime:
    moment = from_text(text)
    assert moment is not None
    return moment
