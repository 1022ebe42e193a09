"""The leaderboard database: a million members of one server, generated straight into the
engine's schema by set-based SQL, and cached under the system temp folder.

Every member answers a run of consecutive daily rounds (1 to 10 of them) and misses every m-th
question, so a streak has a closed form and points follow the engine's rule exactly:
base points by difficulty plus one per earlier answer in the streak, up to the cap. The score
tables ('all', every week and every month) and the histogram of point totals are then built from
the answers of the closed rounds, as the engine would have settled them round by round; today's
round is still open, so its answers score nothing yet.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import FIRST_USER_ID
from bot.models import Difficulty, Period
from bot.scoring import BASE_POINTS, STREAK_BONUS_CAP
from bot.store import open_store, period_key
from bot.store.sqlite.connection import to_text
from bot.store.sqlite.migrations import MIGRATIONS

GENERATOR = "lb3"  # bump when the generated data changes shape
SERVER = "bench:lb"
CHANNEL = "daily"
NOW = datetime(2026, 3, 19, 12, 0, tzinfo=UTC)  # a Thursday: 4 rounds this week, 19 this month
LEVELS = (Difficulty.EASY, Difficulty.MEDIUM, Difficulty.HARD)


@dataclass(frozen=True, slots=True)
class Dataset:
    path: Path
    users: int
    answers: int
    rounds: int
    build_seconds: float  # how long building it took, the first time
    cached: bool


def dataset(users: int, rounds: int) -> Dataset:
    """The cached database for these sizes, built first when missing."""
    tag = hashlib.sha1("\n".join(MIGRATIONS).encode()).hexdigest()[:8]
    path = Path(tempfile.gettempdir()) / f"dlquiz-bench-{GENERATOR}-{tag}-{users}u-{rounds}r.db"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        info = json.loads(meta.read_text())
        return Dataset(path, users, info["answers"], rounds, info["build_seconds"], cached=True)
    scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    started = time.perf_counter()
    try:
        answers = build(scratch, users=users, rounds=rounds)
    except BaseException:
        scratch.unlink(missing_ok=True)  # about a gigabyte at full size: never leave it behind
        raise
    seconds = time.perf_counter() - started
    os.replace(scratch, path)
    meta.write_text(json.dumps({"answers": answers, "build_seconds": seconds}))
    return Dataset(path, users, answers, rounds, seconds, cached=False)


def build(path: Path, *, users: int, rounds: int) -> int:
    """Generate the database at `path`; returns how many answers it holds."""
    path.unlink(missing_ok=True)
    # The engine's own migrations make the schema; a thread keeps this callable from a loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _migrate(path)).result()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -400000")
        db.execute("BEGIN")
        # Secondary indexes are built once at the end, by sorting, not row by row.
        indexes = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN ('answers', 'scores', 'members')"
        ).fetchall()
        for name, _ in indexes:
            db.execute(f"DROP INDEX {name}")
        _rounds(db, rounds)
        _plan(db, users, rounds)
        db.execute(
            "INSERT INTO answers (round_id, user_id, choice, correct, points, answered_at)"
            " SELECT idx, uid, choice, correct, points, answered_at FROM gen"
        )
        _scores(db)
        for _, sql in indexes:
            db.execute(sql)
        db.execute("COMMIT")
        (answers,) = db.execute("SELECT count(*) FROM answers").fetchone()
        db.execute("PRAGMA journal_mode = WAL")
    finally:
        db.close()
    return int(answers)


async def _migrate(path: Path) -> None:
    store = await open_store(path)
    await store.close()


def _rounds(db: sqlite3.Connection, rounds: int) -> None:
    """One round a day in one channel, the last one (today's) still open."""
    db.execute(
        "CREATE TEMP TABLE rnd (idx INTEGER PRIMARY KEY, base INTEGER, answer INTEGER,"
        " week TEXT, month TEXT, day TEXT, closed INTEGER)"
    )
    today = NOW.replace(hour=9, minute=0, second=0, microsecond=0)
    for idx in range(1, rounds + 1):
        posted = today - timedelta(days=rounds - idx)
        closed = posted + timedelta(days=1) if idx < rounds else None
        level = LEVELS[idx % len(LEVELS)]
        answer = idx % 4
        db.execute(
            "INSERT INTO rounds (id, server, channel, question_id, topic, difficulty,"
            " choice_count, answer, base_points, cycle, prev_round_id, day, posted_at,"
            " reveal_at, closed_at, message_ref)"
            " VALUES (?, ?, ?, ?, 'bench', ?, 4, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
            (
                idx,
                SERVER,
                CHANNEL,
                f"bench-{idx:03d}",
                level.value,
                answer,
                BASE_POINTS[level],
                idx - 1 if idx > 1 else None,
                posted.date().isoformat(),
                to_text(posted),
                to_text(posted + timedelta(days=1)),
                to_text(closed) if closed else None,
                f"msg-{idx}",
            ),
        )
        db.execute(
            "INSERT INTO rnd VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                idx,
                BASE_POINTS[level],
                answer,
                period_key(Period.WEEK, posted),
                period_key(Period.MONTH, posted),
                posted.date().isoformat(),
                int(closed is not None),
            ),
        )


