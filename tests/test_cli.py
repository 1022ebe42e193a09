"""The `dlquiz` command as a user runs it: a piped terminal round, and one-line errors."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECRETS = {"DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"}


def dlquiz(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith("DLQUIZ_")}
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd or ROOT,
        timeout=60,
        check=False,
    )


def test_piped_console_round(tmp_path: Path) -> None:
    db = tmp_path / "quiz.db"
    script = "/dlquiz post\nB\n/as bob\nA\nA\n/dlquiz reveal\nC\n/dlquiz leaderboard\n"
    result = dlquiz("console", "--db", str(db), stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Question #1" in out
    assert "  A) " in out
    assert "  D) " in out
    assert "you: Recorded: B" in out
    assert "bob: Recorded: A" in out
    assert "bob: You already answered A; the first answer is final." in out
    assert "Answer to question #1:" in out
    assert "No question is open" in out  # the press after the reveal
    assert "Leaderboard, all time" in out
    with sqlite3.connect(db) as conn:
        answers = conn.execute("SELECT user_id, choice FROM answers ORDER BY user_id").fetchall()
    assert answers == [("bob", 0), ("you", 1)]


def test_console_reuses_the_database(tmp_path: Path) -> None:
    db = tmp_path / "quiz.db"
    dlquiz("console", "--db", str(db), stdin="/dlquiz post\nA\n")
    again = dlquiz("console", "--db", str(db), "--user", "zoe", stdin="/dlquiz question\n")
    assert again.returncode == 0, again.stderr
    assert "Question #1" in again.stdout


def test_console_honours_dlquiz_db(tmp_path: Path) -> None:
    db = tmp_path / "env.db"
    result = dlquiz("console", stdin="/dlquiz post\n", env={"DLQUIZ_DB": str(db)})
    assert result.returncode == 0, result.stderr
    assert db.exists()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["console"], {"DLQUIZ_DB": "/nonexistent/dir/quiz.db"}, "does not exist"),
        (["console"], {"DLQUIZ_CONTENT": "/nonexistent/bank"}, "invalid question bank"),
        (["console"], {"DLQUIZ_LOG_LEVEL": "LOUD"}, "DLQUIZ_LOG_LEVEL"),
        (["run", "discord"], {}, "DISCORD_TOKEN"),
        (["run", "slack"], {}, "SLACK_BOT_TOKEN"),
        (["run", "telegram"], {}, "invalid choice"),
    ],
)
def test_configuration_errors_are_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    env = {"DLQUIZ_DB": str(tmp_path / "q.db"), **env}
    result = dlquiz(*args, env=env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dlquiz: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_invalid_bank_names_file_and_line(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "mine.yaml").write_text("topic: mine\ntitle: Mine\nquestions:\n  - id: x\n")
    result = dlquiz("console", env={"DLQUIZ_CONTENT": str(bank), "DLQUIZ_DB": str(tmp_path / "q")})
    assert result.returncode == 1
    assert f"{bank / 'mine.yaml'}:4:" in result.stderr
    assert not (tmp_path / "q").exists()


def test_newer_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 999")
    result = dlquiz("console", "--db", str(db), stdin="/dlquiz post\n")
    assert result.returncode == 1
    assert "newer than this dlquiz knows" in result.stderr


def test_content_check_of_the_bundled_bank() -> None:
    result = dlquiz("content", "check", "--strict")
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("ok: ")


def test_piped_practice_session(tmp_path: Path) -> None:
    script = "/dlquiz practice cnn\nA\n/dlquiz practice nonsense\n/dlquiz topics\n/dlquiz stats\n"
    result = dlquiz("console", "--db", str(tmp_path / "q.db"), stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Practice · Convolutional neural networks" in out
    assert "The answer is" in out
    assert "(box " in out
    assert "Next: /dlquiz practice cnn" in out
    assert "Unknown topic 'nonsense'" in out
    assert "topics, " in out


def test_content_check_counts_in_the_singular(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "one.yaml").write_text(
        "topic: one\ntitle: One\nquestions:\n"
        "  - id: one-1\n    difficulty: easy\n    source: ['book: A. Author 2020, A Book, ch. 1']\n"
        "    prompt: Which?\n    choices: [a, b, c]\n    answer: A\n    explanation: Because.\n"
    )
    result = dlquiz("content", "check", str(bank))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok: 1 question in 1 topic\n")
    one = (bank / "one.yaml").read_text()
    (bank / "one.yaml").write_text(one.replace("difficulty: easy", "difficulty: extreme"))
    result = dlquiz("content", "check", str(bank))
    assert result.returncode == 1
    assert result.stderr.strip() == "1 problem found"


def test_version_from_the_package_metadata() -> None:
    from importlib import metadata

    result = dlquiz("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"dlquiz {metadata.version('dlquiz')}\n"


def test_yml_question_files_are_read(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    source = sorted((ROOT / "content").glob("*.yaml"))[0]
    mine = bank / f"{source.stem}.yml"
    mine.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    result = dlquiz("content", "check", str(bank))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok: ")
    mine.unlink()
    result = dlquiz("content", "check", str(bank))
    assert result.returncode == 1
    assert "no question files (*.yaml, *.yml)" in result.stdout


def test_console_on_a_damaged_database_is_one_line(tmp_path: Path) -> None:
    from tests.test_maintenance import damage_tables

    db = tmp_path / "quiz.db"
    assert dlquiz("console", "--db", str(db), stdin="/dlquiz post\nA\n").returncode == 0
    damage_tables(db, "rounds", "answers", "deliveries")
    result = dlquiz("console", "--db", str(db), stdin="/dlquiz leaderboard\n/dlquiz post\nA\n")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"dlquiz: error: database {db} is damaged (database disk image is malformed);"
        " restore it from a backup (dlquiz health checks a database)"
    ]
    health = dlquiz("health", env={"DLQUIZ_DB": str(db)})
    assert health.returncode == 1
    assert health.stderr.startswith(f"dlquiz: error: database {db} is damaged")


def test_db_backup_of_postgres_says_pg_dump() -> None:
    result = dlquiz("db", "backup", "out.db", env={"DLQUIZ_DB": "postgresql://q@db.example/q"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "pg_dump --format=custom" in lines[0]
