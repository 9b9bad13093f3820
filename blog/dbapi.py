"""One statement on a connection's DB-API cursor, with what SQLAlchemy adds kept.

Connection.execute spends 40-90 µs of Python on a statement (an execution context, parameter
and result processing) around the database's own work. For the few statements that run on
every reader request (SQLite's BEGIN, the reader's prepared selects: blog.posts.reading.cursor)
that was a fifth of a page's time, so they go to the DB-API cursor directly. What SQLAlchemy
does around a statement that others rely on is kept: the engine's before/after_cursor_execute
listeners are told (query counts, tests), and a DB-API error is raised as SQLAlchemy's
DBAPIError subclass (OperationalError for "database is locked", which the app answers with 503).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError


def execute(connection: Connection, sql: str, values: Sequence[Any] = ()) -> list[tuple]:
    """Run sql (in the dialect's paramstyle) with positional values on connection's DB-API
    connection, inside whatever transaction it has; return the rows fetched (a list of
    tuples, untyped: the driver's own values). Raises sqlalchemy.exc.DBAPIError."""
    dbapi_error = connection.dialect.loaded_dbapi.Error
    dispatch = connection.dispatch
    cursor = connection.connection.cursor()
    try:
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(connection, cursor, sql, values, None, False)
        cursor.execute(sql, values)
        rows = cursor.fetchall() if cursor.description else []
        if dispatch.after_cursor_execute:
            dispatch.after_cursor_execute(connection, cursor, sql, values, None, False)
    except dbapi_error as error:
        raise DBAPIError.instance(
            sql, values, error, dbapi_error, dialect=connection.dialect
        ) from error
    finally:
        cursor.close()
    return rows
