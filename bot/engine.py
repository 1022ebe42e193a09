"""The quiz: post a question, record answers, reveal, and answer the `/dlquiz` subcommands.

The engine knows rounds, answers, scores and time; it reaches a chat platform only through the
`ChatPlatform` port, and every reply to one member is a value the adapter renders.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from bot import commands as cmd
from bot import snapshot, stats_chart
from bot.community import Community, EmptyPool
from bot.content import Bank
from bot.delivery import Deliverer, question_post
from bot.insights import insights_reply
from bot.logs import context
from bot.models import (
    LEADERBOARD_PAGE,
    LETTERS,
    ChannelRef,
    Invocation,
    LeaderboardCard,
    Member,
    Notice,
    PageRequest,
    Period,
    PracticeCard,
    PracticeResult,
    Question,
    QuestionCard,
    Reply,
    ScheduleCard,
    Standing,
    StatsCard,
    Tone,
    Topic,
    TopicAccuracy,
    TopicMastery,
    TopicsCard,
)
from bot.ports import ChatPlatform, Clock
from bot.schedule import DailyTime, next_post_time, parse_time, parse_zone
from bot.scoring import BASE_POINTS
from bot.store import (
    AnswerRequest,
    AnswerStatus,
    ChannelSettings,
    NewRound,
    RoundRow,
    ScoreRow,
    Store,
    period_key,
)

log = logging.getLogger(__name__)

ScheduleListener = Callable[[ChannelRef, DailyTime | None], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PostOutcome:
    round_id: int | None
    error: str | None = None

    @property
    def already_posted(self) -> bool:
        return self.round_id is None and self.error is None


HELP_TEXT = """\
*dlquiz*: a deep-learning question every day in this channel.
Press a button to answer; the answer, explanation and tally come at the reveal.
`/dlquiz question`: the open question, with buttons if you have not answered
`/dlquiz leaderboard [week|month|all]`: the top 10 of this server and your rank
`/dlquiz stats [user]`: points, rank, accuracy, streaks, accuracy per topic
`/dlquiz practice [topic]`: a private practice question; missed ones come back
`/dlquiz topics`: the topics of the question bank, and how many you have mastered
`/dlquiz schedule`: when the daily question is posted here
Admins: `/dlquiz schedule HH:MM [Area/City]`, `/dlquiz schedule off`, `/dlquiz post`,\
 `/dlquiz reveal`,\
 `/dlquiz insights [question id]`"""


class QuizEngine:
    def __init__(
        self,
        *,
        store: Store,
        bank: Bank,
        platform: ChatPlatform,
        clock: Clock,
        rng: random.Random | None = None,
        platform_name: str | None = None,
    ) -> None:
        self.store = store
        self.bank = bank
        self.platform = platform
        self.clock = clock
        self.rng = rng or random.Random()
        self.schedule_listeners: list[ScheduleListener] = []
        self._channel_locks: defaultdict[ChannelRef, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.community = Community(
            store=store, bank=lambda: self.bank, clock=clock, platform=platform
        )
        self.deliverer = Deliverer(
            store=store,
            platform=platform,
            clock=clock,
            question_of=self.question_of,
            platform_name=platform_name,
        )

    # --- the daily round ----------------------------------------------------------------------

    async def post(
        self, channel: ChannelRef, *, day: date | None = None, daily: DailyTime | None = None
    ) -> PostOutcome:
        """Close the open question (queuing its reveal) and post a new one.

        With `day`, this is that local day's scheduled question: if the day already has one in
        this channel nothing new is recorded, whatever triggered the call. `daily` is the
        channel's schedule when the caller has just read it (it is read here otherwise). Either
        way the channel's waiting posts (a reveal that failed earlier, say) are retried now.
        """
        # The lock only orders this process's database work for the channel; posting happens
        # outside it, claimed in the database, so a hung post holds nobody up.
        async with self._channel_locks[channel]:
            now = self.clock.now()
            try:
                cycle, question = await self._pick_question(channel)
            except EmptyPool as exc:
                if day is not None and await self.store.daily_round_exists(channel, day):
                    return PostOutcome(round_id=None, error=None)  # the day's question is out
                log.warning("nothing to draw: %s", exc, extra=_ctx(channel))
                if day is not None:
                    await self.store.record_post_error(channel, error=str(exc), at=now)
                return PostOutcome(round_id=None, error=str(exc))
            started = await self.store.start_round(
                channel=channel,
                new=NewRound(
                    question_id=question.id,
                    topic=question.topic,
                    difficulty=question.difficulty.value,
                    choice_count=len(question.choices),
                    answer=question.answer,
                    base_points=BASE_POINTS[question.difficulty],
                    token=secrets.token_hex(4),
                    snapshot=snapshot.dump(question),
                ),
                cycle=cycle,
                day=day,
                posted_at=now,
                reveal_at=(
                    next_post_time(daily, after=now)
                    if daily
                    else await self._next_post_time(channel, now)
                ),
            )
        posted: set[int] = set()
        error = await self.deliverer.drain(channel, posted=posted)
        if started is None:
            log.info("the channel already has its question for %s", day, extra=_ctx(channel))
            return PostOutcome(round_id=None, error=error)
        delivered = started.round.id in posted
        if not delivered:  # posted earlier by another process, or not yet
            row = await self.store.round_by_id(started.round.id)
            delivered = row is not None and row.delivered
        if error is None and not delivered:
            error = "another post to this channel is still on its way; this one follows it"
        return PostOutcome(round_id=started.round.id, error=None if delivered else error)

    async def reveal(self, channel: ChannelRef) -> tuple[int | None, str | None]:
        """Close the open question and post its reveal: (the round closed, a delivery error)."""
        async with self._channel_locks[channel]:
            now = self.clock.now()
            closed = await self.store.close_round(channel, now)
            if closed is None:
                return None, None
        error = await self.deliverer.drain(channel)
        if not closed.delivered:
            return closed.id, None
        return closed.id, error

    async def answer(
        self, *, channel: ChannelRef, member: Member, round_id: int, choice: int, token: str = ""
    ) -> Notice:
        """Record a button press; the notice never says whether the answer is right."""
        outcome = await self.store.submit_answer(
            AnswerRequest(
                round_id=round_id,
                server=member.server,
                channel=channel.channel,
                user_id=member.user_id,
                name=member.name,
                choice=choice,
                at=self.clock.now(),
                token=token,
            )
        )
        status = outcome.status
        if status is AnswerStatus.RECORDED and outcome.choice is not None:
            return _RECORDED[outcome.choice]
        if status is AnswerStatus.DUPLICATE:
            return Notice(
                f"You already answered {_letter(outcome.choice)}; the first answer is final."
            )
        if status is AnswerStatus.CLOSED:
            return Notice("This question is closed: its answer has been revealed in the channel.")
        log.warning(
            "refused answer (%s) to round %s choice %s from %s",
            status.value,
            round_id,
            choice,
            member.user_id,
            extra=_ctx(channel),
        )
        if status is AnswerStatus.BAD_CHOICE:
            return Notice("That choice does not exist for this question.", Tone.ERROR)
        return Notice("That button does not belong to a question of this channel.", Tone.ERROR)

    def question_of(self, row: RoundRow) -> Question | None:
        """The question the round asked: as it kept it, else (rounds from before it kept one)
        as the bank has it now."""
        if row.question:
            try:
                return snapshot.load(row.question)
            except ValueError:
                log.exception("round %d keeps an unreadable question", row.id)
        return self.bank.get(row.question_id)

    async def _pick_question(self, channel: ChannelRef) -> tuple[int, Question]:
        state = await self.store.draw_state(channel)
        pool = await self.community.pool(channel, state.settings or ChannelSettings())
        cycle, posted, last = state.cycle, state.posted, state.last
        fresh = [q for q in pool if q.id not in posted]
        if not fresh:
            # Every question has been asked here: start over, but not with the one just asked.
            cycle += 1
            fresh = [q for q in pool if q.id != last] or pool
        return cycle, self.rng.choice(fresh)

    async def _next_post_time(self, channel: ChannelRef, now: datetime) -> datetime | None:
        daily = await self.daily_time(channel)
        return await self._next_daily_post(channel, daily, after=now) if daily else None

    async def _next_daily_post(
        self, channel: ChannelRef, daily: DailyTime, *, after: datetime
    ) -> datetime:
        """When the next daily question will really come: a local day that already had its
        question gets no other, so a time moved later that day means the next day's."""
        due = next_post_time(daily, after=after)
        while await self.store.daily_round_exists(channel, due.astimezone(daily.zone).date()):
            due = next_post_time(daily, after=due)
        return due

    async def daily_time(self, channel: ChannelRef) -> DailyTime | None:
        row = await self.store.schedule(channel)
        if row is None:
            return None
        return DailyTime(at=parse_time(row.time), zone=parse_zone(row.zone))

    # --- /dlquiz ------------------------------------------------------------------------------

    async def handle(self, command: cmd.Command, *, invocation: Invocation) -> Reply:
        """Answer one subcommand for one member; the reply is shown only to them. A member
        whose suggestion was decided while they could not be told hears it with a notice."""
        if isinstance(command, cmd.ShowInsights) and not invocation.member.is_admin:
            return Notice("Only admins can see how the questions performed.", Tone.ERROR)
        if isinstance(command, cmd.Suggest | cmd.Review | cmd.Settings):
            reply = await self.community.handle(command, invocation=invocation)
        else:
            reply = await self._answer(command, invocation=invocation)
        if isinstance(reply, Notice):
            news = await self.community.news(invocation.member)
            if news:
                return Notice(f"{news}\n\n{reply.text}", reply.tone)
        return reply

    async def _answer(self, command: cmd.Command, *, invocation: Invocation) -> Reply:
        if isinstance(command, cmd.ADMIN_COMMANDS) and not invocation.member.is_admin:
            return Notice(
                "Only admins can change the schedule, post or reveal; nothing was changed.",
                Tone.ERROR,
            )
        channel, member = invocation.channel, invocation.member
        match command:
            case cmd.Help():
                return Notice(HELP_TEXT)
            case cmd.ShowQuestion():
                return await self._show_question(channel, member)
            case cmd.ShowLeaderboard(period=period):
                return await self.leaderboard(server=member.server, period=period, caller=member)
            case cmd.ShowStats(user=user):
                return await self._show_stats(member, user)
            case cmd.ShowTopics():
                mastered = await self.store.mastery(server=member.server, user_id=member.user_id)
                topics = tuple(sorted(self.bank.topics, key=lambda t: t.title.casefold()))
                return TopicsCard(topics=topics, mastered=mastered)
            case cmd.Practice(topic=topic):
                return await self.practice(member, topic)
            case cmd.ShowSchedule():
                return await self.schedule_card(channel)
            case cmd.SetSchedule(at=at, zone=zone):
                return await self._set_schedule(channel, DailyTime(at=at, zone=zone))
            case cmd.ScheduleOff():
                return await self._schedule_off(channel)
            case cmd.PostNow():
                outcome = await self.post(channel)
                if outcome.error:
                    return Notice(f"The question could not be posted: {outcome.error}", Tone.ERROR)
                return Notice("Posted a new question in this channel.", Tone.OK)
            case cmd.RevealNow():
                closed, error = await self.reveal(channel)
                if closed is None:
                    return Notice("No question is open in this channel.")
                if error:
                    return Notice(
                        f"Closed, but the reveal could not be posted: {error}", Tone.ERROR
                    )
                return Notice("Closed the question and posted its reveal.", Tone.OK)
            case cmd.ShowInsights(question_id=question_id):
                return await insights_reply(self.store, member.server, question_id)
        raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover

    async def _show_question(self, channel: ChannelRef, member: Member) -> Reply:
        row = await self.store.open_round(channel)
        # A question that has not reached the channel yet cannot be answered either.
        question = self.question_of(row) if row is not None and row.delivered else None
        if row is None or question is None:
            nxt = await self._next_post_time(channel, self.clock.now())
            if nxt is None:
                return Notice(
                    "No question is open in this channel, and no daily time is set: an admin can"
                    " set one with `/dlquiz schedule HH:MM [Area/City]`."
                )
            return Notice(f"No question is open in this channel. The next one comes {_when(nxt)}.")
        answered = await self.store.choice_of(row.id, member.user_id)
        return QuestionCard(post=question_post(row, question), answered_choice=answered)

    async def leaderboard(
        self, *, server: str, period: Period, caller: Member, page: int | None = 0
    ) -> LeaderboardCard:
        """A page of the leaderboard (page None: the one that shows the caller), clamped to the
        pages there are, so a stale Next after the board shrank still shows a real page."""
        key = period_key(period, self.clock.now())
        # The caller's exact place (counting the members tied with them who sort first) is
        # only worked out for their own page; any other page just looks for them in its rows.
        standing = await self.store.standing(
            server=server, period=key, user_id=caller.user_id, with_place=page is None
        )
        own, rank, ranked, place = standing.score, standing.rank, standing.ranked, standing.place
        last = max(0, -(-ranked // LEADERBOARD_PAGE) - 1)
        wanted = (0 if place is None else (place - 1) // LEADERBOARD_PAGE) if page is None else page
        shown = min(max(wanted, 0), last)
        top = await self.store.leaderboard(
            server=server, period=key, limit=LEADERBOARD_PAGE, offset=shown * LEADERBOARD_PAGE
        )
        rows = tuple(_standing(rank, score) for rank, score in top)
        mine = _standing(rank, own) if own and rank is not None else None
        return LeaderboardCard(
            period=period,
            rows=rows,
            caller=mine,
            ranked=ranked,
            page=shown,
            viewer=caller.user_id,
            caller_elsewhere=rank is not None
            and all(score.user_id != caller.user_id for _, score in top),
        )

    async def leaderboard_page(self, member: Member, request: PageRequest) -> Reply:
        """A paging button pressed: only the member the leaderboard was made for may page it,
        since the page shows their own rank and their buttons."""
        if request.owner != member.user_id:
            return Notice(NOT_YOUR_LEADERBOARD, Tone.ERROR)
        return await self.leaderboard(
            server=member.server, period=request.period, caller=member, page=request.page
        )

    async def _show_stats(self, caller: Member, user: str | None) -> Reply:
        server = caller.server
        user_id = caller.user_id
        if user is not None:
            found = await self.store.find_member(server=server, text=user)
            if found is None:
                shown = user if len(user) <= 40 else user[:39] + "…"
                return Notice(
                    f"Nobody called '{shown}' has answered a question in this server yet."
                )
            user_id = found
        card = await self.stats_card(server=server, user_id=user_id)
        if card is None:
            return Notice("You have not answered a question in this server yet.")
        titles = {t.slug: t.title for t in self.bank.topics}
        return await stats_chart.with_chart(
            self.store, card, server=server, titles=titles, today=self.clock.now().date()
        )

    async def stats_card(self, *, server: str, user_id: str) -> StatsCard | None:
        """A member's numbers, without the chart; None when they have never answered a daily
        question in the server."""
        member = await self.store.member(server=server, user_id=user_id)
        if member is None:
            return None
        standing = await self.store.standing(
            server=server, period="all", user_id=user_id, with_place=False
        )
        score, rank, ranked = standing.score, standing.rank, standing.ranked
        points = score.points if score else 0
        topics = await self.store.topic_accuracy(server=server, user_id=user_id)
        mastered = await self.store.mastery(server=server, user_id=user_id)
        titles = {t.slug: t.title for t in self.bank.topics}
        return StatsCard(
            user_id=user_id,
            name=member.name,
            points=points,
            rank=rank,
            ranked=ranked,
            answered=score.answered if score else 0,
            correct=score.correct if score else 0,
            current_streak=member.current_streak,
            longest_streak=member.longest_streak,
            topics=tuple(
                TopicAccuracy(t, answered, correct, titles.get(t, t))
                for t, answered, correct in topics
            ),
            mastery=tuple(
                TopicMastery(t.slug, t.title, mastered.get(t.slug, 0), t.count)
                for t in self.bank.topics
            ),
        )

    # --- practice -------------------------------------------------------------------------------

    def find_topic(self, text: str) -> Topic | Notice:
        """The topic `text` names (any case, unique prefix), or a notice listing valid ones."""
        match = self.bank.match_topic(text)
        if isinstance(match, Topic):
            return match
        shown = text if len(text) <= 40 else text[:39] + "…"
        if match:
            names = ", ".join(t.slug for t in match)
            return Notice(f"'{shown}' matches several topics: {names}. Type more of the name.")
        names = ", ".join(t.slug for t in self.bank.topics)
        return Notice(f"Unknown topic '{shown}'. Topics: {names}", Tone.ERROR)

    async def practice(self, member: Member, topic_text: str | None) -> Reply:
        """A practice question for one member: a due one first, else one never met."""
        topic = None
        if topic_text is not None:
            found = self.find_topic(topic_text)
            if isinstance(found, Notice):
                return found
            topic = found
        now = self.clock.now()
        rows = await self.store.practice_rows(server=member.server, user_id=member.user_id)
        # Never the answer to a question open as a daily one anywhere in this server.
        hidden = await self.store.open_question_ids(member.server)
        pool = [
            q
            for q in self.bank.questions
            if q.id not in hidden and (topic is None or q.topic == topic.slug)
        ]
        met = [q for q in pool if q.id in rows and rows[q.id].box > 0]
        due = sorted((q for q in met if rows[q.id].due_at <= now), key=lambda q: rows[q.id].due_at)
        new = [q for q in pool if q.id not in rows or rows[q.id].box == 0]
        if due:
            question = due[0]
        elif new:
            question = self.rng.choice(new)
        elif met:
            soonest = min(rows[q.id].due_at for q in met)
            where = f" in {topic.title}" if topic else ""
            return Notice(f"All caught up{where}: the next question is due {_when(soonest)}.")
        else:
            return Notice("No practice question is available right now.")
        await self.store.ask_practice(
            server=member.server,
            user_id=member.user_id,
            question_id=question.id,
            topic=question.topic,
            filter=topic.slug if topic else None,
            at=now,
        )
        return PracticeCard(question=question, topic=topic, due=len(due), new=len(new))

    async def practice_answer(self, *, member: Member, question_id: str, choice: int) -> Reply:
        """Mark a practice press at once; it never touches the daily scores."""
        question = self.bank.get(question_id)
        if question is None or not 0 <= choice < len(question.choices):
            log.warning(
                "refused practice press %r/%r from %s",
                question_id,
                choice,
                member.user_id,
                extra=context(member.server),
            )
            return Notice("That practice button is not valid any more.", Tone.ERROR)
        if question_id in await self.store.open_question_ids(member.server):
            return Notice(
                "This question is now open as a daily question: answer it there.", Tone.ERROR
            )
        correct = choice == question.answer
        mark = await self.store.mark_practice(
            server=member.server,
            user_id=member.user_id,
            question_id=question_id,
            correct=correct,
            at=self.clock.now(),
        )
        if mark is None:
            return Notice("You already answered this practice question.")
        return PracticeResult(
            question=question,
            choice=choice,
            correct=correct,
            box=mark.box,
            next_due_at=mark.due_at,
            topic=mark.filter,
        )

    async def schedule_card(self, channel: ChannelRef) -> ScheduleCard:
        row = await self.store.schedule(channel)
        daily = await self.daily_time(channel)
        if row is None or daily is None:
            return ScheduleCard(time=None, zone=None, next_post_at=None)
        return ScheduleCard(
            time=row.time,
            zone=row.zone,
            next_post_at=await self._next_daily_post(channel, daily, after=self.clock.now()),
            last_error=row.last_error,
            last_error_at=row.last_error_at,
        )

    async def _set_schedule(self, channel: ChannelRef, daily: DailyTime) -> Reply:
        await self.store.set_schedule(
            channel, time=f"{daily.at:%H:%M}", zone=daily.zone.key, at=self.clock.now()
        )
        for listener in self.schedule_listeners:
            await listener(channel, daily)
        return await self.schedule_card(channel)

    async def _schedule_off(self, channel: ChannelRef) -> Reply:
        removed = await self.store.delete_schedule(channel)
        for listener in self.schedule_listeners:
            await listener(channel, None)
        if not removed:
            return Notice("This channel has no daily question to stop.")
        return Notice("The daily question is stopped in this channel.", Tone.OK)


# The confirmation of a press, one shared value per letter.
_RECORDED = {i: Notice(f"Recorded: {letter}", Tone.OK) for i, letter in enumerate(LETTERS)}

NOT_YOUR_LEADERBOARD = (
    "These buttons page the leaderboard of the member who asked for it; type"
    " `/dlquiz leaderboard` to get your own."
)


def _letter(choice: int | None) -> str:
    return LETTERS[choice] if choice is not None and 0 <= choice < len(LETTERS) else "?"


def _when(moment: datetime) -> str:
    return f"at {moment:%Y-%m-%d %H:%M} UTC"


def _ctx(channel: ChannelRef) -> dict[str, str]:
    return context(channel.server, channel.channel)


def _standing(rank: int, score: ScoreRow) -> Standing:
    return Standing(
        rank=rank,
        user_id=score.user_id,
        name=score.name,
        points=score.points,
        answered=score.answered,
        correct=score.correct,
    )
