"""Start-up: loading and validating the bundled question bank."""

from __future__ import annotations

import time
from dataclasses import dataclass
from statistics import median

from bot.content import BankError, default_bank_dir, load_bank


@dataclass(frozen=True, slots=True)
class BankLoad:
    median_ms: float
    first_ms: float
    questions: int
    error: str | None


def run(runs: int) -> BankLoad:
    """Time `load_bank(default_bank_dir())` `runs` times; a bank that fails is still timed."""
    times: list[float] = []
    questions, error = 0, None
    for _ in range(runs):
        started = time.perf_counter()
        try:
            questions = len(load_bank([default_bank_dir()]).questions)
        except BankError as exc:
            error = str(exc)
        times.append((time.perf_counter() - started) * 1000)
    return BankLoad(median_ms=median(times), first_ms=times[0], questions=questions, error=error)
