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
from bot.content import SEED_SOURCE, Bank, BankError, check_paths, default_bank_dir, load_bank
from bot.models import LETTERS, CodeSnippet, Difficulty

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


def test_both_forms_of_source_load(tmp_path: Path) -> None:
    text = GOOD.format(topic="sample", qid="s-one").replace(
        'source: "book: Goodfellow, Bengio, Courville 2016, Deep Learning, ch. 6"',
        'source: [seed_01.txt#4, "paper: Hu et al. 2021, LoRA: Low-Rank Adaptation"]',
    )
    write(tmp_path, "sample", text)
    [question] = load_bank([tmp_path]).questions
    assert question.source == ("seed_01.txt#4", "paper: Hu et al. 2021, LoRA: Low-Rank Adaptation")


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
    cited = {ref for q in bundled_bank.questions for ref in q.source if SEED_SOURCE.match(ref)}
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
    source: "book: Goodfellow, Bengio, Courville 2016, Deep Learning, ch. 6"
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
        (("answer: A", "answer: [A, C]"), 9, "exactly one right choice"),
        (("answer: A", "answer: E"), 9, "exactly one right choice"),
        (("answer: A", "answer: BC"), 9, "exactly one right choice"),
        (("answer: A", "answer: AB"), 9, "exactly one right choice"),
        (("answer: A", 'answer: ""'), 9, "exactly one right choice"),
        (("answer: A", "answer: 1"), 9, "exactly one right choice"),
        (("difficulty: easy", "difficulty: trivial"), 5, "difficulty 'trivial' is not one of"),
        (('"One"', '"Zero"'), 8, "choice C of question 's-one' duplicates another choice"),
        (('"One"', '"None of the above"'), 8, "catch-all"),
        (("    explanation: ReLU is max(0, x).\n", ""), 4, "missing field 'explanation'"),
        (("    answer: A\n", "    answer: A\n    hint: think\n"), 10, "unknown field 'hint'"),
        (("ReLU output for", "ReLU output " + "very " * 60 + "for"), 7, "at most 300 allowed"),
        (('"Minus one"]', '"Minus one"'), 9, "invalid YAML: did not find expected ',' or ']'"),
        (
            ('    source: "book: Goodfellow, Bengio, Courville 2016, Deep Learning, ch. 6"\n', ""),
            4,
            "missing field 'source'",
        ),
        (
            ('source: "book: Goodfellow', 'source: "Goodfellow'),
            6,
            "must be a seed item 'article.txt#12', or a published work as 'book: ...'",
        ),
        (
            (
                'source: "book: Goodfellow, Bengio, Courville 2016, Deep Learning, ch. 6"',
                'source: "paper: Hu 2021"',
            ),
            6,
            "names too little of the work",
        ),
        (
            (
                'source: "book: Goodfellow, Bengio, Courville 2016, Deep Learning, ch. 6"',
                'source: "web: https://example.com/a-blog-post"',
            ),
            6,
            "must be a seed item",
        ),
        (('source: "book: Goodfellow', 'source: "book: ' + "x" * 200), 6, "at most 200 allowed"),
        (
            (
                'source: "book: Goodfellow, Bengio, Courville 2016, Deep Learning, ch. 6"',
                "source: []",
            ),
            6,
            "source of question 's-one' is empty",
        ),
        (
            (
                'source: "book: Goodfellow, Bengio, Courville 2016, Deep Learning, ch. 6"',
                "source: [seed.txt#3, 'doc: tiny']",
            ),
            6,
            "source 'doc: tiny'",
        ),
        (("topic: sample", "topic: other"), 1, "must equal the file name"),
        (('"The input", "One", ', ""), 8, "3 to 5 are allowed"),
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


# --- code snippets ------------------------------------------------------------------------------

BLOCK = "      text: |\n        x = torch.randn(8, 3, 32, 32)\n        print(x.shape)\n"
WITH_CODE = GOOD.replace(
    "    choices:",
    """\
    code:
      language: python
      text: |
        x = torch.randn(8, 3, 32, 32)
        print(x.shape)
    choices:""",
)


def test_a_code_snippet_loads_as_written(tmp_path: Path) -> None:
    write(tmp_path, "sample", WITH_CODE.format(topic="sample", qid="s-one"))
    [question] = load_bank([tmp_path]).questions
    assert question.code == CodeSnippet(
        language="python", text="x = torch.randn(8, 3, 32, 32)\nprint(x.shape)"
    )


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        (("language: python", "language: rust"), 9, "code language 'rust' of question 's-one'"),
        (("      language: python\n", ""), 9, "missing field 'language' in the code of"),
        (("print(x.shape)", "print(x.shape)  # " + "x" * 70), 12, "line 2 of the code text"),
        (("print(x.shape)", "\tprint(x.shape)"), 12, "line 2 of the code text of question"),
        (("print(x.shape)", "print(```)"), 10, "triple backticks"),
        (("print(x.shape)", "print(x)\n" + "        y = 1\n" * 15), 10, "at most 15 allowed"),
        (("print(x.shape)", "print(x)\n" + f"        y = {'1' * 60}\n" * 9), 10, "at most 600"),
        ((BLOCK, '      text: "print(\\x1b[2J)"\n'), 10, "has a control character"),
        ((BLOCK, "      text: [1]\n"), 10, "code text of question 's-one' must be text"),
        (("language: python", "language: python\n      lines: 3"), 10, "unknown field 'lines'"),
    ],
)
def test_code_limits_are_checked(
    tmp_path: Path, change: tuple[str, str], line: int, reason: str
) -> None:
    text = WITH_CODE.format(topic="sample", qid="s-one").replace(*change)
    path = tmp_path / "sample.yaml"
    path.write_text(text, encoding="utf-8")
    found = problems_in(path)
    assert any(p.startswith(f"{path}:{line}: ") and reason in p for p in found), found
