"""The reads behind item analysis: closed rounds and their answers, from one snapshot."""

from __future__ import annotations

from bot.store.api import ItemAnswer, ItemAnswers, ItemRound
from bot.store.postgres.rows import Conn


async def item_answers(conn: Conn, server: str | None) -> ItemAnswers:
    where, args = ("AND r.server = $1", (server,)) if server is not None else ("", ())
    # One repeatable-read snapshot: a round closing meanwhile shows in both reads or neither.
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        rounds = await conn.fetch(
            "SELECT r.id, r.server, r.question_id, r.topic, r.difficulty, r.choice_count,"
            " r.answer, r.posted_at, r.question FROM rounds r"
            f" WHERE r.closed_at IS NOT NULL {where} ORDER BY r.id",
            *args,
        )
        answers = await conn.fetch(
            "SELECT a.round_id, a.user_id, a.choice, a.correct, a.answered_at FROM rounds r"
            f" JOIN answers a ON a.round_id = r.id WHERE r.closed_at IS NOT NULL {where}",
            *args,
        )
    return ItemAnswers(
        rounds=[
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
            for row in rounds
        ],
        answers=[ItemAnswer(row[0], row[1], row[2], bool(row[3]), row[4]) for row in answers],
    )
