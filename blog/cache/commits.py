"""The ORM hooks: a commit that changes what readers see starts a new content generation.

A flush or an ORM statement (update(), delete(), insert()) that writes any table but
QUIET_TABLES marks the session; its commit then bumps the generation (savepoints wait for the
outer commit, a rollback forgets the mark). Raw SQL through text() names no table: code that
writes that way calls bump_content_generation() itself.
"""

from __future__ import annotations

import logging

from flask import has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from blog.cache.content_cache import bump_content_generation

log = logging.getLogger(__name__)

# Tables no reader page shows: writing them never makes a kept page stale.
QUIET_TABLES = {"subscribers", "mail_outbox", "login_attempts", "invites", "alembic_version"}


def _tables_written(session: Session) -> set[str]:
    """Name the tables this flush really changed (a dirty object with no change is left out)."""
    tables = set()
    for obj in (*session.new, *session.deleted, *session.dirty):
        table = getattr(obj, "__table__", None)
        if table is not None and (obj not in session.dirty or session.is_modified(obj)):
            tables.add(table.name)
    return tables


def _note_flush(session: Session, flush_context) -> None:
    """Mark the session when a flush wrote a table readers see."""
    if _tables_written(session) - QUIET_TABLES:
        session.info["content_changed"] = True


def _note_statement(state) -> None:
    """Mark the session when an ORM insert, update or delete statement targets such a table."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) not in QUIET_TABLES:
            state.session.info["content_changed"] = True


def _bump_after_commit(session: Session) -> None:
    """Start a new generation after a marked session commits."""
    if session.in_nested_transaction():
        return  # a savepoint: the change is not committed until the outer transaction is
    if session.info.pop("content_changed", False) and has_app_context():
        try:
            bump_content_generation()
        except Exception:  # the change is committed; a cache outage must not turn it into a 500
            log.exception("Could not start a new content generation")


def _forget_after_rollback(session: Session) -> None:
    """Forget the mark when the whole transaction rolls back."""
    if not session.in_nested_transaction():  # a savepoint's rollback keeps the outer change
        session.info.pop("content_changed", None)


_HOOKS = (
    ("after_flush", _note_flush),
    ("do_orm_execute", _note_statement),
    ("after_commit", _bump_after_commit),
    ("after_rollback", _forget_after_rollback),
)


def listen() -> None:
    """Register the hooks on every ORM session (once, however many apps are built)."""
    for name, hook in _HOOKS:
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)
