"""Load and validate the question bank: YAML files, one per topic, checked with file and line.

The checks are written by hand rather than delegated to a JSON Schema library so that every
problem names the line an author has to edit; `content/schema.json` describes the same shape for
editors and is checked against the bundled bank in the tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import yaml

from bot.models import LETTERS, CodeSnippet, Difficulty, Question, Topic

MAX_PROMPT = 300
MAX_CHOICE = 150
MAX_EXPLANATION = 400
MIN_CHOICES, MAX_CHOICES = 3, 5
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
SEED_SOURCE = re.compile(r"^[\w.-]+\.txt#\d+$")
PUBLISHED_SOURCE = re.compile(r"^(book|paper|doc):\s*(.*)$")
MAX_SOURCE = 200
MIN_SOURCE_DESCRIPTION = 10
SOURCE_FORMS = (
    "a seed item 'article.txt#12', or a published work as 'book: ...', 'paper: ...' or"
    f" 'doc: ...' followed by at least {MIN_SOURCE_DESCRIPTION} characters naming it"
    " (authors, year, title; chapter or section where useful)"
)
CATCH_ALL = re.compile(r"\b(all|none|both|neither) of (the )?(above|these|them)\b", re.IGNORECASE)
NEAR_DUPLICATE_RATIO = 0.9
CODE_LANGUAGES = ("python", "text")
MAX_CODE_LINES = 15
MAX_CODE_CHARS = 600
MAX_CODE_LINE = 80
CODE_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

FILE_FIELDS = {"topic", "title", "questions"}
QUESTION_FIELDS = {"id", "difficulty", "source", "prompt", "choices", "answer", "explanation"}
OPTIONAL_QUESTION_FIELDS = {"code", "lint_ok"}
# The giveaway rules of `bot.lint`, named here so a question file can accept one by name.
LINT_RULES = ("longest-choice", "prompt-echo", "absolutes", "odd-form", "duplicate-fact")
CODE_FIELDS = {"language", "text"}

try:  # libyaml is several times faster; the pure-Python loader gives the same nodes
    _Loader: type[yaml.SafeLoader | yaml.CSafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


@dataclass(frozen=True, slots=True)
class Problem:
    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Entry:
    """A loaded question with where it is written and the lint rules its author accepted."""

    question: Question
    path: Path
    line: int
    lint_ok: frozenset[str] = frozenset()


@dataclass
class Checked:
    """Everything `check_bank` found: the good questions, their topics and the problems."""

    entries: list[Entry]
    topics: list[Topic]
    problems: list[Problem]

    @property
    def questions(self) -> list[Question]:
        return [entry.question for entry in self.entries]


class BankError(Exception):
    """The bank cannot be used; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"invalid question bank: {first}{more}")


@dataclass(frozen=True, slots=True)
class Bank:
    questions: tuple[Question, ...]
    topics: tuple[Topic, ...]
    by_id: dict[str, Question] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {q.id: q for q in self.questions})

    def get(self, question_id: str) -> Question | None:
        return self.by_id.get(question_id)

    def match_topic(self, text: str) -> Topic | list[Topic]:
        """The topic named by `text` (any case, a unique prefix of slug or title), else the
        candidates an ambiguous prefix matches (none when nothing matches)."""
        wanted = text.strip().lower()
        for topic in self.topics:
            if wanted in (topic.slug, topic.title.lower()):
                return topic
        hits = [
            t
            for t in self.topics
            if t.slug.startswith(wanted) or t.title.lower().startswith(wanted)
        ]
        return hits[0] if len(hits) == 1 else hits


