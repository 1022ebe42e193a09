"""Questions a community owns, through discord.py: the suggestion modal, the review card's
buttons, the author's DM, and the approved question drawn as the channel's daily question."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from discord_harness import ADA, GRACE, MOD, Answer, Harness, Person, _as, click_id, load, slash
from fake_discord import Request, texts

EPHEMERAL = 64
MODAL = 9

GOOD = {
    "prompt": "What does torch.relu return for an input of -2.0?",
    "choices": "*0.0\n-2.0\n2.0",
    "explanation": "ReLU keeps positive inputs and maps every negative input to zero.",
    "topic": "activation-functions easy",
    "code": "import torch\nprint(torch.relu(torch.tensor(-2.0)))",
}


def modal_fields(modal: dict[str, Any]) -> dict[str, str]:
    """The pre-filled values of a modal the bot opened, by field."""
    return {
        box["custom_id"].removeprefix("dlq:form:"): box.get("value", "")
        for row in modal["components"]
        for box in row["components"]
    }


def submit(modal: dict[str, Any], person: Person, values: dict[str, str]) -> dict[str, Any]:
    """`person` sends the modal the bot opened, typed as `values`."""
    payload = copy.deepcopy(load("button_click"))
    payload.pop("message")
    payload["type"] = 5
    _as(payload, person)
    payload["data"] = {
        "custom_id": modal["custom_id"],
        "components": [
            {
                "type": 1,
                "components": [{"type": 4, "custom_id": f"dlq:form:{name}", "value": value}],
            }
            for name, value in values.items()
        ],
    }
    return payload


async def opened(quiz: Harness, payload: dict[str, Any]) -> Answer:
    """Send what opens a modal; return once discord.py holds the modal, as a member's typing
    always gives it time to (it stores the modal after Discord took the callback)."""
    answer = await quiz.send(payload)
    assert answer.callback_type == MODAL, answer.sent
    modals = quiz.client._connection._view_store._modals
    for _ in range(500):
        if answer.sent["custom_id"] in modals:
            return answer
        await asyncio.sleep(0.01)
    raise AssertionError("discord.py never stored the modal")


async def reopen_button(quiz: Harness, refused: Answer) -> dict[str, Any]:
    """The click on "Fix and send again", once discord.py holds its view (stored, like a modal,
    after Discord took the answer)."""
    views = quiz.client._connection._view_store._views
    for _ in range(500):
        if int(refused.message["id"]) in views:
            return click_id(refused.message, "dlq:reopen", ADA)
        await asyncio.sleep(0.01)
    raise AssertionError("discord.py never stored the view")


async def suggest(quiz: Harness, person: Person, values: dict[str, str]) -> Answer:
    form = await opened(quiz, slash("suggest", person))
    return await quiz.send(submit(form.sent, person, values))


def dms(quiz: Harness, user_id: str) -> list[Request]:
    channels = {c for c, u in quiz.fake.dm_channels.items() if u == user_id}
    return [
        r
        for r in quiz.fake.requests
        if r.method == "POST" and r.path.split("/")[2:3] and r.path.split("/")[2] in channels
    ]


async def test_suggested_reviewed_told_and_posted_as_the_daily_question(quiz: Harness) -> None:
    form = await opened(quiz, slash("suggest", ADA))
    assert set(modal_fields(form.sent)) == set(GOOD)
    waiting = await quiz.send(submit(form.sent, ADA, GOOD))
    assert waiting.ephemeral
    assert "waiting for an admin's review" in waiting.text

    card = await quiz.send(slash("review", MOD))
    assert card.ephemeral
    assert "Suggestion #1 by Ada" in card.content
    assert "```python\nimport torch" in card.content
    assert card.custom_ids == ["dlq:rv:approve:1", "dlq:rv:edit:1", "dlq:rv:reject:1"]

    refused = await quiz.send(click_id(card.message, "dlq:rv:approve:1", GRACE))
    assert "Only admins" in refused.text
    approved = await quiz.send(click_id(card.message, "dlq:rv:approve:1", MOD))
    assert approved.callback_type == 7  # the card becomes the outcome: no second press
    assert approved.content == "Question #1 approved."
    assert approved.custom_ids == []
    [dm] = dms(quiz, ADA.user_id)
    assert "Your suggestion #1 (What does torch.relu" in dm.body["content"]
    assert "was approved" in dm.body["content"]

    settings = await quiz.send(slash("settings", MOD, source="server"))
    assert "source: server" in settings.text
    assert "questions to draw from: 1" in settings.text
    await quiz.send(slash("post", MOD))
    question = texts(quiz.question_message())[1]
    assert GOOD["prompt"] in question
    assert "```python\nimport torch\nprint(torch.relu(torch.tensor(-2.0)))\n```" in question


async def test_an_invalid_suggestion_comes_back_with_the_checkers_messages(quiz: Harness) -> None:
    bad = {**GOOD, "prompt": "x" * 301, "choices": "a\nb"}
    refused = await suggest(quiz, ADA, bad)
    assert refused.ephemeral
    assert "Question: prompt is 301 characters long; at most 300 allowed" in refused.content
    # Discord shows `\*` as `*`: the escape keeps a member's text from turning into markup.
    assert "mark exactly one right choice with \\* at the start of its line (found 0)" in (
        refused.content
    )
    assert refused.custom_ids == ["dlq:reopen"]
    reopened = await opened(quiz, await reopen_button(quiz, refused))
    assert modal_fields(reopened.sent) == bad  # everything typed is kept
    fixed = await quiz.send(submit(reopened.sent, ADA, GOOD))
    assert "waiting for an admin's review" in fixed.text


async def test_edit_and_reject_from_the_card(quiz: Harness) -> None:
    quiz.fake.closed_dms.add(ADA.user_id)
    await suggest(quiz, ADA, GOOD)
    await suggest(quiz, ADA, {**GOOD, "prompt": "What does relu(-3.0) give?"})
    card = await quiz.send(slash("review", MOD))
    edit = await opened(quiz, click_id(card.message, "dlq:rv:edit:1", MOD))
    assert modal_fields(edit.sent)["choices"] == GOOD["choices"]
    saved = await quiz.send(submit(edit.sent, MOD, {**GOOD, "topic": "activation-functions hard"}))
    assert saved.content == "Question #1 saved and approved."

    card = await quiz.send(slash("review", MOD))
    assert "Suggestion #2" in card.content
    not_yours = await quiz.send(click_id(card.message, "dlq:rv:reject:2", GRACE))
    assert "Only admins" in not_yours.text
    reason = await opened(quiz, click_id(card.message, "dlq:rv:reject:2", MOD))
    rejected = await quiz.send(submit(reason.sent, MOD, {"reason": "too close to #1"}))
    assert rejected.content == "Question #2 rejected."
    # Ada's DMs are closed: she hears at her next command instead.
    news = await quiz.send(slash("help", ADA))
    assert "Your suggestion #1" in news.text
    assert "was not accepted. Reason: too close to 1" in news.text


async def test_review_options_and_a_bad_action(quiz: Harness) -> None:
    await suggest(quiz, ADA, GOOD)
    shown = await quiz.send(slash("review", MOD, action="show", id=1))
    assert "Suggestion #1 by Ada" in shown.content
    listed = await quiz.send(slash("review", MOD, action="list"))
    assert "#1 [pending]" in listed.content
    missing = await quiz.send(slash("review", MOD, action="approve"))
    assert "`review approve` needs the number of a question" in missing.text
    member = await quiz.send(slash("review", ADA))
    assert "Only admins" in member.text


QUESTION_FILE = """\
topic: activation-functions
title: Activation functions
questions:
  - id: our-relu-range
    difficulty: easy
    prompt: What is the range of ReLU?
    choices:
      - "[0, infinity)"
      - "(-1, 1)"
      - "(0, 1)"
    answer: A
    explanation: ReLU passes positive inputs unchanged and maps the rest to zero.
