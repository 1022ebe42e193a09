"""Questions a community owns, on Discord: the suggestion form as a modal, the review card with
Approve, Edit and Reject buttons, a question file attached to `/dlquiz review`, and telling an
author the outcome in a DM.

A modal cannot be shown again from its own submit, so a submit with problems answers with the
problems and a button that reopens the form with everything typed. The review buttons are
DynamicItems carrying the question id, so a card keeps working after a restart; the engine
checks admin rights on every press.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Self

import discord

from adapters.discord import convert, render, replies
from adapters.discord.render import CONTENT_LIMIT, plain
from bot import commands as cmd
from bot.community import ADMINS_ONLY
from bot.community_import import import_file
from bot.community_render import APPROVED_HINT, REVIEW_HINT, form_text, review_text
from bot.models import Draft, Invocation, Notice, Reply, ReviewCard, SuggestForm, Tone

if TYPE_CHECKING:
    from adapters.discord.client import QuizClient

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
# An abandoned form is forgotten after this long; a member filling one in has that long to send.
FORM_TIMEOUT = 30 * 60.0
# Discord's limits: a modal title 45 characters, an input's label 45 and its value 4000.
INPUT_LIMIT = 4000
SORRY = "Something went wrong on our side; nothing was changed. Please try again in a moment."

# (field, label, placeholder, paragraph): the labels are shorter than the engine's, for the 45.
FIELDS = (
    ("prompt", "Question", "The prompt, at most 300 characters", True),
    (
        "choices",
        "Choices (one per line, * the right one)",
        "2 to 5 lines, e.g.\n*0.0\n-2.0",
        True,
    ),
    ("explanation", "Explanation", "Why the right choice is right, at most 400 characters", True),
    ("topic", "Topic and difficulty", "e.g. optimisation medium", False),
    ("code", "Code (optional, Python)", "Shown as a code block under the prompt", True),
)
REVIEW_ID_PATTERN = r"dlq:rv:(?P<action>approve|edit|reject):(?P<id>[0-9]{1,18})"
ACTION_STYLES = {
    "approve": (discord.ButtonStyle.success, "Approve"),
    "edit": (discord.ButtonStyle.primary, "Edit"),
    "reject": (discord.ButtonStyle.danger, "Reject"),
}
REASON_LIMIT = 300

Button = discord.ui.Button[discord.ui.View]


def review_custom_id(action: str, qid: int) -> str:
    return f"dlq:rv:{action}:{qid}"


# --- the suggestion form ----------------------------------------------------------------------


class SuggestModal(discord.ui.Modal):
    """The five fields of a `Draft`, filled with `form.draft` (an edit, or a retry)."""

    def __init__(self, client: QuizClient, form: SuggestForm) -> None:
        title = "Suggest a question" if form.edit_of is None else f"Edit question #{form.edit_of}"
        super().__init__(title=title, timeout=FORM_TIMEOUT)
        self.client = client
        self.edit_of = form.edit_of
        self.inputs: dict[str, discord.ui.TextInput[SuggestModal]] = {}
        for field, label, placeholder, paragraph in FIELDS:
            text_input: discord.ui.TextInput[SuggestModal] = discord.ui.TextInput(
                label=label,
                placeholder=placeholder,
                default=getattr(form.draft, field)[:INPUT_LIMIT] or None,
                style=discord.TextStyle.paragraph if paragraph else discord.TextStyle.short,
                required=field != "code",
                max_length=INPUT_LIMIT,
                custom_id=f"dlq:form:{field}",
            )
            self.inputs[field] = text_input
            self.add_item(text_input)

    def draft(self) -> Draft:
        return Draft(**{field: box.value or "" for field, box in self.inputs.items()})

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        invocation = convert.invocation_of(interaction)
        if invocation is None:
            await replies.send(interaction, render.error_message(convert.NOT_IN_SERVER))
            return
        reply = await self.client.engine.community.submit(
            invocation, self.draft(), edit_of=self.edit_of
        )
        await show(self.client, interaction, reply)

    # A modal's on_error takes no item; discord.py types it as its base view's, which does.
    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await _failed(interaction, error)


class ReopenView(discord.ui.View):
    """Under a refused submit: reopens the form with what was typed (kept here, in memory, as
    no custom_id could carry it)."""

    def __init__(self, client: QuizClient, form: SuggestForm) -> None:
        super().__init__(timeout=FORM_TIMEOUT)
        self.client = client
        self.form = form
        reopen: Button = discord.ui.Button(
            label="Fix and send again", style=discord.ButtonStyle.primary, custom_id="dlq:reopen"
        )
        reopen.callback = self._reopen  # type: ignore[method-assign]
        self.add_item(reopen)

    async def _reopen(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(SuggestModal(self.client, self.form))


class RejectModal(discord.ui.Modal):
    def __init__(self, client: QuizClient, qid: int) -> None:
        super().__init__(title=f"Reject suggestion #{qid}", timeout=FORM_TIMEOUT)
        self.client = client
        self.qid = qid
        self.reason: discord.ui.TextInput[RejectModal] = discord.ui.TextInput(
            label="Reason for the author (optional)",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=REASON_LIMIT,
            custom_id="dlq:form:reason",
        )
        self.add_item(self.reason)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        reason = " ".join((self.reason.value or "").split())
        await run_review(self.client, interaction, cmd.Review("reject", self.qid, reason))

    # A modal's on_error takes no item; discord.py types it as its base view's, which does.
    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await _failed(interaction, error)


# --- the review card ----------------------------------------------------------------------------


class ReviewButton(discord.ui.DynamicItem[Button], template=REVIEW_ID_PATTERN):
    """Approve, Edit or Reject under a review card: `dlq:rv:<action>:<question id>`."""

    def __init__(self, action: str, qid: int) -> None:
        style, label = ACTION_STYLES[action]
        super().__init__(
            discord.ui.Button(label=label, style=style, custom_id=review_custom_id(action, qid))
        )
        self.action = action
        self.qid = qid

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client: QuizClient = interaction.client
        invocation = convert.invocation_of(interaction)
        if invocation is None:
            await replies.send(interaction, render.error_message(convert.NOT_IN_SERVER))
            return
        if self.action == "reject":
            # The reason's form opens only for an admin: a member must not type for nothing.
            if not invocation.member.is_admin:
                await replies.send(interaction, render.error_message(ADMINS_ONLY))
                return
            await interaction.response.send_modal(RejectModal(client, self.qid))
            return
        await run_review(client, interaction, cmd.Review(self.action, self.qid))


REVIEW_ITEMS = (ReviewButton,)


def review_view(card: ReviewCard) -> discord.ui.View | None:
    if card.status != "pending":
        return None
    view = discord.ui.View(timeout=None)  # dynamic buttons: nothing is kept per message
    for action in ACTION_STYLES:
        view.add_item(ReviewButton(action, card.id))
    return view


# --- answering ----------------------------------------------------------------------------------


async def show(client: QuizClient, interaction: discord.Interaction[Any], reply: Reply) -> None:
    """Answer with a community reply as Discord shows it: a form opens as a modal (or, after a
    submit, as its problems with a button to reopen it), a review card gets its buttons."""
    if isinstance(reply, SuggestForm):
        if not reply.problems and not interaction.response.is_done():
            await interaction.response.send_modal(SuggestModal(client, reply))
            return
        await _send(interaction, _problems(reply), ReopenView(client, reply))
        return
    if isinstance(reply, ReviewCard):
        await _send(interaction, review_content(reply), review_view(reply))
        return
    message = render.reply_message(reply)
    if (
        isinstance(reply, Notice)
        and reply.tone is Tone.OK
        and interaction.type is discord.InteractionType.component
        and interaction.message is not None
        and interaction.message.flags.ephemeral
    ):
        # A decision pressed on the card replaces the card: its buttons cannot be pressed twice.
        await replies.send(interaction, message, update=True)
        return
    await replies.send(interaction, message)


def review_content(card: ReviewCard) -> str:
    """The engine's card, with the question as the daily post shows it: code in a code block."""
    q = card.question
    head, _topic, *_ = review_text(card, plain).split("\n")
    hint = (REVIEW_HINT if card.status == "pending" else APPROVED_HINT).format(id=card.id)
    right = f"Right: {q.answer_letter}. {plain(q.explanation)}"
    room = CONTENT_LIMIT - len(head) - len(_topic) - len(right) - len(hint) - 8
    body = render.question_text(q)
    return _clip("\n".join([head, _topic, "", body[:room], "", right, hint]))


