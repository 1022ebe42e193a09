"""The question bank: the bundled one is complete and sound; broken files are reported precisely."""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.cli import main
from bot.content import Bank, BankError, check_paths, default_bank_dir, load_bank
from bot.models import LETTERS, Difficulty

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
REQUIRED_TOPICS = {
    "foundations",
    "activation-functions",
    "loss-functions",
    "gradient-descent",
    "backpropagation",
    "optimisation",
    "regularisation",
    "normalisation",
    "initialisation",
    "vanishing-gradients",
    "cnn",
    "rnn",
    "transformers",
    "autoencoders",
    "gans",
    "boltzmann-machines",
    "transfer-learning",
    "data-preprocessing",
    "imbalanced-data",
    "evaluation",
    "hyperparameters",
    "tensors-and-graphs",
    "frameworks",
    "generative-vs-discriminative",
    "ensembles",
}


# --- the bundled bank ---------------------------------------------------------------------------


def test_bundled_bank_is_valid(bundled_bank: Bank) -> None:
    assert len(bundled_bank.questions) >= 200
    assert {t.slug for t in bundled_bank.topics} >= REQUIRED_TOPICS


def test_bundled_bank_balance(bundled_bank: Bank) -> None:
    total = len(bundled_bank.questions)
    difficulties = Counter(q.difficulty for q in bundled_bank.questions)
    for level in Difficulty:
        assert difficulties[level] >= 0.2 * total, f"too few {level.value} questions"
    positions = Counter(q.answer for q in bundled_bank.questions)
    assert max(positions.values()) <= 0.35 * total
    assert all(topic.count >= 5 for topic in bundled_bank.topics)


