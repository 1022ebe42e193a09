"""Leaderboards on a million members: the engine's query in a process of its own (for its
latency and its peak RSS), and the naive query that sums answers at query time, on the same file."""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from statistics import median
from typing import TypedDict

from bench.common import Sizes, percentile, user_id
from bench.lbdata import NOW, SERVER, Dataset, dataset
from bot.models import Period
from bot.store import period_key
from bot.store.copy import copy_database
from bot.store.sqlite.connection import to_text

SERVE_TIMEOUT = 600


@dataclass(frozen=True, slots=True)
class LeaderboardResult:
    users: int
    answers: int
    p50_ms: float
    p99_ms: float
    naive_ms: float
    rss_mb: float
    first_ms: float
    build_seconds: float
    cached: bool
    periods: dict[str, dict[str, float]] = field(default_factory=dict)
    # The caller's own page ("My page") instead of the first: p50 and p99, ms.
    own_page_ms: tuple[float, float] = (math.nan, math.nan)


@dataclass(frozen=True, slots=True)
class CopyResult:
    """`dlquiz db copy` of the leaderboard database: SQLite to PostgreSQL and back."""

    rows: int
    to_postgres_per_s: float
    back_per_s: float
    totals_equal: bool
    summary_there: str
    summary_back: str


def run(sizes: Sizes, folder: Path) -> LeaderboardResult:
    data = dataset(sizes.lb_users, sizes.lb_rounds)
    callers = pick_callers(data.path, sizes.lb_callers, sizes.lb_users)
    callers_file = folder / "callers.json"
    callers_file.write_text(json.dumps(callers))
    served = _serve(str(data.path), callers_file)
    naive = naive_times(data.path, callers, sizes.lb_naive_runs)
    return _result(data, served, naive)


def run_postgres(
    sizes: Sizes, folder: Path, new_database: Callable[[str], Awaitable[str]]
) -> tuple[LeaderboardResult, CopyResult]:
    """The same database, copied into PostgreSQL by `dlquiz db copy` (timed), served from
    there, then copied back into a new SQLite file with the same totals."""
    data = dataset(sizes.lb_users, sizes.lb_rounds)
    url = asyncio.run(new_database("lb"))
    there = asyncio.run(copy_database(data.path, url))
    back = asyncio.run(copy_database(url, folder / "lb-back.db"))
    callers = pick_callers(data.path, sizes.lb_callers, sizes.lb_users)
    callers_file = folder / "callers-pg.json"
    callers_file.write_text(json.dumps(callers))
    served = _serve(url, callers_file)
    copied = CopyResult(
        rows=there.rows,
        to_postgres_per_s=there.rows / there.seconds,
        back_per_s=back.rows / back.seconds,
        totals_equal=there.totals == back.totals and there.tables == back.tables,
        summary_there=there.summary(),
        summary_back=back.summary(),
    )
    return _result(data, served, {}), copied


def _result(data: Dataset, served: Served, naive: dict[str, list[float]]) -> LeaderboardResult:
    latencies = served["latencies_ms"]
    every = [ms for values in latencies.values() for ms in values]
    periods = {
        period: {
            "p50_ms": percentile(values, 50),
            "p99_ms": percentile(values, 99),
            "naive_ms": median(naive[period]) if naive else math.nan,
            "calls": len(values),
        }
        for period, values in latencies.items()
    }
    return LeaderboardResult(
        users=data.users,
        answers=data.answers,
        p50_ms=percentile(every, 50),
        p99_ms=percentile(every, 99),
        naive_ms=median(ms for values in naive.values() for ms in values) if naive else math.nan,
        rss_mb=served["rss_mb"],
        first_ms=served["first_ms"],
        build_seconds=data.build_seconds,
        cached=data.cached,
        periods=periods,
        own_page_ms=(
            percentile(served["own_page_ms"], 50),
            percentile(served["own_page_ms"], 99),
        ),
    )


