"""`dlquiz console` at a real terminal (a pseudo-terminal): line editing, history, the prompt
that names what a letter answers, and replies instead of log lines."""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEFT, UP = "\x1b[D", "\x1b[A"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX terminal")


class Terminal:
    """A process whose standard input, output and error are one pseudo-terminal."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        master, slave = os.openpty()
        self.fd = master
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(slave)
        self.seen = ""

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def wait_for(self, text: str, *, within: float = 15.0) -> str:
        """Everything shown so far, once it contains `text` (after what was awaited before)."""
        start = len(self.seen)
        deadline = time.monotonic() + within
        while text not in self.seen[start:]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} not shown; the terminal shows:\n{self.seen}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the process ended and closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"{text!r} not shown before exit:\n{self.seen}")
                self.seen += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        return self.seen[start:]

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()
        finally:
            os.close(self.fd)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DLQUIZ_", "DISCORD_", "SLACK_"))
    }
    env.update(PYTHONPATH=str(ROOT), TERM="xterm", INPUTRC="/dev/null", HOME=str(tmp_path))
    term = Terminal("console", "--db", str(tmp_path / "quiz.db"), env=env)
    term.wait_for("you> ")
    yield term
    term.type("/quit\r")
    assert term.close() == 0


def answers(tmp_path: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(tmp_path / "quiz.db") as conn:
        return conn.execute("SELECT user_id, choice FROM answers ORDER BY answered_at").fetchall()


def test_arrow_keys_edit_the_line_and_recall_history(terminal: Terminal) -> None:
    terminal.type("/dlquiz tpics" + LEFT * 4 + "o\r")
    shown = terminal.wait_for("you> ")
    assert "25 topics" in shown or "topics, " in shown, shown
    assert "unknown subcommand" not in shown
    terminal.type(UP + "\r")  # the line before, again
    again = terminal.wait_for("you> ")
    assert "topics, " in again, again
    assert "^[[" not in terminal.seen


def test_the_prompt_names_what_a_letter_answers(terminal: Terminal, tmp_path: Path) -> None:
    terminal.type("/dlquiz post\r")
    terminal.wait_for("you (daily #1)> ")
    terminal.type("/dlquiz practice\r")
    terminal.wait_for("you (practice)> ")
    terminal.type("A\r")
    terminal.wait_for("you (daily #1)> ")
    # Right after a practice answer, a letter for the daily question is not taken at once.
    terminal.type("B\r")
    asked = terminal.wait_for("Answer daily #1 with B? [y/N] ")
    assert "first answer is final" in asked
    terminal.type("\r")
    assert "Not answered." in terminal.wait_for("you (daily #1)> ")
    assert answers(tmp_path) == []
    terminal.type("B\r")
    terminal.wait_for("[y/N] ")
    terminal.type("y\r")
    assert "you: Recorded: B" in terminal.wait_for("you (daily #1)> ")
    terminal.type("C\r")  # no practice in between: answered at once, and refused as a second
    assert "the first answer is final" in terminal.wait_for("you (daily #1)> ")
    assert answers(tmp_path) == [("you", 1)]


def test_a_letter_out_of_range_is_a_reply_not_a_log_line(terminal: Terminal) -> None:
    terminal.type("/dlquiz post\r")
    terminal.wait_for("you (daily #1)> ")
    for letter in "EF":
        terminal.type(f"{letter}\r")
        shown = terminal.wait_for("you (daily #1)> ")
        assert f"This question has choices A–D; {letter} is not one of them." in shown, shown
    terminal.type("/dlquiz practice\r")
    terminal.wait_for("you (practice)> ")
    terminal.type("e\r")
    shown = terminal.wait_for("you (practice)> ")
    assert "This question has choices A–D; E is not one of them." in shown, shown
    terminal.type("/dlquiz reveal\r")
    terminal.wait_for("Closed the question")
    assert "WARNING" not in terminal.seen
    assert "bot.engine" not in terminal.seen
