"""`dlquiz questions import FILE --server KEY` and `dlquiz questions export --server KEY
[--out FILE]`: a server's own questions in and out, in the bank's YAML format."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings
from bot.ports import SystemClock
from bot.server_questions import as_drawn, check_file, export_text, stored
from bot.store import NewServerQuestion, SuggestionStatus, open_store

SERVER_KEY = re.compile(r"^(discord|slack|console):[\w.-]+$")


def add_parser(sub: Any) -> None:
    questions = sub.add_parser("questions", help="a server's own questions in and out")
    actions = questions.add_subparsers(dest="action", required=True)
    imp = actions.add_parser("import", help="add or replace questions from a YAML file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--server", required=True, help="discord:<guild id>, slack:<team id>, ...")
    exp = actions.add_parser("export", help="write the server's questions as YAML")
    exp.add_argument("--server", required=True, help="discord:<guild id>, slack:<team id>, ...")
    exp.add_argument("--out", type=Path, help="the file to write (default: standard output)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not SERVER_KEY.match(args.server):
        raise ConfigError(
            f"--server '{args.server}' is not a server key: write discord:<guild id>,"
            " slack:<team id> or console:local"
        )
    if args.action == "import":
        return asyncio.run(_import(args.file, args.server, settings))
    text, count = asyncio.run(_export(args.server, settings))
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {args.out}: {exc.strerror}") from None
    print(f"exported {count} question(s) of {args.server} to {args.out}")
    return 0


async def _import(path: Path, server: str, settings: Settings) -> int:
    checked = check_file(path)
    if checked.problems:
        for problem in checked.problems:
            print(problem, file=sys.stderr)
        print(f"nothing imported: {len(checked.problems)} problem(s)", file=sys.stderr)
        return 1
    new = [
        NewServerQuestion(
            key=q.id,
            question=stored(q),
            status=SuggestionStatus.APPROVED,
            author_id="import",
            author_name="import",
            channel="",
        )
        for q in checked.questions
    ]
    store = await open_store(settings.db)
    try:
        await store.add_server_questions(server=server, questions=new, at=SystemClock().now())
    finally:
        await store.close()
    print(f"imported {len(new)} question(s) into {server}")
    return 0


async def _export(server: str, settings: Settings) -> tuple[str, int]:
    store = await open_store(settings.db)
    try:
        rows = await store.server_questions(server=server, status=SuggestionStatus.APPROVED)
    finally:
        await store.close()
    # Exported under the keys the server knows them by, so a re-import replaces, not adds.
    questions = [replace(as_drawn(row.question), id=row.key) for row in rows]
    return (export_text(questions) if questions else ""), len(questions)
