"""The storage layer's errors, the same whichever engine runs.

They are the DB-API classes of Python's sqlite3 module: the PostgreSQL engine raises
subclasses of them (bot.storage.postgres), so a feature catches one name for both engines.
"""

from __future__ import annotations

import sqlite3

DatabaseError = sqlite3.DatabaseError
IntegrityError = sqlite3.IntegrityError  # a constraint refused the write
OperationalError = sqlite3.OperationalError  # the database could not do it now (lock, I/O)


class DatabaseUnusable(Exception):
    """The database cannot be used at start-up; the message is the one line to show."""
