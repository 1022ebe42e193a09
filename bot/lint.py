"""Giveaway lint: cues that let a reader pick the right choice without knowing the answer.

Each rule is a heuristic with a name; what it finds is a warning, not an error, because a cue is
sometimes the honest way to write a choice. An author who keeps one on purpose lists the rule in
the question's `lint_ok` and says why in a YAML comment beside it. The thresholds were tuned on the
bundled bank so that a warning is worth reading (see the tests for each rule's edges).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.content import Entry, Problem
from bot.models import Question

# longest-choice: the right choice is the only long one.
LONGEST_RATIO = 1.5
LONGEST_MARGIN = 25
# duplicate-fact: two right choices that say the same (share this share of the content words of
# the shorter, and at least FACT_SHARED words) about prompts on the same subject (prompt and right
# choice together share FACT_OVERALL of the words of the shorter).
FACT_ANSWER = 0.6
FACT_SHARED = 3
FACT_OVERALL = 0.35

# Words as text blocks rather than list literals: they are read and edited as prose.
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once one only or other our out over own same she
    should so some such than that the their them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you
    your yours use used uses using get gets make makes made way ways thing things
    """.split()  # noqa: SIM905
)
ABSOLUTES = frozenset("always never only guarantee guarantees guaranteed all must cannot".split())  # noqa: SIM905
HEDGES = frozenset("often usually can may might typically tend tends".split())  # noqa: SIM905
NUMBER = re.compile(r"^[\s~≈<>=±+\-−]*[\d.,/%×x^eE\s()\-+−*]+[a-zA-Z%]{0,3}$")
WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint finding: which rule, about which question, said for its author."""

    rule: str
    reason: str


def lint(entries: list[Entry]) -> list[Problem]:
    """Every giveaway warning of the bank, as `file:line: warning: rule: reason`, minus those
    the question accepts in `lint_ok`."""
    found: list[Problem] = []
    for entry in entries:
        for warning in question_warnings(entry.question):
            if warning.rule not in entry.lint_ok:
                found.append(_as_problem(entry, warning))
    for entry, warning in duplicate_facts(entries):
        if warning.rule not in entry.lint_ok:
            found.append(_as_problem(entry, warning))
    return found


def _as_problem(entry: Entry, warning: Finding) -> Problem:
    return Problem(
        entry.path,
        entry.line,
        f"warning: {warning.rule}: question '{entry.question.id}': {warning.reason}",
    )


def question_warnings(q: Question) -> Iterator[Finding]:
    """The rules that look at one question alone."""
    yield from longest_choice(q)
    yield from prompt_echo(q)
    yield from absolutes(q)
    yield from odd_form(q)


def longest_choice(q: Question) -> Iterator[Finding]:
    right = len(q.choices[q.answer])
    runner_up = max(len(c) for i, c in enumerate(q.choices) if i != q.answer)
    if right >= LONGEST_RATIO * runner_up and right - runner_up >= LONGEST_MARGIN:
        yield Finding(
            "longest-choice",
            f"the right choice {q.answer_letter} is by far the longest ({right} characters,"
            f" the next {runner_up}): give the others the same detail",
        )


def stem(word: str) -> str:
    """A light stem, enough to match `gradients` with `gradient` and `trained` with `training`."""
    if word.endswith("ss"):
        return word
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def content_words(text: str) -> set[str]:
    return {
        stem(w)
        for w in WORD.findall(text.lower())
        if len(w) >= 3 and w not in STOPWORDS and not w.isdigit()
    }


def prompt_echo(q: Question) -> Iterator[Finding]:
    prompt = content_words(q.prompt)
    shared = [prompt & content_words(c) for c in q.choices]
    echoed = sorted(shared[q.answer])
    if echoed and not any(words for i, words in enumerate(shared) if i != q.answer):
        yield Finding(
            "prompt-echo",
            f"only the right choice {q.answer_letter} repeats a word of the prompt"
            f" ({', '.join(echoed)}): reword it or let the others echo the prompt too",
        )


def _marked(text: str, words: frozenset[str]) -> bool:
    return bool(words & set(WORD.findall(text.lower().replace("can't", "cannot"))))


def absolutes(q: Question) -> Iterator[Finding]:
    right = q.choices[q.answer]
    wrong = [c for i, c in enumerate(q.choices) if i != q.answer]
    absolute_wrong = sum(_marked(c, ABSOLUTES) for c in wrong)
    if absolute_wrong >= 2 and not _marked(right, ABSOLUTES):
        yield Finding(
            "absolutes",
            f"{absolute_wrong} wrong choices say always/never/only/must/cannot and the right one"
            " does not: readers learn that absolute choices are wrong",
        )
    if _marked(right, HEDGES) and not any(_marked(c, HEDGES) for c in wrong):
        yield Finding(
            "absolutes",
            f"only the right choice {q.answer_letter} hedges (often/usually/can/may/typically):"
            " readers learn that the careful choice is right",
        )


def _is_number(text: str) -> bool:
    return bool(NUMBER.match(text)) and any(ch.isdigit() for ch in text)


def _is_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", "!")) and len(text.split()) >= 4


def odd_form(q: Question) -> Iterator[Finding]:
    """The right choice is the one that looks different: the only number, or the only sentence."""
    for test, kind in ((_is_number, "a number"), (_is_sentence, "a full sentence")):
        marks = [test(c) for c in q.choices]
        others = [m for i, m in enumerate(marks) if i != q.answer]
        if marks[q.answer] and not any(others):
            yield Finding(
                "odd-form",
                f"the right choice {q.answer_letter} is the only one that is {kind}",
            )
        elif not marks[q.answer] and all(others) and len(others) >= 2:
            yield Finding(
                "odd-form",
                f"every choice but the right one {q.answer_letter} is {kind}",
            )


def _overlap(first: set[str], second: set[str]) -> float:
    """How much of the smaller word set the larger one holds."""
    smaller = min(len(first), len(second))
    return len(first & second) / smaller if smaller else 0.0


def duplicate_facts(entries: list[Entry]) -> Iterator[tuple[Entry, Finding]]:
    """Pairs of questions that test the same fact: right choices alike, on the same subject.

    Prompt near-duplicates are errors in `bot.content`; this finds the same fact asked in other
    words, often in two topic files.
    """
    answers = [content_words(e.question.choices[e.question.answer]) for e in entries]
    overall = [a | content_words(e.question.prompt) for a, e in zip(answers, entries, strict=True)]
    for i, entry in enumerate(entries):
        for j in range(i):
            shared = answers[i] & answers[j]
            if len(shared) < FACT_SHARED or _overlap(answers[i], answers[j]) < FACT_ANSWER:
                continue
            if _overlap(overall[i], overall[j]) < FACT_OVERALL:
                continue
            other = entries[j]
            yield (
                entry,
                Finding(
                    "duplicate-fact",
                    f"tests nearly the same fact as '{other.question.id}' ({other.path.name}:"
                    f"{other.line}; both answers say {', '.join(sorted(shared))}): drop one or make"
                    " them test different facts",
                ),
            )
