"""Fixtures of the multi-process tests: the fakes of Slack and Discord and the real-process kit
of the reliability tests, made importable here, each fake started fresh on 127.0.0.1."""

# ruff: noqa: E402  (the helper folders must be on sys.path before their modules import)
from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS / "slack", TESTS / "discord", TESTS / "reliability"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import pytest
from fake_discord import FakeDiscord
from fake_slack import FakeSlack
from reliability_kit import ADMIN


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    fake.users[ADMIN.id] = ADMIN.profile()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()