class Served(TypedDict):
    latencies_ms: dict[str, list[float]]
    own_page_ms: list[float]
    first_ms: float
    rss_mb: float


def _serve(location: str, callers_file: Path) -> Served:
    done = subprocess.run(
        [sys.executable, "-m", "bench.serve", location, str(callers_file)],
        capture_output=True,
        text=True,
        timeout=SERVE_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the leaderboard process failed:\n{done.stderr}")
    served: Served = json.loads(done.stdout)
    return served


def _keys() -> dict[str, str]:
    return {period.value: period_key(period, NOW) for period in Period}


def pick_callers(path: Path, count: int, users: int) -> dict[str, list[str]]:
    """Per period: `count` members at evenly spaced ranks, then a few with no points at all."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        picked: dict[str, list[str]] = {}
        for period, key in _keys().items():
            (ranked,) = db.execute(
                "SELECT count(*) FROM scores WHERE server = ? AND period = ? AND points > 0",
                (SERVER, key),
            ).fetchone()
            step = max(1, ranked // count)
            rows = db.execute(
                "SELECT user_id FROM ("
                " SELECT user_id, row_number() OVER (ORDER BY points DESC, user_id) AS pos"
                " FROM scores WHERE server = ? AND period = ? AND points > 0)"
                " WHERE (pos - 1) % ? = 0 LIMIT ?",
                (SERVER, key, step, count),
            ).fetchall()
            strangers = [user_id(users + i) for i in range(max(2, count // 10))]
            picked[period] = [row[0] for row in rows] + strangers
    finally:
        db.close()
    return picked


# What a typical bot runs for `/leaderboard`: sum every answer of the period at query time (a
# round's points count in the period it was posted in, as in the engine).
NAIVE_TOP = """
SELECT a.user_id, sum(a.points) AS total FROM answers a JOIN rounds r ON r.id = a.round_id
WHERE r.server = :server AND r.posted_at >= :since AND r.posted_at < :until
GROUP BY a.user_id HAVING total > 0 ORDER BY total DESC, a.user_id LIMIT 10
"""
NAIVE_OWN = """
SELECT coalesce(sum(a.points), 0) FROM answers a JOIN rounds r ON r.id = a.round_id
WHERE r.server = :server AND a.user_id = :user AND r.posted_at >= :since
  AND r.posted_at < :until
"""
NAIVE_RANK = """
SELECT count(*) + 1 FROM (
    SELECT sum(a.points) AS total FROM answers a JOIN rounds r ON r.id = a.round_id
    WHERE r.server = :server AND r.posted_at >= :since AND r.posted_at < :until
    GROUP BY a.user_id HAVING total > :points)
"""


def _bounds(period: str) -> tuple[str, str]:
    day = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == Period.WEEK:
        since = day - timedelta(days=day.weekday())
        return to_text(since), to_text(since + timedelta(days=7))
    if period == Period.MONTH:
        since = day.replace(day=1)
        until = (since + timedelta(days=32)).replace(day=1)
        return to_text(since), to_text(until)
    return "", "~"  # every answer: '~' sorts after any timestamp


def naive_times(path: Path, callers: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Milliseconds per naive leaderboard (top 10, the caller's points, the caller's rank)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        times: dict[str, list[float]] = {}
        for period, people in callers.items():
            since, until = _bounds(period)
            times[period] = []
            for run_index in range(runs):
                caller = people[(run_index + 1) * len(people) // (runs + 2)]
                params = {"server": SERVER, "since": since, "until": until, "user": caller}
                started = time.perf_counter()
                db.execute(NAIVE_TOP, params).fetchall()
                (points,) = db.execute(NAIVE_OWN, params).fetchone()
                db.execute(NAIVE_RANK, {**params, "points": points}).fetchone()
                times[period].append((time.perf_counter() - started) * 1000)
    finally:
        db.close()
    return times
