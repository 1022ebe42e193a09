"""Fixtures of the Discord adapter tests: the fake Discord, settings pointing at it, a small
question bank on disk, and the bot logged in (but not connected to a gateway)."""

# ruff: noqa: E402  (discord must be imported after the warning filter below)
from __future__ import annotations

import warnings

# discord.py imports the stdlib `audioop` for voice, which warns on import since Python 3.11, and
# pyproject.toml turns warnings into errors. Until pyproject names this exception, let the one
# import of discord happen here with that warning ignored.
warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route
from discord_harness import Harness
from fake_discord import TOKEN, FakeDiscord

from adapters.discord.app import started
from adapters.memory import ManualClock
from bot.config import Settings

WATCHED_LOGGERS = ("discord", "adapters.discord")

BANK = """\
topic: {slug}
title: {title}
questions:
{questions}
"""

QUESTION = """\
  - id: {qid}
    difficulty: {difficulty}
    source: "doc: dlquiz test bank, made-up question"
    prompt: "{prompt}"
    choices:
      - "{a}"
      - "{b}"
      - "{c}"
      - "{d}"
    answer: {answer}
    explanation: "{explanation}"
"""


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def error_logs() -> Iterator[list[logging.LogRecord]]:
    """Fail the test on any ERROR from discord.py or the adapter. discord.py only logs exceptions
    raised in command and button callbacks ("Ignoring exception in ..."): without this a broken
    handler would make a test time out instead of fail. A test that provokes an error on purpose
    reads and clears the records it yields."""
    handler = _Errors()
    loggers = [logging.getLogger(name) for name in WATCHED_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler.records
    for logger in loggers:
        logger.removeHandler(handler)
    if handler.records:
        lines = [f"{r.name}: {r.getMessage()}" for r in handler.records]
        pytest.fail("ERROR logged during the test:\n" + "\n".join(lines))


@pytest.fixture(autouse=True)
def restore_discord_globals(monkeypatch: pytest.MonkeyPatch) -> None:
    # The app points discord.py's class-level REST base and gateway at the configured API;
    # put them back after each test.
    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def write_bank(folder: Path) -> Path:
    """Two topics, three questions, in the bank's YAML format (content/FORMAT.md)."""
    folder.mkdir(parents=True, exist_ok=True)
    relu = QUESTION.format(
        qid="act-relu-dead-units",
        difficulty="medium",
        prompt="A ReLU unit outputs zero for every input in the training set. Why does it stop?",
        a="Its gradient is zero for negative inputs, so its weights get no updates",
        b="ReLU saturates for large positive inputs",
        c="Its output is not zero-centred",
        d="The learning rate decays to zero",
        answer="A",
        explanation="For negative pre-activations the gradient of ReLU is exactly zero.",
    )
    sigmoid = QUESTION.format(
        qid="act-sigmoid-range",
        difficulty="easy",
        prompt="What is the range of the logistic sigmoid?",
        a="(-1, 1)",
        b="(0, 1)",
        c="[0, inf)",
        d="All reals",
        answer="B",
        explanation="1 / (1 + e^-x) lies strictly between 0 and 1.",
    )
    gan = QUESTION.format(
        qid="gan-optimal-discriminator",
        difficulty="hard",
        prompt="For a fixed generator, what does the optimal D*(x) equal?",
        a="p_data(x) / (p_data(x) + p_g(x))",
        b="p_g(x) / (p_data(x) + p_g(x))",
        c="p_data(x)",
        d="1/2 for every x",
        answer="A",
        explanation="Maximising a*log D + b*log(1 - D) pointwise gives D = a/(a + b).",
    )
    (folder / "activation-functions.yaml").write_text(
        BANK.format(
            slug="activation-functions", title="Activation functions", questions=relu + sigmoid
        )
    )
    (folder / "gans.yaml").write_text(BANK.format(slug="gans", title="GANs", questions=gan))
    return folder


@pytest.fixture
def settings(tmp_path: Path, fake: FakeDiscord) -> Settings:
    return Settings(
        db=tmp_path / "quiz.db",
        content_dir=write_bank(tmp_path / "bank"),
        discord_token=TOKEN,
        discord_api_base=fake.api_base,
    )


@pytest.fixture
async def quiz(settings: Settings, fake: FakeDiscord, clock: ManualClock) -> AsyncIterator[Harness]:
    async with started(settings, clock=clock) as client:
        yield Harness(client, fake)
