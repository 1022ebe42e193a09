"""Pure converters: recorded payloads to neutral values, button ids and values, escaping."""

from __future__ import annotations

import html
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_driver import payload

from adapters.slack import convert
from bot.models import LETTERS, ChannelRef


def test_server_key() -> None:
    assert convert.server_key("T0TEAM001") == "slack:T0TEAM001"


def test_slash_command_payload() -> None:
    form = payload("slash_command")
    invocation = convert.command_invocation(form)
    assert invocation is not None
    assert invocation.channel == ChannelRef("slack:T0TEAM001", "C0QUIZ001")
    assert invocation.member.user_id == "U0ANA0001"
    assert invocation.member.name == "ana"
    assert invocation.member.is_admin is False, "admin rights come from users.info only"
    assert convert.command_text(form) == "help"


@pytest.mark.parametrize("missing", ["team_id", "channel_id", "user_id"])
def test_slash_command_without_a_required_field(missing: str) -> None:
    form = payload("slash_command")
    del form[missing]
    assert convert.command_invocation(form) is None
    form[missing] = 42
    assert convert.command_invocation(form) is None


def test_block_actions_payload() -> None:
    press = convert.press_from_payload(payload("block_actions"))
    assert press is not None
    assert press.channel == ChannelRef("slack:T0TEAM001", "C0QUIZ001")
    assert press.member.user_id == "U0BEN0001"
    assert press.member.name == "ben"
    assert (press.round_id, press.choice) == (1, 1)


def test_block_actions_falls_back_to_the_container_and_user_team() -> None:
    body = payload("block_actions")
    del body["channel"]
    body["team"] = None
    press = convert.press_from_payload(body)
    assert press is not None
    assert press.channel == ChannelRef("slack:T0TEAM001", "C0QUIZ001")


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("dlq_answer_1", "1:0"),  # the value names another choice than the button
        ("dlq_answer_1", ""),
        ("dlq_answer_1", "1"),
        ("dlq_answer_0", "0:0"),  # round ids start at 1
        ("dlq_answer_0", "-1:0"),
        ("dlq_answer_0", "01:0"),
        ("dlq_answer_0", "1:0 "),
        ("dlq_answer_0", "1:0:0"),
        ("dlq_answer_5", "1:5"),  # there are five letters, A to E
        ("dlq_answer_0", "99999999999999999999:0"),
        ("dlq_answer_٣", "1:٣"),  # an Arabic-Indic digit three
        ("other_action", "1:0"),
        (None, "1:0"),
        ("dlq_answer_0", 10),
    ],
)
def test_forged_answer_buttons(action_id: object, value: object) -> None:
    assert convert.parse_answer(action_id, value) is None


def test_payload_without_actions() -> None:
    for actions in (None, [], ["x"], [{}]):
        body = payload("block_actions")
        body["actions"] = actions
        assert convert.press_from_payload(body) is None


@given(st.integers(1, 2**63 - 1), st.integers(0, len(LETTERS) - 1))
def test_answer_value_round_trip(round_id: int, choice: int) -> None:
    action_id = convert.answer_action_id(choice)
    value = convert.answer_value(round_id, choice)
    assert len(action_id) <= convert.MAX_ACTION_ID
    assert len(value) <= convert.MAX_VALUE
    assert convert.parse_answer(action_id, value) == (round_id, choice, "")
    tokened = convert.answer_value(round_id, choice, "0a1b2c3d")
    assert convert.parse_answer(action_id, tokened) == (round_id, choice, "0a1b2c3d")


@given(st.text(), st.text())
def test_parse_answer_never_crashes(action_id: str, value: str) -> None:
    parsed = convert.parse_answer(action_id, value)
    assert parsed is None or (parsed[0] >= 1 and 0 <= parsed[1] < len(LETTERS))


@given(st.from_regex(r"[a-z0-9][a-z0-9-]{2,63}", fullmatch=True), st.integers(0, 4))
def test_practice_value_round_trip(question_id: str, choice: int) -> None:
    action_id = convert.practice_action_id(choice)
    value = convert.practice_value(question_id, choice)
    assert convert.parse_practice(action_id, value) == (question_id, choice)
    assert convert.parse_practice(convert.practice_action_id((choice + 1) % 5), value) is None


@given(st.text(), st.text())
def test_practice_parsers_never_crash(action_id: str, value: str) -> None:
    convert.parse_practice(action_id, value)
    topic = convert.parse_next_practice(value)
    assert topic is None or convert.next_practice_value(topic or None) == value


def test_next_practice_value() -> None:
    assert convert.parse_next_practice(convert.next_practice_value(None)) == ""
    assert convert.parse_next_practice(convert.next_practice_value("cnn")) == "cnn"
    assert convert.parse_next_practice("topic:<!here>") is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(list(payload("block_actions"))), json_values))
def test_junk_payloads_never_crash(junk: dict[str, Any]) -> None:
    body = {**payload("block_actions"), **junk}
    convert.press_from_payload(body)
    convert.interaction_invocation(body)
    convert.command_invocation(body)
    convert.event_id(body)


def test_escape() -> None:
    assert convert.escape("<!channel> & <@U1|x>") == "&lt;!channel&gt; &amp; &lt;@U1|x&gt;"


@given(st.text())
def test_escaped_text_has_no_tokens_and_reads_the_same(text: str) -> None:
    escaped = convert.escape(text)
    assert "<" not in escaped
    assert ">" not in escaped
    assert html.unescape(escaped) == text


@given(st.text(), st.integers(2, 300))
def test_clip_respects_the_limit_and_entities(text: str, limit: int) -> None:
    escaped = convert.escape(text)
    clipped = convert.clip(escaped, limit)
    assert len(clipped) <= limit
    if clipped != escaped:
        body = clipped.removesuffix("…")
        assert escaped.startswith(body)
        amp = body.rfind("&")
        assert amp == -1 or ";" in body[amp:], "an entity was cut in half"


def test_event_id() -> None:
    assert convert.event_id(payload("event_callback")) == "Ev0DLQUIZ001"
    assert convert.event_id(payload("url_verification")) is None
