"""The terminal channel: one local channel, the same engine and database as the chat platforms.

A line `/dlquiz …` is a subcommand, a single letter answers the open question, `/as NAME`
switches to another local player. Input is read line by line, so a piped script plays a round;
at a terminal the line can be edited and earlier lines recalled (readline).

A letter answers either a practice question or the channel's daily question, whose first answer
is final, so the prompt always names which one (`you (practice)>`, `you (daily #12)>`), and a
letter that would answer the daily question right after a practice answer is only recorded once
the player confirms it.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from adapters.console_forms import CANCEL, ConsoleForm
from bot import commands as cmd
from bot.commands import CommandError, parse_command
from bot.config import Settings
from bot.engine import QuizEngine
from bot.models import (
    LETTERS,
    ChannelRef,
    Invocation,
    Member,
    Notice,
    PracticeCard,
    PracticeResult,
    Question,
    QuestionCard,
    QuestionPost,
    Reply,
    RevealPost,
    StatsCard,
    SuggestForm,
)
from bot.names import clean_text
from bot.ports import Clock
from bot.render import question_text, reply_text, reveal_text
from bot.runtime import running
from bot.store import is_postgres_url

PLATFORM = "console"
SERVER = f"{PLATFORM}:local"
CHANNEL = ChannelRef(SERVER, "terminal")
INTRO = (
    "dlquiz terminal channel. /dlquiz help for the commands, /dlquiz post to start a round,"
    " a letter to answer, /as NAME to switch player, /quit to leave."
)
HINT = "Type a letter to answer, /dlquiz help for the commands, /as NAME or /quit."
YES = ("y", "yes")
MAX_PLAYER_NAME = 32
CHARTS_FOLDER = "dlquiz-charts"
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def plain(text: str) -> str:
    """Chat markup (`code`, *bold*) as the plain text a terminal shows."""
    text = re.sub(r"`([^`]*)`", r"\1", text)
    return re.sub(r"\*([^*\s][^*]*)\*", r"\1", text)


HELP = """\
dlquiz: a deep-learning question every day in this channel.
Type a letter to answer; the prompt names the question a letter answers.
The answer, explanation and tally come at the reveal.
  /dlquiz help                          this help
  /dlquiz question                      the open question, to answer if you have not
  /dlquiz leaderboard [week|month|all]  the top 10 and your rank
  /dlquiz stats [user]                  points, rank, accuracy, streaks, accuracy per topic
  /dlquiz practice [topic]              a practice question; missed ones come back
  /dlquiz topics                        the topics of the question bank
  /dlquiz schedule                      when the daily question is posted here
  /dlquiz schedule HH:MM [Area/City]    post one every day at that time (default UTC)
  /dlquiz schedule off                  stop the daily question
  /dlquiz post                          reveal the open question and post a new one
  /dlquiz reveal                        close the open question and post its reveal
  /dlquiz insights [question id]        how the questions performed (item analysis)
  /dlquiz suggest                       propose a question for this server
  /dlquiz review [list|show ID|approve ID|edit ID|reject ID [REASON]|remove ID]
                                        review suggestions and this server's questions
  /dlquiz SETTINGS_USAGE
                                        what this channel's daily questions are drawn from
  /as NAME                              play as someone else
  /quit                                 leave""".replace("SETTINGS_USAGE", cmd.USAGE["settings"])


def choice_range(count: int) -> str:
    return f"A–{LETTERS[count - 1]}"


def not_a_choice(letter: str, count: int) -> str:
    return f"This question has choices {choice_range(count)}; {letter} is not one of them."


class ConsolePlatform:
    """Posts to the terminal; a question's message id is its round number."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.reader: TerminalReader | None = None

    async def post_question(self, channel: ChannelRef, post: QuestionPost) -> str:
        self.write(f"\n{question_text(post)}\n")
        return str(post.round_id)

    async def post_reveal(self, channel: ChannelRef, reveal: RevealPost) -> None:
        self.write(f"\n{reveal_text(reveal)}\n")

    async def close_question(self, channel: ChannelRef, reveal: RevealPost) -> None:
        """A terminal line cannot be edited: the reveal already says the question is closed."""

    def write(self, text: str) -> None:
        with self.reader.interrupting() if self.reader else contextlib.nullcontext():
            self.out.write(text + "\n")
            self.out.flush()


