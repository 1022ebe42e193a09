"""A server's own questions and channel settings, on every backend: kept per server, decided
once, told once, and an import that replaces by key."""

from __future__ import annotations

from datetime import timedelta

from bot.models import ChannelRef
from bot.store import ChannelSettings, NewServerQuestion, Store, SuggestionStatus
from tests.conftest import START


def new(key: str, status: SuggestionStatus = SuggestionStatus.PENDING) -> NewServerQuestion:
    return NewServerQuestion(
        key=key,
        question=f'{{"id":"{key}"}}',
        status=status,
        author_id="u-ann",
        author_name="Ann",
        channel="c1",
    )


async def test_questions_are_kept_per_server_oldest_first(store: Store) -> None:
    ids = await store.add_server_questions(server="s1", questions=[new("a"), new("b")], at=START)
    await store.add_server_questions(server="s2", questions=[new("a")], at=START)
    rows = await store.server_questions(server="s1", status=SuggestionStatus.PENDING)
    assert [r.id for r in rows] == ids
    assert [r.key for r in rows] == ["a", "b"]
    assert rows[0].author_name == "Ann"
    assert rows[0].channel == "c1"
    assert await store.server_question(server="s2", id=ids[0]) is None
    assert len(await store.server_questions(server="s2")) == 1


async def test_a_decision_is_told_once(store: Store) -> None:
    [qid] = await store.add_server_questions(server="s1", questions=[new("a")], at=START)
    assert await store.untold_outcomes(server="s1", author_id="u-ann") == []
    later = START + timedelta(hours=1)
    decided = await store.decide_server_question(
        server="s1",
        id=qid,
        status=SuggestionStatus.REJECTED,
        question=None,
        reason="too easy",
        at=later,
    )
    assert decided
    assert not await store.decide_server_question(
        server="s2", id=qid, status=SuggestionStatus.APPROVED, question=None, reason=None, at=later
    )
    [row] = await store.untold_outcomes(server="s1", author_id="u-ann")
    assert (row.status, row.reason, row.decided_at) == (
        SuggestionStatus.REJECTED,
        "too easy",
        later,
    )
    await store.mark_told(server="s1", ids=[qid])
    assert await store.untold_outcomes(server="s1", author_id="u-ann") == []


async def test_an_edit_keeps_the_new_text(store: Store) -> None:
    [qid] = await store.add_server_questions(server="s1", questions=[new("a")], at=START)
    await store.decide_server_question(
        server="s1",
        id=qid,
        status=SuggestionStatus.APPROVED,
        question='{"x":1}',
        reason=None,
        at=START,
    )
    row = await store.server_question(server="s1", id=qid)
    assert row is not None
    assert row.question == '{"x":1}'
    assert row.status is SuggestionStatus.APPROVED


async def test_an_import_replaces_the_same_key(store: Store) -> None:
    approved = SuggestionStatus.APPROVED
    [first] = await store.add_server_questions(server="s1", questions=[new("a")], at=START)
    again = NewServerQuestion("a", '{"v":2}', approved, "cli", "import", "")
    [second] = await store.add_server_questions(server="s1", questions=[again], at=START)
    assert first == second
    [row] = await store.server_questions(server="s1")
    assert (row.question, row.status) == ('{"v":2}', approved)


async def test_channel_settings_round_trip(store: Store) -> None:
    channel = ChannelRef("s1", "c1")
    assert await store.channel_settings(channel) is None
    wanted = ChannelSettings(
        source="both", topics=("cnn", "rnn"), difficulty="hard", thread=True, ping="42"
    )
    await store.set_channel_settings(channel, wanted, at=START)
    assert await store.channel_settings(channel) == wanted
    await store.set_channel_settings(channel, ChannelSettings(), at=START)
    assert await store.channel_settings(channel) == ChannelSettings()
    assert await store.channel_settings(ChannelRef("s2", "c1")) is None
