"""The reads behind item analysis: closed rounds and their answers, in two queries."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import aiosqlite

from bot.store.api import ItemAnswer, ItemAnswers, ItemRound
from bot.store.sqlite.connection import from_text


async def item_answers(db: aiosqlite.Connection, server: str | None) -> ItemAnswers:
    where, params = ("AND r.server = ?", (server,)) if server is not None else ("", ())
    rounds = await db.execute_fetchall(
        "SELECT r.id, r.server, r.question_id, r.topic, r.difficulty, r.choice_count, r.answer,"
        f" r.posted_at, r.question FROM rounds r WHERE r.closed_at IS NOT NULL {where}"
        " ORDER BY r.id",
        params,
    )
    answers = await db.execute_fetchall(
        # From the server's rounds to their answers by primary key, as every per-server read.
        "SELECT a.round_id, a.user_id, a.choice, a.correct, a.answered_at FROM rounds r"
        f" JOIN answers a ON a.round_id = r.id WHERE r.closed_at IS NOT NULL {where}",
        params,
    )
    # Millions of rows at the largest: convert them off the event loop.
    return await asyncio.to_thread(_convert, list(rounds), list(answers))


def _convert(rounds: list[Any], answers: list[Any]) -> ItemAnswers:
    kept = [
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
        for row in rounds
    ]
    # A round closed between the two reads: its answers wait for the next analysis.
    ids = {r.id for r in kept}
    parse = _moment
    return ItemAnswers(
        rounds=kept,
        answers=[
            ItemAnswer(row[0], row[1], row[2], bool(row[3]), parse(row[4]))
            for row in answers
            if row[0] in ids
        ],
    )


def _moment(text: str) -> datetime:
    moment = from_text(text)
    assert moment is not None
    return moment