def _problems(form: SuggestForm) -> str:
    head = "Press the button to fix them; everything you typed is kept."
    return _clip(f"{form_text(form, plain)}\n\n{head}")


def _clip(text: str) -> str:
    return text if len(text) <= CONTENT_LIMIT else text[: CONTENT_LIMIT - 1] + "…"


async def _send(
    interaction: discord.Interaction[Any], content: str, view: discord.ui.View | None
) -> None:
    if view is None:
        await interaction.response.send_message(
            content=content, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        return
    await interaction.response.send_message(
        content=content, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
    )


async def suggest(client: QuizClient, interaction: discord.Interaction[Any]) -> None:
    """`/dlquiz suggest`: the form, unless the member may not suggest now (the engine says)."""
    await run_review(client, interaction, cmd.Suggest())


async def run_review(
    client: QuizClient,
    interaction: discord.Interaction[Any],
    command: cmd.Suggest | cmd.Review,
    *,
    attachment: discord.Attachment | None = None,
) -> None:
    invocation = convert.invocation_of(interaction)
    if invocation is None:
        await replies.send(interaction, render.error_message(convert.NOT_IN_SERVER))
        return
    try:
        async with client.inflight.track():
            if attachment is not None:
                reply = await _import(client, invocation, attachment)
            else:
                reply = await client.engine.handle(command, invocation=invocation)
            await show(client, interaction, reply)
    except Exception as exc:
        await _failed(interaction, exc)


async def _import(
    client: QuizClient, invocation: Invocation, attachment: discord.Attachment
) -> Reply:
    member = invocation.member
    if not member.is_admin:
        return Notice(ADMINS_ONLY, Tone.ERROR)
    data = await attachment.read()
    return await import_file(
        client.engine.store,
        server=member.server,
        name=attachment.filename,
        data=data,
        author_id=member.user_id,
        author_name=member.name,
        at=client.engine.clock.now(),
    )


async def _failed(interaction: discord.Interaction[Any], error: BaseException) -> None:
    log.error("a community form or button failed", exc_info=error)
    try:
        await replies.send(interaction, render.error_message(SORRY))
    except discord.HTTPException as exc:
        log.warning("could not tell interaction %s about the failure: %s", interaction.id, exc)


# --- telling the author ------------------------------------------------------------------------


async def notify_member(client: discord.Client, *, user_id: str, text: str) -> bool:
    """A DM to the member; False when Discord refuses it (DMs closed, no shared server), so the
    engine keeps the news for their next `/dlquiz`."""
    if not user_id.isdigit():
        return False
    try:
        channel = await client.create_dm(discord.Object(id=int(user_id)))
        await channel.send(content=plain(text)[:CONTENT_LIMIT], allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.info("could not DM member %s: %s", user_id, exc)
        return False
    return True
