"""Questions a community owns: suggestions and their review, the server's own set, and the
per-channel settings that decide what the daily question is drawn from.

The engine hands the community subcommands here; it asks `pool` for a channel's candidates.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from bot import commands as cmd
from bot.content import Bank
from bot.models import (
    ChannelRef,
    Draft,
    Invocation,
    Member,
    Notice,
    Question,
    Reply,
    ReviewCard,
    ServerQuestionItem,
    ServerQuestionList,
    SettingsCard,
    SuggestForm,
    Tone,
)
from bot.ports import Clock
from bot.server_questions import (
    MAX_PENDING_PER_MEMBER,
    as_drawn,
    check_draft,
    draft_of,
    new_key,
    stored,
)
from bot.store import ChannelSettings, NewServerQuestion, ServerQuestionRow, Store
from bot.store import SuggestionStatus as Status

log = logging.getLogger(__name__)

ADMINS_ONLY = (
    "Only admins can review questions or change this channel's settings; nothing was changed."
)


@runtime_checkable
class MemberNotifier(Protocol):
    """An optional platform capability: tell one member something privately, outside any
    interaction (a DM, an ephemeral message in the channel they used). False when it could not."""

    async def notify_member(
        self, *, server: str, user_id: str, channel: str, text: str
    ) -> bool: ...


class EmptyPool(Exception):
    """The channel's settings leave nothing to draw; the message says what to change."""


