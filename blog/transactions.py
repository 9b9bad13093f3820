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
"""

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
    """What the current request may do: reader (its method only reads), committed (it has)."""

    reader: bool
    committed: bool = False


_current: ContextVar[_RequestWrites | None] = ContextVar("blog_request_writes", default=None)


def request_started(method: str) -> None:
    """Note that a request with this HTTP method (e.g. "POST") starts in this context."""
    _current.set(_RequestWrites(reader=method.upper() in READ_METHODS))


def request_ended() -> None:
    """Note that this context's request has ended: transactions may write again."""
    _current.set(None)


def may_write() -> bool:
    """Tell whether the transaction about to begin may write (see the module's rules)."""
    state = _current.get()
    return state is None or not (state.reader or state.committed)


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
