"""Pure converters: custom ids, members and typed options into the engine's neutral values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

import discord
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.discord import convert
from bot import commands as cmd
from bot.models import ChannelRef, Period, Topic
from bot.schedule import zone_names

# --- custom ids -------------------------------------------------------------------------------


@given(st.integers(1, 10**18 - 1), st.integers(0, 4))
def test_answer_ids_round_trip_within_the_limit(round_id: int, choice: int) -> None:
    custom_id = convert.answer_custom_id(round_id, choice)
    assert len(custom_id) <= convert.CUSTOM_ID_LIMIT
    assert convert.parse_answer_custom_id(custom_id) == convert.AnswerPress(round_id, choice)


@given(st.text(max_size=120))
def test_parsing_any_text_never_fails(text: str) -> None:
    press = convert.parse_answer_custom_id(text)
    if press is not None:
        assert convert.answer_custom_id(press.round_id, press.choice) == text


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "dlq:a:",
        "dlq:a:0:A",
        "dlq:a:01:A",
        "dlq:a:-1:A",
        "dlq:a:1:F",
        "dlq:a:1:a",
        "dlq:a:1:A ",
        " dlq:a:1:A",
        "dlq:a:1:AB",
        "dlq:a:1:A:extra",
        "dlq:a:1000000000000000000:A",
        "dlq:p:act-relu:A",
        "dlq:a:" + "9" * 100 + ":A",
    ],
)
def test_forged_answer_ids_parse_to_none(forged: str) -> None:
    assert convert.parse_answer_custom_id(forged) is None


@pytest.mark.parametrize(("round_id", "choice"), [(0, 0), (1, 5), (1, -1), (10**18, 0)])
def test_answer_ids_refuse_what_cannot_be_a_button(round_id: int, choice: int) -> None:
    with pytest.raises(ValueError, match=r"choice|round"):
        convert.answer_custom_id(round_id, choice)


def test_practice_ids_round_trip_for_the_longest_question_id() -> None:
    longest = "q" + "-x" * 31 + "y"
    assert len(longest) == 64
    custom_id = convert.practice_custom_id(longest, 4)
    assert len(custom_id) <= convert.CUSTOM_ID_LIMIT
    assert convert.parse_practice_custom_id(custom_id) == convert.PracticePress(longest, 4)
    assert convert.parse_answer_custom_id(custom_id) is None


@pytest.mark.parametrize(
    "forged", ["dlq:p:ab:A", "dlq:p:Upper-case:A", "dlq:p:x y z:A", "dlq:a:1:A"]
)
def test_forged_practice_ids_parse_to_none(forged: str) -> None:
    assert convert.parse_practice_custom_id(forged) is None


@pytest.mark.parametrize("topic", [None, "gans", "activation-functions", "q" + "-x" * 31 + "y"])
def test_next_practice_ids_round_trip(topic: str | None) -> None:
    custom_id = convert.practice_next_custom_id(topic)
    assert len(custom_id) <= convert.CUSTOM_ID_LIMIT
    assert convert.parse_practice_next_custom_id(custom_id) == convert.NextPracticePress(topic)
    assert convert.parse_practice_custom_id(custom_id) is None
    assert convert.parse_answer_custom_id(custom_id) is None


def test_next_practice_ids_say_which_topic() -> None:
    assert convert.practice_next_custom_id("gans") == "dlq:pn:gans"
    assert convert.practice_next_custom_id(None) == "dlq:pn:*"


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "dlq:pn:",
        "dlq:pn:ab",
        "dlq:pn:GANs",
        "dlq:pn:-gans",
        "dlq:pn:gans ",
        " dlq:pn:gans",
        "dlq:pn:gans:A",
        "dlq:pn:x y z",
        "dlq:pn:**",
        "dlq:pn:*gans",
        "dlq:pn:" + "a" * 65,
        "dlq:pn:" + "a" * 100,
        "dlq:p:gans:A",
        "dlq:a:1:A",
    ],
)
def test_forged_next_practice_ids_parse_to_none(forged: str) -> None:
    assert convert.parse_practice_next_custom_id(forged) is None


@given(st.text(max_size=120))
def test_parsing_any_text_as_a_next_practice_id_never_fails(text: str) -> None:
    press = convert.parse_practice_next_custom_id(text)
    if press is not None:
        assert convert.practice_next_custom_id(press.topic) == text


@pytest.mark.parametrize("topic", ["", "*", "ab", "GANs", "x y", "a" * 65])
def test_next_practice_ids_refuse_what_is_not_a_topic(topic: str) -> None:
    with pytest.raises(ValueError, match="does not fit"):
        convert.practice_next_custom_id(topic)


# --- who acts where ---------------------------------------------------------------------------


@dataclass
class FakeUser:
    id: int
    display_name: str


@dataclass
class FakeInteraction:
    guild_id: int | None
    channel_id: int | None
    user: FakeUser
    permissions: discord.Permissions


def test_server_key_and_channel() -> None:
    assert convert.server_key(42) == "discord:42"
    assert convert.channel_ref(guild_id=42, channel_id=7) == ChannelRef("discord:42", "7")


@pytest.mark.parametrize(
    ("permissions", "admin"),
    [
        (discord.Permissions(manage_guild=True), True),
        (discord.Permissions(administrator=True), True),
        (discord.Permissions(manage_messages=True, manage_channels=True, kick_members=True), False),
        (discord.Permissions.none(), False),
    ],
)
def test_admin_is_manage_server(permissions: discord.Permissions, admin: bool) -> None:
    member = convert.to_member(guild_id=1, user_id=2, display_name="Ada", permissions=permissions)
    assert member.is_admin is admin
    assert (member.server, member.user_id, member.name) == ("discord:1", "2", "Ada")


def test_invocation_of_an_interaction() -> None:
    interaction = FakeInteraction(10, 20, FakeUser(30, "Grace"), discord.Permissions(32))
    invocation = convert.invocation_of(interaction)
    assert invocation is not None
    assert invocation.channel == ChannelRef("discord:10", "20")
    assert invocation.member.is_admin
    interaction.guild_id = None  # a DM
    assert convert.invocation_of(interaction) is None


# --- typed options ----------------------------------------------------------------------------


def test_schedule_options() -> None:
    assert convert.schedule_command(None, None) == cmd.ShowSchedule()
    assert convert.schedule_command("  ", None) == cmd.ShowSchedule()
    assert convert.schedule_command("off", None) == cmd.ScheduleOff()
    assert convert.schedule_command("OFF", None) == cmd.ScheduleOff()
    set_ = convert.schedule_command("9:05", "europe/berlin")
    assert set_ == cmd.SetSchedule(at=time(9, 5), zone=ZoneInfo("Europe/Berlin"))
    assert convert.schedule_command("18:30", None) == cmd.SetSchedule(
        at=time(18, 30), zone=ZoneInfo("UTC")
    )


@pytest.mark.parametrize(
    ("at", "zone", "problem"),
    [
        ("25:99", None, "'25:99' is not a valid time"),
        ("09:00", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        (None, "UTC", "a zone needs a time"),
        ("off", "UTC", "takes no zone"),
    ],
)
def test_schedule_options_that_are_wrong(at: str | None, zone: str | None, problem: str) -> None:
    with pytest.raises(cmd.CommandError, match=problem):
        convert.schedule_command(at, zone)


def test_other_options() -> None:
    assert convert.leaderboard_command(None) == cmd.ShowLeaderboard(Period.ALL)
    assert convert.leaderboard_command("week") == cmd.ShowLeaderboard(Period.WEEK)
    with pytest.raises(cmd.CommandError, match="unknown period 'decade'"):
        convert.leaderboard_command("decade")
    assert convert.stats_command(None) == cmd.ShowStats(None)
    assert convert.stats_command(123) == cmd.ShowStats("123")
    assert convert.practice_command(None) == cmd.Practice(None)
    assert convert.practice_command("  ") == cmd.Practice(None)
    assert convert.practice_command(" gans ") == cmd.Practice("gans")


def test_zone_autocomplete() -> None:
    names = zone_names()
    assert convert.zone_choices("europe/ber", names)[0] == "Europe/Berlin"
    assert "Europe/Berlin" in convert.zone_choices("berlin", names)
    assert convert.zone_choices("new york", names)[0] == "America/New_York"
    assert len(convert.zone_choices("", names)) == convert.AUTOCOMPLETE_LIMIT
    assert convert.zone_choices("Olympus", names) == []


def test_topic_autocomplete() -> None:
    topics = [Topic("gans", "GANs", 3), Topic("rnn", "Recurrent networks", 4)]
    assert convert.topic_choices("gan", topics) == [("GANs", "gans")]
    assert convert.topic_choices("", topics) == [("GANs", "gans"), ("Recurrent networks", "rnn")]


def test_missing_permissions() -> None:
    full = discord.Permissions(
        view_channel=True, send_messages=True, embed_links=True, read_message_history=True
    )
    assert convert.missing_permissions(full) == []
    assert convert.missing_permissions(discord.Permissions(administrator=True)) == []
    assert convert.missing_permissions(discord.Permissions(view_channel=True)) == [
        "Send Messages",
        "Embed Links",
        "Read Message History",
    ]
