"""The leaderboard-serving process: `python -m bench.serve DB|URL CALLERS_JSON`.

Run apart from the benchmark so its peak RSS is that of a bot serving leaderboards on the big
database and nothing else: the engine, the bundled bank, both store connections. Prints one JSON
object: latencies in ms per period, the first (cold) call, and the peak RSS in MB.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

from adapters.memory import ManualClock, MemoryPlatform
from bench.common import bench_bank
from bench.lbdata import NOW, SERVER
from bot.engine import QuizEngine
from bot.models import Member, Period
from bot.runtime import tune_gc
from bot.store import open_store

REPEAT = 2  # every caller asks twice per period: enough samples for a p99


async def serve(db: str, callers: dict[str, list[str]]) -> dict[str, object]:
    store = await open_store(db)
    try:
        engine = QuizEngine(
            store=store, bank=bench_bank(), platform=MemoryPlatform(), clock=ManualClock(NOW)
        )
        first = await _timed(engine, Period.ALL, callers["all"][0])
        latencies: dict[str, list[float]] = {}
        for period in Period:
            people = callers[period.value]
            latencies[period.value] = [
                await _timed(engine, period, user) for _ in range(REPEAT) for user in people
            ]
        # "My page": the page that shows the caller, deep in the board for most of them.
        own_pages = [
            await _timed(engine, period, user, page=None)
            for period in Period
            for user in callers[period.value]
        ]
    finally:
        await store.close()
    return {
        "latencies_ms": latencies,
        "own_page_ms": own_pages,
        "first_ms": first,
        "rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM where there is one: after fork and exec, Linux's ru_maxrss
    still counts the parent's peak, which here would be the database generator's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 1024 / 1024


async def _timed(engine: QuizEngine, period: Period, user: str, page: int | None = 0) -> float:
    caller = Member(SERVER, user, f"member {user}")
    started = time.perf_counter()
    card = await engine.leaderboard(server=SERVER, period=period, caller=caller, page=page)
    elapsed = (time.perf_counter() - started) * 1000
    if not card.rows:
        raise RuntimeError(f"the {period.value} leaderboard came back empty")
    return elapsed


def main() -> None:
    # A SQLite file or a PostgreSQL URL, as DLQUIZ_DB.
    db, callers_file = sys.argv[1], Path(sys.argv[2])
    callers = json.loads(callers_file.read_text())
    tune_gc()  # as `dlquiz run` does once it has started
    print(json.dumps(asyncio.run(serve(db, callers))))


if __name__ == "__main__":
    main()
