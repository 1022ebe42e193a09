"""Member names are cleaned where they enter: one line, nothing invisible, never empty."""

from __future__ import annotations

import io
import unicodedata
from typing import Any, cast

import discord
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.console import ConsolePlatform, ConsoleSession
from adapters.discord import convert as discord_convert
from adapters.discord import render as discord_render
from adapters.discord.cards import Text
from adapters.slack import blocks as slack_blocks
from adapters.slack import convert as slack_convert
from bot.models import LeaderboardCard, Period, Standing
from bot.names import MAX_NAME, clean_name
from bot.render import leaderboard_text

# What a hostile name is made of: markup of both platforms, line breaks of every kind, bidi
# overrides and isolates, zero-width characters, and plain letters (wide ones included).
HOSTILE = (
    "<>@&*_`~|#:!\\"
    "\n\r\t\v\f\x00\x1b\x85\u2028\u2029"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
    "\u200b\u200c\u200d\u2060\ufeff\u00ad"
    " \u00a0\u3000"
    "aZ9éß漢😀"
)
hostile_text = st.text(alphabet=st.sampled_from(HOSTILE), max_size=120) | st.text(max_size=120)
INVISIBLE = {c for c in HOSTILE if unicodedata.category(c) in ("Cc", "Cf")}


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Ana\n 1. Eve  999 pts", "Ana 1. Eve 999 pts"),
        ("\u202eevE", "evE"),
        ("B\u200bo\u200db", "Bob"),
        ("  Cy \t\r\n Lee  ", "Cy Lee"),
        ("\u2066Dee\u2069", "Dee"),
    ],
)
def test_examples(raw: str, clean: str) -> None:
    assert clean_name(raw, fallback="U1") == clean


def test_an_empty_or_invisible_name_falls_back_to_the_id() -> None:
    for raw in (None, "", "   ", "\u200b\u202e", "\n\t"):
        assert clean_name(raw, fallback="U0ANA") == "U0ANA"
    assert clean_name("\u200b", "Ana", fallback="U0ANA") == "Ana"


def test_the_cap_is_kept_and_leaves_no_trailing_space() -> None:
    assert clean_name("x" * 300, fallback="U1") == "x" * MAX_NAME
    assert clean_name("y" * (MAX_NAME - 1) + " z", fallback="U1") == "y" * (MAX_NAME - 1)


@given(hostile_text, hostile_text)
def test_a_clean_name_is_one_short_visible_line(raw: str, user_id: str) -> None:
    name = clean_name(raw, fallback=user_id or "U1")
    assert name
    assert name == name.strip()
    assert len(name) <= MAX_NAME
    assert "  " not in name
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in name)
    assert len(name.splitlines()) == 1
    assert clean_name(name, fallback="U1") == name  # cleaning twice changes nothing


@given(st.lists(hostile_text, min_size=1, max_size=10))
def test_every_leaderboard_line_stays_one_line(raws: list[str]) -> None:
    rows = tuple(
        Standing(
            rank=i + 1,
            user_id=f"U{i}",
            name=clean_name(raw, fallback=f"U{i}"),
            points=100 - i,
            answered=9,
            correct=5,
        )
        for i, raw in enumerate(raws)
    )
    card = LeaderboardCard(period=Period.WEEK, rows=rows, caller=rows[0], ranked=len(rows))

    # The terminal: a title, one line per member, the caller's rank.
    plain = leaderboard_text(card).splitlines()
    assert len(plain) == len(rows) + 2
    assert [line.split(".", 1)[0].strip() for line in plain[1:-1]] == [
        str(row.rank) for row in rows
    ]

    # Slack: the standings section holds one line per member.
    message = slack_blocks.reply_message(card)
    standings = message.blocks[1]["text"]["text"]
    assert len(standings.split("\n")) == len(rows)

    # Discord: the card's list holds one line per member.
    shown = discord_render.reply_message(card).card
    assert shown is not None
    listed = shown.blocks[1]
    assert isinstance(listed, Text)
    assert len(listed.content.split("\n")) == len(rows)

    for line in (*plain, *standings.split("\n"), *listed.content.split("\n")):
        assert not INVISIBLE & set(line)


# --- where names enter ---------------------------------------------------------------------


def test_slack_names_are_cleaned() -> None:
    form = {"team_id": "T1", "channel_id": "C1", "user_id": "U1", "user_name": "ana\n\u202e1."}
    invocation = slack_convert.command_invocation(form)
    assert invocation is not None
    assert invocation.member.name == "ana 1."
    payload = {
        "team": {"id": "T1"},
        "channel": {"id": "C1"},
        "user": {"id": "U2", "username": "\u200b", "name": "b\u2066en"},
    }
    clicked = slack_convert.interaction_invocation(payload)
    assert clicked is not None
    assert clicked.member.name == "ben"
    payload["user"] = {"id": "U3", "username": "\u200b\n"}
    clicked = slack_convert.interaction_invocation(payload)
    assert clicked is not None
    assert clicked.member.name == "U3"


def test_discord_names_are_cleaned() -> None:
    member = discord_convert.to_member(
        guild_id=1,
        user_id=2,
        display_name="Ada\n**3.** Eve\u200b",
        permissions=discord.Permissions.none(),
    )
    assert member.name == "Ada **3.** Eve"
    blank = discord_convert.to_member(
        guild_id=1, user_id=7, display_name="\u200b\u200b", permissions=discord.Permissions.none()
    )
    assert blank.name == "7"


def test_console_as_cleans_the_name_and_refuses_an_invisible_one() -> None:
    out = io.StringIO()
    session = ConsoleSession(cast(Any, None), ConsolePlatform(out), user="you")
    session.switch_player("\u202eEve\n")
    assert session.member.name == "Eve"
    assert session.member.user_id == "eve"
    session.switch_player("\u200b\u200b")
    assert session.member.name == "Eve"
    assert "Usage: /as NAME" in out.getvalue()
