"""Pure conversions between Slack payloads and the engine's neutral values.

Inbound: a slash command's form fields become an `Invocation` plus the command text; a
`block_actions` click on an answer button becomes a `Press`. Outbound helpers that every
renderer needs live here too: the answer buttons' ids and values, and mrkdwn escaping.

Nothing here touches the network or slack_bolt: every function takes plain dicts and strings,
so the tests can feed it recorded payloads and arbitrary junk alike.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from yarl import query_to_pairs

from bot.models import LETTERS, ChannelRef, Invocation, Member, PageRequest, Period
from bot.names import clean_name

# Where HTTP mode listens unless `--port` says otherwise.
DEFAULT_PORT = 3000

SERVER_PREFIX = "slack:"
ANSWER_ACTION_PREFIX = "dlq_answer_"
ANSWER_BLOCK_PREFIX = "dlq_answers_"
PRACTICE_ACTION_PREFIX = "dlq_practice_"
PRACTICE_BLOCK = "dlq_practice"
PRACTICE_NEXT_ACTION = "dlq_practice_next"

# Slack's own limits on Block Kit ids and values (docs: "Block Kit reference").
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_VALUE = 2000

# A round id is a SQLite rowid: positive, at most 19 digits; a choice is one of LETTERS.
# `<round>.<token>:<choice>`; buttons from before round tokens existed have no token.
_VALUE = re.compile(r"^([1-9][0-9]{0,18})(?:\.([0-9a-f]{8}))?:([0-9])$")
_ACTION = re.compile(rf"^{ANSWER_ACTION_PREFIX}([0-9])$")
# A practice button names the bank's question id (content.ID_PATTERN) and the choice.
_PRACTICE_VALUE = re.compile(r"^([a-z0-9][a-z0-9-]{2,63}):([0-9])$")
_PRACTICE_ACTION = re.compile(rf"^{PRACTICE_ACTION_PREFIX}([0-9])$")
_NEXT_VALUE = re.compile(r"^topic:([a-z0-9-]{0,64})$")
_MAX_ROWID = 2**63 - 1
# A leaderboard's paging buttons; the value is `<period>:<page or me>:<owner's user id>`, the
# owner being the member the leaderboard was made for, who alone may page it.
PAGE_ACTION_PREFIX = "dlq_page_"
PAGE_ACTION = re.compile(rf"^{PAGE_ACTION_PREFIX}(prev|next|me)$")
MY_PAGE = "me"
_PAGE_VALUE = re.compile(r"^(week|month|all):(me|[0-9]{1,6}):([A-Za-z0-9]{1,64})$")


def server_key(team_id: str) -> str:
    """The engine's server for a Slack workspace: scores never mix between workspaces."""
    return f"{SERVER_PREFIX}{team_id}"


def answer_action_id(choice: int) -> str:
    """The action id of the daily answer button for `choice`."""
    return f"{ANSWER_ACTION_PREFIX}{choice}"


def answer_block_id(round_id: int) -> str:
    """The block id of a round's answer buttons."""
    return f"{ANSWER_BLOCK_PREFIX}{round_id}"


def answer_value(round_id: int, choice: int, token: str = "") -> str:
    """The button value: the round travels with the click, so no message lookup is needed."""
    key = f"{round_id}.{token}" if token else str(round_id)
    return f"{key}:{choice}"


def parse_answer(action_id: object, value: object) -> tuple[int, int, str] | None:
    """(round id, choice, token) of an answer button, or None for anything this app did not
    render.

    The action id and the value must name the same choice: a click carrying a hand-edited
    value is refused rather than recorded as some other answer.
    """
    if not isinstance(action_id, str) or not isinstance(value, str):
        return None
    action = _ACTION.fullmatch(action_id)
    found = _VALUE.fullmatch(value)
    if action is None or found is None:
        return None
    round_id, choice = int(found[1]), int(found[3])
    if round_id > _MAX_ROWID or choice >= len(LETTERS) or int(action[1]) != choice:
        return None
    return round_id, choice, found[2] or ""


def practice_action_id(choice: int) -> str:
    """The action id of the practice button for `choice`."""
    return f"{PRACTICE_ACTION_PREFIX}{choice}"


