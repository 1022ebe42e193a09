"""Health and online backup, beside a running store."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from bot import maintenance
from bot.config import ConfigError, Settings
from bot.engine import QuizEngine
from bot.models import ChannelRef
from bot.store import StoreError
from tests.conftest import answer_round, member

CHANNEL = ChannelRef("test:s1", "c1")


async def test_backup_while_answers_are_written(engine: QuizEngine, tmp_path: Path) -> None:
    settings = replace(Settings(), db=engine.store.path)
    outcome = await engine.post(CHANNEL)
    assert outcome.round_id is not None
    rid = outcome.round_id
    presses = [
        answer_round(engine, channel=CHANNEL, member=member(f"u{i}"), round_id=rid, choice=i % 4)
        for i in range(3000)
    ]
    target = tmp_path / "backup.db"
    writing = asyncio.gather(*presses)
    message = await asyncio.to_thread(maintenance.backup, settings, target)
    await writing
    assert "integrity ok" in message
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count = copy.execute("SELECT count(*) FROM answers").fetchone()[0]
    assert 0 <= count <= 3000
    with pytest.raises(ConfigError, match="already exists"):
        maintenance.backup(settings, target)


async def test_health(engine: QuizEngine) -> None:
    settings = replace(Settings(), db=engine.store.path)
    assert maintenance.health(settings).startswith("ok: ")


def test_health_fails_without_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        maintenance.health(replace(Settings(), db=tmp_path / "missing.db"))


def test_health_fails_on_a_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError, match="cannot use database"):
        maintenance.health(replace(Settings(), db=path))
