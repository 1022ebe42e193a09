"""`dlquiz run slack`: check the settings, connect, and serve `/dlquiz` and the daily question.

Socket Mode when SLACK_APP_TOKEN is set (no public URL needed); otherwise HTTP mode on
`--port` at `/slack/events`, with every request's signature checked against
SLACK_SIGNING_SECRET, plus `GET /healthz` for load balancers and container probes.

The pieces are separate so tests can assemble them around a local fake of the Web API:
`make_client` -> `SlackPlatform` -> the engine (bot.runtime) -> `build_app` -> `http_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlparse

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncBoltRequest
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request.async_internals import build_async_context
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from adapters.slack import convert, forms, home, pages
from adapters.slack.admins import AdminDirectory
from adapters.slack.convert import DEFAULT_PORT
from adapters.slack.handlers import Handlers, register, register_answers
from adapters.slack.install import (
    INSTALL_PATH,
    Installations,
    StopWhenUninstalled,
    check_multi_workspace,
    multi_workspace,
)
from adapters.slack.platform import SlackPlatform
from adapters.slack.responses import ResponseUrls
from bot.config import ConfigError, Settings
from bot.content import Bank
from bot.engine import QuizEngine
from bot.inflight import InFlight
from bot.logs import release_held_logs
from bot.ports import Clock
from bot.runtime import running

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
RATE_LIMIT_RETRIES = 3
SHUTDOWN_GRACE = 30.0  # seconds running handlers get to finish at shutdown
# Slack's largest requests (a click carries the clicked message's blocks) are tens of kilobytes.
MAX_BODY = 256 * 1024


class Mode(StrEnum):
    """How the app connects to Slack."""

    SOCKET = "Socket Mode"
    HTTP = "HTTP mode"


# --- settings ----------------------------------------------------------------------------------


def check_settings(settings: Settings, *, port: int) -> Mode:
    """The connection mode the settings ask for; ConfigError (one line) if they cannot work."""
    if check_multi_workspace(settings):
        # Each workspace's token comes from its installation: SLACK_BOT_TOKEN is not used.
        _check_api_url(settings)
        _check_port(port)
        return Mode.HTTP
    token = settings.slack_bot_token
    if not token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: give the app's Bot User OAuth Token (xoxb-…)"
        )
    if token.startswith(("xapp-", "xoxp-")):
        raise ConfigError(
            f"SLACK_BOT_TOKEN holds a {token[:4]}- token: it needs the bot token (xoxb-…);"
            " an app-level token (xapp-…) goes in SLACK_APP_TOKEN"
        )
    if not token.startswith("xoxb-"):
        # Checked before any network call; the value itself is a secret, so it is not shown.
        raise ConfigError(
            "SLACK_BOT_TOKEN is not a bot token: a bot token starts with xoxb-"
            " (the app's Bot User OAuth Token, on its OAuth & Permissions page)"
        )
    _check_api_url(settings)
    app_token = settings.slack_app_token
    if app_token:
        if not app_token.startswith("xapp-"):
            raise ConfigError(
                "SLACK_APP_TOKEN must be an app-level token (starting with xapp-) with"
                " connections:write; unset it to use HTTP mode"
            )
        return Mode.SOCKET
    if not settings.slack_signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests"
            " (or set SLACK_APP_TOKEN to use Socket Mode)"
        )
    _check_port(port)
    return Mode.HTTP


def _check_api_url(settings: Settings) -> None:
    api = urlparse(settings.slack_api_url)
    if api.scheme not in ("http", "https") or not api.netloc:
        raise ConfigError(
            f"SLACK_API_URL={settings.slack_api_url} is not a URL such as https://slack.com/api/"
        )


def _check_port(port: int) -> None:
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port} is not a TCP port (1 to 65535, or 0 for any free one)")


# --- the pieces --------------------------------------------------------------------------------


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: SLACK_API_URL as its base, and 429 answers retried after Retry-After."""
    handlers = [
        *async_default_handlers(),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
    ]
    return AsyncWebClient(
        # Serving many workspaces, every call names its workspace's token itself.
        token=None if multi_workspace(settings) else settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=handlers,
    )


async def verify_token(client: AsyncWebClient) -> str:
    """Ask Slack who the token is (`auth.test`), so a bad token fails at start in one line."""
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        code = _error_code(exc)
        if code is None:
            raise ConfigError(_not_slack(client, _status_of(exc))) from None
        raise ConfigError(f"Slack refused SLACK_BOT_TOKEN: {code}") from None
    except AttributeError:
        # slack_sdk reads a text/plain answer as a string, then calls .get on it: a proxy's or
        # an outage's page served with status 200.
        raise ConfigError(_not_slack(client, 200)) from None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ConfigError(
            f"cannot reach the Slack Web API at {client.base_url}: {reason}"
        ) from None
    return f"{response.get('user', '?')} in workspace {response.get('team', '?')}"


