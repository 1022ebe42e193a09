"""`dlquiz report` on a database with several servers: HTML with charts and CSV, no names."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

from bot import snapshot
from bot.models import ChannelRef, Difficulty, Question
from bot.store import AnswerRequest, NewRound, open_store
from tests.conftest import START
from tests.test_cli import dlquiz

SERVERS = ("discord:guild-secret-name", "slack:TEAMSECRET", "console:local")
MEMBERS = ("alice-private", "bob-private", "carol-private", "dave-private", "erin-private")
QUESTION = Question(
    id="q-report",
    topic="alpha",
    difficulty=Difficulty.EASY,
    prompt="Which?",
    choices=("one", "two", "three", "four"),
    answer=1,
    explanation="",
)


async def seed(path: Path) -> None:
    store = await open_store(path)
    try:
        for day, server in enumerate(SERVERS):
            channel = ChannelRef(server, "room")
            started = await store.start_round(
                channel=channel,
                new=NewRound(
                    question_id=QUESTION.id,
                    topic="alpha",
                    difficulty="easy",
                    choice_count=4,
                    answer=1,
                    base_points=10,
                    token="",
                    snapshot=snapshot.dump(QUESTION),
                ),
                cycle=1,
                day=None,
                posted_at=START + timedelta(days=day),
                reveal_at=None,
            )
            assert started is not None
            at = START + timedelta(days=day, hours=1)
            claimed = await store.claim_delivery(
                channel, worker="t", now=at, lease=timedelta(minutes=1)
            )
            assert claimed is not None
            await store.finish_delivery(claimed.id, message_ref="m", at=at)
            for i, user in enumerate(MEMBERS):
                # Every member but one picks the key; the last one on each server picks D.
                await store.submit_answer(
                    AnswerRequest(
                        started.round.id, server, "room", user, user, 3 if i == 4 else 1, at
                    )
                )
            await store.close_round(channel, at + timedelta(hours=1))
    finally:
        await store.close()


async def test_html_and_csv_name_no_member_and_no_server(tmp_path: Path) -> None:
    db = tmp_path / "quiz.db"
    await seed(db)
    page, table = tmp_path / "report.html", tmp_path / "report.csv"
    result = dlquiz("report", "--out", str(page), "--csv", str(table), env={"DLQUIZ_DB": str(db)})
    assert result.returncode == 0, result.stderr
    assert "1 question, 15 answers, 3 servers" in result.stdout
    text = page.read_text()
    assert text.count('src="data:image/png;base64,') >= 2
    assert "<code>q-report</code>" in text
    assert "3 servers" in text
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert [(r["question_id"], r["answers"], r["right"], r["key"]) for r in rows] == [
        ("q-report", "15", "12", "B")
    ]
    assert rows[0]["share_D"] == "0.2000"
    assert rows[0]["flags"] == "not enough answers yet (15 of 20)"
    for secret in (*MEMBERS, *SERVERS, "guild-secret-name", "TEAMSECRET"):
        assert secret not in text
        assert secret not in table.read_text()


def test_unwritable_path_is_one_line(tmp_path: Path) -> None:
    result = dlquiz(
        "report",
        "--out",
        str(tmp_path / "missing" / "r.html"),
        env={"DLQUIZ_DB": str(tmp_path / "q.db")},
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"dlquiz: error: cannot write {tmp_path / 'missing' / 'r.html'}:"
        f" folder {tmp_path / 'missing'} does not exist"
    ]
