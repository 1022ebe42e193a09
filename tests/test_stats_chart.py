"""The picture of `/dlquiz stats`: its data, its PNG, and a drawing failure that loses nothing."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from adapters.memory import ManualClock
from bot import charts
from bot import commands as cmd
from bot.engine import QuizEngine
from bot.models import StatsCard, TopicAccuracy, TopicBoxes, WeekActivity
from bot.stats_chart import WEEKS, topic_boxes, weekly
from tests.conftest import START, invocation, member
from tests.test_engine import CHANNEL, RIGHT, WRONG, press

PNG = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG)
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


async def test_stats_card_carries_weeks_boxes_and_a_png(
    engine: QuizEngine, clock: ManualClock
) -> None:
    # Three weeks ago one right answer, this week one right and one wrong; the last is revealed.
    clock.set(START - timedelta(weeks=3))
    await engine.post(CHANNEL)
    await press(engine, "ada", RIGHT)
    clock.set(START)
    for choice in (RIGHT, WRONG):
        await engine.post(CHANNEL)
        await press(engine, "ada", choice)
    await engine.reveal(CHANNEL)
    practice = await engine.handle(cmd.Practice(None), invocation=invocation("ada"))
    question = practice.question  # type: ignore[union-attr]
    await engine.practice_answer(member=member("ada"), question_id=question.id, choice=RIGHT)

    card = await engine.handle(cmd.ShowStats(), invocation=invocation("ada"))
    assert isinstance(card, StatsCard)
    assert len(card.weeks) == WEEKS
    assert card.weeks[-1] == WeekActivity(START.date(), 2, 1)
    assert card.weeks[-4] == WeekActivity(START.date() - timedelta(weeks=3), 1, 1)
    assert sum(w.answered for w in card.weeks) == 3
    # Revealed daily answers feed the boxes too: the wrong one in box 1, the rest higher.
    assert sum(sum(b.counts) for b in card.boxes) == 4
    assert sum(b.counts[0] for b in card.boxes) == 1
    assert question.topic in {b.topic for b in card.boxes}
    assert card.chart is not None
    width, height = png_size(card.chart)
    assert width == 800
    assert 400 <= height <= 1200


async def test_a_chart_that_fails_leaves_the_numbers(
    engine: QuizEngine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await engine.post(CHANNEL)
    await press(engine, "ada", RIGHT)
    await engine.reveal(CHANNEL)

    def broken(card: StatsCard) -> bytes:
        raise RuntimeError("no fonts today")

    monkeypatch.setattr(charts, "member_stats", broken)
    with caplog.at_level(logging.ERROR):
        card = await engine.handle(cmd.ShowStats(), invocation=invocation("ada"))
    assert isinstance(card, StatsCard)
    assert card.chart is None
    assert (card.answered, card.correct) == (1, 1)
    assert "could not draw the stats chart" in caplog.text


def test_weeks_start_on_monday_and_keep_empty_ones() -> None:
    first = date(2026, 1, 5)  # a Monday
    days = [(first, 2, 1), (first + timedelta(days=6), 1, 1), (first + timedelta(days=50), 3, 0)]
    weeks = weekly(days, first=first)
    assert [w.monday for w in weeks] == [first + timedelta(weeks=w) for w in range(WEEKS)]
    # Day 50 is in week 7, the last one; the days in between had no answer.
    assert [(w.answered, w.correct) for w in weeks] == [(3, 2), *[(0, 0)] * 6, (3, 0)]


def test_boxes_per_topic_by_title() -> None:
    rows = [("cnn", 1, 2), ("cnn", 5, 1), ("attention", 3, 4), ("gone", 9, 1)]
    boxes = topic_boxes(rows, {"cnn": "Convolutional", "attention": "Attention"})
    assert boxes == (
        TopicBoxes("attention", "Attention", (0, 0, 4, 0, 0)),
        TopicBoxes("cnn", "Convolutional", (2, 0, 0, 0, 1)),
    )


@pytest.mark.parametrize("topics", [0, 1, 24])
def test_chart_draws_empty_and_long_cards(topics: int) -> None:
    card = StatsCard(
        user_id="u",
        name="A very long display name that goes on and on and on",
        points=0,
        rank=None,
        ranked=0,
        answered=0,
        correct=0,
        current_streak=0,
        longest_streak=0,
        topics=tuple(TopicAccuracy(f"t{i}", 3, i % 4, f"Topic number {i}") for i in range(topics)),
        boxes=tuple(TopicBoxes(f"t{i}", f"Topic {i}", (1, 0, 2, 0, 1)) for i in range(topics)),
        weeks=(),
    )
    width, height = png_size(charts.member_stats(card))
    assert width == 800
    # A taller picture for a long list of topics, not squeezed bars.
    rows = max(min(topics, charts.SHOWN_TOPICS), 2) + 1
    assert height >= 100 * (1.2 + 0.3 * rows + 0.45 + 2.3) - 1
