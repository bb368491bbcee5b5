"""PostgreSQL storage: a sync psycopg pool driven from Trio worker threads, plus migrations."""

from balto.store.database import Database, open_database
from balto.store.embedded import embedded_postgres

__all__ = ["Database", "embedded_postgres", "open_database"]
