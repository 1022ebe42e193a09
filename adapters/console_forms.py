"""The suggestion form in the terminal: one field at a time, from typed or piped lines.

A one-line field is answered by one line. Choices and code take several lines and end with a
line holding only `.`. A pre-filled field (an edit, or a field the checker refused) shows its
value, and an empty line (or `.` at once, for a several-line field) keeps it. After a refused
submit only the fields with problems are asked again. `/cancel` drops the form.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.community_render import FIELD_LABELS
from bot.models import Draft, SuggestForm
from bot.server_questions import FORM_FIELDS

MULTILINE = frozenset({"choices", "code"})
END = "."
CANCEL = "/cancel"


@dataclass
class ConsoleForm:
    form: SuggestForm
    asked: list[str] = field(default_factory=list)
    _lines: list[str] = field(default_factory=list)
    draft: Draft = field(default_factory=Draft)

    def __post_init__(self) -> None:
        self.draft = self.form.draft
        problems = [name for name, _ in self.form.problems]
        self.asked = [f for f in FORM_FIELDS if f in problems] if problems else list(FORM_FIELDS)

    @property
    def done(self) -> bool:
        return not self.asked

    def intro(self) -> str:
        """What to type, shown when the form opens: the problems first, if any."""
        lines = []
        if self.form.problems:
            lines.append("Your suggestion needs changes; only these fields are asked again:")
            lines += [f"- {FIELD_LABELS[name]}: {reason}" for name, reason in self.form.problems]
        else:
            what = "Suggest a question" if self.form.edit_of is None else "Edit question"
            number = f" #{self.form.edit_of}" if self.form.edit_of is not None else ""
            lines.append(f"{what}{number}, one field at a time ({CANCEL} to stop).")
        lines.append(self.question())
        return "\n".join(lines)

    def question(self) -> str:
        """The label of the field asked now, with its current value and how to end it."""
        name = self.asked[0]
        label = FIELD_LABELS[name]
        current = getattr(self.draft, name)
        how = f"; end with a line '{END}'" if name in MULTILINE else ""
        keep = "" if not current else f"; '{END}' at once keeps it" if name in MULTILINE else ""
        if current and name not in MULTILINE:
            keep = "; an empty line keeps it"
        shown = f"\n  now: {current.replace(chr(10), chr(10) + '       ')}" if current else ""
        return f"{label}{how}{keep}{shown}"

    def prompt(self) -> str:
        name = self.asked[0]
        return "... " if name in MULTILINE and self._lines else f"{name}> "

    def take(self, line: str) -> str | None:
        """Take one typed line; the next field's question when one starts, else None."""
        text = line.rstrip("\n")
        name = self.asked[0]
        if name in MULTILINE:
            if text.strip() != END:
                self._lines.append(text.rstrip())
                return None
            value = "\n".join(self._lines) if self._lines else getattr(self.draft, name)
            self._lines = []
        else:
            value = text.strip() or getattr(self.draft, name)
        self.draft = replace(self.draft, **{name: value})
        self.asked.pop(0)
        return None if self.done else self.question()