def _error_code(exc: SlackApiError) -> str | None:
    """Slack's error code, or None when the answer was not Slack's JSON (an HTML page...)."""
    data = getattr(exc.response, "data", None)  # the SDK's response, or aiohttp's own
    code = data.get("error") if isinstance(data, dict) else None
    return code if isinstance(code, str) and code else None


def _status_of(exc: SlackApiError) -> int | None:
    status = getattr(exc.response, "status_code", None) or getattr(exc.response, "status", None)
    return status if isinstance(status, int) else None


def _not_slack(client: AsyncWebClient, status: int | None) -> str:
    answered = f"HTTP {status}" if status else "an unreadable answer"
    return (
        f"the Slack Web API at {client.base_url} answered auth.test with {answered} and a body"
        " that is not Slack's JSON: check SLACK_API_URL, or try again if Slack is down"
    )


class _TokenFromClient(logging.Filter):
    """Drops bolt's warning that its `token` is unused when a client is given.

    AsyncApp reads SLACK_BOT_TOKEN from the environment by itself, so with the variable set (as
    it always is here) and our client passed in, it warns on every start; the client carries
    that very token, so the warning says nothing an operator should act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_BOLT_LOG = logging.getLogger(f"slack_bolt.{AsyncApp.__name__}")
_BOLT_LOG.addFilter(_TokenFromClient())


def build_app(
    settings: Settings,
    *,
    engine: QuizEngine,
    client: AsyncWebClient,
    inflight: InFlight | None = None,
    installations: Installations | None = None,
    responses: ResponseUrls | None = None,
    home_tab: home.HomeTab | None = None,
) -> AsyncApp:
    """The bolt app serving `/dlquiz`, the answer buttons and the Home tab through `engine`;
    with `installations`, for every workspace that installed it, each with its own token."""
    if installations is None:
        app = AsyncApp(
            name="dlquiz",
            client=client,
            # Socket Mode requests come over an authenticated WebSocket and are not signed.
            signing_secret=settings.slack_signing_secret or "",
            # Every HTTP request reaches bolt through `http_app`, which has checked its
            # signature on the raw bytes: bolt would compute the same HMAC a second time.
            request_verification_enabled=False,
        )
        admins = AdminDirectory(client)
    else:
        app = AsyncApp(
            name="dlquiz",
            client=client,
            signing_secret=settings.slack_signing_secret or "",
            request_verification_enabled=False,  # as above: `http_app` checks signatures
            installation_store=installations.store,
            # auth.test once per workspace token, not on every request.
            # bolt takes its own authorizer classes here, though its hint names a function.
            authorize=AsyncInstallationStoreAuthorize(  # type: ignore[arg-type]
                logger=_BOLT_LOG,
                installation_store=installations.store,
                client_id=settings.slack_client_id,
                cache_enabled=True,
                bot_only=True,
            ),
            oauth_settings=installations.oauth_settings(settings),
        )
        app.middleware(StopWhenUninstalled(store=engine.store, installations=installations))
        admins = AdminDirectory(client, tokens=installations)
    handlers = Handlers(
        engine=engine,
        admins=admins,
        inflight=inflight or InFlight(),
        responses=responses,
    )
    register_answers(app, handlers)
    # The forms' `/dlquiz` listener before the other: bolt runs the first listener that matches.
    forms.register(app, handlers)
    register(app, handlers)
    pages.register(app, handlers)
    home_tab = home_tab or home.HomeTab(engine=engine, client=client, tokens=installations)
    home.register(app, home_tab, handlers.inflight)
    if isinstance(engine.platform, SlackPlatform):
        engine.platform.reveal_listeners.append(home_tab.round_revealed)
    if installations is not None:
        app.enable_token_revocation_listeners()
    return app


def bolt_request(request: web.Request, text: str, body: dict[str, Any]) -> AsyncBoltRequest:
    """The bolt request for an HTTP request from Slack whose body, decoded, is `text`, and
    read (`convert.read_body`), is `body`.

    The body was read once already to check it, so bolt is handed what was read instead of
    reading it again; the raw text, which the signature covers, is kept as bolt keeps it.
    """
    converted = AsyncBoltRequest(
        body="",
        query=request.query_string,
        headers=request.headers,  # type: ignore[arg-type]  # bolt copies them into lists
    )
    converted.raw_body = text
    converted.body = body
    converted.context = build_async_context(AsyncBoltContext({}), body)
    return converted


def _refusal(status: int, reason: str) -> web.Response:
    return web.Response(status=status, text=f"{reason}\n")


class _QuietProtocol(logging.Filter):
    """Drops aiohttp's traceback for a client that went away in the middle of its request.

    Anyone can open a connection to HTTP mode, send half a request and leave; aiohttp then logs
    "Error handling request" with a traceback for each, which buries real errors. A peer gone
    is not our error: it is shown at DEBUG, in one line. (aiohttp's own "connection lost"
    while a handler reads the body is a ConnectionResetError.)
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, _PEER_GONE):
            log.debug("a client went away mid-request: %s", type(error).__name__)
            return False
        return True


