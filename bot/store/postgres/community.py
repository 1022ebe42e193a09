"""A server's own questions and the channel settings, on PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from bot.models import ChannelRef
from bot.store.api import (
    SETTINGS_COLUMNS,
    ChannelSettings,
    NewServerQuestion,
    ServerQuestionRow,
    SuggestionStatus,
)
from bot.store.postgres.rows import Conn, clean

COLUMNS = (
    "id, server, key, question, status, author_id, author_name, channel, created_at,"
    " decided_at, reason, told"
)


def question_row(row: asyncpg.Record) -> ServerQuestionRow:
    return ServerQuestionRow(
        id=row[0],
        server=row[1],
        key=row[2],
        question=row[3],
        status=SuggestionStatus(row[4]),
        author_id=row[5],
        author_name=row[6],
        channel=row[7],
        created_at=row[8],
        decided_at=row[9],
        reason=row[10],
        told=row[11],
    )


async def add(
    conn: Conn, server: str, questions: list[NewServerQuestion], at: datetime
) -> list[int]:
    ids: list[int] = []
    for q in questions:
        new_id = await conn.fetchval(
            "INSERT INTO server_questions (server, key, question, status, author_id, author_name,"
            " channel, created_at, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (server, key) DO UPDATE SET question = excluded.question,"
            " status = excluded.status, decided_at = excluded.decided_at, reason = NULL"
            " RETURNING id",
            server,
            q.key,
            clean(q.question),
            q.status.value,
            q.author_id,
            clean(q.author_name),
            q.channel,
            at,
            None if q.status is SuggestionStatus.PENDING else at,
        )
        ids.append(int(new_id))
    return ids


async def listed(
    conn: Conn, server: str, status: SuggestionStatus | None
) -> list[ServerQuestionRow]:
    if status is None:
        rows = await conn.fetch(
            f"SELECT {COLUMNS} FROM server_questions WHERE server = $1 ORDER BY id", server
        )
    else:
        rows = await conn.fetch(
            f"SELECT {COLUMNS} FROM server_questions WHERE server = $1 AND status = $2 ORDER BY id",
            server,
            status.value,
        )
    return [question_row(r) for r in rows]


async def by_id(conn: Conn, server: str, id: int) -> ServerQuestionRow | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM server_questions WHERE server = $1 AND id = $2", server, id
    )
    return question_row(row) if row else None


async def decide(
    conn: Conn,
    *,
    server: str,
    id: int,
    status: SuggestionStatus,
    question: str | None,
    reason: str | None,
    at: datetime,
) -> bool:
    done = await conn.execute(
        "UPDATE server_questions SET status = $1, question = coalesce($2, question),"
        " reason = $3, decided_at = $4, told = false WHERE server = $5 AND id = $6",
        status.value,
        clean(question) if question is not None else None,
        clean(reason) if reason is not None else None,
        at,
        server,
        id,
    )
    return str(done) != "UPDATE 0"


async def untold(conn: Conn, server: str, author_id: str) -> list[ServerQuestionRow]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM server_questions WHERE server = $1 AND author_id = $2"
        " AND NOT told AND status IN ('approved', 'rejected') ORDER BY id",
        server,
        author_id,
    )
    return [question_row(r) for r in rows]


async def mark_told(conn: Conn, server: str, ids: list[int]) -> None:
    await conn.execute(
        "UPDATE server_questions SET told = true WHERE server = $1 AND id = ANY($2::bigint[])",
        server,
        ids,
    )


async def settings(conn: Conn, channel: ChannelRef) -> ChannelSettings | None:
    row = await conn.fetchrow(
        f"SELECT {SETTINGS_COLUMNS} FROM channel_settings s WHERE server = $1 AND channel = $2",
        channel.server,
        channel.channel,
    )
    return None if row is None else ChannelSettings.from_columns(tuple(row))


async def set_settings(conn: Conn, channel: ChannelRef, s: ChannelSettings, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO channel_settings (server, channel, source, topics, difficulty, thread, ping,"
        " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (server, channel)"
        " DO UPDATE SET source = excluded.source, topics = excluded.topics,"
        " difficulty = excluded.difficulty, thread = excluded.thread, ping = excluded.ping,"
        " updated_at = excluded.updated_at",
        channel.server,
        channel.channel,
        s.source,
        ",".join(s.topics),
        s.difficulty,
        s.thread,
        s.ping,
        at,
    )