def practice_value(question_id: str, choice: int) -> str:
    """The value of a practice button: the question travels with the click."""
    return f"{question_id}:{choice}"


def parse_practice(action_id: object, value: object) -> tuple[str, int] | None:
    """(question id, choice) of a practice button, or None for anything else."""
    if not isinstance(action_id, str) or not isinstance(value, str):
        return None
    action = _PRACTICE_ACTION.fullmatch(action_id)
    found = _PRACTICE_VALUE.fullmatch(value)
    if action is None or found is None or action[1] != found[2]:
        return None
    choice = int(found[2])
    return (found[1], choice) if choice < len(LETTERS) else None


def next_practice_value(topic: str | None) -> str:
    """The value of the "next practice question" button: the topic filter to keep."""
    return f"topic:{topic or ''}"


def parse_next_practice(value: object) -> str | None:
    """The topic filter of a "next practice question" click: a slug, "" for all, None if bad."""
    found = _NEXT_VALUE.fullmatch(value) if isinstance(value, str) else None
    return found[1] if found else None


def page_value(period: Period, page: int | None, owner: str) -> str:
    """The value of a paging button: to `page` (None: the presser's own page)."""
    value = f"{period.value}:{MY_PAGE if page is None else page}:{owner}"
    if _PAGE_VALUE.fullmatch(value) is None:
        raise ValueError(f"page {page!r} of {owner!r} does not fit a paging button's value")
    return value


def parse_page(value: object) -> PageRequest | None:
    found = _PAGE_VALUE.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return None
    page = None if found[2] == MY_PAGE else int(found[2])
    return PageRequest(period=Period(found[1]), page=page, owner=found[3])


def escape(text: str) -> str:
    """Escape mrkdwn's control characters so `<!channel>` or `<@U1>` in text stays text.

    Slack parses mentions, links and dates only inside `<...>`; with `&`, `<` and `>`
    escaped (and `verbatim` set on the text object) nothing in the text can ping anyone.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Cut `text` (already escaped) to `limit` characters without splitting an entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


# --- inbound: payload -> neutral values ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Press:
    """A member pressed an answer button."""

    channel: ChannelRef
    member: Member
    round_id: int
    choice: int
    token: str = ""


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _field(payload: Mapping[str, Any], key: str, inner: str) -> str | None:
    part = payload.get(key)
    return _text(part.get(inner)) if isinstance(part, Mapping) else None


def command_invocation(form: Mapping[str, Any]) -> Invocation | None:
    """Who ran the slash command, and where; None when a field Slack always sends is missing.

    The member is never an admin here: that takes a `users.info` call, made only for the
    subcommands that need it.
    """
    team, channel, user = (_text(form.get(k)) for k in ("team_id", "channel_id", "user_id"))
    if team is None or channel is None or user is None:
        return None
    server = server_key(team)
    member = Member(
        server=server, user_id=user, name=clean_name(_text(form.get("user_name")), fallback=user)
    )
    return Invocation(channel=ChannelRef(server, channel), member=member)


def command_text(form: Mapping[str, Any]) -> str:
    """The text typed after the slash command ("" if missing)."""
    text = form.get("text")
    return text if isinstance(text, str) else ""


def interaction_invocation(payload: Mapping[str, Any]) -> Invocation | None:
    """Who clicked, and in which channel, for a `block_actions` payload."""
    team = _field(payload, "team", "id") or _field(payload, "user", "team_id")
    user = _field(payload, "user", "id")
    channel = _field(payload, "channel", "id") or _field(payload, "container", "channel_id")
    if team is None or user is None or channel is None:
        return None
    server = server_key(team)
    name = clean_name(
        _field(payload, "user", "username"), _field(payload, "user", "name"), fallback=user
    )
    member = Member(server=server, user_id=user, name=name)
    return Invocation(channel=ChannelRef(server, channel), member=member)


def first_action(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The clicked element of a `block_actions` payload ({} if there is none)."""
    actions = payload.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], Mapping):
        return actions[0]
    return {}


