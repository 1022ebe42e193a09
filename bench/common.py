"""What every scenario shares: sizes, the clock's start, a question bank, timing helpers."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.content import Bank, BankError, default_bank_dir, load_bank
from bot.models import Difficulty, Question, Topic

# A Monday morning: the daily question has just been posted.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Sizes:
    answers: int  # closed loop: distinct members answering one round at once
    open_rate: int  # open loop: answers per second
    open_seconds: float
    lb_users: int
    lb_rounds: int
    lb_naive_runs: int  # naive leaderboard calls per period (each one is slow)
    lb_callers: int  # callers per period, at evenly spaced ranks
    channels: int  # fan-out
    bank_runs: int
    chart_renders: int = 20  # the same in a quick run: twenty charts take a second or two


FULL = Sizes(
    answers=20_000,
    open_rate=5_000,
    open_seconds=4.0,
    lb_users=1_000_000,
    lb_rounds=60,
    lb_naive_runs=1,
    lb_callers=200,
    channels=10_000,
    bank_runs=7,
)
QUICK = Sizes(
    answers=2_000,
    open_rate=1_000,
    open_seconds=0.5,
    lb_users=20_000,
    lb_rounds=60,
    lb_naive_runs=1,
    lb_callers=40,
    channels=300,
    bank_runs=3,
)


def bench_bank() -> Bank:
    """The bundled bank; a generated one when the bundled bank does not load (yet)."""
    try:
        return load_bank([default_bank_dir()])
    except BankError as exc:
        print(
            f"note: the bundled bank does not load ({exc}); using a generated one", file=sys.stderr
        )
        return generated_bank()


def generated_bank(count: int = 60) -> Bank:
    levels = list(Difficulty)
    questions = tuple(
        Question(
            id=f"bench-{i:03d}",
            topic="bench",
            difficulty=levels[i % len(levels)],
            prompt=f"Benchmark question {i}?",
            choices=("first", "second", "third", "fourth"),
            answer=i % 4,
            explanation=f"Because {i}.",
        )
        for i in range(count)
    )
    return Bank(questions=questions, topics=(Topic("bench", "Bench", count),))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by the nearest-rank method: a value that was measured."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


FIRST_USER_ID = 300_000_000_000_000_000


def user_id(n: int) -> str:
    """An 18-digit id shaped like a Discord snowflake; ids sort in the order of `n`."""
    return str(FIRST_USER_ID + n)


class RunningClock:
    """Real time, shifted to start at `START`: answers get distinct times, as in production."""

    def __init__(self, start: datetime = START) -> None:
        self._start = start
        self._t0 = time.perf_counter()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.perf_counter() - self._t0)
