"""A server's own questions on Slack, through the real bolt app and the fake Web API: the
suggestion modal, its field errors, the review card's buttons, the author's DM, and an approved
question drawn as the daily question."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fake_slack import TEAM, FakeSlack, all_text
from slack_driver import ANA, BEN, CHANNEL, CY, SlackDriver, User

from adapters.slack.forms import field_block
from bot.community import ADMINS_ONLY
from bot.models import Draft
from bot.server_questions import FieldProblem, check_draft

GOOD = {
    "prompt": "Which activation outputs zero for every negative input?",
    "choices": "*ReLU\nSigmoid\nTanh",
    "explanation": "ReLU is max(0, x), so it is zero for negative x.",
    "topic": "activations medium",
    "code": None,  # an empty optional input comes as None
}


def typed(**changes: str | None) -> dict[str, str | None]:
    return {field_block(field): text for field, text in {**GOOD, **changes}.items()}


async def open_form(slack: SlackDriver, user: User, text: str = "suggest") -> dict[str, Any]:
    """The modal `/dlquiz suggest` opened, checked to be opened with the command's trigger."""
    before = len(slack.fake.api("views.open"))
    key, form = slack.command_form(user, text)
    await slack.send(urlencode(form))
    opened = slack.fake.api("views.open")
    assert len(opened) == before + 1, slack.fake.replies_to(key)
    assert opened[-1].args["trigger_id"] == form["trigger_id"]
    view: dict[str, Any] = opened[-1].response["view"]
    return view


async def suggest(slack: SlackDriver, user: User, **changes: str | None) -> dict[str, Any]:
    view = await open_form(slack, user)
    status, ack = await slack.submit_view(user, view, typed(**changes))
    assert status == 200
    return ack


async def review_card(slack: SlackDriver) -> dict[str, Any]:
    shown = await slack.command(ANA, "review")
    [reply] = shown.replies
    return reply.body


def dms_to(fake: FakeSlack, user: User) -> list[str]:
    return [all_text(m) for m in fake.messages if m.get("channel") == f"D{user.id}"]


async def test_member_suggests_admin_approves_author_told_and_question_drawn(
    slack: SlackDriver,
) -> None:
    fake = slack.fake
    view = await open_form(slack, BEN)
    assert [b["block_id"] for b in view["blocks"]] == [
        field_block(f) for f in ("prompt", "choices", "explanation", "topic", "code")
    ]
    assert [b["optional"] for b in view["blocks"]] == [False, False, False, False, True]

    status, ack = await slack.submit_view(BEN, view, typed())
    assert (status, ack) == (200, {})  # an empty ack closes the modal
    [told] = fake.ephemerals
    assert (told["channel"], told["user"]) == (CHANNEL, BEN.id)
    assert "#1 is waiting for an admin's review" in told["text"]

    card = await review_card(slack)
    assert "Which activation outputs zero" in all_text(card)
    labels = [b["text"]["text"] for b in card["blocks"][-1]["elements"]]
    assert labels == ["Approve", "Edit", "Reject"]

    approved = await slack.press(ANA, card, 0)
    [reply] = approved.replies
    assert reply.body["replace_original"] is True  # the card cannot be pressed twice
    assert "Question #1 approved." in reply.text
    assert fake.api("conversations.open")[-1].args["users"] == BEN.id
    [dm] = dms_to(fake, BEN)
    assert (
        "Your suggestion #1 (Which activation outputs zero for every negative input?) was"
        " approved: it can now be drawn." in dm
    )

    settings = await slack.command(ANA, "settings source server")
    assert "source: server" in settings.text
    assert "questions to draw from: 1" in settings.text
    await slack.command(ANA, "post")
    daily = slack.posted()
    assert daily["channel"] == CHANNEL
    assert "Which activation outputs zero for every negative input?" in all_text(daily)
    assert "ReLU" in all_text(daily)


