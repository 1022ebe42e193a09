"""The terminal channel: one local channel, the same engine and database as the chat platforms.

A line `/dlquiz …` is a subcommand, a single letter answers the open question, `/as NAME`
switches to another local player. Input is read line by line, so a piped script plays a round.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import TextIO

from bot.commands import CommandError, parse_command
from bot.config import Settings
from bot.engine import QuizEngine
from bot.models import (
    LETTERS,
    ChannelRef,
    Invocation,
    Member,
    PracticeCard,
    PracticeResult,
    QuestionPost,
    RevealPost,
)
from bot.ports import Clock
from bot.render import question_text, reply_text, reveal_text
from bot.runtime import running

PLATFORM = "console"
SERVER = f"{PLATFORM}:local"
CHANNEL = ChannelRef(SERVER, "terminal")
INTRO = (
    "dlquiz terminal channel. /dlquiz help for the commands, /dlquiz post to start a round,"
    " a letter to answer, /as NAME to switch player, /quit to leave."
)


class ConsolePlatform:
    """Posts to the terminal; a question's message id is its round number."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def post_question(self, channel: ChannelRef, post: QuestionPost) -> str:
        self.write(f"\n{question_text(post)}\n")
        return str(post.round_id)

    async def post_reveal(self, channel: ChannelRef, reveal: RevealPost) -> None:
        self.write(f"\n{reveal_text(reveal)}\n")

    async def close_question(self, channel: ChannelRef, reveal: RevealPost) -> None:
        """A terminal line cannot be edited: the reveal already says the question is closed."""

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def _start_reader(source: TextIO, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Read lines on a daemon thread, so a blocked read never keeps the process alive."""
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in source:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=pump, name="dlquiz-console-input", daemon=True).start()
    return lines


class ConsoleSession:
    def __init__(self, engine: QuizEngine, platform: ConsolePlatform, *, user: str) -> None:
        self.engine = engine
        self.platform = platform
        self.user = user
        self.practising: str | None = None  # the practice question a letter answers, if any

    @property
    def member(self) -> Member:
        # The terminal's players are all admins: whoever holds the keyboard runs the channel.
        return Member(server=SERVER, user_id=self.user.lower(), name=self.user, is_admin=True)

    async def handle_line(self, line: str) -> bool:
        """Act on one line of input; False when the session should end."""
        text = line.strip()
        if not text:
            return True
        if text in ("/quit", "/exit"):
            return False
        if text.startswith("/as"):
            name = text[3:].strip()
            if not name or len(name) > 32 or not name.isprintable():
                self.platform.write("Usage: /as NAME (a name of at most 32 characters)")
            else:
                self.user = name
                self.practising = None
                self.platform.write(f"Now playing as {name}.")
            return True
        if text.startswith("/dlquiz"):
            await self.run_command(text[len("/dlquiz") :])
            return True
        if len(text) == 1 and text.upper() in LETTERS:
            choice = LETTERS.index(text.upper())
            if self.practising is not None:
                await self.answer_practice(self.practising, choice)
            else:
                await self.answer(choice)
            return True
        self.platform.write(
            "Type a letter to answer, /dlquiz help for the commands, /as NAME or /quit."
        )
        return True

    async def run_command(self, text: str) -> None:
        try:
            command = parse_command(text)
        except CommandError as exc:
            self.platform.write(f"Error: {exc}")
            return
        reply = await self.engine.handle(
            command, invocation=Invocation(channel=CHANNEL, member=self.member)
        )
        if isinstance(reply, PracticeCard):
            self.practising = reply.question.id
        self.platform.write(reply_text(reply))

    async def answer_practice(self, question_id: str, choice: int) -> None:
        self.practising = None
        result = await self.engine.practice_answer(
            member=self.member, question_id=question_id, choice=choice
        )
        self.platform.write(reply_text(result))
        if isinstance(result, PracticeResult):
            topic = f" {result.topic}" if result.topic else ""
            self.platform.write(f"Next: /dlquiz practice{topic}")

    async def answer(self, choice: int) -> None:
        row = await self.engine.store.open_round(CHANNEL)
        if row is None:
            self.platform.write("No question is open. An admin can post one with /dlquiz post.")
            return
        notice = await self.engine.answer(
            channel=CHANNEL, member=self.member, round_id=row.id, choice=choice, token=row.token
        )
        self.platform.write(f"{self.user}: {notice.text}")


async def run_console(
    settings: Settings,
    *,
    user: str,
    source: TextIO | None = None,
    out: TextIO | None = None,
    clock: Clock | None = None,
) -> None:
    source = source or sys.stdin
    out = out or sys.stdout
    platform = ConsolePlatform(out)
    interactive = source.isatty()
    async with running(settings, platform, clock=clock, platform_name=PLATFORM) as runtime:
        session = ConsoleSession(runtime.engine, platform, user=user)
        platform.write(INTRO)
        lines = _start_reader(source, asyncio.get_running_loop())
        while True:
            if interactive:
                out.write(f"{session.user}> ")
                out.flush()
            line = await lines.get()
            if line is None:
                break
            if not interactive and line.strip():
                # Piped input is not echoed by a terminal; show it so the transcript reads well.
                platform.write(f"{session.user}> {line.strip()}")
            if not await session.handle_line(line):
                break