def press_from_payload(payload: Mapping[str, Any]) -> Press | None:
    """The daily answer carried by a `block_actions` payload, or None if it is not a valid one."""
    action = first_action(payload)
    parsed = parse_answer(action.get("action_id"), action.get("value"))
    invocation = interaction_invocation(payload)
    if parsed is None or invocation is None:
        return None
    return Press(
        channel=invocation.channel,
        member=invocation.member,
        round_id=parsed[0],
        choice=parsed[1],
        token=parsed[2],
    )


def event_id(body: Mapping[str, Any]) -> str | None:
    """The id of an Events API delivery (the same on each of Slack's retries), else None."""
    if body.get("type") != "event_callback":
        return None
    return _text(body.get("event_id"))


# --- inbound: is this a request from Slack, and one we can read? ------------------------------

SIGNATURE_VERSION = "v0"
MAX_CLOCK_SKEW = 5 * 60  # seconds; Slack's own window for a signed request
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds: ten digits until the year 2286
_SIGNATURE = re.compile(rf"{SIGNATURE_VERSION}=[0-9a-f]{{64}}")


def signature_problem(
    *, secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float
) -> str | None:
    """Why a request is not signed by Slack with `secret` (None when it is), in a few words.

    Checked on the raw bytes, before anything decodes them: what fails here is answered 401
    whatever else is wrong with it. The reason names headers, never their values or the body.
    """
    if not timestamp:
        return "no X-Slack-Request-Timestamp header"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "X-Slack-Request-Timestamp is not a Unix time in seconds"
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW:
        return "X-Slack-Request-Timestamp is more than 5 minutes away from now (stale or replayed)"
    if not signature:
        return "no X-Slack-Signature header"
    if not _SIGNATURE.fullmatch(signature):
        return "X-Slack-Signature is not of the form v0=<64 hex digits>"
    base = f"{SIGNATURE_VERSION}:{timestamp}:".encode() + body
    expected = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(f"{SIGNATURE_VERSION}={expected}", signature):
        return "X-Slack-Signature does not match the body (wrong signing secret, or altered)"
    return None


class MalformedBody(ValueError):
    """A signed body that cannot be one of Slack's requests; the message says why, in a few
    words, and never quotes the body."""


def read_body(text: str, *, content_type: str) -> dict[str, Any]:
    """A signed body, read once, as bolt reads it: a JSON object; a form's `payload=<JSON
    object>`; any other form as its fields. MalformedBody when it cannot be Slack's.

    A form is split only on `&` and a form without a `payload` field is a plain form (bolt 1.30
    reads any form containing the substring "payload" as an interaction, so `/dlquiz stats
    payload` would be dropped). yarl decodes it as `parse_qsl` would, in C: a click carries the
    clicked message, and decoding it was most of a press's parsing cost.
    """
    if content_type == "application/json" or text.startswith("{"):
        return _json_object(text, "the JSON body")
    form = dict(query_to_pairs(text))
    if "payload" not in form:
        return form
    payload = _json_object(form["payload"], "payload")
    # bolt matches listeners on these ids with string comparisons and regular expressions.
    if not isinstance(payload.get("callback_id", ""), str):
        raise MalformedBody("payload has a callback_id that is not a string")
    if payload.get("type") == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            raise MalformedBody("a block_actions payload has no actions")
        if not all(isinstance(a, Mapping) for a in actions):
            raise MalformedBody("a block_actions payload has an action that is not an object")
        if not all(isinstance(a.get("action_id"), str) for a in actions):
            raise MalformedBody("a block_actions payload has an action without a string action_id")
    return payload


_JSON_KINDS = {
    list: "a JSON list",
    type(None): "JSON null",
    str: "a JSON string",
    bool: "a JSON boolean",
}


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise MalformedBody(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        kind = _JSON_KINDS.get(type(value), "a JSON value")
        raise MalformedBody(f"{what} is {kind}, not a JSON object")
    for key in ("team", "user", "channel", "enterprise", "container"):
        if key in value and not isinstance(value[key], (dict, type(None))):
            raise MalformedBody(f"{what} has a {key} that is not an object")
    return value
