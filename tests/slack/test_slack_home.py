"""The Home tab through the real bolt app and the fake Slack: published when a member opens it,
Practice started from it, re-published after a reveal for the members it changed, and a
failing `views.publish` that never fails the reveal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fake_slack import TEAM, FakeSlack, PublishedHome, home_problem
from slack_driver import ANA, BEN, CHANNEL, CY, DEE, ErrorLog, SlackDriver, buttons_of

from adapters.slack.convert import server_key
from adapters.slack.home import PUBLISH_BURST, PUBLISH_RATE, Pace
from adapters.slack.home_view import (
    HOME_PRACTICE_ACTION,
    MAX_HEADER_TEXT,
    MAX_VIEW_BLOCKS,
    HomePage,
    home_view,
)
from adapters.slack.platform import SlackPlatform
from bot.models import (
    ChannelRef,
    LeaderboardCard,
    Notice,
    Period,
    RevealPost,
    Standing,
    StatsCard,
    Tone,
    TopicMastery,
)

HERE = ChannelRef(server_key(TEAM), CHANNEL)


async def home_of(slack: SlackDriver, user_id: str, count: int = 1) -> PublishedHome:
    """The member's Home once it has been published `count` times."""
    fake = slack.fake
    await fake.wait_for(lambda: len(fake.homes_of(user_id)) >= count)
    return fake.homes_of(user_id)[count - 1]


async def play_round(slack: SlackDriver, *, right: list[str], wrong: list[str]) -> int:
    """An admin posts a question; members answer; the round stays open. Its id."""
    await slack.command(ANA, "post")
    row = await slack.engine.store.open_round(HERE)
    assert row is not None
    question = slack.posted()
    everyone = {u.id: u for u in (ANA, BEN, CY, DEE)}
    for user_id in right:
        await slack.press(everyone[user_id], question, row.answer)
    for user_id in wrong:
        await slack.press(everyone[user_id], question, (row.answer + 1) % row.choice_count)
    return row.id


async def test_a_first_timer_gets_a_welcome_home_with_practice(slack: SlackDriver) -> None:
    assert await slack.open_home(BEN, tab="messages") == 200
    assert await slack.open_home(BEN) == 200

    home = await home_of(slack, BEN.id)
    assert home.team == TEAM
    assert home.view["type"] == "home"
    assert "Welcome to dlquiz" in home.text
    assert "Points" not in home.text
    assert home.button(HOME_PRACTICE_ACTION)["text"]["text"] == "Practice"
    assert "Nobody has points yet" in home.text
    await slack.open_home(CY)
    await home_of(slack, CY.id)
    assert len(slack.fake.homes_of(BEN.id)) == 1, "the Messages tab publishes nothing"
    viewers = await slack.engine.store.home_viewers(1)
    assert viewers == []  # nobody has answered anything yet


async def test_home_shows_points_rank_streaks_mastery_and_the_top_ten(
    slack: SlackDriver,
) -> None:
    await play_round(slack, right=[BEN.id, DEE.id], wrong=[CY.id])
    await slack.command(ANA, "reveal")

    await slack.open_home(BEN)
    text = (await home_of(slack, BEN.id)).text
    assert "*Points*\n" in text
    assert "*Rank*\n1 of 2" in text
    assert "*Streak*\n1 now" in text
    assert "*Best streak*\n1" in text
    # Topic titles from the bank are escaped, like every text on Slack.
    assert "Nasty &lt;text&gt; &amp; co: 0 of 2 mastered" in text
    assert "Plain: 0 of 1 mastered" in text
    assert "Top 10 of this workspace" in text
    assert BEN.name in text
    assert "&lt;!channel&gt; &amp; &lt;@U0ANA0001&gt;" in text, "Dee's name, escaped"
    assert "<!channel>" not in text
    assert CY.name not in text.split("Top 10")[1], "no points, not listed"


