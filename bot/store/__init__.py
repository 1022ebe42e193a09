"""The database seam: `open_store` picks a backend from `DLQUIZ_DB`; everything else sees `Store`.

A `postgresql://` (or `postgres://`) URL opens PostgreSQL; anything else is a SQLite file path.
"""

from __future__ import annotations

from pathlib import Path

from bot.store.api import (
    INSTALLATION_ROWS,
    SERVER_ROWS,
    AnswerOutcome,
    AnswerRequest,
    AnswerStatus,
    ChannelSettings,
    Delivery,
    DeliveryKind,
    DrawState,
    ItemColumns,
    ItemRound,
    MemberRow,
    NewRound,
    NewServerQuestion,
    PracticeMark,
    PracticeRow,
    RoundRow,
    ScheduleRow,
    ScoreRow,
    ServerQuestionRow,
    Shards,
    Standing,
    StartedRound,
    Store,
    StoreError,
    SuggestionStatus,
    period_key,
)

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


async def open_store(location: str | Path) -> Store:
    """Open (creating and migrating as needed) the database `location` names."""
    if is_postgres_url(location):
        from bot.store.postgres import PostgresStore

        return await PostgresStore.open(str(location))
    from bot.store.sqlite import SqliteStore

    return await SqliteStore.open(location)


__all__ = [
    "INSTALLATION_ROWS",
    "SERVER_ROWS",
    "AnswerOutcome",
    "AnswerRequest",
    "AnswerStatus",
    "ChannelSettings",
    "Delivery",
    "DeliveryKind",
    "DrawState",
    "ItemColumns",
    "ItemRound",
    "MemberRow",
    "NewRound",
    "NewServerQuestion",
    "PracticeMark",
    "PracticeRow",
    "RoundRow",
    "ScheduleRow",
    "ScoreRow",
    "ServerQuestionRow",
    "Shards",
    "Standing",
    "StartedRound",
    "Store",
    "StoreError",
    "SuggestionStatus",
    "is_postgres_url",
    "open_store",
    "period_key",
]
