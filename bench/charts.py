"""The stats chart: how long one member's picture takes to draw, the way `/dlquiz stats` draws
it (in a worker thread, so this is the wait of the member, not of the event loop)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from statistics import median

from bench.common import START, bench_bank, percentile
from bot import charts
from bot.models import StatsCard, TopicAccuracy, TopicBoxes, WeekActivity
from bot.stats_chart import WEEKS

LIMIT_MS = 200.0  # a reply can spare this much before it feels slow next to the text


@dataclass(frozen=True, slots=True)
class ChartResult:
    renders: int
    topics: int
    median_ms: float
    p95_ms: float
    cpu_median_ms: float  # the thread's own CPU time: what the machine's other load cannot add
    first_ms: float  # the first render pays for font loading once per process
    png_bytes: int


def sample_card() -> StatsCard:
    """A busy member: every topic of the bank answered and practised, eight active weeks."""
    topics = bench_bank().topics
    return StatsCard(
        user_id="300000000000000001",
        name="A member with a long display name",
        points=1234,
        rank=17,
        ranked=5000,
        answered=160,
        correct=104,
        current_streak=6,
        longest_streak=21,
        topics=tuple(
            TopicAccuracy(t.slug, 10 + i, 5 + i % 7, t.title) for i, t in enumerate(topics)
        ),
        boxes=tuple(
            TopicBoxes(t.slug, t.title, (i % 3, 2, 1 + i % 2, i % 4, 3))
            for i, t in enumerate(topics)
        ),
        weeks=tuple(
            WeekActivity(START.date() - timedelta(weeks=WEEKS - 1 - w), 5 + w % 3, 3 + w % 2)
            for w in range(WEEKS)
        ),
    )


def run(renders: int) -> ChartResult:
    card = sample_card()
    started = time.perf_counter()
    png = charts.member_stats(card)
    first_ms = (time.perf_counter() - started) * 1000
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(renders):
        started, thread_started = time.perf_counter(), time.thread_time()
        png = charts.member_stats(card)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - thread_started) * 1000)
    return ChartResult(
        renders=renders,
        topics=len(card.topics),
        median_ms=median(wall),
        p95_ms=percentile(wall, 95),
        cpu_median_ms=median(cpu),
        first_ms=first_ms,
        png_bytes=len(png),
    )