async def test_practice_from_home_arrives_in_the_dm_and_is_marked(slack: SlackDriver) -> None:
    await slack.open_home(BEN)
    home = await home_of(slack, BEN.id)

    assert await slack.press_home(BEN, home, HOME_PRACTICE_ACTION) == 200
    [opened] = slack.fake.api("conversations.open")
    assert opened.args["users"] == BEN.id
    dm = f"D{BEN.id}"
    card = slack.posted()
    assert card["channel"] == dm
    assert "Practice" in all_text_of(card)
    question_id = buttons_of(card)[0]["value"].split(":")[0]
    question = slack.engine.bank.get(question_id)
    assert question is not None

    # The card's buttons are the practice buttons of `/dlquiz practice`, answered where it is.
    pressed = await slack.press(BEN, card, question.answer, channel=dm)
    [marked] = pressed.replies
    assert marked.body["replace_original"] is True
    assert "Right." in marked.text
    [again] = buttons_of(marked.body)
    assert again["text"]["text"] == "Next practice question"
    assert slack.fake.homes_of(BEN.id) == [home], "practice never touches the daily numbers"


async def test_a_practice_that_cannot_reach_the_dm_says_why_on_home(
    slack: SlackDriver, logged_errors: ErrorLog
) -> None:
    await slack.open_home(BEN)
    home = await home_of(slack, BEN.id)
    slack.fake.errors["conversations.open"] = "user_disabled"

    await slack.press_home(BEN, home, HOME_PRACTICE_ACTION)
    again = await home_of(slack, BEN.id, 2)
    assert again.text.startswith(
        "\nYour dlquiz\n:warning: Your practice question could not be sent to the Messages tab"
        " (user_disabled)."
    )
    assert again.button(HOME_PRACTICE_ACTION)
    assert logged_errors.records == []


async def test_a_reveal_republishes_home_for_answerers_who_opened_it(slack: SlackDriver) -> None:
    await slack.open_home(BEN)
    await slack.open_home(DEE)
    first = await home_of(slack, BEN.id)
    await home_of(slack, DEE.id)
    assert "Welcome to dlquiz" in first.text
    await play_round(slack, right=[BEN.id, CY.id], wrong=[])  # Cy never opened Home

    revealed = await slack.command(ANA, "reveal")
    assert "posted its reveal" in revealed.text
    assert slack.home is not None
    await slack.home.idle()

    after = await home_of(slack, BEN.id, 2)
    assert "*Rank*\n1 of 2" in after.text
    assert "Welcome to dlquiz" not in after.text
    assert slack.fake.homes_of(CY.id) == [], "never opened Home: nothing published"
    assert len(slack.fake.homes_of(DEE.id)) == 1, "did not answer: their Home did not change"


@pytest.mark.parametrize("failure", ["429 past the retries", "refused"])
async def test_a_failing_views_publish_never_fails_the_reveal(
    slack: SlackDriver, fake: FakeSlack, logged_errors: ErrorLog, failure: str
) -> None:
    await slack.open_home(BEN)
    await slack.open_home(DEE)
    await home_of(slack, BEN.id)
    await home_of(slack, DEE.id)
    round_id = await play_round(slack, right=[BEN.id, DEE.id], wrong=[])
    if failure == "429 past the retries":
        # The client waits out each Retry-After 3 times, then the rest of the refresh is
        # skipped: every other call would be refused as well.
        fake.rate_limits["views.publish"] = 4
        attempts = 4
    else:
        fake.errors["views.publish"] = "internal_error"  # each member's Home, tried once
        attempts = 2

    revealed = await slack.command(ANA, "reveal")
    assert "posted its reveal" in revealed.text
    assert slack.home is not None
    await slack.home.idle()

    deliveries = await slack.engine.store.deliveries_of(round_id)
    assert {outcome for outcome, _ in deliveries.values()} == {"posted"}, deliveries
    assert any(m.get("thread_ts") for m in fake.messages), "the reveal is in the thread"
    assert len(fake.api("views.publish")) == 2 + attempts
    assert len(fake.homes_of(BEN.id)) == 1
    assert logged_errors.records == []
    # The numbers are not lost: the next visit draws them.
    fake.errors.clear()
    await slack.open_home(BEN)
    assert "*Points*" in (await home_of(slack, BEN.id, 2)).text


