"""A server's own questions as data: the form a member fills in, and the YAML files of
`dlquiz questions import/export`, both checked by the bank's own checker (`bot.content`), so a
problem reads the same as in `dlquiz content check`.

A server file is a bank file (content/FORMAT.md) or several of them in one YAML stream, one
document per topic. Two rules differ from the bank's: `source` is optional (a community writes
from what it knows) and a question may have 2 choices (a true/false question).
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot import snapshot
from bot.content import (
    ID_PATTERN,
    MAX_CHOICES,
    OPTIONAL_QUESTION_FIELDS,
    QUESTION_FIELDS,
    Checked,
    Entry,
    Problem,
    _FileChecker,
    _near_duplicates,
)
from bot.models import LETTERS, Difficulty, Draft, Question

SERVER_MIN_CHOICES = 2
MAX_PENDING_PER_MEMBER = 3
# Rounds and practice know a question by its id; a server's key lives in its own namespace so it
# never collides with a bank id, whatever bank the operator loads later.
SERVER_PREFIX = "server:"
FORM_FIELDS = ("prompt", "choices", "explanation", "topic", "code")
RIGHT_MARK = "*"


class _ServerChecker(_FileChecker):
    min_choices = SERVER_MIN_CHOICES
    required_fields = QUESTION_FIELDS - {"source"}
    optional_fields = OPTIONAL_QUESTION_FIELDS | {"source"}


def check_text(text: str, path: Path) -> Checked:
    """Check a server file's text: every problem as `file:line: reason`."""
    checker = _ServerChecker(path)
    entries: list[Entry] = []
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return Checked([], [], [Problem(path, line, f"invalid YAML: {exc.problem or exc.context}")])
    if not [d for d in documents if d is not None]:
        return Checked([], [], [Problem(path, 1, "no questions in the file")])
    seen: dict[str, int] = {}
    for root in documents:
        if root is None:
            continue
        fields = checker.mapping(root, "the file", {"topic", "title", "questions"}, set())
        if fields is None:
            continue
        slug = checker.string(fields.get("topic"), "topic", 64)
        title = checker.string(fields.get("title"), "title", 80)
        if slug is not None and not ID_PATTERN.match(slug):
            checker.problem(fields["topic"], f"topic '{slug}' must match {ID_PATTERN.pattern}")
            slug = None
        items = fields.get("questions")
        if not isinstance(items, yaml.SequenceNode):
            if items is not None:
                checker.problem(items, "questions must be a list")
            continue
        for item in items.value:
            entry = checker.question(item, slug or "topic", title or slug or "")
            if entry is None or slug is None:
                continue
            qid = entry.question.id
            if qid in seen:
                checker.problem(item, f"duplicate id '{qid}': already used at {path}:{seen[qid]}")
                continue
            seen[qid] = entry.line
            entries.append(entry)
    problems = checker.problems + list(_near_duplicates(entries))
    return Checked(entries, [], sorted(problems, key=lambda p: p.line))


def check_file(path: Path) -> Checked:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Checked([], [], [Problem(path, 0, f"cannot read the file: {exc}")])
    return check_text(text, path)


# --- the form -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str  # one of FORM_FIELDS
    reason: str


def new_key(topic: str) -> str:
    return f"{topic[:54]}-{secrets.token_hex(4)}"


def draft_of(question: Question) -> Draft:
    """The form pre-filled with a question, for an admin's edit."""
    choices = "\n".join(
        (RIGHT_MARK if i == question.answer else "") + text
        for i, text in enumerate(question.choices)
    )
    return Draft(
        prompt=question.prompt,
        choices=choices,
        explanation=question.explanation,
        topic=f"{question.topic} {question.difficulty.value}",
        code=question.code.text if question.code else "",
    )


