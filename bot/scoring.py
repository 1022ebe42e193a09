"""The scoring rule, in one place: docs/scoring.md quotes it and the store applies it in SQL."""

from __future__ import annotations

from bot.models import Difficulty

BASE_POINTS = {Difficulty.EASY: 10, Difficulty.MEDIUM: 15, Difficulty.HARD: 20}
# One extra point for each earlier answer in the current streak, up to this many.
STREAK_BONUS_CAP = 5


def points_for(*, difficulty: Difficulty, correct: bool, streak: int) -> int:
    """Points for one answer; `streak` counts this answer too when it is correct."""
    if not correct:
        return 0
    return BASE_POINTS[difficulty] + min(max(streak - 1, 0), STREAK_BONUS_CAP)