"""


def review_with_file(quiz: Harness, person: Person, name: str, data: bytes) -> dict[str, Any]:
    """`/dlquiz review file:<attachment>` as Discord sends it: the option names the attachment,
    which `resolved` describes, served from the (fake) CDN."""
    quiz.fake.files[name] = data
    payload = slash("review", person)
    payload["data"]["options"][0]["options"] = [{"name": "file", "type": 11, "value": "77"}]
    payload["data"]["resolved"] = {
        "attachments": {
            "77": {
                "id": "77",
                "filename": name,
                "size": len(data),
                "url": quiz.fake.file_url(name),
                "proxy_url": quiz.fake.file_url(name),
                "content_type": "application/x-yaml",
            }
        }
    }
    return payload


async def test_an_admin_imports_an_attached_question_file_all_or_nothing(quiz: Harness) -> None:
    broken = QUESTION_FILE.replace("answer: A", "answer: BC")
    refused = await quiz.send(review_with_file(quiz, MOD, "ours.yaml", broken.encode()))
    assert "Nothing was imported" in refused.text
    assert "ours.yaml:" in refused.text  # file:line: reason, as the checker says it

    member = await quiz.send(review_with_file(quiz, ADA, "ours.yaml", QUESTION_FILE.encode()))
    assert "Only admins" in member.text

    done = await quiz.send(review_with_file(quiz, MOD, "ours.yaml", QUESTION_FILE.encode()))
    assert "Imported 1 question" in done.text
    listed = await quiz.send(slash("review", MOD, action="list"))
    assert "What is the range of ReLU?" in listed.text
