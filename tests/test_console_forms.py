"""The suggestion form in the terminal, piped: one field at a time, the refused field asked
again with what was typed, an edit keeping what is not retyped, and the question drawn."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import dlquiz

SUGGESTION = """/dlquiz suggest
What does torch.relu return for an input of -2.0?
0.0
-2.0
.
ReLU keeps positive inputs and maps every negative input to zero.
activation-functions easy
import torch
print(torch.relu(torch.tensor(-2.0)))
.
*0.0
-2.0
2.0
.
"""


def test_a_suggestion_typed_fixed_edited_and_drawn(tmp_path: Path) -> None:
    edit = "/dlquiz review edit 1\nWhat does relu(-2.0) give?\n.\n\n\n.\n"
    script = SUGGESTION + edit + "/dlquiz settings source server\n/dlquiz post\n"
    result = dlquiz("console", "--db", str(tmp_path / "q.db"), stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "you> /dlquiz suggest\nSuggest a question, one field at a time" in out
    assert "- Choices, one per line; start the right one with *: mark exactly one right" in out
    assert "only these fields are asked again" in out
    assert "  now: 0.0\n       -2.0\nchoices> *0.0" in out  # only the refused field, as typed
    assert "Added question #1 to this server's own questions." in out
    assert "Question #1 saved." in out
    assert "questions to draw from: 1" in out
    posted = out.split("you> /dlquiz post")[1]
    assert "What does relu(-2.0) give?" in posted
    assert "    import torch\n    print(torch.relu(torch.tensor(-2.0)))" in posted
    assert "  A) 0.0" in posted


def test_cancel_drops_the_form(tmp_path: Path) -> None:
    script = "/dlquiz suggest\nWhy?\n/cancel\n/dlquiz review list\n"
    result = dlquiz("console", "--db", str(tmp_path / "q.db"), stdin=script)
    assert "Suggestion dropped; nothing was saved." in result.stdout
    assert "no questions of its own yet" in result.stdout
