"""`/dlquiz stats` on Discord: the card with its chart attached, only for the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from discord_harness import ADA, MOD, Harness, click, container_of, layout_types, slash
from fake_discord import MEDIA_GALLERY, FakeDiscord

from adapters.discord.app import started
from adapters.memory import ManualClock
from bot import charts
from bot.config import Settings
from bot.models import StatsCard

PNG = b"\x89PNG\r\n\x1a\n"


async def play(quiz: Harness) -> None:
    await quiz.send(slash("post", MOD))
    await quiz.send(click(quiz.question_message(), "A", ADA))
    await quiz.send(slash("reveal", MOD))


def only_attachment(quiz: Harness, message: dict[str, object]) -> bytes:
    [attachment] = message["attachments"]  # type: ignore[misc]
    assert attachment["filename"] == "dlquiz-stats.png"
    data = quiz.fake.attachments[attachment["id"]]
    assert data.startswith(PNG)
    assert int.from_bytes(data[16:20], "big") == 800
    return data


async def test_stats_reply_carries_the_chart_in_its_card(quiz: Harness) -> None:
    await play(quiz)
    answer = await quiz.send(slash("stats", ADA))
    assert answer.callback_type == 4
    assert answer.ephemeral
    callback = answer.requests[-1]
    assert sorted(callback.files) == ["files[0]"]
    only_attachment(quiz, answer.message)
    # A card shows an attachment only where a component names it: here a media gallery.
    assert answer.texts[0] == "## Stats for Ada"
    [gallery] = [
        c for c in container_of(answer.message)["components"] if c["type"] == MEDIA_GALLERY
    ]
    [item] = gallery["items"]
    assert item["media"]["url"] == "attachment://dlquiz-stats.png"


async def test_a_chart_that_fails_still_sends_the_card(
    quiz: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await play(quiz)

    def broken(card: StatsCard) -> bytes:
        raise RuntimeError("no fonts today")

    monkeypatch.setattr(charts, "member_stats", broken)
    answer = await quiz.send(slash("stats", ADA))
    assert answer.ephemeral
    assert answer.requests[-1].files == {}
    assert answer.message["attachments"] == []
    assert answer.texts[0] == "## Stats for Ada"
    assert MEDIA_GALLERY not in layout_types(answer.message)


@pytest.fixture
async def slow(settings: Settings, fake: FakeDiscord, clock: ManualClock) -> AsyncIterator[Harness]:
    async with started(settings, clock=clock, reply_budget=0) as client:
        yield Harness(client, fake)


async def test_a_deferred_stats_reply_attaches_the_chart_to_its_edit(slow: Harness) -> None:
    await play(slow)
    answer = await slow.send(slash("stats", ADA))
    assert answer.callback_type == 5
    assert answer.ephemeral
    edit = answer.requests[-1]
    assert edit.method == "PATCH"
    assert sorted(edit.files) == ["files[0]"]
    only_attachment(slow, answer.message)
