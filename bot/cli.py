"""The `dlquiz` command line: parse arguments, read settings, wire a channel, fail in one line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import sys
from collections import Counter
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from bot import maintenance, platforms, questions_cli
from bot.config import ConfigError, Settings
from bot.content import BankError, check_bank, default_bank_dir
from bot.lint import lint
from bot.logs import release_held_logs, setup_logging
from bot.models import LETTERS, Difficulty, Question, Topic
from bot.render import counted
from bot.store import ItemColumns, StoreError, open_store

log = logging.getLogger("dlquiz")


def version() -> str:
    """The installed package's version, from its metadata."""
    try:
        return metadata.version("dlquiz")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"dlquiz: error: {message} (see dlquiz --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dlquiz", description="A daily deep-learning quiz for Discord and Slack.")
    parser.add_argument("--version", action="version", version=f"dlquiz {version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    entries = platforms.available()
    console = platforms.load(platforms.CONSOLE)
    console.add_arguments(sub.add_parser(platforms.CONSOLE, help=console.help))

    run = sub.add_parser("run", help="connect to a chat platform")
    chats = run.add_subparsers(dest="platform", required=True, parser_class=_Parser)
    for name in sorted(entries):
        if name == platforms.CONSOLE:
            continue
        try:
            platform = platforms.load(name)
        except ConfigError as exc:
            # Listed all the same, so `run NAME` says why instead of every command failing.
            chats.add_parser(name, help=str(exc))
            continue
        platform.add_arguments(chats.add_parser(name, help=platform.help))

    sub.add_parser("health", help="exit 0 when the database opens and the bank is valid")
    db = sub.add_parser("db", help="work with the database")
    db_actions = db.add_subparsers(dest="action", required=True, parser_class=_Parser)
    backup = db_actions.add_parser("backup", help="copy the live database (online backup)")
    backup.add_argument("path", type=Path, help="the new backup file")
    copy = db_actions.add_parser(
        "copy", help="copy every table into a new, empty database (SQLite or PostgreSQL)"
    )
    copy.add_argument("source", metavar="FROM", help="a SQLite file or a PostgreSQL URL")
    copy.add_argument(
        "target", metavar="TO", help="a new SQLite file or an empty PostgreSQL database"
    )

    forget = db_actions.add_parser("forget", help="delete every row of one server")
    forget.add_argument("key", metavar="KEY", help="slack:<team id>, discord:<guild id>, ...")

    report = sub.add_parser("report", help="item analysis of every server's questions (HTML, CSV)")
    report.add_argument(
        "--out", type=Path, help="the HTML page (default: dlquiz-report.html without --csv)"
    )
    report.add_argument("--csv", type=Path, help="also (or only) write the table as CSV")

    content = sub.add_parser("content", help="work with question files")
    actions = content.add_subparsers(dest="action", required=True, parser_class=_Parser)
    check = actions.add_parser("check", help="validate question files")
    check.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the bank)")
    check.add_argument(
        "--strict",
        action="store_true",
        help="treat giveaway warnings as errors (exit 1); a question accepts one with lint_ok",
    )
    questions_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        level = settings.log_level
        if args.command in (
            "console",
            "content",
            "health",
            "db",
            "questions",
            "report",
        ) and not os.environ.get("DLQUIZ_LOG_LEVEL"):
            # Log lines would interleave with the game in the terminal: only problems by default.
            level = "WARNING"
        # A bot's start-up lines wait until it is serving: a start that fails on its
        # configuration then shows its one-line error alone.
        hold = args.command == "run"
        setup_logging(level=level, fmt=settings.log_format, secrets=settings.secrets(), hold=hold)
        return _dispatch(args, settings)
    except (ConfigError, StoreError, BankError) as exc:
        release_held_logs(discard=True)
        print(f"dlquiz: error: {exc}", file=sys.stderr)
        return 1
    except sqlite3.DatabaseError as exc:
        # Pages damaged after the file opened fine surface on the first query that reads them.
        release_held_logs(discard=True)
        where = getattr(args, "db", None) or os.environ.get("DLQUIZ_DB") or "dlquiz.db"
        print(
            f"dlquiz: error: database {where} is damaged ({exc}); restore it from a backup"
            " (dlquiz health checks a database)",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`dlquiz content check | head`); flushing again would raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:
        release_held_logs()


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "content":
        paths = args.paths or [settings.content_dir or default_bank_dir()]
        return content_check(paths, strict=args.strict)
    if args.command == "questions":
        return questions_cli.run(args, settings)
    if args.command == "health":
        print(maintenance.health(settings))
        return 0
    if args.command == "db" and args.action == "copy":
        print(maintenance.copy(args.source, args.target))
        return 0
    if args.command == "db" and args.action == "forget":
        print(maintenance.forget(settings, args.key))
        return 0
    if args.command == "db":
        print(maintenance.backup(settings, args.path))
        return 0
    if args.command == "report":
        return operator_report(settings, html_path=args.out, csv_path=args.csv)
    if args.command == platforms.CONSOLE:
        return platforms.load(platforms.CONSOLE).run(settings, args)
    # Each platform tunes the collector (bot.runtime.tune_gc) once its SDK is imported.
    return platforms.load(args.platform).run(settings, args)


