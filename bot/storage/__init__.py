"""Storage: the database the features keep their tables in, on SQLite or PostgreSQL."""

from bot.storage.database import (
    Connection,
    Database,
    Row,
    Schema,
    Written,
    engine_for,
    migrate,
    now_text,
    update_or_ignore,
)
from bot.storage.errors import DatabaseError, DatabaseUnusable, IntegrityError, OperationalError
from bot.storage.sqlite import MARKER_SUFFIX, marker_path

__all__ = ["MARKER_SUFFIX", "Connection", "Database", "DatabaseError", "DatabaseUnusable",
           "IntegrityError", "OperationalError", "Row", "Schema", "Written", "engine_for",
           "marker_path", "migrate", "now_text", "update_or_ignore"]