@dataclass(frozen=True, slots=True)
class PendingAnswer:
    """A letter for the daily question, waiting for the player to confirm it."""

    round_id: int
    choice: int


class ConsoleSession:
    def __init__(
        self,
        engine: QuizEngine,
        platform: ConsolePlatform,
        *,
        user: str,
        charts: Path | None = None,
    ) -> None:
        self.engine = engine
        self.platform = platform
        self.user = user
        self.charts = charts or Path(tempfile.gettempdir()) / CHARTS_FOLDER
        self.practising: Question | None = None  # the practice question a letter answers
        # The last letter answered a practice question: the next one for the daily question
        # is asked to be confirmed, since that answer is final.
        self.after_practice = False
        self.pending: PendingAnswer | None = None
        self.form: ConsoleForm | None = None  # a suggestion being typed, field by field

    @property
    def member(self) -> Member:
        # The terminal's players are all admins: whoever holds the keyboard runs the channel.
        return Member(server=SERVER, user_id=self.user.lower(), name=self.user, is_admin=True)

    async def prompt(self) -> str:
        """The prompt, naming what a letter typed now would answer."""
        if self.form is not None:
            return self.form.prompt()
        if self.pending is not None:
            letter = LETTERS[self.pending.choice]
            return f"Answer daily #{self.pending.round_id} with {letter}? [y/N] "
        if self.practising is not None:
            return f"{self.user} (practice)> "
        row = await self.engine.store.open_round(CHANNEL)
        if row is not None:
            return f"{self.user} (daily #{row.id})> "
        return f"{self.user}> "

    async def handle_line(self, line: str) -> bool:
        """Act on one line of input; False when the session should end."""
        if self.form is not None:
            await self.fill(line)
            return True
        text = line.strip()
        if self.pending is not None:
            pending, self.pending = self.pending, None
            if text.lower() in YES:
                await self.answer(pending.choice, round_id=pending.round_id)
                return True
            self.platform.write("Not answered.")
            if text.lower() in ("", "n", "no"):
                return True
        if not text:
            return True
        word, _, rest = text.partition(" ")
        word = word.lower()
        if word in ("/quit", "/exit") and not rest:
            return False
        if word == "/as":
            self.switch_player(rest.strip())
            return True
        if word == "/dlquiz":
            await self.run_command(rest)
            return True
        if len(text) == 1 and text.isascii() and text.isalpha():
            await self.letter(text.upper())
            return True
        self.platform.write(HINT)
        return True

    def switch_player(self, typed: str) -> None:
        # Cleaned like a Discord or Slack display name; what is left must still be a name.
        name = clean_text(typed)
        if not name or len(name) > MAX_PLAYER_NAME:
            self.platform.write(
                f"Usage: /as NAME (a name of at most {MAX_PLAYER_NAME} visible characters)"
            )
            return
        self.user = name
        self.practising = None
        self.after_practice = False
        self.platform.write(f"Now playing as {name}.")

    async def run_command(self, text: str) -> None:
        try:
            command = parse_command(text)
        except CommandError as exc:
            self.platform.write(f"Error: {plain(str(exc))}")
            return
        if isinstance(command, cmd.Help):
            self.platform.write(HELP)
            return
        reply = await self.engine.handle(
            command, invocation=Invocation(channel=CHANNEL, member=self.member)
        )
        if not isinstance(command, cmd.Practice):
            # The player has turned back to the channel: letters answer its question again.
            self.after_practice = False
        if isinstance(reply, SuggestForm):
            self.open_form(reply)
            return
        if isinstance(reply, PracticeCard):
            self.practising = reply.question
        if isinstance(reply, QuestionCard) and reply.answered_choice is None:
            self.practising = None  # they asked for the daily question: letters answer it
        self.platform.write(self.text_of(reply))
        if isinstance(reply, StatsCard) and reply.chart is not None:
            self.platform.write(self.save_chart(reply))

    def open_form(self, form: SuggestForm) -> None:
        self.form = ConsoleForm(form)
        self.platform.write(self.form.intro())

    async def fill(self, line: str) -> None:
        """One line of the open form; when its last field is in, submit it."""
        assert self.form is not None
        if line.strip() == CANCEL:
            self.form = None
            self.platform.write("Suggestion dropped; nothing was saved.")
            return
        following = self.form.take(line)
        if following is not None:
            self.platform.write(following)
        if not self.form.done:
            return
        form, self.form = self.form, None
        reply = await self.engine.community.submit(
            Invocation(channel=CHANNEL, member=self.member), form.draft, edit_of=form.form.edit_of
        )
        if isinstance(reply, SuggestForm):
            self.open_form(reply)  # only the fields with problems are asked again
            return
        self.platform.write(self.text_of(reply))

    def save_chart(self, card: StatsCard) -> str:
        """Write the stats chart to a PNG file (one per member, replaced each time); the line
        that says where, or why it could not be written."""
        name = _UNSAFE_IN_FILE_NAME.sub("_", card.user_id) or "member"
        path = self.charts / f"stats-{name}.png"
        try:
            self.charts.mkdir(parents=True, exist_ok=True)
            path.write_bytes(card.chart or b"")
        except OSError as exc:
            return f"The chart could not be saved in {self.charts}: {exc.strerror}."
        return f"Chart: {path}"

    @staticmethod
    def text_of(reply: Reply) -> str:
        return plain(reply.text) if isinstance(reply, Notice) else reply_text(reply)

    async def letter(self, letter: str) -> None:
        choice = LETTERS.find(letter)
        if self.practising is not None:
            count = len(self.practising.choices)
            if not 0 <= choice < count:
                self.platform.write(not_a_choice(letter, count))
                return
            await self.answer_practice(self.practising, choice)
            return
        row = await self.engine.store.open_round(CHANNEL)
        if row is None:
            self.platform.write("No question is open. An admin can post one with /dlquiz post.")
            return
        if not 0 <= choice < row.choice_count:
            self.platform.write(not_a_choice(letter, row.choice_count))
            return
        if (
            self.after_practice
            and await self.engine.store.choice_of(row.id, self.member.user_id) is None
        ):
            self.pending = PendingAnswer(round_id=row.id, choice=choice)
            self.platform.write(
                f"Your last letter answered a practice question; {letter} would answer daily"
                f" question #{row.id}, and its first answer is final."
                f" Type y to answer {letter}, anything else to leave it."
            )
            return
        await self.answer(choice, round_id=row.id)

    async def answer_practice(self, question: Question, choice: int) -> None:
        self.practising = None
        result = await self.engine.practice_answer(
            member=self.member, question_id=question.id, choice=choice
        )
        self.platform.write(self.text_of(result))
        if isinstance(result, PracticeResult):
            self.after_practice = True
            topic = f" {result.topic}" if result.topic else ""
            self.platform.write(f"Next: /dlquiz practice{topic}")

    async def answer(self, choice: int, *, round_id: int) -> None:
        self.after_practice = False
        # The terminal's letter stands for the button of the question on screen: its token too.
        row = await self.engine.store.round_by_id(round_id)
        notice = await self.engine.answer(
            channel=CHANNEL,
            member=self.member,
            round_id=round_id,
            choice=choice,
            token=row.token if row is not None else "",
        )
        self.platform.write(f"{self.user}: {plain(notice.text)}")


