"""The text of `/dlquiz …` as Slack sends it: no input crashes the parser, and whatever the
parser says back reaches Slack escaped."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from adapters.slack.blocks import reply_message
from bot import commands as cmd
from bot.models import Notice, Period, Tone

SUBCOMMANDS = [*cmd.USAGE, "off", "09:00", "Europe/Berlin", "week", "decade"]
# What Slack puts in command text with "escape channels, users and links" on.
SLACK_TOKENS = ["<@U0BEN0001|ben>", "<#C0QUIZ001|daily-quiz>", "<!channel>", "<!here>", "&amp;"]
words = st.sampled_from(SUBCOMMANDS + SLACK_TOKENS) | st.text(max_size=30)
command_texts = st.lists(words, max_size=6).map(" ".join)


def outcome(text: str) -> cmd.Command | str:
    try:
        return cmd.parse_command(text)
    except cmd.CommandError as exc:
        return str(exc)


@given(st.text() | command_texts)
@example("\x00\x1b[31m\u202e\ufeff")
@example("schedule 09:00 " + "Z" * 10_000)
@example("stats <@U0BEN0001|ben> <@U0CY00001|cy>")
def test_no_text_crashes_the_parser(text: str) -> None:
    result = outcome(text)
    if isinstance(result, str):
        shown = reply_message(Notice(result, Tone.ERROR))
        assert re.search(r"<[^>]*>", shown.text) is None, "an error echoed a live token"
        assert len(shown.text) <= 3000


def test_slack_forms() -> None:
    assert outcome("") == cmd.Help()
    assert outcome("stats <@U0BEN0001|ben>") == cmd.ShowStats(user="U0BEN0001")
    assert outcome("stats <@U0BEN0001>") == cmd.ShowStats(user="U0BEN0001")
    assert outcome("LEADERBOARD Week") == cmd.ShowLeaderboard(Period.WEEK)
    assert outcome("schedule Off") == cmd.ScheduleOff()
    assert isinstance(outcome("schedule 7:05 america/new_york"), cmd.SetSchedule)
    assert outcome("practice Deep nets") == cmd.Practice("Deep nets")
    assert "unknown subcommand" in str(outcome("<!channel>"))
