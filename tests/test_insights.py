"""Item analysis against values worked out by hand on a small made-up answer table."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from bot import snapshot
from bot.insights import analyse, card_text, needs_attention, ranked
from bot.models import Difficulty, Flag, ItemCard, ItemStats, Question
from bot.store import ItemColumns, ItemRound
from bot.store.api import MEMBER_KEY_SEPARATOR, ItemColumnsBuilder

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEYS = {"q1": 0, "q2": 1, "q3": 2, "q4": 0}  # A, B, C, A
LABELS = {"q1": "easy", "q2": "medium", "q3": "hard", "q4": "medium"}
# Three strong members, two middling, three weak, and one who answered only q1. q3's key says C,
# but the strong members all chose D: the kind of question a wrong key produces.
TABLE = {
    "s1": "A B D A",
    "s2": "A B D A",
    "s3": "A B D B",
    "m1": "A C C A",
    "m2": "B B C A",
    "w1": "B C C C",
    "w2": "C A C B",
    "w3": "B C A C",
    "o1": "A",
}


def item_round(
    rid: int, question_id: str, *, server: str = "test:a", key: int = -1, label: str = ""
) -> ItemRound:
    key = KEYS[question_id] if key < 0 else key
    label = label or LABELS[question_id]
    question = Question(
        id=question_id,
        topic="alpha",
        difficulty=Difficulty(label),
        prompt=f"Prompt of {question_id}?",
        choices=("one", "two", "three", "four"),
        answer=key,
        explanation="",
    )
    return ItemRound(
        id=rid,
        server=server,
        question_id=question_id,
        topic="alpha",
        difficulty=label,
        choice_count=4,
        answer=key,
        posted_at=AT,
        question=snapshot.dump(question),
    )


Answer = tuple[int, str, int, bool]  # round id, user id, choice, right


def columns(rounds: list[ItemRound], answers: list[Answer]) -> ItemColumns:
    """The answers as the store reads them: by round, then user id, a member per server and
    user id (an answer to a round not read counts as the first server's)."""
    server_of = {r.id: r.server for r in rounds}
    ordered = sorted(answers, key=lambda a: (a[0], a[1]))
    builder = ItemColumnsBuilder(rounds)
    builder.add(
        [a[0] for a in ordered],
        [f"{server_of.get(a[0], 'test:a')}{MEMBER_KEY_SEPARATOR}{a[1]}" for a in ordered],
        [a[2] for a in ordered],
        [int(a[3]) for a in ordered],
    )
    return builder.finish()


def table_rows() -> tuple[list[ItemRound], list[Answer]]:
    rounds = [item_round(i + 1, q) for i, q in enumerate(KEYS)]
    answers = []
    for user, letters in TABLE.items():
        for rid, letter in enumerate(letters.split(), start=1):
            choice = "ABCD".index(letter)
            answers.append((rid, user, choice, choice == KEYS[f"q{rid}"]))
    return rounds, answers


def by_id(stats: list[ItemStats]) -> dict[str, ItemStats]:
    return {s.question_id: s for s in stats}


def test_difficulty_choices_and_groups_by_hand() -> None:
    rounds, answers = table_rows()
    stats = by_id(analyse(columns(rounds, answers), per_server=True, min_answers=8))
    q1 = stats["q1"]
    assert (q1.answers, q1.right, q1.counts) == (9, 5, (5, 3, 1, 0))
    assert q1.share_right == pytest.approx(5 / 9)
    assert q1.prompt == "Prompt of q1?"
    assert q1.choices == ("one", "two", "three", "four")
    # Rest scores on q3 (share right on q1, q2, q4): s1 s2 1, s3 m1 m2 2/3, w1 w2 w3 0. With 8
    # members who have one, each group holds round(0.27 * 8) = 2: the bottom w1, w2 (w3 ties
    # with them but its first answer is read after theirs), the top s1, s2.
    q3 = stats["q3"]
    assert q3.top == (0, 0, 0, 2)
    assert q3.bottom == (0, 0, 2, 0)
    assert q3.counts == (1, 0, 4, 3)


def test_point_biserial_by_hand() -> None:
    rounds, answers = table_rows()
    stats = by_id(analyse(columns(rounds, answers), per_server=True, min_answers=8))
    # q4: right s1 s2 m1 m2 (rest 2/3 each), wrong s3 (2/3), w1 w2 (1/3), w3 (0).
    # M1 - M0 = 2/3 - 1/3, sd of the rest scores sqrt(2)/6, sqrt(pq) = 1/2: r = 1/sqrt(2).
    assert stats["q4"].discrimination == pytest.approx(1 / math.sqrt(2))
    # q3: right m1 m2 (2/3) w1 w2 (0), wrong s1 s2 (1) s3 (2/3) w3 (0).
    # M1 - M0 = 1/3 - 2/3, sd sqrt(1/6), sqrt(pq) = 1/2: r = -1/sqrt(6).
    assert stats["q3"].discrimination == pytest.approx(-1 / math.sqrt(6))
    # o1 answered only q1: no rest score, so not in q1's correlation (r = 1/sqrt(12)).
    assert stats["q1"].discrimination == pytest.approx(1 / math.sqrt(12))


def test_miskeyed_question_comes_first() -> None:
    rounds, answers = table_rows()
    stats = analyse(columns(rounds, answers), per_server=True, min_answers=8)
    q3 = by_id(stats)["q3"]
    assert [f.flag for f in q3.flags] == [Flag.MISKEYED, Flag.UNUSED_CHOICE]
    assert "top group chose D (2) more than the key C (0)" in q3.flags[0].reason
    assert needs_attention(stats)[0].question_id == "q3"
    assert [s.question_id for s in ranked(stats)] == ["q4", "q1", "q2", "q3"]
    # q1: nobody chose D; q2: nobody chose D either, and neither is miskeyed.
    assert [f.flag for f in by_id(stats)["q1"].flags] == [Flag.UNUSED_CHOICE]
    assert "D (0%)" in by_id(stats)["q1"].flags[0].reason


def test_not_enough_answers_raises_no_flag() -> None:
    rounds, answers = table_rows()
    stats = by_id(analyse(columns(rounds, answers), per_server=True, min_answers=9))
    assert stats["q1"].enough
    assert not stats["q3"].enough
    assert stats["q3"].flags == ()
    assert stats["q3"].discrimination is not None  # shown, but too few answers to judge


def test_servers_kept_apart_or_pooled() -> None:
    rounds, answers = table_rows()
    rounds.append(item_round(9, "q1", server="test:b"))
    answers += [(9, "s1", 1, False), (9, "x", 0, True)]
    apart = analyse(columns(rounds, answers), per_server=True, min_answers=8)
    assert sorted((s.server, s.question_id, s.answers) for s in apart if s.question_id == "q1") == [
        ("test:a", "q1", 9),
        ("test:b", "q1", 2),
    ]
    pooled = by_id(analyse(columns(rounds, answers), per_server=False, min_answers=8))
    assert (pooled["q1"].server, pooled["q1"].answers, pooled["q1"].right) == (None, 11, 6)


def crowd(question_id: str, label: str, right: int, wrong: int) -> list[ItemStats]:
    rounds = [item_round(1, question_id, key=0, label=label)]
    picks = [0] * right + [1, 2, 3] * (wrong // 3) + [1] * (wrong % 3)
    answers = [(1, f"u{i}", c, c == 0) for i, c in enumerate(picks)]
    return analyse(columns(rounds, answers), per_server=True)


def test_too_easy_and_label_contradicted() -> None:
    (easy,) = crowd("qe", "hard", 19, 1)
    assert [f.flag for f in easy.flags] == [Flag.TOO_EASY, Flag.UNUSED_CHOICE, Flag.LABEL]
    assert easy.flags[2].reason == "labelled hard but 95% right (expected 0% to 80%)"
    assert easy.discrimination is None  # nobody has another answer to compare with


def test_too_hard() -> None:
    (hard,) = crowd("qh", "easy", 3, 18)
    assert [f.flag for f in hard.flags] == [Flag.TOO_HARD, Flag.LABEL]


def test_answers_to_a_round_not_read_are_left_out() -> None:
    rounds, answers = table_rows()
    rounds.append(item_round(9, "q1", server="test:b"))
    answers += [(9, "s1", 1, False), (9, "x", 0, True)]
    # Its round is not among the rounds (it closed after they were read): counted, it would
    # also lift s1's rest score on every other question.
    stray = [*answers, (77, "s1", 0, True)]
    for per_server in (True, False):
        expected = analyse(columns(rounds, answers), per_server=per_server, min_answers=8)
        assert analyse(columns(rounds, stray), per_server=per_server, min_answers=8) == expected


def test_one_question_as_text() -> None:
    rounds, answers = table_rows()
    q3 = by_id(analyse(columns(rounds, answers), per_server=True, min_answers=8))["q3"]
    assert card_text(ItemCard(q3)).splitlines() == [
        "q3 (alpha, labelled hard)",
        "Prompt of q3?",
        "8 answers, 50% right, discrimination -0.41",
        "    choice   all  top  low",
        "A   one     12%   0%   0%",
        "B   two      0%   0%   0%",
        "C✓  three   50%   0% 100%",
        "D   four    38% 100%   0%",
        "likely miskeyed or ambiguous: the top group chose D (2) more than the key C (0)",
        "a choice almost nobody picks: picked by under 5%: B (0%)",
    ]