def test_the_fake_refuses_what_slack_refuses() -> None:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    assert home_problem({"type": "home", "blocks": [block] * MAX_VIEW_BLOCKS}) is None
    assert home_problem({"type": "home", "blocks": [block] * (MAX_VIEW_BLOCKS + 1)}) is not None
    assert home_problem({"type": "modal", "blocks": [block]}) is not None
    long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    assert home_problem({"type": "home", "blocks": [long]}) is not None


def test_the_worst_case_home_stays_inside_slacks_limits() -> None:
    hostile = "<!channel> & <@U0ANA0001> " * 40
    mastery = tuple(TopicMastery(f"topic-{i}", f"{hostile} {i}", 10**6, 10**6) for i in range(2000))
    stats = StatsCard(
        user_id="U1",
        name=hostile,
        points=10**12,
        rank=10**9,
        ranked=10**9,
        answered=10**9,
        correct=10**9,
        current_streak=10**6,
        longest_streak=10**6,
        mastery=mastery,
    )
    rows = tuple(
        Standing(rank=i + 1, user_id=f"U{i}", name=hostile, points=10**12, answered=1, correct=1)
        for i in range(10)
    )
    board = LeaderboardCard(period=Period.ALL, rows=rows, caller=rows[0], ranked=10**9)
    notice = Notice("&<>" * 2000, Tone.ERROR)
    page = HomePage(
        stats=stats, board=board, updated_at=datetime(2026, 3, 2, tzinfo=UTC), notice=notice
    )

    view = home_view(page)

    assert home_problem(view) is None
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    assert len(view["blocks"][0]["text"]["text"]) <= MAX_HEADER_TEXT
    assert "<!channel>" not in str(view)


def all_text_of(message: dict[str, object]) -> str:
    blocks = message.get("blocks")
    assert isinstance(blocks, list)
    return "\n".join(str(b) for b in blocks)


async def test_publishing_is_paced_under_tier_4_after_a_burst() -> None:
    now = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    pace = Pace(rate=PUBLISH_RATE, burst=PUBLISH_BURST, clock=lambda: now[0], sleep=sleep)
    for _ in range(PUBLISH_BURST):
        await pace.take()
    assert waits == [], "a burst goes out at once"
    for _ in range(100):
        await pace.take()
    assert len(waits) == 100
    assert now[0] == pytest.approx(60.0), "then 100 a minute, Slack's Tier 4"
    now[0] += 600  # a quiet while refills the burst, and no more
    for _ in range(PUBLISH_BURST + 1):
        await pace.take()
    assert len(waits) == 101


async def test_a_failing_reveal_listener_never_fails_the_reveal(
    slack: SlackDriver, logged_errors: ErrorLog
) -> None:
    def broken(channel: ChannelRef, reveal: RevealPost) -> None:
        raise RuntimeError("a listener bug")

    platform = slack.engine.platform
    assert isinstance(platform, SlackPlatform)
    platform.reveal_listeners.insert(0, broken)
    await slack.open_home(BEN)
    await home_of(slack, BEN.id)
    await play_round(slack, right=[BEN.id], wrong=[])
    logged_errors.expected = True

    revealed = await slack.command(ANA, "reveal")

    assert "posted its reveal" in revealed.text
    assert [r.getMessage() for r in logged_errors.records] == [
        "a listener failed after the reveal of round 1"
    ]
    assert slack.home is not None
    await slack.home.idle()
    assert len(slack.fake.homes_of(BEN.id)) == 2, "the listeners after it still ran"
