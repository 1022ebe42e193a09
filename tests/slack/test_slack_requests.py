"""Requests to HTTP mode that are not what Slack sends: each gets a clear 4xx and one quiet log
line, never a 500, a traceback, a logged body or a logged `response_url`/legacy token."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_driver import ANA, FORM, SECRET, SlackDriver, payload, signed

from adapters.slack.app import MAX_BODY

pytestmark = pytest.mark.usefixtures("debug_logs")


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def sign_bytes(body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 signature over raw bytes (the SDK's helper only signs text)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


async def post(
    slack: SlackDriver, body: bytes, headers: dict[str, str], content_type: str = FORM
) -> tuple[int, str]:
    sent = {"Content-Type": content_type, **headers}
    async with slack.http.post("/slack/events", data=body, headers=sent) as response:
        return response.status, await response.text()


def assert_quiet(caplog: pytest.LogCaptureFixture, level: int, count: int) -> None:
    """`count` lines at `level` from the app, and no traceback or error from anyone."""
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    ours = [r for r in caplog.records if r.name == "adapters.slack.app" and r.levelno == level]
    assert len(ours) == count, [r.getMessage() for r in ours]


def interaction(body: object) -> bytes:
    return urlencode({"payload": json.dumps(body)}).encode()


def clicked_with(actions: object) -> dict[str, object]:
    body = payload("block_actions")
    body["actions"] = actions
    return body


MALFORMED_BUT_SIGNED = {
    "payload is a list": (interaction([1, 2]), FORM, "JSON list"),
    "payload is null": (interaction(None), FORM, "JSON null"),
    "payload is not JSON": (b"payload=%7Bnot+json", FORM, "not JSON"),
    "no actions": (interaction(clicked_with([])), FORM, "no actions"),
    "actions not a list": (interaction(clicked_with({"a": 1})), FORM, "no actions"),
    "an action not an object": (interaction(clicked_with(["x"])), FORM, "not an object"),
    "user not an object": (interaction({**payload("block_actions"), "user": "U1"}), FORM, "user"),
    "JSON body a list": (b"[1]", "application/json", "JSON list"),
    "not UTF-8": (b"text=\xff\xfe&team_id=T1", FORM, "not UTF-8"),
}


@pytest.mark.parametrize("case", list(MALFORMED_BUT_SIGNED))
async def test_signed_but_malformed_is_400(
    slack: SlackDriver, debug_logs: pytest.LogCaptureFixture, case: str
) -> None:
    body, content_type, reason = MALFORMED_BUT_SIGNED[case]
    status, text = await post(slack, body, sign_bytes(body), content_type)
    assert status == 400
    assert reason in text
    assert_quiet(debug_logs, logging.WARNING, 1)
    assert slack.fake.calls == []


NOT_SIGNED_RIGHT = {
    "bad charset": (b"text=help", {"Content-Type": f"{FORM}; charset=no-such-charset"}, ""),
    "not UTF-8": (b"text=\xff\xfe", {}, ""),
    "timestamp not a number": (b"text=help", {"X-Slack-Request-Timestamp": "soon"}, "Unix"),
    "timestamp 5000 digits": (b"text=help", {"X-Slack-Request-Timestamp": "9" * 5000}, "Unix"),
    "timestamp in other digits": (b"text=help", {"X-Slack-Request-Timestamp": "١٧٠٠"}, "Unix"),
    "signature not ASCII": (b"text=help", {"X-Slack-Signature": "v0=é" + "0" * 63}, "v0="),
    "signature missing": (b"text=help", {"X-Slack-Signature": ""}, "X-Slack-Signature"),
}


@pytest.mark.parametrize("case", list(NOT_SIGNED_RIGHT))
async def test_not_signed_right_is_401(
    slack: SlackDriver, debug_logs: pytest.LogCaptureFixture, case: str
) -> None:
    body, headers, reason = NOT_SIGNED_RIGHT[case]
    status, text = await post(slack, body, {**sign_bytes(b"something else"), **headers})
    assert status == 401
    assert reason in text
    assert_quiet(debug_logs, logging.INFO, 1)
    assert slack.fake.calls == []


async def test_no_body_is_logged_and_size_is_capped(
    slack: SlackDriver, debug_logs: pytest.LogCaptureFixture
) -> None:
    marker = "MARKER-of-an-unsigned-body"
    body = (marker + "x" * (MAX_BODY // 2)).encode()
    status, _ = await post(slack, body, {})
    assert status == 401
    assert_quiet(debug_logs, logging.INFO, 1)
    assert marker not in debug_logs.text
    assert str(len(body)) in debug_logs.text  # the size is all that is said of it

    debug_logs.clear()
    huge = b"text=" + b"x" * 1_000_000
    status, text = await post(slack, huge, sign_bytes(huge))
    assert status == 413
    assert str(MAX_BODY) in text
    assert "x" * 100 not in debug_logs.text
    # The same without a Content-Length: the cap holds while reading.
    debug_logs.clear()

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 65536

    async with slack.http.post(
        "/slack/events", data=chunks(), headers={"Content-Type": FORM}
    ) as response:
        assert response.status == 413
    assert [r for r in debug_logs.records if r.exc_info] == []


async def test_stale_request_logs_neither_response_url_nor_token(
    slack: SlackDriver, debug_logs: pytest.LogCaptureFixture
) -> None:
    _, form = slack.command_form(ANA, "post")
    body = urlencode(form)
    status, _ = await slack.send(body, headers=signed(body, timestamp=int(time.time()) - 6 * 60))
    assert status == 401
    logged = debug_logs.text + "".join(str(r.args) for r in debug_logs.records)
    assert "stale" in logged
    for secret in (form["response_url"], urlencode({"u": form["response_url"]})[2:], form["token"]):
        assert secret not in logged


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=4,
)
FIELDS = (
    "type",
    "user",
    "team",
    "channel",
    "container",
    "actions",
    "message",
    "response_url",
    "callback_id",
    "trigger_id",
)
ACTION_FIELDS = ("action_id", "block_id", "value", "type")


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3),
    st.dictionaries(st.sampled_from(ACTION_FIELDS), json_values, max_size=2),
)
async def test_any_signed_click_shape_is_answered_without_error(
    slack: SlackDriver, changes: dict[str, object], action_changes: dict[str, object]
) -> None:
    """Whatever a signed click carries, the answer is a 2xx or 4xx and nothing logs an error
    (the autouse fixture fails the test on an ERROR record)."""
    click = payload("block_actions")
    click["actions"][0].update(action_changes)
    body = interaction({**click, **changes})
    status, _ = await post(slack, body, sign_bytes(body))
    assert status in (200, 400, 404), status
