"""The reads behind item analysis: closed rounds and their answers, from one snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.store.api import (
    MEMBER_KEY_SEPARATOR,
    ItemColumns,
    ItemColumnsBuilder,
    ItemRound,
)
from bot.store.postgres.rows import Conn

_ROUNDS = (
    "SELECT r.id, r.server, r.question_id, r.topic, r.difficulty, r.choice_count, r.answer,"
    " r.posted_at, r.question FROM rounds r WHERE r.closed_at IS NOT NULL {where} ORDER BY r.id"
)
# One row per round with its answers as arrays, in user id order (the answers' primary key):
# asyncpg decodes an array in C, where a row per answer would cost a Python object each.
_ANSWER_ARRAYS = (
    f"SELECT a.round_id, array_agg(r.server || chr({ord(MEMBER_KEY_SEPARATOR)}) || a.user_id"
    " ORDER BY a.user_id),"
    " array_agg(a.choice ORDER BY a.user_id), array_agg(a.correct ORDER BY a.user_id)"
    " FROM rounds r JOIN answers a ON a.round_id = r.id WHERE r.closed_at IS NOT NULL {where}"
    " GROUP BY a.round_id ORDER BY a.round_id"
)
_DAYS = (
    "SELECT to_char(a.answered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), count(*) FROM rounds r"
    " JOIN answers a ON a.round_id = r.id WHERE r.closed_at IS NOT NULL {where} GROUP BY 1"
)


async def item_columns(conn: Conn, server: str | None) -> ItemColumns:
    where, args = ("AND r.server = $1", (server,)) if server is not None else ("", ())
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        # One repeatable-read snapshot: a round closing meanwhile shows in every read or none.
        builder = ItemColumnsBuilder(_rounds(await conn.fetch(_ROUNDS.format(where=where), *args)))
        days = await conn.fetch(_DAYS.format(where=where), *args)
        async for row in conn.cursor(_ANSWER_ARRAYS.format(where=where), *args, prefetch=4):
            keys: Sequence[str] = row[1]
            builder.add([row[0]] * len(keys), keys, row[2], row[3])
    builder.add_days({day: int(count) for day, count in days})
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
            posted_at=row[7],
            question=row[8],
        )
        for row in rows
    ]
