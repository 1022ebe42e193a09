"""The paging buttons' ids and values: what they say comes back intact, and nothing else is
read as a page request."""

from __future__ import annotations

import pytest

from adapters.discord.convert import (
    CUSTOM_ID_LIMIT,
    page_custom_id,
    parse_page_custom_id,
)
from adapters.slack.convert import MAX_VALUE, page_value, parse_page
from bot.models import PageRequest, Period

REQUESTS = [
    PageRequest(Period.WEEK, 0, "1178324519023411221"),
    PageRequest(Period.ALL, 999_999, "99999999999999999999"),
    PageRequest(Period.MONTH, None, "1"),
]


@pytest.mark.parametrize("request_", REQUESTS)
def test_discord_ids_round_trip(request_: PageRequest) -> None:
    custom_id = page_custom_id(request_.period, request_.page, request_.owner)
    assert len(custom_id) <= CUSTOM_ID_LIMIT
    assert parse_page_custom_id(custom_id) == request_


@pytest.mark.parametrize("request_", REQUESTS)
def test_slack_values_round_trip(request_: PageRequest) -> None:
    owner = f"U{request_.owner}"
    value = page_value(request_.period, request_.page, owner)
    assert len(value) <= MAX_VALUE
    assert parse_page(value) == PageRequest(request_.period, request_.page, owner)


@pytest.mark.parametrize(
    "custom_id",
    [
        "dlq:lb:decade:0:1",
        "dlq:lb:all:-1:1",
        "dlq:lb:all:1000000:1",
        "dlq:lb:all:0:U0BEN",
        "dlq:lb:all:0:0123",
        "dlq:lb:all:0:1:extra",
        "dlq:lb:all:you:1",
    ],
)
def test_discord_refuses_what_it_did_not_make(custom_id: str) -> None:
    assert parse_page_custom_id(custom_id) is None


@pytest.mark.parametrize(
    "value", ["decade:1:U1", "all:-1:U1", "all:1:<@U1>", "all:me:", "all:1:U1:x", None, 3]
)
def test_slack_refuses_what_it_did_not_make(value: object) -> None:
    assert parse_page(value) is None


def test_an_owner_that_does_not_fit_is_not_rendered() -> None:
    with pytest.raises(ValueError, match="does not fit a paging button's custom_id"):
        page_custom_id(Period.ALL, 0, "not-a-snowflake")
    with pytest.raises(ValueError, match="does not fit a paging button's value"):
        page_value(Period.ALL, 0, "U1 & <!channel>")
