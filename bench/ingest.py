"""Answer ingestion: the engine's group-committed writer against a commit-per-answer baseline
and against what SQLite does with one `executemany` transaction, all on real WAL files."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import aiosqlite

from adapters.memory import MemoryPlatform
from bench.common import START, RunningClock, Sizes, bench_bank, percentile, user_id
from bot.engine import QuizEngine
from bot.models import ChannelRef, Member, Tone
from bot.store import open_store
from bot.store.sqlite.connection import to_text

SERVER = "bench:ingest"
CHANNEL = ChannelRef(SERVER, "daily")
NAIVE_ROUND = 1
# A closed loop takes about half a second and a raw run a tenth of one: each figure is the median
# of three runs, steadier on a shared machine than any single one. Each engine run is paired with
# a raw run right after it, so a ratio compares two runs that saw the same machine.
TRIALS = range(1, 4)


@dataclass(frozen=True, slots=True)
class IngestResult:
    answers: int
    engine_per_s: float  # the median of the trials
    engine_trials: list[float]
    naive_per_s: float
    raw_per_s: float  # the naive baseline's rows in one transaction: the median of the trials
    raw_trials: list[float]  # the paired raw runs
    engine_vs_raw: float  # the median of each trial's engine / its paired raw run
    reveal_ms: float  # closing the closed loop's round: scoring every answer, then the reveal
    raw_answers_only_per_s: float
    raw_engine_rows_per_s: float
    raw_engine_copy_per_s: float | None  # PostgreSQL only: the engine's rows by COPY
    open_loop_rate: float
    open_loop_answers: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def members(count: int) -> list[Member]:
    return [Member(SERVER, user_id(i), f"member {i}") for i in range(count)]


def choice_for(i: int, answer: int) -> int:
    """Three answers in five are right; the wrong ones spread over the other choices."""
    return answer if i % 5 < 3 else (answer + 1 + i % 3) % 4


Location = str | Path
Rate = Callable[[int, Location], Awaitable[float]]


@dataclass(frozen=True, slots=True)
class Side:
    """One backend's databases and baselines; every rate is answers per second."""

    new: Callable[[str], Awaitable[Location]]  # a new, empty database named after its use
    prepare: Callable[[str], Awaitable[Location]]  # a new database with the schema and round 1
    naive: Rate
    raw_same_rows: Rate
    raw_answers_only: Rate
    raw_engine_rows: Rate
    # The raw run each engine run is paired with: the limit its target compares against.
    paired: Rate
    raw_engine_copy: Rate | None = None


def sqlite_side(folder: Path) -> Side:
    async def new(name: str) -> Location:
        return folder / f"{name}.db"

    async def prep(name: str) -> Location:
        return await prepare(folder / f"{name}.db")

    async def same(count: int, path: Location) -> float:
        return raw(count, Path(path), with_scores=True)

    async def answers_only(count: int, path: Location) -> float:
        return raw(count, Path(path), with_scores=False)

    async def engine_rows(count: int, path: Location) -> float:
        return raw_like_engine(count, Path(path))

    async def naive_rate(count: int, path: Location) -> float:
        return await naive(count, Path(path))

    return Side(new, prep, naive_rate, same, answers_only, engine_rows, paired=same)


async def run(sizes: Sizes, side: Side) -> IngestResult:
    engine = await _engine(sizes, side)
    rate, done, latencies = engine.open_loop
    naive_per_s = await side.naive(sizes.answers, await side.prepare("naive"))
    raw_answers_only = median(
        [
            await side.raw_answers_only(sizes.answers, await side.prepare(f"raw-answers-{n}"))
            for n in TRIALS
        ]
    )
    raw_engine_rows = median(
        [
            await side.raw_engine_rows(sizes.answers, await side.prepare(f"raw-engine-{n}"))
            for n in TRIALS
        ]
    )
    raw_same = median(
        [
            await side.raw_same_rows(sizes.answers, await side.prepare(f"raw-same-{n}"))
            for n in TRIALS
        ]
    )
    raw_copy = None
    if side.raw_engine_copy is not None:
        raw_copy = median(
            [
                await side.raw_engine_copy(sizes.answers, await side.prepare(f"raw-copy-{n}"))
                for n in TRIALS
            ]
        )
    return IngestResult(
        answers=sizes.answers,
        engine_per_s=median(engine.trials),
        engine_trials=engine.trials,
        naive_per_s=naive_per_s,
        raw_per_s=raw_same,
        raw_trials=engine.raw_trials,
        engine_vs_raw=median(e / r for e, r in zip(engine.trials, engine.raw_trials, strict=True)),
        reveal_ms=engine.reveal_s * 1000,
        raw_answers_only_per_s=raw_answers_only,
        raw_engine_rows_per_s=raw_engine_rows,
        raw_engine_copy_per_s=raw_copy,
        open_loop_rate=rate,
        open_loop_answers=done,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        max_ms=max(latencies) * 1000,
    )


