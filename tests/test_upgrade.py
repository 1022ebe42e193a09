"""Upgrading a database written by the store that scored each press at once (schema 2).

`data/schema2-open-round.db` was written by that store playing `play` below up to the second
round, which it left open; its answers were already in every total. After the upgrade, the
reveal must leave exactly what the current store leaves having played the same rounds itself.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from adapters.memory import ManualClock, MemoryPlatform
from bot.engine import QuizEngine
from bot.models import ChannelRef, Period
from bot.store import open_store, period_key
from bot.store.sqlite.migrations import MIGRATIONS, iso_week_sql
from tests.conftest import SCORING_STATE, answer_round, make_bank, member

FIXTURE = Path(__file__).parent / "data" / "schema2-open-round.db"
CHANNEL = ChannelRef("test:s1", "c1")
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # a Sunday: the two rounds fall in two ISO weeks
ROUNDS = ([("ada", 1), ("bob", 0), ("cy", 1)], [("ada", 1), ("bob", 1), ("dee", 2)])
COMPARED = (
    *SCORING_STATE,
    "SELECT server, user_id, question_id, box, due_at, seen, correct FROM practice"
    " ORDER BY 1, 2, 3",
)


T = TypeVar("T")


class SameQuestions(random.Random):
    """Picks the questions the fixture's rounds asked, in order."""

    def __init__(self, question_ids: list[str]) -> None:
        super().__init__()
        self.question_ids = question_ids

    def choice(self, seq: Sequence[T]) -> T:
        wanted = self.question_ids.pop(0)
        return next(q for q in seq if getattr(q, "id", None) == wanted)


async def play(engine: QuizEngine, clock: ManualClock) -> None:
    """Two daily rounds, a day apart; the second is left open."""
    for presses in ROUNDS:
        posted = await engine.post(CHANNEL)
        assert posted.round_id is not None
        for name, choice in presses:
            clock.advance(timedelta(minutes=30))
            await answer_round(
                engine,
                channel=CHANNEL,
                member=member(name),
                round_id=posted.round_id,
                choice=choice,
            )
        clock.advance(timedelta(days=1) - timedelta(minutes=30 * len(presses)))


def rows(path: Path) -> list[list[tuple[object, ...]]]:
    db = sqlite3.connect(path)
    try:
        return [db.execute(query).fetchall() for query in COMPARED]
    finally:
        db.close()


async def reveal(path: Path, clock: ManualClock) -> None:
    store = await open_store(path)
    try:
        engine = QuizEngine(store=store, bank=make_bank(), platform=MemoryPlatform(), clock=clock)
        closed, error = await engine.reveal(CHANNEL)
        assert (closed, error) == (2, None)
    finally:
        await store.close()


async def test_an_upgraded_open_round_scores_once_at_its_reveal(tmp_path: Path) -> None:
    upgraded = tmp_path / "upgraded.db"
    shutil.copy(FIXTURE, upgraded)
    old = sqlite3.connect(upgraded)
    try:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 2
        # The open round's answers are in the totals already: what the upgrade must take out.
        assert old.execute("SELECT points FROM scores WHERE user_id = 'u-ada'").fetchall()
    finally:
        old.close()
    clock = ManualClock(START + timedelta(days=2))
    await reveal(upgraded, clock)

    asked = sqlite3.connect(FIXTURE)
    try:
        question_ids = [r[0] for r in asked.execute("SELECT question_id FROM rounds ORDER BY id")]
    finally:
        asked.close()
    current = tmp_path / "current.db"
    played = ManualClock(START)
    store = await open_store(current)
    try:
        engine = QuizEngine(
            store=store,
            bank=make_bank(),
            platform=MemoryPlatform(),
            clock=played,
            rng=SameQuestions(question_ids),
        )
        await play(engine, played)
    finally:
        await store.close()
    await reveal(current, ManualClock(START + timedelta(days=2)))

    assert rows(upgraded) == rows(current)
    db = sqlite3.connect(upgraded)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        [(ada,)] = db.execute(
            "SELECT points FROM scores WHERE user_id = 'u-ada' AND period = 'all'"
        ).fetchall()
    finally:
        db.close()
    assert ada > 0


async def test_an_upgrade_takes_the_open_round_out_of_every_total(tmp_path: Path) -> None:
    upgraded = tmp_path / "upgraded.db"
    shutil.copy(FIXTURE, upgraded)
    store = await open_store(upgraded)
    await store.close()
    db = sqlite3.connect(upgraded)
    try:
        # Only the first round counts: ada and cy right, bob wrong, all in the first week.
        assert db.execute(
            "SELECT period, user_id, points, answered, correct FROM scores ORDER BY 1, 2"
        ).fetchall() == [
            ("all", "u-ada", 10, 1, 1),
            ("all", "u-bob", 0, 1, 0),
            ("all", "u-cy", 10, 1, 1),
            ("m2026-03", "u-ada", 10, 1, 1),
            ("m2026-03", "u-cy", 10, 1, 1),
            ("w2026-09", "u-ada", 10, 1, 1),
            ("w2026-09", "u-cy", 10, 1, 1),
        ]
        assert db.execute(
            "SELECT user_id, current_streak, streak_round_id FROM members ORDER BY 1"
        ).fetchall() == [("u-ada", 1, 1), ("u-bob", 0, None), ("u-cy", 1, 1), ("u-dee", 0, None)]
        assert db.execute("SELECT sum(points) FROM answers WHERE round_id = 2").fetchone() == (0,)
    finally:
        db.close()


def test_the_iso_week_in_sql_is_the_store_s_week_key() -> None:
    db = sqlite3.connect(":memory:")
    try:
        query = f"SELECT {iso_week_sql('t.v')} FROM (SELECT ? AS v) AS t"
        day = datetime(2019, 12, 20, tzinfo=UTC)
        while day < datetime(2028, 1, 10, tzinfo=UTC):
            for moment in (day, day + timedelta(hours=23, minutes=59, seconds=59.5)):
                [(key,)] = db.execute(query, (moment.isoformat(),)).fetchall()
                assert key == period_key(Period.WEEK, moment), moment
            day += timedelta(days=1)
    finally:
        db.close()
