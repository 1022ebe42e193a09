"""`dlquiz console` read from a pipe: the terminal's own wording and command words."""

from __future__ import annotations

from pathlib import Path

from bot.commands import USAGE
from tests.test_cli import dlquiz


def test_help_is_plain_text_for_a_keyboard(tmp_path: Path) -> None:
    result = dlquiz("console", "--db", str(tmp_path / "q.db"), stdin="/dlquiz help\n")
    assert result.returncode == 0, result.stderr
    shown = result.stdout.split("/dlquiz help\n", 1)[1]
    assert "`" not in shown
    assert "*" not in shown
    assert "button" not in shown.lower()
    assert "Type a letter to answer" in shown
    assert "/dlquiz leaderboard [week|month|all]" in shown
    assert "/as NAME" in shown
    for usage in USAGE.values():
        for form in usage.split(" | "):
            assert f"/dlquiz {form}" in shown


def test_command_words_in_any_case(tmp_path: Path) -> None:
    script = "/DLQUIZ HELP\n/AS Bob\n/Dlquiz Post\nb\n/asx\n/QUIT\n/dlquiz post\n"
    result = dlquiz("console", "--db", str(tmp_path / "q.db"), stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "dlquiz: a deep-learning question every day" in out
    assert "Now playing as Bob." in out
    assert "Bob: Recorded: B" in out
    assert "Now playing as x." not in out  # /asx is not /as x
    assert out.count("Posted a new question") == 1  # nothing after /QUIT


def test_piped_prompts_name_what_a_letter_answers(tmp_path: Path) -> None:
    script = "A\n/dlquiz post\n/dlquiz practice\nA\nB\nn\nB\ny\n"
    result = dlquiz("console", "--db", str(tmp_path / "q.db"), stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "you> A\nNo question is open." in out
    assert "you> /dlquiz post" in out
    assert "you (daily #1)> /dlquiz practice" in out
    assert "you (practice)> A" in out
    assert "you (daily #1)> B" in out
    assert "Answer daily #1 with B? [y/N] n\nNot answered." in out
    assert "Answer daily #1 with B? [y/N] y\nyou: Recorded: B" in out
    assert out.count("Recorded:") == 1


def test_no_confirmation_when_the_daily_question_is_already_answered(tmp_path: Path) -> None:
    script = "/dlquiz post\nB\n/dlquiz practice\nA\nC\n"
    result = dlquiz("console", "--db", str(tmp_path / "q.db"), stdin=script)
    assert result.returncode == 0, result.stderr
    assert "[y/N]" not in result.stdout
    assert "you: You already answered B; the first answer is final." in result.stdout


def test_insights_in_the_terminal(tmp_path: Path) -> None:
    script = "/dlquiz post\nB\n/as Bob\nA\n/dlquiz reveal\n/dlquiz insights\n"
    result = dlquiz("console", "--db", str(tmp_path / "q.db"), stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Question insights\n1 answered questions, 2 daily answers" in out
    assert "Nothing needs attention." in out
    assert "`/dlquiz insights [question id]` shows one question in full." in out


def test_stats_chart_is_written_beside_the_database(tmp_path: Path) -> None:
    script = "/dlquiz post\nB\n/dlquiz reveal\n/dlquiz stats\n"
    result = dlquiz("console", "--db", str(tmp_path / "q.db"), stdin=script)
    assert result.returncode == 0, result.stderr
    chart = tmp_path / "dlquiz-charts" / "stats-you.png"
    assert f"Chart: {chart}\n" in result.stdout
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_stats_chart_that_cannot_be_saved_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "dlquiz-charts").write_text("a file where the folder would be")
    script = "/dlquiz post\nB\n/dlquiz reveal\n/dlquiz stats\n"
    result = dlquiz("console", "--db", str(tmp_path / "q.db"), stdin=script)
    assert result.returncode == 0, result.stderr
    assert "Stats for you" in result.stdout
    assert f"The chart could not be saved in {tmp_path / 'dlquiz-charts'}: File exists." in (
        result.stdout
    )
