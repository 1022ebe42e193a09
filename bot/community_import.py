"""A server's questions imported from a YAML file a member hands the bot in chat (a Discord
attachment), checked and kept all or nothing, like `dlquiz questions import`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.models import Notice, Tone
from bot.server_questions import check_text, stored
from bot.store import NewServerQuestion, Store
from bot.store import SuggestionStatus as Status

# The problems listed in one chat message; the rest are counted, so the reply stays readable.
MAX_PROBLEMS_SHOWN = 10


async def import_file(
    store: Store,
    *,
    server: str,
    name: str,
    data: bytes,
    author_id: str,
    author_name: str,
    at: datetime,
) -> Notice:
    """Check `data` (a YAML question file called `name`) and add every question, or none."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Notice(
            f"{name} is not UTF-8 text: attach a YAML question file; nothing was imported.",
            Tone.ERROR,
        )
    checked = check_text(text, Path(name))
    if checked.problems:
        shown = [str(p) for p in checked.problems[:MAX_PROBLEMS_SHOWN]]
        more = len(checked.problems) - len(shown)
        if more:
            shown.append(f"… and {more} more")
        return Notice(
            f"Nothing was imported: {len(checked.problems)} problem(s) in {name}\n"
            + "\n".join(shown),
            Tone.ERROR,
        )
    new = [
        NewServerQuestion(
            key=q.id,
            question=stored(q),
            status=Status.APPROVED,
            author_id=author_id,
            author_name=author_name,
            channel="",
        )
        for q in checked.questions
    ]
    await store.add_server_questions(server=server, questions=new, at=at)
    return Notice(
        f"Imported {len(new)} question(s) from {name} into this server's own questions.", Tone.OK
    )
