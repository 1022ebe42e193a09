"""Plain-text rendering in the terminal: code snippets under the prompt, shown safely."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.models import (
    ChannelRef,
    CodeSnippet,
    Difficulty,
    PracticeCard,
    Question,
    QuestionPost,
)
from bot.render import practice_text, question_text

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
QUESTION = Question(
    id="tg-shape",
    topic="tensors-and-graphs",
    difficulty=Difficulty.EASY,
    prompt="What does this print?",
    choices=("torch.Size([8, 3, 32, 32])", "torch.Size([8, 32, 32, 3])", "(8, 3)"),
    answer=0,
    explanation="randn takes the shape as given.",
    code=CodeSnippet("python", "x = torch.randn(8, 3, 32, 32)\nprint(x.shape)"),
)
POST = QuestionPost(7, ChannelRef("console:local", "quiz"), QUESTION, NOW, None)


def test_the_snippet_sits_between_prompt_and_choices() -> None:
    lines = question_text(POST).splitlines()
    assert lines[1:5] == [
        "What does this print?",
        "    x = torch.randn(8, 3, 32, 32)",
        "    print(x.shape)",
        "  A) torch.Size([8, 3, 32, 32])",
    ]


def test_the_practice_card_shows_the_snippet() -> None:
    text = practice_text(PracticeCard(question=QUESTION, topic=None, due=0, new=1))
    assert "What does this print?\n    x = torch.randn(8, 3, 32, 32)\n    print(x.shape)\n" in text


def test_a_question_without_code_is_unchanged() -> None:
    text = question_text(replace(POST, question=replace(QUESTION, code=None)))
    assert "What does this print?\n  A) torch.Size" in text


def test_terminal_escapes_in_a_snippet_do_nothing() -> None:
    hostile = replace(QUESTION, code=CodeSnippet("text", "clear\x1b[2J\x07\n\tindented"))
    text = question_text(replace(POST, question=hostile))
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "    clear\ufffd[2J\ufffd\n        indented" in text
