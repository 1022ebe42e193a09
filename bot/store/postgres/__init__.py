"""The server backend: PostgreSQL through asyncpg, for several processes on one database."""

from bot.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