_PEER_GONE = (ConnectionResetError,)
logging.getLogger("aiohttp.server").addFilter(_QuietProtocol())


def http_app(app: AsyncApp, *, now: Callable[[], float] = time.time) -> web.Application:
    """The aiohttp application of HTTP mode: Slack's requests, and a health check.

    Every request to EVENTS_PATH is checked here before bolt sees it: its size, its signature
    (on the raw bytes), that it is UTF-8, and that its JSON has the shape bolt reads. What fails
    gets 413, 401 or 400 and one log line that names what was wrong, never the body: an unsigned
    body is anyone's text, and a stale one still carries a live `response_url` and Slack's
    legacy verification `token`.
    """
    # bolt keeps the secret the app was built with: the same one, not a second copy to keep equal.
    secret = app._signing_secret

    async def events(request: web.Request) -> web.Response:
        size = request.content_length
        if size is not None and size > MAX_BODY:
            log.info("refused a request of %d bytes: more than %d", size, MAX_BODY)
            return _refusal(413, f"request body too large: at most {MAX_BODY} bytes")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            log.info("refused a request of more than %d bytes", MAX_BODY)
            return _refusal(413, f"request body too large: at most {MAX_BODY} bytes")
        headers = request.headers
        unsigned = convert.signature_problem(
            secret=secret,
            timestamp=headers.get("X-Slack-Request-Timestamp"),
            signature=headers.get("X-Slack-Signature"),
            body=raw,
            now=now(),
        )
        if unsigned is not None:
            log.info("refused a request of %d bytes: %s", len(raw), unsigned)
            return _refusal(401, f"invalid request: {unsigned}")
        try:
            # Slack sends UTF-8 whatever charset a header claims; only UTF-8 is read.
            text = raw.decode("utf-8")
            body = convert.read_body(text, content_type=request.content_type)
        except UnicodeDecodeError:
            problem = "the body is not UTF-8"
        except convert.MalformedBody as exc:
            problem = str(exc)
        else:
            response = await app.async_dispatch(bolt_request(request, text, body))
            return await to_aiohttp_response(response)
        log.warning("refused a signed request of %d bytes: %s", len(raw), problem)
        return _refusal(400, f"malformed request: {problem}")

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    web_app = web.Application(client_max_size=MAX_BODY)
    web_app.router.add_post(EVENTS_PATH, events)
    web_app.router.add_get(HEALTH_PATH, health)
    oauth = app.oauth_flow
    if oauth is not None:
        # Routed as bolt's own AsyncSlackAppServer routes them; the state check is bolt's.
        async def install(request: web.Request) -> web.Response:
            response = await oauth.handle_installation(_get_request(request))
            return await to_aiohttp_response(response)

        async def redirect(request: web.Request) -> web.Response:
            response = await oauth.handle_callback(_get_request(request))
            return await to_aiohttp_response(response)

        web_app.router.add_get(oauth.install_path, install)
        web_app.router.add_get(oauth.redirect_uri_path, redirect)
    return web_app


def _get_request(request: web.Request) -> AsyncBoltRequest:
    return AsyncBoltRequest(
        body="",
        query=request.query_string,
        headers=request.headers,  # type: ignore[arg-type]  # bolt copies them into lists
    )


# --- connecting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlackBot:
    """What `slack_bot` runs, for the caller to inspect (tests) or wait on."""

    app: AsyncApp
    engine: QuizEngine
    platform: SlackPlatform
    inflight: InFlight
    mode: Mode
    url: str | None  # where HTTP mode listens; None in Socket Mode


