"""Questions a community owns, on Slack: the suggestion form as a modal, the review card with
Approve, Edit and Reject buttons, and telling an author the outcome in a DM.

Unlike Discord, Slack can keep a modal open after its submit and mark fields with problems
(`response_action: errors`), so a refused field is shown in place with the checker's message and
nothing typed is lost. A modal needs the `trigger_id` of the command or button that opens it,
valid for 3 seconds: the request is acknowledged first and the modal opened right after the
engine answers. The submit's result is told with `chat.postEphemeral` in the channel the form
was opened from, kept in the view's `private_metadata` (a view submission has no channel).

Slack's slash command payload does not say who is an admin: every community request asks
`users.info` (cached), and the engine checks the rights on every press and submit.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import convert
from adapters.slack.blocks import Message, notice_message, reply_message
from bot import commands as cmd
from bot.community import ADMINS_ONLY
from bot.community_render import FIELD_LABELS
from bot.logs import context
from bot.models import Draft, Invocation, Notice, Reply, ReviewCard, SuggestForm, Tone

if TYPE_CHECKING:
    from adapters.slack.handlers import Handlers

log = logging.getLogger(__name__)

SUGGEST_VIEW = "dlq_suggest"
REJECT_VIEW = "dlq_reject"
REVIEW_ACTION = re.compile(r"^dlq_rv_(approve|edit|reject)$")
INPUT_ACTION = "value"
REASON_BLOCK = "dlq_reason"
# Slack's limits: a plain_text_input holds 3000 characters, a modal title 24.
INPUT_LIMIT = 3000
REASON_LIMIT = 300
PLACEHOLDERS = {
    "prompt": "The prompt, at most 300 characters",
    "choices": "2 to 5 lines, e.g. *0.0 on the first and -2.0 on the next",
    "explanation": "Why the right choice is right, at most 400 characters",
    "topic": "e.g. optimisation medium",
    "code": "Shown as a code block under the prompt",
}
NO_CHECK = Notice(
    "Could not check your admin rights with Slack; nothing was changed. Try again.", Tone.ERROR
)
FAILED = Notice("Something went wrong on our side; nothing was changed. Try again.", Tone.ERROR)
COMMUNITY = (cmd.Suggest, cmd.Review, cmd.Settings)


def field_block(field: str) -> str:
    return f"dlq_f_{field}"


def _text(label: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": label, "emoji": False}


def _input(
    block_id: str, label: str, *, initial: str, multiline: bool, optional: bool, limit: int
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": INPUT_ACTION,
        "multiline": multiline,
        "max_length": limit,
    }
    if initial:
        # Slack refuses a view whose initial value is longer than its input allows.
        element["initial_value"] = initial[:limit]
    return {
        "type": "input",
        "block_id": block_id,
        "label": _text(label),
        "element": element,
        "optional": optional,
    }


def suggest_view(form: SuggestForm, *, channel: str, response_url: str = "") -> dict[str, Any]:
    """The five fields of a `Draft`, filled with `form.draft` (an edit)."""
    title = "Suggest a question" if form.edit_of is None else f"Edit question #{form.edit_of}"
    blocks = []
    for field, label in FIELD_LABELS.items():
        block = _input(
            field_block(field),
            label,
            initial=getattr(form.draft, field),
            multiline=field != "topic",
            optional=field == "code",
            limit=INPUT_LIMIT,
        )
        block["element"]["placeholder"] = _text(PLACEHOLDERS[field])
        blocks.append(block)
    return {
        "type": "modal",
        "callback_id": SUGGEST_VIEW,
        "title": _text(title[:24]),
        "submit": _text("Save" if form.edit_of is not None else "Send"),
        "close": _text("Cancel"),
        "private_metadata": _metadata(channel, form.edit_of, response_url),
        "blocks": blocks,
    }


def reject_view(qid: int, *, channel: str, response_url: str = "") -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": REJECT_VIEW,
        "title": _text(f"Reject #{qid}"[:24]),
        "submit": _text("Reject"),
        "close": _text("Cancel"),
        "private_metadata": _metadata(channel, qid, response_url),
        "blocks": [
            _input(
                REASON_BLOCK,
                "Reason for the author (optional)",
                initial="",
                multiline=True,
                optional=True,
                limit=REASON_LIMIT,
            )
        ],
    }


def _metadata(channel: str, qid: int | None, response_url: str) -> str:
    # Slack keeps 3000 characters; a response_url is about 100.
    return json.dumps({"channel": channel, "id": qid, "response_url": response_url})


def _read_metadata(view: dict[str, Any]) -> tuple[str, int | None, str]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    qid = data.get("id")
    return (
        str(data.get("channel") or ""),
        qid if isinstance(qid, int) else None,
        str(data.get("response_url") or ""),
    )


def _value(view: dict[str, Any], block_id: str) -> str:
    values = (view.get("state") or {}).get("values") or {}
    value = (values.get(block_id) or {}).get(INPUT_ACTION, {}).get("value")
    return value if isinstance(value, str) else ""


def draft_of_view(view: dict[str, Any]) -> Draft:
    return Draft(**{field: _value(view, field_block(field)) for field in FIELD_LABELS})


def field_errors(form: SuggestForm) -> dict[str, str]:
    """The checker's message for each field with a problem, as Slack shows it under the field."""
    errors: dict[str, str] = {}
    for field, reason in form.problems:
        block = field_block(field)
        errors[block] = f"{errors[block]}; {reason}" if block in errors else reason
    return errors


