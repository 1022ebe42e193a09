"""Questions a community owns, through the engine and the memory platform: suggest, review,
the author told, the daily draw following the channel's settings, and isolation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from adapters.memory import MemoryPlatform
from bot import commands as cmd
from bot.engine import QuizEngine
from bot.models import Draft, Notice, ReviewCard, SettingsCard, SuggestForm, Tone
from bot.server_questions import SERVER_PREFIX, check_draft, check_text, export_text
from tests.conftest import invocation

GOOD = Draft(
    prompt="What does torch.relu return for an input of -2.0?",
    choices="*0.0\n-2.0\n2.0",
    explanation="ReLU keeps positive inputs and maps every negative input to zero.",
    topic="activation-functions easy",
    code="import torch\nprint(torch.relu(torch.tensor(-2.0)))",
)


async def run(engine: QuizEngine, text: str, name: str, **kw: object) -> object:
    return await engine.handle(cmd.parse_command(text), invocation=invocation(name, **kw))  # type: ignore[arg-type]


async def test_a_suggestion_is_reviewed_told_and_drawn(
    engine: QuizEngine, platform: MemoryPlatform
) -> None:
    form = await run(engine, "suggest", "bob")
    assert form == SuggestForm()
    waiting = await engine.community.submit(invocation("bob"), GOOD)
    assert isinstance(waiting, Notice)
    assert "waiting for an admin's review" in waiting.text
    card = await run(engine, "review", "ann", admin=True)
    assert isinstance(card, ReviewCard)
    assert card.author_name == "bob"
    assert card.question.code is not None
    refused = await run(engine, "review", "bob")
    assert isinstance(refused, Notice)
    assert refused.tone is Tone.ERROR
    done = await run(engine, f"review approve {card.id}", "ann", admin=True)
    assert done == Notice(f"Question #{card.id} approved.", Tone.OK)
    [(server, user, text)] = platform.notes
    assert (server, user) == ("test:s1", "u-bob")
    assert "was approved" in text
    settings = await run(engine, "settings source server", "ann", admin=True)
    assert isinstance(settings, SettingsCard)
    assert settings.pool == 1
    assert (await engine.post(invocation("ann").channel)).error is None
    [posted] = platform.questions
    assert posted.question.id.startswith(SERVER_PREFIX)
    assert posted.question.prompt == GOOD.prompt
    # Removing it later changes nothing for the round that asked it.
    await run(engine, f"review remove {card.id}", "ann", admin=True)
    await engine.reveal(invocation("ann").channel)
    assert platform.reveals[0].question.answer == 0


async def test_edit_and_reject_and_the_next_command_tells(
    engine: QuizEngine, platform: MemoryPlatform
) -> None:
    platform.unreachable.add("u-bob")
    await engine.community.submit(invocation("bob"), GOOD)
    card = await run(engine, "review", "ann", admin=True)
    assert isinstance(card, ReviewCard)
    form = await run(engine, f"review edit {card.id}", "ann", admin=True)
    assert isinstance(form, SuggestForm)
    assert form.draft.choices.startswith("*0.0")
    changed = replace(GOOD, prompt="What does relu(-3.0) give?")
    saved = await engine.community.submit(invocation("ann", admin=True), changed, edit_of=card.id)
    assert saved == Notice(f"Question #{card.id} saved and approved.", Tone.OK)
    await engine.community.submit(invocation("bob"), replace(GOOD, topic="cnn hard"))
    second = await run(engine, "review", "ann", admin=True)
    assert isinstance(second, ReviewCard)
    await run(engine, f"review reject {second.id} too close to the first", "ann", admin=True)
    assert platform.notes == []
    news = await run(engine, "help", "bob")
    assert isinstance(news, Notice)
    assert "was approved" in news.text
    assert "Reason: too close to the first" in news.text
    again = await run(engine, "help", "bob")
    assert isinstance(again, Notice)
    assert "Reason" not in again.text


async def test_invalid_suggestions_get_the_checkers_message(engine: QuizEngine) -> None:
    bad = Draft(prompt="x" * 301, choices="a\nb", explanation="e", topic="cnn easy")
    form = await engine.community.submit(invocation("bob"), bad)
    assert isinstance(form, SuggestForm)
    assert form.draft == bad  # nothing typed is lost
    assert dict(form.problems) == {
        "prompt": "prompt is 301 characters long; at most 300 allowed",
        "choices": "mark exactly one right choice with * at the start of its line (found 0)",
    }
    one = Draft(prompt="Why?", choices="*a", explanation="e", topic="cnn easy")
    form = await engine.community.submit(invocation("bob"), one)
    assert isinstance(form, SuggestForm)
    assert dict(form.problems)["choices"] == "the question has 1 choices; 2 to 5 are allowed"


async def test_pending_suggestions_are_limited(engine: QuizEngine) -> None:
    for n in range(3):
        draft = replace(GOOD, prompt=f"Question number {n} about relu outputs?")
        await engine.community.submit(invocation("bob"), draft)
    refused = await run(engine, "suggest", "bob")
    assert isinstance(refused, Notice)
    assert "3 suggestions waiting" in refused.text


async def test_another_server_never_sees_or_draws_them(
    engine: QuizEngine, platform: MemoryPlatform
) -> None:
    await engine.community.submit(invocation("ann", admin=True), GOOD)
    other = invocation("zed", server="test:s2", admin=True)
    listed = await engine.handle(cmd.Review("list"), invocation=other)
    assert "no questions of its own" in engine_text(listed)
    await engine.handle(cmd.parse_command("settings source server"), invocation=other)
    outcome = await engine.post(other.channel)
    assert outcome.error is not None
    assert "no question matches this channel's settings" in outcome.error
    assert platform.questions == []


async def test_an_empty_pool_is_the_scheduled_posts_error(engine: QuizEngine) -> None:
    admin = invocation("ann", admin=True)
    await engine.handle(cmd.parse_command("schedule 09:00"), invocation=admin)
    await engine.handle(cmd.parse_command("settings source server"), invocation=admin)
    from tests.conftest import START

    await engine.post(admin.channel, day=START.date())
    card = await engine.schedule_card(admin.channel)
    assert card.last_error is not None
    assert "no question matches" in card.last_error
    posted = await engine.handle(cmd.PostNow(), invocation=admin)
    assert isinstance(posted, Notice)
    assert "no question matches" in posted.text


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("<@&1302744932918091826>", "1302744932918091826"),
        ("1302744932918091826", "1302744932918091826"),
        ("<!subteam^S0614TZR7|@ml-team>", "S0614TZR7"),
        ("S0614TZR7", "S0614TZR7"),
        ("off", "off"),
        ("OFF", "off"),
    ],
)
def test_a_ping_takes_a_role_mention_or_id(typed: str, stored: str) -> None:
    parsed = cmd.parse_command(f"settings ping {typed}")
    assert isinstance(parsed, cmd.Settings)
    assert parsed.ping == stored


@pytest.mark.parametrize("typed", ["@ml-team", "ml-team", "<@123>", "everyone", "@here"])
def test_a_ping_refuses_a_name_that_is_not_a_mention(typed: str) -> None:
    with pytest.raises(cmd.CommandError, match="is not a role: type @ and pick the role"):
        cmd.parse_command(f"settings ping {typed}")


async def test_settings_filter_the_bank_draw(engine: QuizEngine, platform: MemoryPlatform) -> None:
    admin = invocation("ann", admin=True)
    topic = engine.bank.topics[0].slug
    reply = await engine.handle(
        cmd.parse_command(f"settings topics {topic} difficulty any thread on ping <@&42>"),
        invocation=admin,
    )
    assert isinstance(reply, SettingsCard)
    assert (reply.topics, reply.thread, reply.ping) == ((topic,), True, "42")
    for _ in range(reply.pool + 1):
        await engine.post(admin.channel)
    drawn = [q.question for q in platform.questions]
    assert {q.topic for q in drawn} == {topic}
    assert len({q.id for q in drawn[: reply.pool]}) == reply.pool  # no repeat before used up
    bad = await engine.handle(cmd.parse_command("settings topics nope"), invocation=admin)
    assert isinstance(bad, Notice)
    assert "unknown topic nope" in bad.text


def test_export_and_import_round_trip(tmp_path: object) -> None:
    from pathlib import Path

    from bot.server_questions import check_draft

    question = check_draft(GOOD, key="relu-negative")
    assert not isinstance(question, list)
    text = export_text([question])
    checked = check_text(text, Path("x.yaml"))
    assert checked.problems == []
    assert checked.questions == [question]


def engine_text(reply: object) -> str:
    from bot.render import reply_text

    return reply_text(reply)  # type: ignore[arg-type]


def test_questions_import_is_all_or_nothing_and_exports_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import main

    monkeypatch.setenv("DLQUIZ_DB", str(tmp_path / "q.db"))
    good = check_draft(GOOD, key="relu-negative")
    assert not isinstance(good, list)
    source = tmp_path / "in.yaml"
    source.write_text(export_text([good]) + "---\ntopic: cnn\ntitle: CNN\nquestions: [{id: x}]\n")
    assert main(["questions", "import", str(source), "--server", "console:local"]) == 1
    err = capsys.readouterr().err
    assert f"{source}:22: missing field 'prompt' in a question" in err
    assert "nothing imported" in err
    source.write_text(export_text([good]))
    assert main(["questions", "import", str(source), "--server", "console:local"]) == 0
    out = tmp_path / "out.yaml"
    assert main(["questions", "export", "--server", "console:local", "--out", str(out)]) == 0
    assert out.read_text() == source.read_text()
    capsys.readouterr()
    assert main(["questions", "export", "--server", "slack:T2"]) == 0
    assert capsys.readouterr().out == ""  # another server's set is its own
