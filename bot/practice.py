"""Spaced repetition for practice: Leitner boxes.

Leitner rather than SM-2: a button press gives right or wrong, not the 0-5 recall grade SM-2 needs,
and boxes are easy to explain to a member ("missed questions come back in ten minutes, known ones
after 1, 3, 7, then 21 days"). Every question a member meets starts in box 1; a right answer moves
it up one box, a wrong one sends it back to box 1, and its next due time is the box's interval
from the answer. Daily questions feed the same boxes when they are revealed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

BOX_INTERVALS = {
    1: timedelta(minutes=10),
    2: timedelta(days=1),
    3: timedelta(days=3),
    4: timedelta(days=7),
    5: timedelta(days=21),
}
TOP_BOX = max(BOX_INTERVALS)
# Right twice in a row, the second time at least a day after the first.
MASTERED_BOX = 3


def next_box(box: int, *, correct: bool) -> int:
    """The box after an answer; `box` is 0 for a question never answered."""
    return min(max(box, 1) + 1, TOP_BOX) if correct else 1


def due_after(box: int, answered_at: datetime) -> datetime:
    return answered_at + BOX_INTERVALS[box]