def default_bank_dir() -> Path:
    """The bundled bank: `bot/bank` when installed, the repository's `content/` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "bank", here.parent / "content"):
        if any(candidate.glob("*.yaml")):
            return candidate
    return here.parent / "content"


def bank_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        # `.yml` is as common a YAML suffix as `.yaml`: a folder's files of either are read.
        found = [*path.glob("*.yaml"), *path.glob("*.yml")] if path.is_dir() else [path]
        files.extend(sorted(found))
    return files


def load_bank(paths: Iterable[Path]) -> Bank:
    """Load every question file under `paths`; raise BankError listing every problem found."""
    questions, topics, problems = check_paths(list(paths))
    if problems:
        raise BankError(problems)
    return Bank(questions=tuple(questions), topics=tuple(topics))


def check_paths(paths: list[Path]) -> tuple[list[Question], list[Topic], list[Problem]]:
    """Check every question file in `paths` (files or folders), together."""
    checked = check_bank(paths)
    return checked.questions, checked.topics, checked.problems


def check_bank(paths: list[Path]) -> Checked:
    """Check every question file in `paths`, keeping where each good question is written."""
    problems = [Problem(p, 0, "no such file or folder") for p in paths if not p.exists()]
    files = bank_files(p for p in paths if p.exists())
    if not files and not problems:
        where = ", ".join(str(p) for p in paths)
        reason = f"no question files (*.yaml, *.yml) in {where}"
        problems.append(Problem(paths[0] if paths else Path("."), 0, reason))
    checked = check_files(files)
    checked.problems[:0] = problems
    return checked


def check_files(files: list[Path]) -> Checked:
    entries: list[Entry] = []
    topics: list[Topic] = []
    problems: list[Problem] = []
    seen_ids: dict[str, tuple[Path, int]] = {}
    for path in files:
        parsed = _FileChecker(path).run()
        problems.extend(parsed.problems)
        if parsed.topic is not None:
            topics.append(parsed.topic)
        for entry in parsed.entries:
            question, line = entry.question, entry.line
            if question.id in seen_ids:
                other_path, other_line = seen_ids[question.id]
                problems.append(
                    Problem(
                        path,
                        line,
                        f"duplicate id '{question.id}': already used at {other_path}:{other_line}",
                    )
                )
                continue
            seen_ids[question.id] = (path, line)
            entries.append(entry)
    problems.extend(_near_duplicates(entries))
    return Checked(entries, topics, problems)


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _near_duplicates(entries: list[Entry]) -> Iterator[Problem]:
    normalised = [(_normalise(e.question.prompt), e.question, e.path, e.line) for e in entries]
    word_sets = [frozenset(text.split()) for text, *_ in normalised]
    for i, (text, question, path, line) in enumerate(normalised):
        words = word_sets[i]
        for j in range(i):
            other_words = word_sets[j]
            # Prompts this close in wording share most words; the set test skips nearly every pair
            # before the slower character comparison.
            if len(words & other_words) < 0.7 * max(len(words), len(other_words)):
                continue
            other_text, other = normalised[j][0], normalised[j][1]
            if SequenceMatcher(None, text, other_text).ratio() >= NEAR_DUPLICATE_RATIO:
                yield Problem(
                    path,
                    line,
                    f"prompt of '{question.id}' nearly duplicates the prompt of '{other.id}'",
                )


@dataclass
class _Parsed:
    topic: Topic | None
    entries: list[Entry]
    problems: list[Problem]


class _FileChecker:
    min_choices = MIN_CHOICES
    required_fields = QUESTION_FIELDS
    optional_fields = OPTIONAL_QUESTION_FIELDS

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, node: yaml.Node | None, reason: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(Problem(self.path, line, reason))

    def problem_at(self, line: int, reason: str) -> None:
        self.problems.append(Problem(self.path, line, reason))

    def run(self) -> _Parsed:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(None, f"cannot read the file: {exc}")
            return _Parsed(None, [], self.problems)
        try:
            root = yaml.compose(text, Loader=_Loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            reason = f"invalid YAML: {exc.problem or exc.context}"
            if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
                reason += f" ({exc.context} at line {exc.context_mark.line + 1})"
            self.problems.append(Problem(self.path, line, reason))
            return _Parsed(None, [], self.problems)
        except yaml.YAMLError as exc:
            self.problem(None, f"invalid YAML: {exc}")
            return _Parsed(None, [], self.problems)
        fields = self.mapping(root, "the file", FILE_FIELDS, set())
        if fields is None:
            return _Parsed(None, [], self.problems)
        slug = self.string(fields.get("topic"), "topic", 64)
        title = self.string(fields.get("title"), "title", 80)
        if slug is not None and not ID_PATTERN.match(slug):
            self.problem(fields["topic"], f"topic '{slug}' must match {ID_PATTERN.pattern}")
            slug = None
        if slug is not None and slug != self.path.stem:
            self.problem(
                fields["topic"], f"topic '{slug}' must equal the file name '{self.path.stem}'"
            )
        entries: list[Entry] = []
        items = fields.get("questions")
        if isinstance(items, yaml.SequenceNode) and slug is not None:
            for item in items.value:
                entry = self.question(item, slug, title or slug)
                if entry is not None:
                    entries.append(entry)
        elif items is not None and not isinstance(items, yaml.SequenceNode):
            self.problem(items, "questions must be a list")
        topic = Topic(slug, title, len(entries)) if slug and title else None
        return _Parsed(topic, entries, self.problems)

    def mapping(
        self, node: yaml.Node | None, what: str, required: set[str], optional: set[str]
    ) -> dict[str, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(
                node, f"{what} must be a mapping with the fields {', '.join(sorted(required))}"
            )
            return None
        fields: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            if name in fields:
                self.problem(key, f"field '{name}' appears twice in {what}")
            elif name not in required | optional:
                allowed = ", ".join(sorted(required | optional))
                self.problem(key, f"unknown field '{name}' in {what} (allowed: {allowed})")
            fields[name] = value
        for name in sorted(required - fields.keys()):
            self.problem(node, f"missing field '{name}' in {what}")
        return fields

    def string(self, node: yaml.Node | None, what: str, limit: int) -> str | None:
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            self.problem(node, f"{what} must be text")
            return None
        text = " ".join(str(node.value).split())
        if not text:
            self.problem(node, f"{what} is empty")
            return None
        if len(text) > limit:
            self.problem(node, f"{what} is {len(text)} characters long; at most {limit} allowed")
        return text

    def question(self, node: yaml.Node, topic: str, topic_title: str) -> Entry | None:
        fields = self.mapping(node, "a question", self.required_fields, self.optional_fields)
        if fields is None:
            return None
        before = len(self.problems)
        qid = self.string(fields.get("id"), "id", 64)
        if qid is not None and not ID_PATTERN.match(qid):
            self.problem(fields["id"], f"id '{qid}' must match {ID_PATTERN.pattern}")
        label = f"question '{qid}'" if qid else "question"
        difficulty = self.difficulty(fields.get("difficulty"))
        prompt = self.string(fields.get("prompt"), f"prompt of {label}", MAX_PROMPT)
        explanation = self.string(
            fields.get("explanation"), f"explanation of {label}", MAX_EXPLANATION
        )
        choices = self.choices(fields.get("choices"), label)
        answer = self.answer(fields.get("answer"), choices, label)
        source = self.source(fields.get("source"), label)
        code = self.code(fields.get("code"), label)
        lint_ok = self.lint_ok(fields.get("lint_ok"), label)
        if len(self.problems) > before:
            return None
        if not (qid and difficulty and prompt and explanation and choices) or answer is None:
            return None  # a required field is missing, and that was reported above
        question = Question(
            id=qid,
            topic=topic,
            difficulty=difficulty,
            prompt=prompt,
            choices=tuple(choices),
            answer=answer,
            explanation=explanation,
            source=source,
            topic_title=topic_title,
            code=code,
        )
        return Entry(question, self.path, node.start_mark.line + 1, lint_ok)

    def difficulty(self, node: yaml.Node | None) -> Difficulty | None:
        text = self.string(node, "difficulty", 10)
        if text is None:
            return None
        try:
            return Difficulty(text)
        except ValueError:
            allowed = ", ".join(d.value for d in Difficulty)
            self.problem(node, f"difficulty '{text}' is not one of {allowed}")
            return None

    def choices(self, node: yaml.Node | None, label: str) -> list[str] | None:
        if node is None:
            return None
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"choices of {label} must be a list of texts")
            return None
        count = len(node.value)
        if not self.min_choices <= count <= MAX_CHOICES:
            self.problem(
                node,
                f"{label} has {count} choices; {self.min_choices} to {MAX_CHOICES} are allowed",
            )
            return None
        texts: list[str] = []
        for letter, item in zip(LETTERS, node.value, strict=False):
            text = self.string(item, f"choice {letter} of {label}", MAX_CHOICE)
            if text is None:
                return None
            if CATCH_ALL.search(text):
                self.problem(item, f"choice {letter} of {label} is a catch-all ('{text}')")
            if text.lower() in (t.lower() for t in texts):
                self.problem(item, f"choice {letter} of {label} duplicates another choice")
            texts.append(text)
        return texts

    def answer(self, node: yaml.Node | None, choices: list[str] | None, label: str) -> int | None:
        if node is None:
            return None
        count = len(choices) if choices else MAX_CHOICES
        letters = LETTERS[:count]
        # One whole letter: a substring test would take "BC" for B and "" for A.
        letter = str(node.value).strip().upper() if isinstance(node, yaml.ScalarNode) else ""
        if len(letter) != 1 or letter not in letters:
            self.problem(
                node,
                f"answer of {label} must name exactly one right choice as one letter {letters[0]}"
                f"-{letters[-1]}",
            )
            return None
        return letters.index(letter)

    def source(self, node: yaml.Node | None, label: str) -> tuple[str, ...]:
        if node is None:
            return ()  # required: reported as a missing field
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not items:
            self.problem(node, f"source of {label} is empty; name {SOURCE_FORMS}")
        refs: list[str] = []
        for item in items:
            text = self.string(item, f"source of {label}", MAX_SOURCE)
            if text is None:
                continue
            published = PUBLISHED_SOURCE.match(text)
            named = published is not None and len(published[2]) >= MIN_SOURCE_DESCRIPTION
            if SEED_SOURCE.match(text) or named:
                refs.append(text)
            elif published:
                self.problem(
                    item,
                    f"source '{text}' of {label} names too little of the work: write"
                    f" {published[1]}: and at least {MIN_SOURCE_DESCRIPTION} characters",
                )
            else:
                self.problem(item, f"source '{text}' of {label} must be {SOURCE_FORMS}")
        return tuple(refs)

    def code(self, node: yaml.Node | None, label: str) -> CodeSnippet | None:
        if node is None:
            return None
        fields = self.mapping(node, f"the code of {label}", CODE_FIELDS, set())
        if fields is None:
            return None
        language = self.string(fields.get("language"), f"code language of {label}", 20)
        if language is not None and language not in CODE_LANGUAGES:
            self.problem(
                fields["language"],
                f"code language '{language}' of {label} is not one of {', '.join(CODE_LANGUAGES)}",
            )
        text = self.code_text(fields.get("text"), label)
        if language is None or text is None:
            return None
        return CodeSnippet(language=language, text=text)

    def code_text(self, node: yaml.Node | None, label: str) -> str | None:
        """The snippet as written (not re-spaced like other texts), within the limits that keep
        it readable on a phone and inside one chat message."""
        if node is None:
            return None
        what = f"code text of {label}"
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            self.problem(node, f"{what} must be text (use `text: |` and indent the code)")
            return None
        text = str(node.value).rstrip()
        if not text.strip():
            self.problem(node, f"{what} is empty")
            return None
        lines = text.split("\n")
        # In a `|` block the code starts on the line after the key; elsewhere, report the key.
        first = node.start_mark.line + (2 if node.style == "|" else 1)
        at = [first + i if node.style == "|" else first for i in range(len(lines))]
        if len(lines) > MAX_CODE_LINES:
            self.problem(node, f"{what} has {len(lines)} lines; at most {MAX_CODE_LINES} allowed")
        if len(text) > MAX_CODE_CHARS:
            self.problem(
                node, f"{what} is {len(text)} characters long; at most {MAX_CODE_CHARS} allowed"
            )
        for i, line in enumerate(lines):
            say = f"line {i + 1} of the {what}"
            if len(line) > MAX_CODE_LINE:
                self.problem_at(
                    at[i], f"{say} is {len(line)} characters long; at most {MAX_CODE_LINE} allowed"
                )
            if "\t" in line:
                self.problem_at(at[i], f"{say} has a tab; indent with spaces")
            if CODE_CONTROL.search(line.replace("\t", " ")):
                self.problem_at(at[i], f"{say} has a control character")
        if "```" in text:
            self.problem(
                node, f"{what} has triple backticks, which would end the chat's code block early"
            )
        return text

    def lint_ok(self, node: yaml.Node | None, label: str) -> frozenset[str]:
        if node is None:
            return frozenset()
        known = ", ".join(LINT_RULES)
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.problem(node, f"lint_ok of {label} must be a list of rule names ({known})")
            return frozenset()
        names: set[str] = set()
        for item in node.value:
            name = self.string(item, f"lint_ok of {label}", 40)
            if name is not None and name not in LINT_RULES:
                self.problem(item, f"lint_ok of {label} names unknown rule '{name}' ({known})")
            elif name is not None:
                names.add(name)
        return frozenset(names)