class Community:
    def __init__(
        self, *, store: Store, bank: Callable[[], Bank], clock: Clock, platform: object
    ) -> None:
        self.store = store
        # Asked each time: the engine's bank may be replaced while it runs (a reload, a test).
        self._bank = bank
        self.clock = clock
        self.platform = platform

    @property
    def bank(self) -> Bank:
        return self._bank()

    # --- the draw ---------------------------------------------------------------------------

    async def settings_of(self, channel: ChannelRef) -> ChannelSettings:
        return await self.store.channel_settings(channel) or ChannelSettings()

    async def pool(self, channel: ChannelRef, settings: ChannelSettings) -> list[Question]:
        """Every question the channel's daily draw may choose from, with these settings;
        raises EmptyPool."""
        found: list[Question] = []
        if settings.source in ("bank", "both"):
            found.extend(self.bank.questions)
        if settings.source in ("server", "both"):
            found.extend(await self.server_set(channel.server))
        if settings.topics:
            found = [q for q in found if q.topic in settings.topics]
        if settings.difficulty:
            found = [q for q in found if q.difficulty.value == settings.difficulty]
        if not found:
            raise EmptyPool(
                f"no question matches this channel's settings ({_settings_line(settings)}):"
                " an admin can widen them with `/dlquiz settings`, or add questions with"
                " `/dlquiz suggest`"
            )
        return found

    async def server_set(self, server: str) -> list[Question]:
        rows = await self.store.server_questions(server=server, status=Status.APPROVED)
        return [as_drawn(row.question) for row in rows]

    # --- subcommands ------------------------------------------------------------------------

    async def handle(
        self, command: cmd.Suggest | cmd.Review | cmd.Settings, *, invocation: Invocation
    ) -> Reply:
        member = invocation.member
        if isinstance(command, cmd.Suggest):
            return await self.open_form(member)
        if not member.is_admin:
            return Notice(ADMINS_ONLY, Tone.ERROR)
        if isinstance(command, cmd.Settings):
            return await self.settings(invocation.channel, command)
        return await self.review(member, command)

    async def open_form(self, member: Member) -> Reply:
        if not member.is_admin and await self._pending_of(member) >= MAX_PENDING_PER_MEMBER:
            return Notice(
                f"You have {MAX_PENDING_PER_MEMBER} suggestions waiting for review, the most a"
                " member may have; suggest again once an admin has reviewed one.",
                Tone.ERROR,
            )
        return SuggestForm()

    async def _pending_of(self, member: Member) -> int:
        rows = await self.store.server_questions(server=member.server, status=Status.PENDING)
        return sum(1 for r in rows if r.author_id == member.user_id)

    async def submit(
        self, invocation: Invocation, draft: Draft, *, edit_of: int | None = None
    ) -> Reply:
        """A filled-in form: the form back with its problems, or the question kept."""
        member = invocation.member
        if edit_of is not None:
            return await self._submit_edit(member, draft, edit_of)
        key = new_key(draft.topic.split()[0].lower() if draft.topic.split() else "q")
        checked = check_draft(draft, key=key, topic_title=self._title(draft))
        if isinstance(checked, list):
            return SuggestForm(draft, problems=tuple((p.field, p.reason) for p in checked))
        if not member.is_admin and await self._pending_of(member) >= MAX_PENDING_PER_MEMBER:
            return await self.open_form(member)  # the limit's notice
        status = Status.APPROVED if member.is_admin else Status.PENDING
        [qid] = await self.store.add_server_questions(
            server=member.server,
            questions=[
                NewServerQuestion(
                    key=key,
                    question=stored(checked),
                    status=status,
                    author_id=member.user_id,
                    author_name=member.name,
                    channel=invocation.channel.channel,
                )
            ],
            at=self.clock.now(),
        )
        if status is Status.APPROVED:
            return Notice(f"Added question #{qid} to this server's own questions.", Tone.OK)
        return Notice(
            f"Thanks! Your suggestion #{qid} is waiting for an admin's review; you will be told"
            " the outcome.",
            Tone.OK,
        )

    async def _submit_edit(self, member: Member, draft: Draft, qid: int) -> Reply:
        if not member.is_admin:
            return Notice(ADMINS_ONLY, Tone.ERROR)
        row = await self.store.server_question(server=member.server, id=qid)
        if row is None:
            return _no_such(qid)
        checked = check_draft(draft, key=row.key, topic_title=self._title(draft))
        if isinstance(checked, list):
            return SuggestForm(
                draft, edit_of=qid, problems=tuple((p.field, p.reason) for p in checked)
            )
        return await self._decide(member, row, Status.APPROVED, question=stored(checked))

    def _title(self, draft: Draft) -> str:
        words = draft.topic.split()
        slug = words[0].lower() if words else ""
        return next((t.title for t in self.bank.topics if t.slug == slug), slug)

    async def review(self, member: Member, command: cmd.Review) -> Reply:
        server = member.server
        if command.action == "list":
            rows = await self.store.server_questions(server=server)
            shown = [r for r in rows if r.status in (Status.PENDING, Status.APPROVED)]
            return ServerQuestionList(tuple(_item(r) for r in shown))
        pending = await self.store.server_questions(server=server, status=Status.PENDING)
        if command.action == "next":
            if not pending:
                return Notice("No suggestion is waiting for review.")
            return _card(pending[0], len(pending))
        assert command.id is not None
        row = await self.store.server_question(server=server, id=command.id)
        if row is None or row.status in (Status.REJECTED, Status.REMOVED):
            return _no_such(command.id)
        match command.action:
            case "show":
                return _card(row, len(pending))
            case "edit":
                return SuggestForm(draft_of(as_drawn(row.question)), edit_of=row.id)
            case "approve" if row.status is Status.PENDING:
                return await self._decide(member, row, Status.APPROVED)
            case "reject" if row.status is Status.PENDING:
                return await self._decide(member, row, Status.REJECTED, reason=command.reason)
            case "remove" if row.status is Status.APPROVED:
                return await self._decide(member, row, Status.REMOVED)
        state = "waiting for review" if row.status is Status.PENDING else "in this server's set"
        return Notice(
            f"Question #{row.id} is {state}, so it cannot be {command.action}d; use"
            f" `/dlquiz {cmd.USAGE['review']}`.",
            Tone.ERROR,
        )

    async def _decide(
        self,
        member: Member,
        row: ServerQuestionRow,
        status: Status,
        *,
        question: str | None = None,
        reason: str = "",
    ) -> Reply:
        was_pending = row.status is Status.PENDING
        await self.store.decide_server_question(
            server=member.server,
            id=row.id,
            status=status,
            question=question,
            reason=reason or None,
            at=self.clock.now(),
        )
        if status is Status.REMOVED or not was_pending or row.author_id == member.user_id:
            await self.store.mark_told(server=member.server, ids=[row.id])
        else:
            await self._tell(member.server, row.author_id, row.channel)
        verb = {Status.APPROVED: "approved", Status.REJECTED: "rejected", Status.REMOVED: "removed"}
        done = "saved and approved" if question and was_pending else verb[status]
        if question and not was_pending:
            done = "saved"
        return Notice(f"Question #{row.id} {done}.", Tone.OK)

    async def _tell(self, server: str, author_id: str, channel: str) -> None:
        """Tell the author privately where the platform can; else they hear at their next
        `/dlquiz` (see `news`)."""
        if not isinstance(self.platform, MemberNotifier):
            return
        rows = await self.store.untold_outcomes(server=server, author_id=author_id)
        if not rows:
            return
        try:
            told = await self.platform.notify_member(
                server=server, user_id=author_id, channel=channel, text=outcome_text(rows)
            )
        except Exception:
            log.warning("could not tell %s the outcome of a suggestion", author_id, exc_info=True)
            return
        if told:
            await self.store.mark_told(server=server, ids=[r.id for r in rows])

    async def news(self, member: Member) -> str | None:
        """The outcomes of the member's suggestions they have not heard yet, now told."""
        rows = await self.store.untold_outcomes(server=member.server, author_id=member.user_id)
        if not rows:
            return None
        await self.store.mark_told(server=member.server, ids=[r.id for r in rows])
        return outcome_text(rows)

    async def settings(self, channel: ChannelRef, command: cmd.Settings) -> Reply:
        current = await self.settings_of(channel)
        if command.changes:
            topics = current.topics if command.topics is None else command.topics
            unknown = self._unknown_topics(topics, await self.server_set(channel.server))
            if unknown:
                known = ", ".join(sorted({t.slug for t in self.bank.topics}))
                return Notice(
                    f"unknown topic {', '.join(unknown)}: use topics of the bank ({known}) or of"
                    " this server's questions, comma-separated, or `all`; nothing was changed.",
                    Tone.ERROR,
                )
            current = ChannelSettings(
                source=command.source or current.source,
                topics=topics,
                difficulty=(
                    current.difficulty
                    if command.difficulty is None
                    else None
                    if command.difficulty == "any"
                    else command.difficulty
                ),
                thread=current.thread if command.thread is None else command.thread,
                ping=(
                    current.ping
                    if command.ping is None
                    else None
                    if command.ping == "off"
                    else command.ping
                ),
            )
            await self.store.set_channel_settings(channel, current, at=self.clock.now())
        try:
            size = len(await self.pool(channel, current))
        except EmptyPool:
            size = 0
        return SettingsCard(
            source=current.source,
            topics=current.topics,
            difficulty=current.difficulty,
            thread=current.thread,
            ping=current.ping,
            pool=size,
        )

    def _unknown_topics(self, topics: tuple[str, ...], own: list[Question]) -> list[str]:
        known = {t.slug for t in self.bank.topics} | {q.topic for q in own}
        return [t for t in topics if t not in known]