class PipedReader:
    """Lines from a file or pipe, read ahead on a daemon thread, so a blocked read never keeps
    the process alive."""

    def __init__(self, source: TextIO, loop: asyncio.AbstractEventLoop) -> None:
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()

        def pump() -> None:
            for line in source:
                loop.call_soon_threadsafe(self.lines.put_nowait, line)
            loop.call_soon_threadsafe(self.lines.put_nowait, None)

        threading.Thread(target=pump, name="dlquiz-console-input", daemon=True).start()

    async def read(self, prompt: str) -> str | None:
        return await self.lines.get()

    def close(self) -> None:
        pass


class TerminalReader:
    """Lines typed at a terminal through readline: arrow keys edit the line, and up and down
    recall earlier lines. `input()` blocks, so it runs on a daemon thread, one line per
    request; the terminal's settings are put back on close, even when a read is cut short."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        import readline  # noqa: F401  (importing it is what gives input() line editing)
        import termios

        self._termios = termios
        self._fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(self._fd)
        self._loop = loop
        self._requests: queue.SimpleQueue[tuple[str, asyncio.Future[str | None]]] = (
            queue.SimpleQueue()
        )
        self._prompt: str | None = None  # shown and waiting for a line
        threading.Thread(target=self._serve, name="dlquiz-console-input", daemon=True).start()

    def _serve(self) -> None:
        while True:
            prompt, future = self._requests.get()
            try:
                line: str | None = input(prompt) + "\n"
            except EOFError:
                line = None
            except Exception:  # a broken terminal: end the session as at the end of input
                line = None
            self._loop.call_soon_threadsafe(_resolve, future, line)

    async def read(self, prompt: str) -> str | None:
        future: asyncio.Future[str | None] = self._loop.create_future()
        self._prompt = prompt
        self._requests.put((prompt, future))
        try:
            return await future
        finally:
            self._prompt = None

    @contextlib.contextmanager
    def interrupting(self) -> Iterator[None]:
        """Print above the line being typed (a scheduled post), then show that line again."""
        if self._prompt is None:
            yield
            return
        import readline

        sys.stdout.write("\r\x1b[K")
        yield
        sys.stdout.write(self._prompt + readline.get_line_buffer())
        sys.stdout.flush()

    def close(self) -> None:
        with contextlib.suppress(self._termios.error):
            self._termios.tcsetattr(self._fd, self._termios.TCSADRAIN, self._saved)


def chart_folder(db: str | Path) -> Path:
    """Where stats charts go: beside a SQLite database, else in the system temp folder."""
    if is_postgres_url(db):
        return Path(tempfile.gettempdir()) / CHARTS_FOLDER
    return Path(db).expanduser().resolve().parent / CHARTS_FOLDER


def _resolve(future: asyncio.Future[str | None], line: str | None) -> None:
    if not future.done():
        future.set_result(line)


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
    # readline edits the process's own terminal: only when both ends of it are that terminal.
    at_terminal = interactive and source is sys.stdin and out is sys.stdout and out.isatty()
    async with running(settings, platform, clock=clock, platform_name=PLATFORM) as runtime:
        session = ConsoleSession(
            runtime.engine, platform, user=user, charts=chart_folder(settings.db)
        )
        platform.write(INTRO)
        loop = asyncio.get_running_loop()
        reader: TerminalReader | PipedReader
        if at_terminal:
            reader = platform.reader = TerminalReader(loop)
        else:
            reader = PipedReader(source, loop)
        try:
            while True:
                prompt = await session.prompt()
                if interactive and not at_terminal:
                    out.write(prompt)
                    out.flush()
                line = await reader.read(prompt)
                if line is None:
                    if at_terminal:
                        out.write("\n")  # after ^D, so the shell's prompt starts a line
                    break
                if not interactive and line.strip():
                    # Piped input is not echoed by a terminal; show it so the transcript reads
                    # well.
                    platform.write(f"{prompt}{line.strip()}")
                if not await session.handle_line(line):
                    break
        except asyncio.CancelledError:  # ^C
            if at_terminal:
                out.write("\n")  # so the shell's prompt starts a line
            raise
        finally:
            platform.reader = None
            reader.close()