def _plan(db: sqlite3.Connection, users: int, rounds: int) -> None:
    """Per member: first round s, run length k (1..10), and a miss every m-th question (2..7)."""
    db.execute(
        "CREATE TEMP TABLE plan (u INTEGER PRIMARY KEY, uid TEXT, name TEXT,"
        " s INTEGER, k INTEGER, m INTEGER)"
    )
    db.execute(
        """
        INSERT INTO plan
        SELECT u, printf('%d', :first + u), 'member ' || u, 1 + (h / 60) % (:rounds - k + 1), k, m
        FROM (
            SELECT u, h, 1 + h % 10 AS k, 2 + (h / 10) % 6 AS m
            FROM (
                WITH RECURSIVE n(u) AS (SELECT 0 UNION ALL SELECT u + 1 FROM n WHERE u + 1 < :users)
                SELECT u, (u * 2654435761) % 4294967296 AS h FROM n
            )
        )
        """,
        {"first": FIRST_USER_ID, "users": users, "rounds": rounds},
    )
    # The streak of a right answer in round r: right answers since the last miss, or since the
    # member's first round.
    db.execute(
        f"""
        CREATE TEMP VIEW gen AS
        SELECT u, uid, name, s, k, m, idx, week, month, closed, correct, choice, streak,
               answered_at,
               CASE WHEN correct AND closed THEN base + min(streak - 1, {STREAK_BONUS_CAP})
                    ELSE 0 END AS points
        FROM (
            SELECT p.u, p.uid, p.name, p.s, p.k, p.m, r.idx, r.week, r.month, r.closed, r.base,
                   (r.idx + p.u) % p.m != 0 AS correct,
                   CASE WHEN (r.idx + p.u) % p.m != 0 THEN r.answer
                        ELSE (r.answer + 1 + p.u % 3) % 4 END AS choice,
                   min((r.idx + p.u) % p.m, r.idx - p.s + 1) AS streak,
                   r.day || printf('T09:%02d:%02d+00:00', (p.u / 60) % 60, p.u % 60)
                     AS answered_at
            FROM plan p CROSS JOIN rnd r ON r.idx BETWEEN p.s AND p.s + p.k - 1
        )
        """
    )


def _scores(db: sqlite3.Connection) -> None:
    params = {"server": SERVER}
    db.execute(
        "INSERT INTO scores (server, period, user_id, points, answered, correct)"
        " SELECT :server, 'all', uid, sum(points), count(*), sum(correct) FROM gen"
        " WHERE closed GROUP BY u",
        params,
    )
    # A week or month counts only the answers that scored, as the engine keeps them.
    for column in ("week", "month"):
        db.execute(
            "INSERT INTO scores (server, period, user_id, points, answered, correct)"
            f" SELECT :server, {column}, uid, sum(points), count(*), sum(correct)"
            f" FROM gen WHERE points > 0 GROUP BY u, {column}",
            params,
        )
    db.execute(
        "INSERT INTO score_counts (server, period, points, members)"
        " SELECT server, period, points, count(*) FROM scores WHERE points > 0"
        " GROUP BY server, period, points"
    )
    # Streaks as the engine leaves them after the last closed round each member answered (l);
    # a member who answered only today's open round has none yet.
    db.execute(
        """
        INSERT INTO members (server, user_id, name, current_streak, longest_streak,
                             streak_round_id)
        SELECT :server, uid, name,
               CASE WHEN l >= s AND (l + u) % m != 0 THEN min((l + u) % m, l - s + 1) ELSE 0 END,
               longest,
               CASE WHEN l >= s AND (l + u) % m != 0 THEN l END
        FROM (
            SELECT u, uid, name, s, m, min(s + k - 1, (SELECT max(idx) FROM rnd WHERE closed)) AS l,
                   max(CASE WHEN correct AND closed THEN streak ELSE 0 END) AS longest
            FROM gen GROUP BY u
        )
        """,
        params,
    )