def check_draft(draft: Draft, *, key: str, topic_title: str = "") -> Question | list[FieldProblem]:
    """The question a filled-in form makes, or what is wrong with each field."""
    problems: list[FieldProblem] = []
    lines = [line.strip() for line in draft.choices.splitlines() if line.strip()]
    marked = [i for i, line in enumerate(lines) if line.startswith(RIGHT_MARK)]
    choices = [line.removeprefix(RIGHT_MARK).strip() for line in lines]
    if len(marked) != 1 and SERVER_MIN_CHOICES <= len(lines) <= MAX_CHOICES:
        problems.append(
            FieldProblem(
                "choices",
                f"mark exactly one right choice with {RIGHT_MARK} at the start of its line"
                f" (found {len(marked)})",
            )
        )
    words = draft.topic.split()
    difficulties = "|".join(d.value for d in Difficulty)
    if len(words) != 2:
        problems.append(
            FieldProblem(
                "topic", f"write the topic and the difficulty, e.g. `optimisation {difficulties}`"
            )
        )
    topic, difficulty = (words[0].lower(), words[1].lower()) if len(words) == 2 else ("x", "easy")
    item: dict[str, object] = {
        "id": key,
        "difficulty": difficulty,
        "prompt": draft.prompt,
        "choices": choices,
        "answer": LETTERS[marked[0]] if len(marked) == 1 else "A",
        "explanation": draft.explanation,
    }
    if draft.code.strip():
        item["code"] = {"language": "python", "text": draft.code.rstrip()}
    document = {"topic": topic, "title": topic_title or topic, "questions": [item]}
    text = json.dumps(document, ensure_ascii=False, indent=1)  # JSON is YAML, one field a line
    checked = check_text(text, Path("form"))
    fields = _field_lines(text)
    label = f" of question '{key}'"
    for problem in checked.problems:
        reason = problem.reason.replace(label, "").replace(f"question '{key}'", "the question")
        field = fields.get(problem.line, "prompt")
        if not any(p.field == field for p in problems):
            problems.append(FieldProblem(field, reason))
    if problems or not checked.entries:
        return problems or [FieldProblem("prompt", "the question could not be read")]
    return checked.entries[0].question


_FORM_FIELD_OF = {
    "topic": "topic",
    "title": "topic",
    "difficulty": "topic",
    "prompt": "prompt",
    "choices": "choices",
    "answer": "choices",
    "explanation": "explanation",
    "code": "code",
}


def _field_lines(text: str) -> dict[int, str]:
    """Which form field each line of the generated document came from."""
    lines: dict[int, str] = {}

    def walk(node: yaml.Node) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                field = _FORM_FIELD_OF.get(str(key.value))
                if field is not None:
                    for line in range(key.start_mark.line + 1, value.end_mark.line + 2):
                        lines.setdefault(line, field)
                walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item)

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root)
    return lines


# --- stored questions ---------------------------------------------------------------------------


def stored(question: Question) -> str:
    return snapshot.dump(question)


def as_drawn(text: str) -> Question:
    """A stored server question as rounds know it: its id in the server namespace."""
    question = snapshot.load(text)
    return _with_id(question, SERVER_PREFIX + question.id)


def _with_id(question: Question, qid: str) -> Question:
    return Question(
        id=qid,
        topic=question.topic,
        difficulty=question.difficulty,
        prompt=question.prompt,
        choices=question.choices,
        answer=question.answer,
        explanation=question.explanation,
        source=question.source,
        topic_title=question.topic_title,
        code=question.code,
    )


class _Literal(str):
    """Code, written as a `|` block so it reads as it is."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Literal, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
)


def export_text(questions: list[Question]) -> str:
    """The questions as server files in one YAML stream, one document per topic."""
    by_topic: defaultdict[str, list[Question]] = defaultdict(list)
    for question in questions:
        by_topic[question.topic].append(question)
    documents = []
    for topic, items in sorted(by_topic.items()):
        rows = []
        for q in items:
            row: dict[str, object] = {"id": q.id, "difficulty": q.difficulty.value}
            if q.source:
                row["source"] = list(q.source)
            row["prompt"] = q.prompt
            if q.code:
                row["code"] = {"language": q.code.language, "text": _Literal(q.code.text + "\n")}
            row["choices"] = list(q.choices)
            row["answer"] = q.answer_letter
            row["explanation"] = q.explanation
            rows.append(row)
        title = items[0].topic_title or topic
        documents.append({"topic": topic, "title": title, "questions": rows})
    return yaml.dump_all(
        documents,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        explicit_start=True,
        width=100,
    )