@dataclass(frozen=True, slots=True)
class _EngineRuns:
    trials: list[float]
    raw_trials: list[float]  # raw_trials[n] ran right after trials[n]
    reveal_s: float
    open_loop: tuple[float, int, list[float]]


async def _engine(sizes: Sizes, side: Side) -> _EngineRuns:
    """The closed loop a few times, each on a new file and each followed by a raw run; then, on
    the last file, the reveal of that round and the open loop."""
    people = members(max(sizes.answers, int(sizes.open_rate * sizes.open_seconds)))
    bank = bench_bank()
    trials: list[float] = []
    raw_trials: list[float] = []
    for trial in TRIALS:
        store = await open_store(await side.new(f"engine-{trial}"))
        try:
            engine = QuizEngine(
                store=store, bank=bank, platform=MemoryPlatform(), clock=RunningClock()
            )
            trials.append(await closed_loop(engine, people[: sizes.answers]))
            raw_trials.append(await side.paired(sizes.answers, await side.prepare(f"raw-{trial}")))
            if trial == TRIALS[-1]:
                started = time.perf_counter()
                closed, error = await engine.reveal(CHANNEL)
                reveal_s = time.perf_counter() - started
                if closed is None or error:
                    raise RuntimeError(f"could not reveal the benchmark's question: {error}")
                # The same members answer the next day's question: a server's steady state.
                open_loop = await open_loop_run(engine, people, sizes.open_rate, sizes.open_seconds)
        finally:
            await store.close()
    return _EngineRuns(trials, raw_trials, reveal_s, open_loop)


async def _new_round(engine: QuizEngine) -> tuple[int, int, str]:
    outcome = await engine.post(CHANNEL)
    row = await engine.store.round_by_id(outcome.round_id) if outcome.round_id else None
    if row is None or outcome.error:
        raise RuntimeError(f"could not post the benchmark's question: {outcome}")
    return row.id, row.answer, row.token


async def closed_loop(engine: QuizEngine, people: list[Member]) -> float:
    """Every member presses at once; answers per second until the last one is committed."""
    round_id, answer, token = await _new_round(engine)
    started = time.perf_counter()
    notices = await asyncio.gather(
        *(
            engine.answer(
                channel=CHANNEL,
                member=m,
                round_id=round_id,
                choice=choice_for(i, answer),
                token=token,
            )
            for i, m in enumerate(people)
        )
    )
    elapsed = time.perf_counter() - started
    refused = [n for n in notices if n.tone is not Tone.OK]
    if refused:
        raise RuntimeError(f"{len(refused)} answers were not recorded: {refused[0].text}")
    return len(people) / elapsed


async def open_loop_run(
    engine: QuizEngine, people: list[Member], rate: int, seconds: float
) -> tuple[float, int, list[float]]:
    """Answers submitted on a fixed timetable, never waiting for acknowledgements.

    Latency runs from the moment an answer was due, not from when the loop got round to
    submitting it, so a stalled event loop shows up in the numbers instead of hiding them.
    """
    round_id, answer, token = await _new_round(engine)
    count = int(rate * seconds)
    latencies = [0.0] * count
    refused: list[str] = []
    in_flight: set[asyncio.Task[None]] = set()

    async def press(i: int, due: float) -> None:
        notice = await engine.answer(
            channel=CHANNEL,
            member=people[i],
            round_id=round_id,
            choice=choice_for(i, answer),
            token=token,
        )
        latencies[i] = time.perf_counter() - due
        if notice.tone is not Tone.OK:
            refused.append(notice.text)

    start = time.perf_counter() + 0.01
    sent = 0
    while sent < count:
        now = time.perf_counter()
        while sent < count and start + sent / rate <= now:
            task = asyncio.create_task(press(sent, start + sent / rate))
            # Finished presses are dropped at once: the harness keeps no garbage of its own.
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            sent += 1
        if sent < count:
            await asyncio.sleep(max(0.0, start + sent / rate - time.perf_counter()))
    last_sent = time.perf_counter()
    await asyncio.gather(*in_flight)
    if refused:
        raise RuntimeError(f"{len(refused)} answers were not recorded: {refused[0]}")
    achieved = count / max(last_sent - start, 1e-9)
    return min(achieved, float(rate)), count, latencies