def outcome_text(rows: list[ServerQuestionRow]) -> str:
    lines = []
    for row in rows:
        prompt = _flat(as_drawn(row.question).prompt)
        short = prompt if len(prompt) <= 60 else prompt[:59] + "…"
        if row.status is Status.APPROVED:
            lines.append(f"Your suggestion #{row.id} ({short}) was approved: it can now be drawn.")
        else:
            why = f" Reason: {_flat(row.reason)}" if row.reason else ""
            lines.append(f"Your suggestion #{row.id} ({short}) was not accepted.{why}")
    return "\n".join(lines)


def _settings_line(s: ChannelSettings) -> str:
    topics = ",".join(s.topics) or "all"
    return f"source {s.source}, topics {topics}, difficulty {s.difficulty or 'any'}"


def _card(row: ServerQuestionRow, pending: int) -> ReviewCard:
    return ReviewCard(
        id=row.id,
        question=as_drawn(row.question),
        author_name=row.author_name,
        status=row.status.value,
        pending=pending,
    )


def _item(row: ServerQuestionRow) -> ServerQuestionItem:
    q = as_drawn(row.question)
    return ServerQuestionItem(
        id=row.id,
        status=row.status.value,
        topic=q.topic,
        difficulty=q.difficulty.value,
        prompt=q.prompt,
        author_name=row.author_name,
    )


def _no_such(qid: int) -> Notice:
    return Notice(
        f"This server has no question #{qid} to review; `/dlquiz review list` shows them.",
        Tone.ERROR,
    )


_MARKUP = re.compile(r"[*_~`|<>@#\[\]\\]")


def _flat(text: str) -> str:
    """Member text inside a notice: no markup, mention or link syntax of any platform, so it
    shows as typed words and cannot ping or break the message's layout."""
    return " ".join(_MARKUP.sub("", text).split())