def test_bundled_bank_matches_the_json_schema() -> None:
    schema = json.loads((default_bank_dir() / "schema.json").read_text(encoding="utf-8"))
    for path in sorted(default_bank_dir().glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


def test_every_bundled_question_has_a_source(bundled_bank: Bank) -> None:
    assert [q.id for q in bundled_bank.questions if not q.source] == []


def seed_items() -> set[str]:
    """Every numbered question of every seed article, as `file#n`.

    A question is a numbered heading; numbers run upwards through an article, so a numbered list
    after the last question (such as a job description's) restarts low and is left out.
    """
    heading = re.compile(r"^[#*\s]*(?:Q\s*)?(\d{1,3})\s*[.)]\s*(?:\*\*)?\s*\S")
    items = set()
    for seed in sorted(SEEDS.glob("*.txt")):
        last = 0
        for line in seed.read_text(encoding="utf-8").splitlines():
            match = heading.match(line)
            if match and int(match[1]) > last:
                last = int(match[1])
                items.add(f"{seed.name}#{last}")
    return items


needs_seeds = pytest.mark.skipif(
    not SEEDS.is_dir(), reason="the seed articles are not beside the repo"
)


@needs_seeds
def test_every_seed_question_is_covered(bundled_bank: Bank) -> None:
    items = seed_items()
    assert len(items) > 100
    cited = {ref for q in bundled_bank.questions for ref in q.source}
    assert sorted(items - cited) == []
    assert sorted(cited - items) == [], "sources that name no numbered seed question"


@needs_seeds
def test_bank_repeats_no_seed_wording() -> None:
    """No run of eight words of a seed appears in the bank: facts, not sentences, are taken."""
    n = 8

    def words(text: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", text.lower())

    grams: set[tuple[str, ...]] = set()
    for seed in SEEDS.glob("*.txt"):
        w = words(seed.read_text(encoding="utf-8"))
        grams.update(tuple(w[i : i + n]) for i in range(len(w) - n + 1))
    shared = []
    for path in sorted(default_bank_dir().glob("*.yaml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            w = words(line)
            if any(tuple(w[i : i + n]) in grams for i in range(len(w) - n + 1)):
                shared.append(f"{path.name}:{number}")
    assert shared == []


# --- reporting problems -------------------------------------------------------------------------

GOOD = """\
topic: {topic}
title: Sample
questions:
  - id: {qid}
    difficulty: easy
    prompt: What does a ReLU output for a negative input?
    choices: ["Zero", "The input", "One", "Minus one"]
    answer: A
    explanation: ReLU is max(0, x).
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_in(*paths: Path) -> list[str]:
    return [str(p) for p in check_paths(list(paths))[2]]


def test_valid_file_loads(tmp_path: Path) -> None:
    write(tmp_path, "sample", GOOD.format(topic="sample", qid="s-one"))
    bank = load_bank([tmp_path])
    assert [q.id for q in bank.questions] == ["s-one"]


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        (("answer: A", "answer: [A, C]"), 8, "exactly one right choice"),
        (("answer: A", "answer: E"), 8, "exactly one right choice"),
        (("difficulty: easy", "difficulty: trivial"), 5, "difficulty 'trivial' is not one of"),
        (('"One"', '"Zero"'), 7, "choice C of question 's-one' duplicates another choice"),
        (('"One"', '"None of the above"'), 7, "catch-all"),
        (("    explanation: ReLU is max(0, x).\n", ""), 4, "missing field 'explanation'"),
        (("    answer: A\n", "    answer: A\n    hint: think\n"), 9, "unknown field 'hint'"),
        (("ReLU output for", "ReLU output " + "very " * 60 + "for"), 6, "at most 300 allowed"),
        (('"Minus one"]', '"Minus one"'), 8, "invalid YAML: did not find expected ',' or ']'"),
        (("topic: sample", "topic: other"), 1, "must equal the file name"),
        (('"The input", "One", ', ""), 7, "3 to 5 are allowed"),
    ],
)
def test_each_problem_is_reported_with_file_and_line(
    tmp_path: Path, change: tuple[str, str], line: int, reason: str
) -> None:
    text = GOOD.format(topic="sample", qid="s-one").replace(*change)
    path = write(tmp_path, "sample", text)
    found = problems_in(path)
    assert any(p.startswith(f"{path}:{line}: ") and reason in p for p in found), found


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, "first", GOOD.format(topic="first", qid="same-id"))
    second = write(
        tmp_path,
        "second",
        GOOD.format(topic="second", qid="same-id").replace("negative", "large negative"),
    )
    assert problems_in(tmp_path) == [
        f"{second}:4: duplicate id 'same-id': already used at {first}:4"
    ]


def test_near_duplicate_prompts_name_the_other_question(tmp_path: Path) -> None:
    write(tmp_path, "first", GOOD.format(topic="first", qid="one-id"))
    second = write(
        tmp_path,
        "second",
        GOOD.format(topic="second", qid="two-id").replace("What does", "What does a"),
    )
    [problem] = problems_in(tmp_path)
    assert problem.startswith(f"{second}:4: ")
    assert "'two-id' nearly duplicates the prompt of 'one-id'" in problem


def test_loader_refuses_invalid_bank(tmp_path: Path) -> None:
    path = write(tmp_path, "sample", GOOD.format(topic="sample", qid="s-one").replace("easy", "x"))
    with pytest.raises(BankError, match=re.escape(f"{path}:5:")):
        load_bank([tmp_path])


def test_content_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "good", GOOD.format(topic="good", qid="g-one"))
    assert main(["content", "check", str(good)]) == 0
    assert "1 question in 1 topic" in capsys.readouterr().out
    bad = write(tmp_path, "bad", GOOD.format(topic="bad", qid="b-one").replace("answer: A", ""))
    assert main(["content", "check", str(bad)]) == 1
    assert f"{bad}:4: missing field 'answer'" in capsys.readouterr().out
    assert main(["content", "check", str(tmp_path / "missing")]) == 1
    assert "no such file or folder" in capsys.readouterr().out


def test_letters_cover_max_choices() -> None:
    assert len(LETTERS) == 5
