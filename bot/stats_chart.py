"""The picture of `/dlquiz stats`: the data it needs beyond the text card, and drawing it off
the event loop.

Drawing is the only part that can fail in new ways (a font, a full disk for matplotlib's cache):
any failure leaves the card without a chart, never without its numbers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import defaultdict
from datetime import date, timedelta

from bot.logs import context
from bot.models import StatsCard, TopicBoxes, WeekActivity
from bot.practice import TOP_BOX
from bot.store import Store

log = logging.getLogger(__name__)

WEEKS = 8  # this week and the seven before it: long enough to show a habit


async def with_chart(
    store: Store, card: StatsCard, *, server: str, titles: dict[str, str], today: date
) -> StatsCard:
    """`card` with the member's practice boxes, weekly activity and the chart drawn from them."""
    first = today - timedelta(days=today.weekday(), weeks=WEEKS - 1)
    days = await store.answer_days(server=server, user_id=card.user_id, since=first)
    boxes = await store.practice_boxes(server=server, user_id=card.user_id)
    card = dataclasses.replace(
        card, boxes=topic_boxes(boxes, titles), weeks=weekly(days, first=first)
    )
    try:
        # Tens of milliseconds of CPU: in a worker thread, so other members' presses go on.
        chart = await asyncio.to_thread(_draw, card)
    except Exception:
        log.exception("could not draw the stats chart of %s", card.user_id, extra=context(server))
        return card
    return dataclasses.replace(card, chart=chart)


def _draw(card: StatsCard) -> bytes:
    # Imported here: matplotlib takes a few hundred milliseconds to import, which a bot that is
    # never asked for stats should not pay at start-up.
    from bot import charts

    return charts.member_stats(card)


def topic_boxes(rows: list[tuple[str, int, int]], titles: dict[str, str]) -> tuple[TopicBoxes, ...]:
    counts: defaultdict[str, list[int]] = defaultdict(lambda: [0] * TOP_BOX)
    for topic, box, questions in rows:
        if 1 <= box <= TOP_BOX:
            counts[topic][box - 1] += questions
    return tuple(
        TopicBoxes(topic, titles.get(topic, topic), tuple(boxes))
        for topic, boxes in sorted(counts.items(), key=lambda kv: titles.get(kv[0], kv[0]))
    )


def weekly(days: list[tuple[date, int, int]], *, first: date) -> tuple[WeekActivity, ...]:
    """Every week from the one starting on Monday `first` to this one, empty ones included."""
    answered = [0] * WEEKS
    correct = [0] * WEEKS
    for day, count, right in days:
        week = (day - first).days // 7
        if 0 <= week < WEEKS:
            answered[week] += count
            correct[week] += right
    return tuple(
        WeekActivity(first + timedelta(weeks=w), answered[w], correct[w]) for w in range(WEEKS)
    )
