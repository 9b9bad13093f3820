"""Extensions, created bare and bound in create_app; SQLite connection set-up."""

import sqlite3

from flask import has_request_context, request
from flask_login import LoginManager
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from blog.models import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
mail = Mail()
csrf = CSRFProtect()

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
COMMITTED = "blog.committed"  # in the WSGI environ: this request has committed a change


def _wants_write_lock() -> bool:
    """Tell whether the transaction about to begin may write.

    Anything but a reader request may, until the request has committed: what a view reads
    for its reply after that (a redirect, a fragment) never waits for SQLite's write lock,
    so a reply can never report 503 for a change that was stored. A view that writes again
    after committing says so first with expect_writes().
    """
    if not has_request_context():
        return True
    return request.method not in READ_METHODS and not request.environ.get(COMMITTED, False)


def expect_writes() -> None:
    """Let this request's next transaction write again (BEGIN IMMEDIATE) after a commit."""
    request.environ[COMMITTED] = False


@event.listens_for(Session, "after_commit")
def _note_commit(session) -> None:
    """Remember that this request stored its change (see _wants_write_lock)."""
    if has_request_context() and not session.in_nested_transaction():  # not a savepoint
        request.environ[COMMITTED] = True


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    """Turn on foreign keys and WAL (the busy timeout is connect_args), and own BEGIN."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # pysqlite's own transaction handling would defer BEGIN; we emit it in _sqlite_on_begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    """Begin SQLite writes with BEGIN IMMEDIATE, so a read-then-write never fails as locked.

    A connection opened with execution_options(read_only=True) only reads (a look-up on a
    second connection beside the request's own, which may hold the write lock): plain BEGIN.
    """
    if conn.dialect.name != "sqlite":
        return
    read_only = conn.get_execution_options().get("read_only", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() and not read_only else "BEGIN")
