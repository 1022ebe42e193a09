"""The seam: what the engine needs from a chat platform, and where it gets the time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from bot.models import ChannelRef, QuestionPost, RevealPost


class ChatPlatform(Protocol):
    """What an adapter implements so the engine can post in its channels.

    Replies to one member (confirmations, leaderboards, refusals) are not here: the engine returns
    them from its calls and the adapter sends them the way its platform answers an interaction.
    """

    async def post_question(self, channel: ChannelRef, post: QuestionPost) -> str:
        """Post the question with one button per choice; return the message's id."""
        ...

    async def post_reveal(self, channel: ChannelRef, reveal: RevealPost) -> None:
        """Post the reveal (as a reply to the question message `reveal.message_ref` where the
        platform has replies)."""
        ...

    async def close_question(self, channel: ChannelRef, reveal: RevealPost) -> None:
        """Edit the question message (`reveal.message_ref`) so its buttons stop taking answers.
        A separate step from the reveal, retried on its own: raising here never re-posts it."""
        ...


@runtime_checkable
class PostFinder(Protocol):
    """An optional capability: find a message posted with `key` (a post's `nonce`), so a post
    whose process died mid-call is not posted twice where the platform cannot deduplicate it."""

    async def find_post(self, channel: ChannelRef, key: str, *, thread: str | None) -> str | None:
        """The message id of the post made with `key` (in `thread` when given), or None."""
        ...


@runtime_checkable
class ThreadOpener(Protocol):
    """An optional capability: open a discussion thread on a question message after its reveal
    (Discord; on Slack the reveal is already in the question's thread)."""

    async def open_thread(self, channel: ChannelRef, reveal: RevealPost) -> None:
        """Open the thread on `reveal.message_ref`; one that is already open is no error."""
        ...


class Refused(Exception):
    """The platform refuses the post until an admin acts (a missing permission): a best-effort
    delivery gives up at once instead of retrying. The message is one line for admins."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