async def test_invalid_field_is_refused_in_place_with_the_checkers_message(
    slack: SlackDriver,
) -> None:
    bad = Draft(**{**GOOD, "code": "", "choices": "ReLU\nSigmoid"})
    problems = check_draft(bad, key="activations-x")
    assert isinstance(problems, list)
    assert [p.field for p in problems] == ["choices"]

    ack = await suggest(slack, BEN, choices="ReLU\nSigmoid")

    expected = "; ".join(p.reason for p in problems if isinstance(p, FieldProblem))
    assert ack == {"response_action": "errors", "errors": {field_block("choices"): expected}}
    assert not slack.fake.ephemerals  # the modal stays open: nothing to tell yet
    shown = await slack.command(ANA, "review")
    assert "No suggestion is waiting for review." in shown.text


async def test_admin_edits_a_suggestion_and_saving_approves_it(slack: SlackDriver) -> None:
    await suggest(slack, BEN)
    card = await review_card(slack)

    await slack.press(ANA, card, 1)
    edit = slack.fake.api("views.open")[-1].response["view"]
    initial = {b["block_id"]: b["element"].get("initial_value") for b in edit["blocks"]}
    assert initial[field_block("choices")] == GOOD["choices"]
    assert initial[field_block("code")] is None
    assert edit["title"]["text"] == "Edit question #1"

    fixed = "Which activation is exactly zero for every negative input?"
    status, ack = await slack.submit_view(ANA, edit, typed(prompt=fixed))
    assert (status, ack) == (200, {})
    replaced = slack.fake.replies[-1]
    assert replaced.body["replace_original"] is True
    assert "Question #1 saved and approved." in replaced.text
    [drawn] = await slack.engine.community.server_set(f"slack:{TEAM}")
    assert drawn.prompt == fixed
    assert "was approved" in dms_to(slack.fake, BEN)[0]


async def test_admin_rejects_with_a_reason_for_the_author(slack: SlackDriver) -> None:
    await suggest(slack, BEN)
    card = await review_card(slack)

    await slack.press(ANA, card, 2)
    reject = slack.fake.api("views.open")[-1].response["view"]
    assert reject["callback_id"] == "dlq_reject"
    status, ack = await slack.submit_view(ANA, reject, {"dlq_reason": "Already in   the bank."})
    assert (status, ack) == (200, {})

    assert "Question #1 rejected." in slack.fake.replies[-1].text
    [dm] = dms_to(slack.fake, BEN)
    assert "was not accepted. Reason: Already in the bank." in dm
    shown = await slack.command(ANA, "review")
    assert "No suggestion is waiting for review." in shown.text


async def test_a_members_approve_is_refused(slack: SlackDriver) -> None:
    await suggest(slack, BEN)
    card = await review_card(slack)

    refused = await slack.press(CY, card, 0)
    pressed_reject = await slack.press(CY, card, 2)

    assert ADMINS_ONLY in refused.text
    assert ADMINS_ONLY in pressed_reject.text
    assert not slack.fake.api("views.open")[1:]  # no reason form for a member to type into
    assert not dms_to(slack.fake, BEN)
    still = await review_card(slack)
    assert "Suggestion #1" in all_text(still)


async def test_author_whose_dm_fails_hears_at_the_next_command(slack: SlackDriver) -> None:
    await suggest(slack, BEN)
    slack.fake.errors["conversations.open"] = "cannot_dm_bot"
    card = await review_card(slack)

    await slack.press(ANA, card, 0)
    assert not dms_to(slack.fake, BEN)

    later = await slack.command(BEN, "question")
    assert "Your suggestion #1" in later.text
    assert "was approved" in later.text
    again = await slack.command(BEN, "question")
    assert "Your suggestion #1" not in again.text  # told once


async def test_admins_suggestion_joins_at_once(slack: SlackDriver) -> None:
    ack = await suggest(slack, ANA)

    assert ack == {}
    assert "Added question #1" in slack.fake.ephemerals[-1]["text"]
    assert len(await slack.engine.community.server_set(f"slack:{TEAM}")) == 1
