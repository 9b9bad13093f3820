"""SQLite transactions: which ones may write, and keeping the write lock short.

On SQLite a transaction that may write begins with BEGIN IMMEDIATE, taking the database's one
write lock at once, so a read-then-write never fails as locked half-way; a transaction that
only reads begins with a plain BEGIN and never waits for the lock. Which is which:

- outside a request (CLI commands, the mail worker, tests between requests): may write;
- a reader request (GET, HEAD, OPTIONS): reads only;
- any other request: may write until it has committed. What a view reads for its reply after
  that (a redirect, a fragment) never waits for the lock, so a reply can never report 503 for
  a change that was stored. A view that writes again after committing says so first with
  expect_writes().

create_app tells this module when a request starts and ends (request_started and
request_tearing_down); the state is a context variable, so threads and requests never share
it, and nothing here reads Flask's request.

The user loader's query already begins the transaction, so every POST holds the write lock
from its first query to its commit. Slow work (rendering 500 KB of Markdown, re-encoding an
image) runs between transactions instead: a view ends its read-only start with
release_write_lock(); its next query begins the write transaction again, which then lasts
milliseconds.

A reader request's own selects (blog.posts.reading, search) run on reading_connection(): on
SQLite, a pooled DB-API connection in a plain BEGIN, without an ORM session around it.
Opening and closing a Session with its transaction and Connection cost 145 µs a request here
against 20 µs for the pooled connection, about 5% of an uncached page.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from blog import dbapi
from blog.extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # RFC 9110's safe methods a reader sends


@dataclass
class _RequestWrites:
    """What the current request may do: reader (its method only reads), committed (it has);
    reading: the connection its reader selects run on, once one is open."""

    reader: bool
    committed: bool = False
    reading: _ReadingConnection | None = None


_current: ContextVar[_RequestWrites | None] = ContextVar("blog_request_writes", default=None)


def request_started(method: str) -> None:
    """Note that a request with this HTTP method (e.g. "POST") starts in this context."""
    _current.set(_RequestWrites(reader=method.upper() in READ_METHODS))


def request_ended() -> None:
    """Note that this context's request has ended: transactions may write again. Its reading
    connection, if it opened one, goes back to the pool (which rolls its transaction back)."""
    state = _current.get()
    _current.set(None)
    if state is not None and state.reading is not None:
        state.reading.close()


class _ReadingConnection:
    """A pooled SQLite DB-API connection inside a plain BEGIN (a snapshot: it never takes the
    write lock), with what blog.dbapi.execute uses of a SQLAlchemy Connection: dialect,
    dispatch (the engine's, so cursor-execute listeners see its statements) and connection
    (the DB-API one). Raises sqlalchemy.exc.DBAPIError when BEGIN fails."""

    __slots__ = ("dialect", "dispatch", "connection")

    def __init__(self, engine: Engine) -> None:
        self.dialect, self.dispatch = engine.dialect, engine.dispatch
        self.connection = engine.raw_connection()
        try:
            dbapi.execute(self, "BEGIN")
        except BaseException:
            self.connection.close()
            raise

    def close(self) -> None:
        self.connection.close()  # back to the pool, which rolls the read transaction back


def reading_connection() -> Connection | _ReadingConnection:
    """The connection a reader's select should run on (blog.posts.reading.cursor.run).

    In a reader request (GET, HEAD, OPTIONS) on SQLite whose session has no transaction
    under way: one pooled connection in a plain BEGIN, opened on first use and kept until the
    request ends, so the page's selects read one snapshot. Anywhere else (another method,
    outside a request, PostgreSQL, or a session already in a transaction, which may hold the
    request's own writes): the session's connection. Raises sqlalchemy.exc.DBAPIError.
    """
    state = _current.get()
    if state is None or not state.reader or state.committed:
        return db.session.connection()
    if state.reading is None:
        if db.session.registry.has() and db.session().in_transaction():
            return db.session.connection()
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return db.session.connection()
        state.reading = _ReadingConnection(engine)
    return state.reading


def may_write() -> bool:
    """Tell whether the transaction about to begin may write (see the module's rules)."""
    state = _current.get()
    return state is None or not (state.reader or state.committed)


def only_reads_from_now() -> None:
    """Let the rest of this request only read: its next transactions begin with a plain BEGIN,
    which never waits for SQLite's write lock (an error page after "database is locked"
    reloads the signed-in staff member this way, and must not wait on that lock again).
    Outside a request it does nothing.
    """
    state = _current.get()
    if state is not None:
        state.reader = True


def expect_writes() -> None:
    """Let this request's next transaction write again (BEGIN IMMEDIATE) after a commit.

    A reader request stays a reader. Outside a request transactions may always write.
    """
    state = _current.get()
    if state is not None:
        state.committed = False


def release_write_lock() -> None:
    """End the request's transaction so far; it must not have written anything.

    Loaded objects are expired and reload with the next query (in a new transaction).
    """
    db.session.rollback()


@event.listens_for(Session, "after_commit")
def _note_commit(session: Session) -> None:
    """Remember that this request stored its change (a savepoint's commit is not one)."""
    state = _current.get()
    if state is not None and not session.in_nested_transaction():
        state.committed = True


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn: Connection) -> None:
    """Begin SQLite writes with BEGIN IMMEDIATE, so a read-then-write never fails as locked.

    A connection opened with execution_options(read_only=True) only reads (a look-up on a
    second connection beside the request's own, which may hold the write lock): plain BEGIN.
    """
    if conn.dialect.name != "sqlite":
        return
    read_only = conn.get_execution_options().get("read_only", False)
    # On the DB-API cursor (blog.dbapi): every request begins one, and exec_driver_sql's
    # execution context cost ten times the statement.
    dbapi.execute(conn, "BEGIN IMMEDIATE" if may_write() and not read_only else "BEGIN")
