"""Giveaway lint: each rule on small made-up files, `lint_ok`, and `content check --strict`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.cli import main
from bot.content import check_bank
from bot.lint import lint

TEMPLATE = """\
topic: sample
title: Sample
questions:
  - id: {qid}
    difficulty: medium
    source: "book: Goodfellow, Bengio, Courville 2016, Deep Learning"
    prompt: "{prompt}"
    choices:
{choices}
    answer: {answer}
    explanation: Made up for a test.
"""


def question(qid: str, prompt: str, choices: list[str], answer: str = "A", extra: str = "") -> str:
    body = TEMPLATE.format(
        qid=qid,
        prompt=prompt,
        choices="\n".join(f'      - "{c}"' for c in choices),
        answer=answer,
    )
    return body + extra


def warnings_for(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "sample.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    checked = check_bank([path])
    assert checked.problems == []
    return [str(w) for w in lint(checked.entries)]


PLAIN = [
    "It scales each feature to unit variance",
    "It removes outliers from the training data",
    "It shuffles the examples before each epoch",
    "It adds noise to the labels of each batch",
]


def test_a_fair_question_raises_nothing(tmp_path: Path) -> None:
    assert warnings_for(tmp_path, question("s-fair", "What does standardisation do?", PLAIN)) == []


def test_longest_choice(tmp_path: Path) -> None:
    long_right = "It subtracts the training mean and divides by the training standard deviation"
    found = warnings_for(
        tmp_path,
        question("s-long", "What does z-scoring do?", [long_right, "It sorts", "It clips", "Nil"]),
    )
    assert len(found) == 1
    assert (
        "sample.yaml:4: warning: longest-choice: question 's-long': the right choice A"
        in (found[0])
    )


def test_longest_choice_needs_a_wide_margin(tmp_path: Path) -> None:
    # 1.5 times the next but only 20 characters longer: a short list, not a giveaway.
    choices = ["Sixty characters or so, with detail", "Short one, twenty", "Other", "Plain"]
    assert warnings_for(tmp_path, question("s-near", "Which one?", choices)) == []


def test_prompt_echo(tmp_path: Path) -> None:
    choices = [
        "Approximate invariance to small shifts",
        "Exact invariance to rotations",
        "Invariance to colour changes",
        "Faster backpropagation",
    ]
    found = warnings_for(
        tmp_path, question("s-echo", "What does pooling over small windows give?", choices)
    )
    assert [w.split("warning: ")[1].split(":")[0] for w in found] == ["prompt-echo"]
    assert "(small)" in found[0]


def test_prompt_echo_stems_lightly(tmp_path: Path) -> None:
    choices = ["Gradient clipping", "A larger batch", "Dropout", "More data"]
    found = warnings_for(
        tmp_path, question("s-stem", "Which fix targets exploding gradients?", choices)
    )
    assert "(gradient)" in found[0]


def test_absolute_words_only_in_wrong_choices(tmp_path: Path) -> None:
    choices = [
        "It lowers variance by averaging models",
        "It always removes bias completely",
        "It can never overfit the data",
        "It adds noise to the labels of each batch",
    ]
    found = warnings_for(tmp_path, question("s-abs", "What does bagging do?", choices))
    assert len(found) == 1
    assert "absolutes: question 's-abs': 2 wrong choices say always/never" in found[0]


def test_a_hedge_only_in_the_right_choice(tmp_path: Path) -> None:
    choices = [*PLAIN[1:], "It usually helps the optimiser converge"]
    found = warnings_for(tmp_path, question("s-hedge", "Why standardise?", choices, "D"))
    assert len(found) == 1
    assert "only the right choice D hedges" in found[0]


def test_hedges_everywhere_are_fine(tmp_path: Path) -> None:
    choices = [
        "It can speed up convergence",
        "It may remove outliers",
        "It usually shuffles the data",
        "It typically adds label noise",
    ]
    assert warnings_for(tmp_path, question("s-hedges", "Why standardise?", choices)) == []


def test_odd_form_number_among_words(tmp_path: Path) -> None:
    choices = ["0.25", "About a quarter of the range", "Half the range", "The raw value"]
    found = warnings_for(tmp_path, question("s-num", "Min-max of 70 in [20, 220]?", choices))
    assert len(found) == 1
    assert (
        "odd-form: question 's-num': the right choice A is the only one that is a number"
        in (found[0])
    )


def test_odd_form_only_sentence(tmp_path: Path) -> None:
    choices = ["It rescales each input feature.", "Outliers", "Shuffling", "Label noise"]
    found = warnings_for(tmp_path, question("s-sentence", "What does it do?", choices))
    assert len(found) == 1
    assert "only one that is a full sentence" in found[0]


def test_numbers_everywhere_are_fine(tmp_path: Path) -> None:
    choices = ["0.25", "0.35", "50", "70"]
    assert warnings_for(tmp_path, question("s-nums", "Min-max of 70 in [20, 220]?", choices)) == []


def two_questions(second_prompt: str, second_answer: str) -> str:
    first = question(
        "s-weights",
        "How should class weights be set for a rare positive class?",
        [
            "Weight the rare class more, inversely to its frequency",
            "Give each class the same weight, whatever its share",
            "Weight the common class more, as it has more examples",
            "Set the weights at random and tune them on the test set",
        ],
    )
    second = question(
        "s-fraud",
        second_prompt,
        [
            second_answer,
            "Weight each class by how often it occurs in the data",
            "Weight the transactions by their amount, not by class",
            "Leave the loss as it is and tune the decision threshold",
        ],
    )
    return first + second[second.index("  - id:") :]


def test_duplicate_fact_across_questions(tmp_path: Path) -> None:
    text = two_questions(
        "Fraud is 1 in 200 transactions. How should the loss weight each class?",
        "Weight the fraud class more, inversely to class frequency",
    )
    found = warnings_for(tmp_path, text)
    assert len(found) == 1
    assert (
        "duplicate-fact: question 's-fraud': tests nearly the same fact as 's-weights'"
        in (found[0])
    )


def test_different_facts_on_one_subject_are_fine(tmp_path: Path) -> None:
    text = two_questions(
        "Fraud is 1 in 200 transactions. Which metric shows missed frauds?",
        "Recall of the fraud class, rather than overall accuracy",
    )
    assert warnings_for(tmp_path, text) == []


# --- accepting a warning, and --strict -----------------------------------------------------------

HEDGED = question(
    "s-hedge",
    "Why standardise?",
    [*PLAIN[1:], "It usually helps the optimiser converge"],
    "D",
)


def test_lint_ok_accepts_a_named_rule(tmp_path: Path) -> None:
    text = HEDGED + "    lint_ok: [absolutes]  # the fact itself is a tendency\n"
    assert warnings_for(tmp_path, text) == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("[longest]", "names unknown rule 'longest' (longest-choice, prompt-echo, absolutes,"),
        ("absolutes", "lint_ok of question 's-hedge' must be a list of rule names"),
        ("[]", "must be a list of rule names"),
    ],
)
def test_lint_ok_refuses_unknown_rules(tmp_path: Path, value: str, reason: str) -> None:
    path = tmp_path / "sample.yaml"
    path.write_text(HEDGED + f"    lint_ok: {value}\n", encoding="utf-8")
    problems = [str(p) for p in check_bank([path]).problems]
    assert any(p.startswith(f"{path}:15: ") and reason in p for p in problems), problems


def test_strict_makes_warnings_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sample.yaml"
    path.write_text(HEDGED, encoding="utf-8")
    assert main(["content", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}:4: warning: absolutes: question 's-hedge'" in out
    assert "ok: 1 question in 1 topic; 1 warning, --strict makes them errors" in out
    assert main(["content", "check", "--strict", str(path)]) == 1
    assert f"{path}:4: warning: absolutes" in capsys.readouterr().out
    path.write_text(HEDGED + "    lint_ok: [absolutes]  # a tendency\n", encoding="utf-8")
    assert main(["content", "check", "--strict", str(path)]) == 0