@asynccontextmanager
async def _http_mode(app: AsyncApp, *, host: str, port: int) -> AsyncIterator[str]:
    runner = web.AppRunner(http_app(app), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(f"cannot listen on port {port}: {exc.strerror or exc}") from None
        bound_host, bound_port = runner.addresses[0][:2]
        yield f"http://{bound_host}:{bound_port}{EVENTS_PATH}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def _socket_mode(app: AsyncApp, *, app_token: str) -> AsyncIterator[None]:
    handler = AsyncSocketModeHandler(app, app_token=app_token, web_client=app.client)
    try:
        # Open the first connection ourselves: the SDK would retry a refused token forever.
        try:
            opened = await app.client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            code = exc.response.get("error") if exc.response is not None else None
            raise ConfigError(f"Slack refused SLACK_APP_TOKEN: {code or 'unknown error'}") from None
        handler.client.wss_uri = str(opened["url"])
        await handler.connect_async()  # type: ignore[no-untyped-call]
        yield
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


@asynccontextmanager
async def slack_bot(
    settings: Settings,
    *,
    port: int = DEFAULT_PORT,
    host: str = "0.0.0.0",  # Slack must reach HTTP mode from outside
    clock: Clock | None = None,
    bank: Bank | None = None,
) -> AsyncIterator[SlackBot]:
    """Everything `dlquiz run slack` runs, connected and serving until the block exits."""
    mode = check_settings(settings, port=port)
    client = make_client(settings)
    async with _installations(settings) as installations:
        if installations is None:
            who = await verify_token(client)
        else:
            who = f"the app of every workspace that installs it (Add to Slack: {INSTALL_PATH})"
        platform = SlackPlatform(client, tokens=installations)
        async with _serving(
            settings,
            platform=platform,
            client=client,
            installations=installations,
            mode=mode,
            who=who,
            host=host,
            port=port,
            clock=clock,
            bank=bank,
        ) as bot:
            yield bot


@asynccontextmanager
async def _installations(settings: Settings) -> AsyncIterator[Installations | None]:
    if not multi_workspace(settings):
        yield None
        return
    assert settings.slack_client_id is not None  # check_settings made sure
    installations = Installations(client_id=settings.slack_client_id, db=settings.db)
    try:
        try:
            await installations.open()
        except (SQLAlchemyError, OSError) as exc:
            reason = " ".join(str(exc).split("\n")[0].split())
            raise ConfigError(
                f"cannot keep Slack installations in {settings.db}: {reason}"
            ) from None
        yield installations
    finally:
        await installations.close()


@asynccontextmanager
async def _serving(
    settings: Settings,
    *,
    platform: SlackPlatform,
    client: AsyncWebClient,
    installations: Installations | None,
    mode: Mode,
    who: str,
    host: str,
    port: int,
    clock: Clock | None,
    bank: Bank | None,
) -> AsyncIterator[SlackBot]:
    async with running(
        settings, platform, clock=clock, bank=bank, platform_name="slack"
    ) as runtime:
        inflight = InFlight()
        responses = ResponseUrls()
        home_tab = home.HomeTab(engine=runtime.engine, client=client, tokens=installations)
        app = build_app(
            settings,
            engine=runtime.engine,
            client=client,
            inflight=inflight,
            installations=installations,
            responses=responses,
            home_tab=home_tab,
        )
        url: str | None = None
        if mode is Mode.SOCKET:
            assert settings.slack_app_token is not None  # check_settings chose the mode
            async with _socket_mode(app, app_token=settings.slack_app_token):
                release_held_logs()  # started: what start-up logged can be shown now
                log.info("dlquiz is on Slack as %s, in %s", who, mode)
                yield SlackBot(app, runtime.engine, platform, inflight, mode, url)
        else:
            async with _http_mode(app, host=host, port=port) as url:
                release_held_logs()
                log.info("dlquiz is on Slack as %s, in %s at %s", who, mode, url)
                yield SlackBot(app, runtime.engine, platform, inflight, mode, url)
        # No new requests come in now; let the running ones finish before the store closes.
        try:
            await asyncio.wait_for(inflight.wait_idle(), SHUTDOWN_GRACE)
        except TimeoutError:
            log.warning("stopping with Slack requests still running after %ss", SHUTDOWN_GRACE)
        await home_tab.close()
        await responses.close()


async def serve_slack(settings: Settings, *, port: int = DEFAULT_PORT) -> None:
    """Serve until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # platforms without POSIX signals
            loop.add_signal_handler(sig, stop.set)
    async with slack_bot(settings, port=port):
        await stop.wait()
    log.info("dlquiz stopped")


def run_slack(settings: Settings, *, port: int = DEFAULT_PORT) -> int:
    """The `dlquiz run slack` command; raises ConfigError for settings that cannot work."""
    check_settings(settings, port=port)  # fail at once, before opening anything
    asyncio.run(serve_slack(settings, port=port))
    return 0
