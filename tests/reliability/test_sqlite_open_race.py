"""Processes opening a SQLite file that does not exist yet, at the same moment.

SQLite waits out another connection's lock (busy_timeout) except where waiting could deadlock:
the switch to WAL reads the file, then needs the write lock, and gets "database is locked" at
once if another process took it in between. So whichever process creates the file, the others
must open it too, without an error.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

from reliability_kit import ROOT, clean_env

from bot.store.sqlite.migrations import MIGRATIONS

ATTEMPTS = 10
PROCESSES = 3
HELD = 0.3  # seconds the other process keeps the write lock: well inside busy_timeout

# Imports first, then waits for "go": the opens start within a millisecond of each other,
# where processes started together would drift apart by their import times.
OPENER = """
import asyncio, sys
from bot.store import open_store

async def main() -> None:
    sys.stdin.readline()
    store = await open_store(sys.argv[1])
    await store.close()
    print("opened")

asyncio.run(main())
"""

# The moment that loses the race, made certain: another process has just created the file and
# holds its write lock (as an opening dlquiz does while it switches the file to WAL).
HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


def python(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        cwd=ROOT,
    )


def assert_ready(db: Path) -> None:
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert check.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_opening_while_another_process_holds_the_new_files_lock(tmp_path: Path) -> None:
    for attempt in range(3):
        db = tmp_path / f"held-{attempt}.db"
        holder = python("-c", HOLDER, str(db), str(HELD))
        assert holder.stdout is not None
        assert await asyncio.to_thread(holder.stdout.readline) == "held\n"
        opener = python("-c", OPENER, str(db))
        out, err = await asyncio.to_thread(opener.communicate, "go\n", 60)
        await asyncio.to_thread(holder.communicate, "", 10)
        assert opener.returncode == 0, err
        assert out.strip() == "opened"
        assert_ready(db)


async def test_processes_opening_one_new_database_together(tmp_path: Path) -> None:
    failures = []
    for attempt in range(ATTEMPTS):
        db = tmp_path / f"new-{attempt}.db"
        group = [python("-c", OPENER, str(db)) for _ in range(PROCESSES)]
        results = await asyncio.gather(
            *(asyncio.to_thread(p.communicate, "go\n", 60) for p in group)
        )
        for proc, (out, err) in zip(group, results, strict=True):
            if proc.returncode != 0 or out.strip() != "opened":
                failures.append(f"attempt {attempt}: exit {proc.returncode}: {err.strip()[-300:]}")
        assert_ready(db)
    assert failures == [], "\n".join(failures)


async def test_two_consoles_started_together_on_a_new_database(tmp_path: Path) -> None:
    db = tmp_path / "quiz.db"
    pair = [python("-m", "bot", "console", "--db", str(db), "--user", n) for n in ("ana", "ben")]
    results = await asyncio.gather(
        *(asyncio.to_thread(p.communicate, "/dlquiz topics\n", 60) for p in pair)
    )
    for proc, (out, err) in zip(pair, results, strict=True):
        assert proc.returncode == 0, err
        assert "questions" in out, out
    assert_ready(db)
