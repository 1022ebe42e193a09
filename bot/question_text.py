"""How a question's choices and code read as text, shared by every renderer: the terminal's,
the community cards', and the platforms' (which put `fenced_code` inside their own fences)."""

from __future__ import annotations

import re

from bot.models import LETTERS, CodeSnippet

CODE_INDENT = "    "
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BACKTICK_RUN = re.compile(r"`(?=`)")
ZERO_WIDTH_SPACE = "\u200b"


def choice_lines(choices: tuple[str, ...]) -> list[str]:
    return [f"  {LETTERS[i]}) {text}" for i, text in enumerate(choices)]


def code_text(snippet: CodeSnippet) -> str:
    """The snippet's text, safe to print: tabs as spaces, no control characters (a terminal
    escape in a question file must not reach the reader's terminal)."""
    return _CONTROL.sub("\ufffd", snippet.text.expandtabs(4).rstrip("\n"))


def fenced_code(snippet: CodeSnippet) -> str:
    """The snippet's text for inside a ``` fence: no run of two backticks survives, so nothing
    in it can close the fence early (a zero-width space splits each run)."""
    return _BACKTICK_RUN.sub("`" + ZERO_WIDTH_SPACE, code_text(snippet))


def code_lines(snippet: CodeSnippet | None) -> list[str]:
    """The snippet as indented lines for the terminal; none without a snippet."""
    if snippet is None:
        return []
    return [f"{CODE_INDENT}{line}".rstrip() for line in code_text(snippet).split("\n")]
