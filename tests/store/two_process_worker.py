"""One of the two processes of test_two_processes.py: `poster` or `answerer`.

python -m tests.store.two_process_worker poster LOCATION ROUNDS DONE_FILE
python -m tests.store.two_process_worker answerer LOCATION MEMBERS DONE_FILE OUT_FILE
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from datetime import timedelta
from pathlib import Path

from adapters.memory import ManualClock, MemoryPlatform
from bot.engine import QuizEngine
from bot.models import ChannelRef
from bot.store import AnswerRequest, open_store
from tests.conftest import START, make_bank

CHANNEL = ChannelRef("test:s1", "c1")


async def poster(location: str, rounds: int, done: Path) -> None:
    """Posts and reveals rounds in a loop, through the engine."""
    clock = ManualClock(START)
    store = await open_store(location)
    try:
        engine = QuizEngine(
            store=store,
            bank=make_bank(),
            platform=MemoryPlatform(),
            clock=clock,
            rng=random.Random(1),
        )
        for _ in range(rounds):
            await engine.post(CHANNEL)
            await asyncio.sleep(0.04)
            clock.advance(timedelta(hours=1))
            await engine.reveal(CHANNEL)
            clock.advance(timedelta(hours=1))
    finally:
        await store.close()
        await asyncio.to_thread(done.write_text, "done")


async def answerer(location: str, members: int, done: Path, out: Path) -> None:
    """Presses as `members` members at once on whatever round is open, until the poster is done;
    keeps every outcome the store acknowledged."""
    rng = random.Random(2)
    store = await open_store(location)
    results: list[tuple[int, str, str, int | None]] = []

    async def one(round_id: int, token: str, user: str, choice: int) -> None:
        outcome = await store.submit_answer(
            AnswerRequest(
                round_id=round_id,
                server=CHANNEL.server,
                channel=CHANNEL.channel,
                user_id=user,
                name=f"Member {user}",
                choice=choice,
                at=START,
                token=token,
            )
        )
        results.append((round_id, user, outcome.status.value, outcome.choice))

    try:
        while not await asyncio.to_thread(done.exists):
            row = await store.open_round(CHANNEL)
            if row is None or not row.delivered:
                await asyncio.sleep(0.002)
                continue
            presses = [(f"u{i:03d}", rng.randrange(4)) for i in range(members)]
            presses += [(user, rng.randrange(4)) for user, _ in presses[::7]]  # pressed twice
            rng.shuffle(presses)
            await asyncio.gather(
                *(one(row.id, row.token, user, choice) for user, choice in presses)
            )
    finally:
        await store.close()
        await asyncio.to_thread(out.write_text, json.dumps(results))


def main() -> None:
    role, location = sys.argv[1], sys.argv[2]
    if role == "poster":
        asyncio.run(poster(location, int(sys.argv[3]), Path(sys.argv[4])))
    else:
        asyncio.run(answerer(location, int(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5])))


if __name__ == "__main__":
    main()
