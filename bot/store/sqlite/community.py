"""A server's own questions and the channel settings, on SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from bot.models import ChannelRef
from bot.store.api import (
    SETTINGS_COLUMNS,
    ChannelSettings,
    NewServerQuestion,
    ServerQuestionRow,
    SuggestionStatus,
)
from bot.store.sqlite.connection import fetch_all, first, from_text, one, to_text

COLUMNS = (
    "id, server, key, question, status, author_id, author_name, channel, created_at,"
    " decided_at, reason, told"
)


def question_row(row: Sequence[Any]) -> ServerQuestionRow:
    created = from_text(row[8])
    assert created is not None
    return ServerQuestionRow(
        id=row[0],
        server=row[1],
        key=row[2],
        question=row[3],
        status=SuggestionStatus(row[4]),
        author_id=row[5],
        author_name=row[6],
        channel=row[7],
        created_at=created,
        decided_at=from_text(row[9]),
        reason=row[10],
        told=bool(row[11]),
    )


def add(
    db: sqlite3.Connection, server: str, questions: list[NewServerQuestion], at: datetime
) -> list[int]:
    ids: list[int] = []
    for q in questions:
        rows = fetch_all(
            db,
            "INSERT INTO server_questions (server, key, question, status, author_id, author_name,"
            " channel, created_at, decided_at, told) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"
            " ON CONFLICT (server, key) DO UPDATE SET question = excluded.question,"
            " status = excluded.status, decided_at = excluded.decided_at, reason = NULL"
            " RETURNING id",
            (
                server,
                q.key,
                q.question,
                q.status.value,
                q.author_id,
                q.author_name,
                q.channel,
                to_text(at),
                None if q.status is SuggestionStatus.PENDING else to_text(at),
            ),
        )
        ids.append(next(iter(rows))[0])
    return ids


async def listed(
    db: aiosqlite.Connection, server: str, status: SuggestionStatus | None
) -> list[ServerQuestionRow]:
    if status is None:
        rows = await db.execute_fetchall(
            f"SELECT {COLUMNS} FROM server_questions WHERE server = ? ORDER BY id", (server,)
        )
    else:
        rows = await db.execute_fetchall(
            f"SELECT {COLUMNS} FROM server_questions WHERE server = ? AND status = ? ORDER BY id",
            (server, status.value),
        )
    return [question_row(r) for r in rows]


async def by_id(db: aiosqlite.Connection, server: str, id: int) -> ServerQuestionRow | None:
    row = await one(
        db, f"SELECT {COLUMNS} FROM server_questions WHERE server = ? AND id = ?", (server, id)
    )
    return question_row(row) if row else None


def decide(
    db: sqlite3.Connection,
    *,
    server: str,
    id: int,
    status: SuggestionStatus,
    question: str | None,
    reason: str | None,
    at: datetime,
) -> bool:
    cursor = db.execute(
        "UPDATE server_questions SET status = ?, question = coalesce(?, question), reason = ?,"
        " decided_at = ?, told = 0 WHERE server = ? AND id = ?",
        (status.value, question, reason, to_text(at), server, id),
    )
    return cursor.rowcount > 0


async def untold(db: aiosqlite.Connection, server: str, author_id: str) -> list[ServerQuestionRow]:
    rows = await db.execute_fetchall(
        f"SELECT {COLUMNS} FROM server_questions WHERE server = ? AND author_id = ?"
        " AND told = 0 AND status IN ('approved', 'rejected') ORDER BY id",
        (server, author_id),
    )
    return [question_row(r) for r in rows]


def mark_told(db: sqlite3.Connection, server: str, ids: list[int]) -> None:
    db.executemany(
        "UPDATE server_questions SET told = 1 WHERE server = ? AND id = ?",
        [(server, i) for i in ids],
    )


def settings(db: sqlite3.Connection, channel: ChannelRef) -> ChannelSettings | None:
    row = first(
        db,
        f"SELECT {SETTINGS_COLUMNS} FROM channel_settings s WHERE server = ? AND channel = ?",
        (channel.server, channel.channel),
    )
    return ChannelSettings.from_columns(row) if row is not None else None


def set_settings(
    db: sqlite3.Connection, channel: ChannelRef, s: ChannelSettings, at: datetime
) -> None:
    db.execute(
        "INSERT INTO channel_settings (server, channel, source, topics, difficulty, thread, ping,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (server, channel) DO UPDATE"
        " SET source = excluded.source, topics = excluded.topics,"
        " difficulty = excluded.difficulty, thread = excluded.thread, ping = excluded.ping,"
        " updated_at = excluded.updated_at",
        (
            channel.server,
            channel.channel,
            s.source,
            ",".join(s.topics),
            s.difficulty,
            int(s.thread),
            s.ping,
            to_text(at),
        ),
    )