# --- baselines ----------------------------------------------------------------------------------


async def prepare(path: Path) -> Path:
    """A database with the engine's schema (by its own migrations) and one open round."""
    store = await open_store(path)
    await store.close()
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute(
                "INSERT INTO rounds (id, server, channel, question_id, topic, difficulty,"
                " choice_count, answer, base_points, cycle, posted_at)"
                " VALUES (?, ?, ?, 'bench-000', 'bench', 'easy', 4, 0, 10, 1, ?)",
                (NAIVE_ROUND, SERVER, CHANNEL.channel, to_text(START)),
            )
    finally:
        db.close()
    return path


def _rows(count: int) -> list[tuple[str, int, int, int, str]]:
    """(user, choice, correct, points, answered_at) for `count` members answering round 1."""
    at = to_text(START)
    rows = []
    for i in range(count):
        choice = choice_for(i, 0)
        correct = int(choice == 0)
        rows.append((user_id(i), choice, correct, 10 * correct, at))
    return rows


_NAIVE_ANSWER = (
    "INSERT INTO answers (round_id, user_id, choice, correct, points, answered_at)"
    f" VALUES ({NAIVE_ROUND}, ?, ?, ?, ?, ?)"
)
_NAIVE_SCORE = (
    "INSERT INTO scores (server, period, user_id, points, answered, correct)"
    f" VALUES ('{SERVER}', 'all', ?, ?, 1, ?)"
    " ON CONFLICT (server, period, user_id) DO UPDATE SET points = points + excluded.points,"
    " answered = answered + 1, correct = correct + excluded.correct"
)


async def naive(count: int, path: Path) -> float:
    """What a typical bot does on a button press: insert, bump the score, commit; per answer.

    Same schema, same PRAGMAs (WAL, synchronous=NORMAL) and the same concurrent presses as the
    engine's closed loop; a lock keeps one answer's transaction from mixing with another's.
    """
    rows = _rows(count)
    db = await aiosqlite.connect(path)
    try:
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")
        lock = asyncio.Lock()

        async def press(row: tuple[str, int, int, int, str]) -> None:
            user, choice, correct, points, at = row
            async with lock:
                await db.execute(_NAIVE_ANSWER, (user, choice, correct, points, at))
                await db.execute(_NAIVE_SCORE, (user, points, correct))
                await db.commit()

        started = time.perf_counter()
        await asyncio.gather(*(press(row) for row in rows))
        elapsed = time.perf_counter() - started
    finally:
        await db.close()
    return count / elapsed


def raw(count: int, path: Path, *, with_scores: bool) -> float:
    """The same rows as the naive baseline, by `executemany` in one transaction: SQLite's limit."""
    rows = _rows(count)

    def write(db: sqlite3.Connection) -> None:
        db.executemany(_NAIVE_ANSWER, rows)
        if with_scores:
            db.executemany(_NAIVE_SCORE, [(user, points, ok) for user, _, ok, points, _ in rows])

    return count / _timed_transaction(path, write)


def raw_like_engine(count: int, path: Path) -> float:
    """Every row the engine writes for a press (the answer and the member; points wait for the
    reveal), by `executemany` in one transaction: the engine's ceiling."""
    rows = _rows(count)

    def write(db: sqlite3.Connection) -> None:
        db.executemany(_NAIVE_ANSWER, rows)
        db.executemany(
            f"INSERT INTO members (server, user_id, name) VALUES ('{SERVER}', ?, ?)",
            [(user, f"member {user}") for user, *_ in rows],
        )

    return count / _timed_transaction(path, write)


def _timed_transaction(path: Path, write: Callable[[sqlite3.Connection], None]) -> float:
    """Seconds `write` takes in one transaction on a WAL file, commit included."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        write(db)
        db.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        db.close()