def review_message(card: ReviewCard) -> Message:
    """The engine's card; a waiting suggestion's gets Approve, Edit and Reject."""
    message = reply_message(card)
    if card.status != "pending":
        return message
    buttons = [
        {
            "type": "button",
            "text": _text(label),
            "action_id": f"dlq_rv_{action}",
            "value": str(card.id),
            **({"style": style} if style else {}),
        }
        for action, label, style in (
            ("approve", "Approve", "primary"),
            ("edit", "Edit", ""),
            ("reject", "Reject", "danger"),
        )
    ]
    actions = {"type": "actions", "block_id": f"dlq_review_{card.id}", "elements": buttons}
    return Message(text=message.text, blocks=[*message.blocks, actions])


def _changes(command: cmd.Command) -> bool:
    """Whether a community subcommand changes something: a replay of it must not run again."""
    if isinstance(command, cmd.Settings):
        return bool(command.changes)
    return isinstance(command, cmd.Review) and command.action in ("approve", "reject", "remove")


def is_community(text: str) -> bool:
    try:
        return isinstance(cmd.parse_command(text), COMMUNITY)
    except cmd.CommandError:
        return False  # the main listener explains the usage


class CommunityForms:
    """The community's listeners, sharing the main handlers' engine, admin directory and
    response_url session."""

    def __init__(self, handlers: Handlers) -> None:
        self.handlers = handlers
        self.engine = handlers.engine

    # --- rights -------------------------------------------------------------------------------

    async def _with_rights(self, invocation: Invocation) -> Invocation | None:
        """The invocation with the member's admin rights from Slack; None if Slack failed."""
        member = invocation.member
        team = member.server.removeprefix(convert.SERVER_PREFIX)
        try:
            admin = await self.handlers.admins.is_admin(team=team, user_id=member.user_id)
        except (SlackApiError, OSError, TimeoutError) as exc:
            log.warning(
                "users.info for %s failed: %s", member.user_id, exc, extra=context(member.server)
            )
            return None
        return replace(invocation, member=replace(member, is_admin=admin))

    # --- /dlquiz suggest | review | settings --------------------------------------------------

    async def command(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        request_key: str | None,
    ) -> None:
        invocation = convert.command_invocation(body)
        if invocation is None:
            await ack(text=FAILED.text, response_type="ephemeral")
            return
        command = cmd.parse_command(convert.command_text(body))
        # users.info and the engine come first; the modal must open within the trigger's 3 s.
        await ack()
        checked = await self._with_rights(invocation)
        if checked is None:
            await self.handlers._respond(respond, NO_CHECK)
            return
        changes = _changes(command)
        if changes and not await self.handlers._first_time(request_key, checked):
            await self.handlers._respond(respond, Notice("Already done.", Tone.INFO))
            return
        reply = await self.handlers._reply(command, checked)
        await self._show(reply, body, respond, client, channel=checked.channel.channel)

    async def _show(
        self,
        reply: Reply,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        *,
        channel: str,
        replace_card: bool = False,
    ) -> None:
        if isinstance(reply, SuggestForm) and not reply.problems:
            view = suggest_view(reply, channel=channel, response_url=respond.response_url or "")
            await self._open(client, body, view, respond)
            return
        if isinstance(reply, ReviewCard):
            await self._send(respond.response_url, review_message(reply))
            return
        await self._send(
            respond.response_url,
            reply_message(reply),
            replace_card=replace_card and isinstance(reply, Notice) and reply.tone is Tone.OK,
        )

    async def _open(
        self, client: AsyncWebClient, body: dict[str, Any], view: dict[str, Any], respond: Any
    ) -> None:
        try:
            await client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)
        except (SlackApiError, SlackRequestError, OSError, TimeoutError) as exc:
            log.warning("could not open a form: %s", exc)
            await self._send(
                respond.response_url,
                notice_message(
                    Notice("Slack did not open the form in time; please try again.", Tone.ERROR)
                ),
            )

    async def _send(self, url: str | None, message: Message, *, replace_card: bool = False) -> None:
        """A message only the member sees, through the request's response_url; `replace_card`
        replaces the review card pressed, so a decided card cannot be pressed twice."""
        if not url:
            return
        body: dict[str, Any] = {"text": message.text, "response_type": "ephemeral"}
        if message.blocks:
            body["blocks"] = message.blocks
        body["replace_original"] = replace_card
        try:
            status, text = await self.handlers.responses.post(url, body)
        except Exception as exc:  # the reply is lost, not the decision
            log.warning("could not send a reply through response_url: %s", exc)
            return
        if status != 200:
            log.warning("response_url refused a reply: %s %s", status, text)

    # --- the review buttons -------------------------------------------------------------------

    async def review_button(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        action = convert.first_action(body)
        matched = REVIEW_ACTION.match(str(action.get("action_id") or ""))
        value = str(action.get("value") or "")
        invocation = convert.interaction_invocation(body)
        if matched is None or not value.isdigit() or invocation is None:
            await self._send(respond.response_url, notice_message(FAILED))
            return
        checked = await self._with_rights(invocation)
        if checked is None:
            await self._send(respond.response_url, notice_message(NO_CHECK))
            return
        if not checked.member.is_admin:
            await self._send(respond.response_url, notice_message(Notice(ADMINS_ONLY, Tone.ERROR)))
            return
        verb, qid, channel = matched[1], int(value), checked.channel.channel
        if verb == "reject":
            url = respond.response_url or ""
            await self._open(
                client, body, reject_view(qid, channel=channel, response_url=url), respond
            )
            return
        reply = await self.handlers._reply(cmd.Review(verb, qid), checked)
        await self._show(reply, body, respond, client, channel=channel, replace_card=True)

    # --- the modals' submits ------------------------------------------------------------------

    def _view_invocation(self, body: dict[str, Any], channel: str) -> Invocation | None:
        return convert.interaction_invocation({**body, "channel": {"id": channel}})

    async def suggest_submit(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        view = body.get("view") or {}
        channel, edit_of, url = _read_metadata(view)
        invocation = self._view_invocation(body, channel) if channel else None
        checked = await self._with_rights(invocation) if invocation else None
        if checked is None:
            await ack()
            if invocation is not None:
                await self._tell(client, invocation, NO_CHECK)
            return
        try:
            reply = await self.engine.community.submit(
                checked, draft_of_view(view), edit_of=edit_of
            )
        except Exception:
            log.exception("a suggestion could not be saved", extra=context(checked.member.server))
            reply = FAILED
        if isinstance(reply, SuggestForm) and reply.problems:
            # The modal stays open with everything typed; each problem sits under its field.
            await ack(response_action="errors", errors=field_errors(reply))
            return
        await ack()  # the question is saved: the modal closes
        if edit_of is not None and url and isinstance(reply, Notice) and reply.tone is Tone.OK:
            await self._send(url, reply_message(reply), replace_card=True)
            return
        await self._tell(client, checked, reply)

    async def reject_submit(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        view = body.get("view") or {}
        channel, qid, url = _read_metadata(view)
        reason = " ".join(_value(view, REASON_BLOCK).split())
        await ack()
        invocation = self._view_invocation(body, channel) if channel else None
        if invocation is None or qid is None:
            log.warning(
                "a reject form came back without its question: %r", view.get("private_metadata")
            )
            return
        checked = await self._with_rights(invocation)
        if checked is None:
            await self._tell(client, invocation, NO_CHECK)
            return
        reply = await self.handlers._reply(cmd.Review("reject", qid, reason), checked)
        if url and isinstance(reply, Notice) and reply.tone is Tone.OK:
            await self._send(url, reply_message(reply), replace_card=True)
            return
        await self._tell(client, checked, reply)

    async def _tell(self, client: AsyncWebClient, invocation: Invocation, reply: Reply) -> None:
        message = reply_message(reply)
        try:
            await client.chat_postEphemeral(
                channel=invocation.channel.channel,
                user=invocation.member.user_id,
                text=message.text,
                blocks=message.blocks,
            )
        except (SlackApiError, SlackRequestError, OSError, TimeoutError) as exc:
            log.warning(
                "could not tell %s the result of a form: %s",
                invocation.member.user_id,
                exc,
                extra=context(invocation.member.server),
            )


def register(app: AsyncApp, handlers: Handlers) -> None:
    """Attach the community listeners; before the main `/dlquiz` listener, as bolt runs the
    first listener that matches."""
    forms = CommunityForms(handlers)
    inflight = handlers.inflight
    from adapters.slack.handlers import COMMAND, request_key

    async def community_text(body: dict[str, Any]) -> bool:
        return is_community(convert.command_text(body))

    # Bolt passes a listener's arguments by parameter name.
    async def dlquiz_community(
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        request: AsyncBoltRequest,
        client: AsyncWebClient,
    ) -> None:
        async with inflight.track():
            await forms.command(ack, body, respond, client, request_key(request, body))

    async def dlquiz_review_button(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        async with inflight.track():
            await forms.review_button(ack, body, respond, client)

    async def dlquiz_suggest_submit(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        async with inflight.track():
            await forms.suggest_submit(ack, body, client)

    async def dlquiz_reject_submit(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        async with inflight.track():
            await forms.reject_submit(ack, body, client)

    app.command(COMMAND, matchers=[community_text])(dlquiz_community)
    app.action(REVIEW_ACTION)(dlquiz_review_button)
    app.view(SUGGEST_VIEW)(dlquiz_suggest_submit)
    app.view(REJECT_VIEW)(dlquiz_reject_submit)


# --- telling the author ------------------------------------------------------------------------
