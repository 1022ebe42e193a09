"""Fixtures shared by every test: a real SQLite file, the memory platform, a manual clock."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.memory import ManualClock, MemoryPlatform
from bot.content import Bank, default_bank_dir, load_bank
from bot.engine import QuizEngine
from bot.models import ChannelRef, Difficulty, Invocation, Member, Notice, Question, Topic
from bot.store import Store, open_store

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
# Everything scoring leaves in a database, in a stable order: two databases that went through
# the same rounds give the same rows.
SCORING_STATE = (
    "SELECT server, period, user_id, points, answered, correct FROM scores ORDER BY 1, 2, 3",
    "SELECT server, period, points, members FROM score_counts WHERE members > 0 ORDER BY 1, 2, 3",
    "SELECT server, user_id, name, current_streak, longest_streak, streak_round_id FROM members"
    " ORDER BY 1, 2",
    "SELECT round_id, user_id, choice, correct, points, answered_at FROM answers ORDER BY 1, 2",
)


@pytest.fixture(scope="session")
def bundled_bank() -> Bank:
    return load_bank([default_bank_dir()])


def make_bank(count: int = 6, *, topics: tuple[str, ...] = ("alpha", "beta")) -> Bank:
    """A small bank whose right answer is always B and whose difficulties cycle."""
    levels = list(Difficulty)
    questions = tuple(
        Question(
            id=f"q-{i:03d}",
            topic=topics[i % len(topics)],
            difficulty=levels[i % len(levels)],
            prompt=f"Question number {i}?",
            choices=("first", "second", "third", "fourth"),
            answer=1,
            explanation=f"Because {i}.",
        )
        for i in range(count)
    )
    counts = {t: sum(q.topic == t for q in questions) for t in topics}
    return Bank(
        questions=questions,
        topics=tuple(Topic(t, t.title(), counts[t]) for t in topics),
    )


@pytest.fixture
def bank() -> Bank:
    return make_bank()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def platform() -> MemoryPlatform:
    return MemoryPlatform()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(tmp_path / "quiz.db")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def engine(store: Store, bank: Bank, platform: MemoryPlatform, clock: ManualClock) -> QuizEngine:
    return QuizEngine(store=store, bank=bank, platform=platform, clock=clock, rng=random.Random(7))


def member(name: str, *, server: str = "test:s1", admin: bool = False) -> Member:
    return Member(server=server, user_id=f"u-{name}", name=name, is_admin=admin)


def invocation(
    name: str, *, server: str = "test:s1", channel: str = "c1", admin: bool = False
) -> Invocation:
    return Invocation(
        channel=ChannelRef(server, channel), member=member(name, server=server, admin=admin)
    )


async def answer_round(
    engine: QuizEngine, *, channel: ChannelRef, member: Member, round_id: int, choice: int
) -> Notice:
    """A press as a platform's button sends it: with the round's token from its message."""
    row = await engine.store.round_by_id(round_id)
    token = row.token if row is not None else ""
    return await engine.answer(
        channel=channel, member=member, round_id=round_id, choice=choice, token=token
    )
