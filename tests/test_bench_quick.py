"""The benchmarks run and report every figure; how fast anything is, is never asserted here."""

from __future__ import annotations

import asyncio
import json
import math
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bench import lbdata
from bot.models import ChannelRef
from bot.store import AnswerRequest, AnswerStatus, open_store
from tests.conftest import SCORING_STATE

Work = Callable[[sqlite3.Connection], None]
ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {
    "ingest": (
        "answers",
        "engine_per_s",
        "naive_per_s",
        "raw_per_s",
        "open_loop_rate",
        "p50_ms",
        "p99_ms",
    ),
    "leaderboard": ("users", "answers", "p99_ms", "naive_ms"),
    "fanout": ("channels", "seconds", "next_day_seconds", "next_day_revealed"),
}


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def test_quick_run_writes_every_key(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    # The leaderboard database is cached under the temp folder: keep this run's in tmp_path.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Ingestion" in done.stdout
    assert "Leaderboard" in done.stdout
    document = json.loads(out.read_text())
    for section, keys in REQUIRED.items():
        for key in keys:
            assert is_number(document[section].get(key)), f"{section}.{key}"
    assert is_number(document["rss_mb"])
    assert is_number(document["bank_load_ms"])
    assert "Stats chart" in done.stdout
    for key in ("median_ms", "p95_ms", "cpu_median_ms", "png_bytes"):
        assert is_number(document["chart"][key]), f"chart.{key}"
    assert document["chart"]["renders"] == 20
    assert "chart_p95_ms" in document["targets"]
    postgres = document["postgres"]
    if "skipped" in postgres:  # no PostgreSQL here: the table says why
        assert postgres["skipped"] in done.stdout
        return
    assert "PostgreSQL" in done.stdout
    for section, keys in REQUIRED.items():
        for key in keys:
            if section == "leaderboard" and key == "naive_ms":
                continue  # the naive leaderboard runs on the SQLite file only
            assert is_number(postgres[section].get(key)), f"postgres.{section}.{key}"
    assert postgres["copy"]["totals_equal"] is True
    assert postgres["copy"]["rows"] > 0


async def test_generated_leaderboard_data_is_what_the_engine_records(tmp_path: Path) -> None:
    """Replaying the generated answers through the store gives the generated aggregates."""
    generated = tmp_path / "generated.db"
    lbdata.build(generated, users=300, rounds=25)  # 25 days: across a month and four weeks
    source = sqlite3.connect(generated)
    try:
        columns = [c[1] for c in source.execute("PRAGMA table_info(rounds)")]
        rounds = source.execute(f"SELECT {', '.join(columns)} FROM rounds ORDER BY id").fetchall()
        answers = source.execute(
            "SELECT a.round_id, a.user_id, m.name, a.choice, a.answered_at"
            " FROM answers a JOIN members m USING (user_id) ORDER BY a.round_id, a.user_id"
        ).fetchall()
        expected = [source.execute(query).fetchall() for query in SCORING_STATE]
    finally:
        source.close()

    store = await open_store(tmp_path / "replayed.db")
    try:
        await store.write(_insert_rounds(columns, rounds))
        for round_id, *_ in rounds:
            await store.write(_open_only(round_id))
            outcomes = await asyncio.gather(
                *(
                    store.submit_answer(
                        AnswerRequest(
                            round_id=r,
                            server=lbdata.SERVER,
                            channel=lbdata.CHANNEL,
                            user_id=user,
                            name=name,
                            choice=choice,
                            at=datetime.fromisoformat(at),
                        )
                    )
                    for r, user, name, choice, at in answers
                    if r == round_id
                )
            )
            assert all(o.status is AnswerStatus.RECORDED for o in outcomes)
            if round_id != rounds[-1][0]:  # the last round is today's, still open
                await store.close_round(ChannelRef(lbdata.SERVER, lbdata.CHANNEL), lbdata.NOW)
    finally:
        await store.close()

    replayed = sqlite3.connect(tmp_path / "replayed.db")
    try:
        for query, rows in zip(SCORING_STATE, expected, strict=True):
            assert replayed.execute(query).fetchall() == rows, query
    finally:
        replayed.close()


def _insert_rounds(columns: list[str], rows: list[tuple[object, ...]]) -> Work:
    def work(db: sqlite3.Connection) -> None:
        marks = ", ".join("?" * len(columns))
        db.executemany(f"INSERT INTO rounds ({', '.join(columns)}) VALUES ({marks})", rows)

    return work


def _open_only(round_id: int) -> Work:
    """Every round closed but `round_id`, the one being replayed."""

    def work(db: sqlite3.Connection) -> None:
        db.execute("UPDATE rounds SET closed_at = 'replayed' WHERE closed_at IS NULL")
        db.execute("UPDATE rounds SET closed_at = NULL WHERE id = ?", (round_id,))

    return work