def operator_report(settings: Settings, *, html_path: Path | None, csv_path: Path | None) -> int:
    from bot import report

    if html_path is None and csv_path is None:
        html_path = Path("dlquiz-report.html")
    for path in (html_path, csv_path):
        # Checked before the analysis, which may take a while on a large database.
        if path is not None and not path.resolve().parent.is_dir():
            raise ConfigError(f"cannot write {path}: folder {path.parent} does not exist")

    async def read() -> ItemColumns:
        store = await open_store(settings.db)
        try:
            return await store.item_columns(None)
        finally:
            await store.close()

    built = report.build(asyncio.run(read()))
    try:
        written = report.write(built, html_path=html_path, csv_path=csv_path)
    except OSError as exc:
        raise ConfigError(f"cannot write the report: {exc.strerror} ({exc.filename})") from None
    print(
        f"{counted(len(built.stats), 'question')}, {counted(built.answers, 'answer')},"
        f" {counted(built.servers, 'server')}:"
        f" wrote {', '.join(str(p) for p in written)}"
    )
    return 0


def content_check(paths: list[Path], *, strict: bool = False) -> int:
    """Errors, then giveaway warnings (errors too with `strict`), then the bank's summary."""
    checked = check_bank(paths)
    warnings = lint(checked.entries)
    for problem in [*checked.problems, *warnings]:
        print(problem)
    failing = len(checked.problems) + (len(warnings) if strict else 0)
    if failing:
        print(f"{counted(failing, 'problem')} found", file=sys.stderr)
        return 1
    questions = checked.questions
    noted = f"; {counted(len(warnings), 'warning')}, --strict makes them errors" if warnings else ""
    print(
        f"ok: {counted(len(questions), 'question')} in {counted(len(checked.topics), 'topic')}"
        f"{noted}"
    )
    print(summary(questions, checked.topics))
    return 0


def summary(questions: list[Question], topics: list[Topic]) -> str:
    """Counts per topic and difficulty, and where the right answers stand."""
    levels = list(Difficulty)
    width = max((len(t.slug) for t in topics), default=5)
    lines = [f"  {'topic':<{width}}  total  " + "  ".join(f"{d.value:>6}" for d in levels)]
    for topic in topics:
        mine = [q for q in questions if q.topic == topic.slug]
        counts = "  ".join(f"{sum(q.difficulty is d for q in mine):>6}" for d in levels)
        lines.append(f"  {topic.slug:<{width}}  {len(mine):>5}  {counts}")
    total = len(questions) or 1
    shares = "  ".join(
        f"{d.value} {100 * sum(q.difficulty is d for q in questions) / total:.0f}%" for d in levels
    )
    letters = Counter(LETTERS[q.answer] for q in questions)
    answers = "  ".join(f"{k} {100 * v / total:.0f}%" for k, v in sorted(letters.items()))
    lines.append(f"  difficulty: {shares}")
    lines.append(f"  right answer at: {answers}")
    return "\n".join(lines)
