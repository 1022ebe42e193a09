"""The bolt listeners: `/dlquiz`, daily and practice buttons, and the Events API retry filter.

Slack wants every request acknowledged within 3 seconds, and in HTTP mode bolt sends the
HTTP 200 the moment `ack()` is called while the listener runs on. So:
- a button press (daily or practice) is written to the database first and acknowledged after,
  because that 200 tells Slack (and the member) the answer arrived: a crash after it must not
  lose the answer;
- an admin subcommand (which may post in the channel) is acknowledged first, then worked on,
  then answered through the `response_url`;
- any other subcommand is answered in the acknowledgement itself, unless it takes longer than
  `ACK_BUDGET`, in which case it is acknowledged and answered through the `response_url`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import charts, convert
from adapters.slack.admins import AdminDirectory
from adapters.slack.blocks import Message, reply_message
from adapters.slack.responses import ResponseUrls
from bot.commands import ADMIN_COMMANDS, Command, CommandError, Practice, parse_command
from bot.engine import QuizEngine
from bot.inflight import InFlight
from bot.logs import context
from bot.models import Invocation, Notice, PracticeResult, Reply, StatsCard, Tone

log = logging.getLogger(__name__)

COMMAND = "/dlquiz"
ANSWER_ACTION = re.compile(rf"^{convert.ANSWER_ACTION_PREFIX}[0-9]+$")
PRACTICE_ACTION = re.compile(rf"^{convert.PRACTICE_ACTION_PREFIX}[0-9]+$")
ACK_BUDGET = 2.0  # seconds of work before a reply moves from the ack to the response_url
SEEN_EVENTS = 10_000

NOT_OURS = Notice("That button is not an answer to a dlquiz question.", Tone.ERROR)
NOT_SAVED = Notice("Your answer could not be saved; please press the button again.", Tone.ERROR)
FAILED = Notice("Something went wrong on our side; nothing was changed. Try again.", Tone.ERROR)
ALREADY_DONE = Notice(
    "Already done: this exact request was received before, and it is acted on once only.",
    Tone.INFO,
)
CHART_REFUSED = (
    "Slack refused your stats chart ({error}); the numbers above are complete. The app needs"
    " the files:write and im:write scopes (see the manifest) to send it to your DMs."
)
CHART_FAILED = "Your stats chart could not be uploaded; the numbers above are complete. Try again."


def ephemeral(message: Message) -> dict[str, Any]:
    """Keyword arguments of `ack`/`respond` for a message only the caller sees."""
    return {"text": message.text, "blocks": message.blocks, "response_type": "ephemeral"}


class EventDeduper(AsyncMiddleware):
    """Drops Events API deliveries already seen: Slack retries (`X-Slack-Retry-Num`) with the
    same `event_id` when a first delivery was slow, and each must be processed once only.

    The manifest subscribes to no events today; this keeps any future subscription safe.
    """

    def __init__(self, capacity: int = SEEN_EVENTS) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],  # bolt's name for it
    ) -> BoltResponse | None:
        event_id = convert.event_id(req.body)
        if event_id is not None:
            if event_id in self._seen:
                retry = req.headers.get("x-slack-retry-num", ["?"])[0]
                log.info("dropping delivery %s of event %s: already processed", retry, event_id)
                return BoltResponse(status=200, body="")
            self._seen[event_id] = None
            while len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
        return await next()


class Handlers:
    """What each Slack request does, in terms of the engine."""

    def __init__(
        self,
        *,
        engine: QuizEngine,
        admins: AdminDirectory,
        inflight: InFlight,
        responses: ResponseUrls | None = None,
    ) -> None:
        self.engine = engine
        self.admins = admins
        self.inflight = inflight
        self.responses = responses or ResponseUrls()

    async def command(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient | None = None,
        *,
        request_key: str | None = None,
    ) -> None:
        """`/dlquiz …`: parse, then answer in the ack or through the response_url; a stats
        chart follows in the member's DM (`client` is bolt's, with the workspace's token).

        `request_key` names this very request (see `request_key`): an admin subcommand runs
        for the first request with a key only, so a replay of a signed request changes nothing.
        """
        invocation = convert.command_invocation(body)
        if invocation is None:
            await ack(**ephemeral(reply_message(FAILED)))
            return
        try:
            command = parse_command(convert.command_text(body))
        except CommandError as exc:
            problem = str(exc)
            if "/dlquiz" not in problem:
                problem += "; `/dlquiz help` shows the usage"
            await ack(**ephemeral(reply_message(Notice(problem, Tone.ERROR))))
            return
        if isinstance(command, ADMIN_COMMANDS):
            await ack()  # posting in the channel and users.info may outlast Slack's 3 seconds
            try:
                first = await self._first_time(request_key, invocation)
            except Exception:
                log.exception("could not check whether a request is a replay")
                await self._respond(respond, FAILED)
                return
            if not first:
                await self._respond(respond, ALREADY_DONE)
                return
            reply = await self._as_admin(command, invocation)
            await self._respond(respond, reply)
            return
        work = asyncio.ensure_future(self._reply(command, invocation))
        done, _ = await asyncio.wait({work}, timeout=ACK_BUDGET)
        if done:
            reply = work.result()
            await ack(**ephemeral(reply_message(reply)))
        else:
            await ack()
            reply = await work
            await self._respond(respond, reply)
        if isinstance(reply, StatsCard) and reply.chart is not None and client is not None:
            await self._send_chart(client, respond, invocation, reply)

    async def _send_chart(
        self, client: AsyncWebClient, respond: AsyncRespond, invocation: Invocation, card: StatsCard
    ) -> None:
        member = invocation.member
        try:
            await charts.send_to_dm(
                client, user_id=member.user_id, png=card.chart or b"", name=card.name
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown error"))
            log.warning("could not send a stats chart: %s", error, extra=context(member.server))
            await self._respond(respond, Notice(CHART_REFUSED.format(error=error), Tone.ERROR))
        except (SlackRequestError, OSError, TimeoutError) as exc:
            log.warning("could not upload a stats chart: %s", exc, extra=context(member.server))
            await self._respond(respond, Notice(CHART_FAILED, Tone.ERROR))

    async def answer(
        self, ack: Callable[[], Awaitable[object]], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """A daily answer button: record, then ack, then confirm to the presser."""
        press = convert.press_from_payload(body)
        if press is None:
            log.warning("refused a click that is not a dlquiz answer: %r", body.get("actions"))
            await ack()
            await self._respond(respond, NOT_OURS)
            return
        try:
            notice = await self.engine.answer(
                channel=press.channel,
                member=press.member,
                round_id=press.round_id,
                choice=press.choice,
                token=press.token,
            )
        except Exception:
            log.exception(
                "could not record an answer to round %d",
                press.round_id,
                extra=context(press.channel.server, press.channel.channel),
            )
            notice = NOT_SAVED
        # Only now does Slack hear the press arrived: the answer is committed (or refused).
        await ack()
        await self._respond(respond, notice)

    async def practice_answer(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """A practice button: mark, then ack, then turn the card into its result."""
        parsed = convert.first_action(body)
        practice = convert.parse_practice(parsed.get("action_id"), parsed.get("value"))
        invocation = convert.interaction_invocation(body)
        if practice is None or invocation is None:
            log.warning("refused a click that is not a practice answer: %r", parsed)
            await ack()
            await self._respond(respond, NOT_OURS)
            return
        question_id, choice = practice
        try:
            reply = await self.engine.practice_answer(
                member=invocation.member, question_id=question_id, choice=choice
            )
        except Exception:
            log.exception(
                "could not mark a practice answer to %s",
                question_id,
                extra=context(invocation.member.server),
            )
            reply = NOT_SAVED
        await ack()  # after the mark is committed, as for a daily answer
        # The marked question replaces its card; a refusal leaves the card and says why.
        await self._respond(respond, reply, replace=isinstance(reply, PracticeResult))

    async def practice_next(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """The "next practice question" button: another card under the same topic filter."""
        await ack()
        topic = convert.parse_next_practice(convert.first_action(body).get("value"))
        invocation = convert.interaction_invocation(body)
        if topic is None or invocation is None:
            await self._respond(respond, NOT_OURS)
            return
        reply = await self._reply(Practice(topic or None), invocation)
        await self._respond(respond, reply)

    async def _first_time(self, key: str | None, invocation: Invocation) -> bool:
        # The database decides, so a replay sent to another replica is caught as well.
        if key is None:
            return True  # nothing names the request (no signature, no trigger_id): run it
        if await self.engine.store.first_time(key, self.engine.clock.now()):
            return True
        where = invocation.channel
        log.info("ignored a replayed request", extra=context(where.server, where.channel))
        return False

    async def _as_admin(self, command: Command, invocation: Invocation) -> Reply:
        member = invocation.member
        team = member.server.removeprefix(convert.SERVER_PREFIX)
        try:
            admin = await self.admins.is_admin(team=team, user_id=member.user_id)
        except (SlackApiError, OSError, TimeoutError) as exc:
            log.warning(
                "users.info for %s failed: %s", member.user_id, exc, extra=context(member.server)
            )
            return Notice(
                "Could not check your admin rights with Slack; nothing was changed. Try again.",
                Tone.ERROR,
            )
        invocation = replace(invocation, member=replace(member, is_admin=admin))
        return await self._reply(command, invocation)

    async def _reply(self, command: Command, invocation: Invocation) -> Reply:
        try:
            return await self.engine.handle(command, invocation=invocation)
        except Exception:
            where = invocation.channel
            log.exception(
                "/dlquiz %s failed",
                type(command).__name__,
                extra=context(where.server, where.channel),
            )
            return FAILED

    async def _respond(self, respond: AsyncRespond, reply: Reply, *, replace: bool = False) -> None:
        """Send a reply only the member sees: a new message unless `replace` (never replace a
        channel's question: only an ephemeral practice card is ever replaced)."""
        message = reply_message(reply)
        url = respond.response_url
        if not url:
            log.warning("could not send a reply: the request has no response_url")
            return
        # What bolt's respond() sends, over the shared session instead of a new one per reply.
        body: dict[str, Any] = {"text": message.text}
        if message.blocks:
            body["blocks"] = message.blocks
        body.update(response_type="ephemeral", replace_original=replace)
        try:
            status, text = await self.responses.post(url, body)
        except Exception as exc:  # the reply is lost, not the work: log and carry on
            log.warning("could not send a reply through response_url: %s", exc)
            return
        if status != 200:
            log.warning("response_url refused a reply: %s %s", status, text)


Handler = Callable[[AsyncAck, dict[str, Any], AsyncRespond], Awaitable[None]]


def _tracked(inflight: InFlight, handle: Handler) -> Handler:
    # Bolt passes a listener's arguments by parameter name: these three names are what it wants.
    async def listener(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        async with inflight.track():
            await handle(ack, body, respond)

    listener.__name__ = listener.__qualname__ = f"dlquiz_{handle.__name__}"  # for bolt's logs
    return listener


def request_key(request: AsyncBoltRequest, body: dict[str, Any]) -> str | None:
    """What names one request from Slack however often it is delivered: its signature (over
    its timestamp and body) in HTTP mode, else its trigger_id (Socket Mode, which is not signed).
    """
    signature = request.headers.get("x-slack-signature", [""])[0]
    if signature:
        return f"slack:{signature}"
    trigger = body.get("trigger_id")
    return f"slack-trigger:{trigger}" if isinstance(trigger, str) and trigger else None


def is_answer_press(body: dict[str, Any]) -> bool:
    """Whether a request is a press of a daily answer button (matched as bolt would match an
    action listener: on the first action's id)."""
    if body.get("type") != "block_actions":
        return False
    action_id = convert.first_action(body).get("action_id")
    return isinstance(action_id, str) and ANSWER_ACTION.match(action_id) is not None


class AnswerPresses(AsyncMiddleware):
    """Answers a daily answer press itself, in place of a bolt listener.

    bolt's listener runner starts a listener as a task, then polls every 10 ms until it calls
    `ack()`, for at most 3 s. A press is acknowledged only once its answer is committed, so each
    press in flight woke the event loop every 10 ms until then, and its HTTP 200 waited for the
    next tick: at a busy minute, thousands of pollers and a 10 ms floor on every press. Here the
    200 goes out the moment the answer is committed, and nothing polls. It runs after bolt's
    authorization (with many workspaces, a workspace that has not installed the app is still
    refused) and answers both HTTP mode and Socket Mode; every other request goes on to bolt's
    listeners as before.
    """

    def __init__(self, handlers: Handlers) -> None:
        self.handlers = handlers
        # The loop keeps only weak references to tasks: a confirmation still being sent after
        # its 200 went out is kept here until it is done.
        self._running: set[asyncio.Task[None]] = set()

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],  # bolt's name for it
    ) -> BoltResponse | None:
        if not is_answer_press(req.body):
            return await next()
        acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def ack() -> None:
            if not acked.done():
                acked.set_result(None)

        respond = AsyncRespond(response_url=req.context.response_url)
        work = asyncio.ensure_future(self._answer(ack, req.body, respond))
        self._running.add(work)
        work.add_done_callback(self._running.discard)
        await asyncio.wait({acked, work}, return_when=asyncio.FIRST_COMPLETED)
        if acked.done():
            return BoltResponse(status=200, body="")
        return BoltResponse(status=500, body="")  # it failed before the answer was committed

    async def _answer(
        self, ack: Callable[[], Awaitable[None]], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        async with self.handlers.inflight.track():
            try:
                await self.handlers.answer(ack, body, respond)
            except Exception:
                log.exception("could not handle an answer press")


def register_answers(app: AsyncApp, handlers: Handlers) -> None:
    """Answer the daily answer buttons (see `AnswerPresses`)."""
    app.middleware(AnswerPresses(handlers))


def register(app: AsyncApp, handlers: Handlers) -> None:
    """Attach the other listeners to the app (after `register_answers`)."""
    inflight = handlers.inflight

    # Bolt passes a listener's arguments by parameter name, `request` included.
    async def dlquiz_command(
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        request: AsyncBoltRequest,
        client: AsyncWebClient,
    ) -> None:
        async with inflight.track():
            await handlers.command(
                ack, body, respond, client, request_key=request_key(request, body)
            )

    app.middleware(EventDeduper())
    app.command(COMMAND)(dlquiz_command)
    app.action(PRACTICE_ACTION)(_tracked(inflight, handlers.practice_answer))
    app.action(convert.PRACTICE_NEXT_ACTION)(_tracked(inflight, handlers.practice_next))
