"""Two real processes on one database: one posts and reveals rounds through the engine, the other
presses as hundreds of members at once. Whatever the interleaving, every acknowledged answer is
kept, every answer of a closed round is scored exactly once, and the maintained totals equal a
recomputation from the answers."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from bot.store import open_store
from tests.conftest import Backend

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 25
MEMBERS = 300


async def run(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.store.two_process_worker",
        *args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()[-3000:]


async def test_posting_and_answering_processes_keep_every_total(
    backend: Backend, tmp_path: Path
) -> None:
    location = await backend.new_location()
    # Created before the processes start: two processes creating one SQLite file at the same
    # moment can meet "database is locked" while one switches it to WAL.
    await (await open_store(location)).close()
    done, out = tmp_path / "poster-done", tmp_path / "answers.json"
    await asyncio.gather(
        run("answerer", str(location), str(MEMBERS), str(done), str(out)),
        run("poster", str(location), str(ROUNDS), str(done)),
    )
    acknowledged = json.loads(out.read_text())
    query = backend.query

    assert await query(location, "SELECT count(*) FROM rounds WHERE closed_at IS NULL") == [(0,)]
    kept = {
        (rid, user): choice
        for rid, user, choice in await query(
            location, "SELECT round_id, user_id, choice FROM answers"
        )
    }
    recorded = [(rid, user, choice) for rid, user, status, choice in acknowledged
                if status == "recorded"]  # fmt: skip
    # The race was run: many answers landed, and some presses met a closed round.
    assert len(recorded) > MEMBERS * 3
    assert {status for _, _, status, _ in acknowledged} >= {"recorded", "duplicate"}
    # Every acknowledged answer is in the database, with the choice the member was told.
    for rid, user, choice in recorded:
        assert kept[(rid, user)] == choice
    for rid, user, status, choice in acknowledged:
        if status == "duplicate":
            assert kept[(rid, user)] == choice
    # Scored exactly once: every right answer carries its points, every wrong one none...
    assert await query(
        location,
        "SELECT count(*) FROM answers WHERE (correct = 1 AND points < 10)"
        " OR (correct = 0 AND points != 0)",
    ) == [(0,)]
    # ...and the totals hold each answer once.
    recomputed = await query(
        location,
        "SELECT r.server, a.user_id, sum(a.points), count(*), sum(a.correct)"
        " FROM answers a JOIN rounds r ON r.id = a.round_id WHERE r.closed_at IS NOT NULL"
        " GROUP BY 1, 2 ORDER BY 1, 2",
    )
    totals = await query(
        location,
        "SELECT server, user_id, points, answered, correct FROM scores WHERE period = 'all'"
        " ORDER BY 1, 2",
    )
    assert [tuple(map(_int, r)) for r in totals] == [tuple(map(_int, r)) for r in recomputed]
    histogram = await query(
        location,
        "SELECT server, period, points, members FROM score_counts WHERE members > 0"
        " ORDER BY 1, 2, 3",
    )
    counted = await query(
        location,
        "SELECT server, period, points, count(*) FROM scores WHERE points > 0"
        " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    assert [tuple(map(_int, r)) for r in histogram] == [tuple(map(_int, r)) for r in counted]


def _int(value: object) -> object:
    return int(value) if isinstance(value, int) else value
