"""Error pages in the site's own look, rendered without the database: 503 when the database
stays locked, 503 when storage is full, 500 for the rest."""

import errno
import logging

from flask import Flask, g, render_template
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, SecurityError

from blog.extensions import db, login_manager
from blog.transactions import only_reads_from_now

log = logging.getLogger(__name__)
# Errors that mean the disk (or the PostgreSQL server's disk, SQLSTATE 53100) is full.
FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}

PAGES = {403: "errors/403.html", 404: "errors/404.html"}


def without_database() -> None:
    """Make the rest of this request render without touching the database.

    The transaction is rolled back and what the request reads from now on reads only
    (blog.transactions.only_reads_from_now): a signed-in staff member, expired by the
    rollback, reloads in a plain BEGIN that never waits for the write lock. A user not loaded
    yet counts as signed out (loading them could wait on the very lock that caused the
    error), and stored settings come from this process's cache or config (see
    blog.settings.load_settings).
    """
    try:
        db.session.rollback()
    except Exception:  # a broken connection must not stop the error page
        log.warning("Could not roll back before an error page", exc_info=True)
    only_reads_from_now()
    g.no_database = True
    if "_login_user" not in g:
        g._login_user = login_manager.anonymous_user()


def page_for(error: HTTPException):
    """Render an HTTP error in the site's look, keeping its status and headers."""
    if isinstance(error, SecurityError):  # an untrusted Host: no URLs can be built for it
        return error.get_response()
    without_database()
    template = PAGES.get(error.code or 0, "errors/error.html")
    response = error.get_response()
    response.set_data(render_template(template, error=error))
    response.mimetype = "text/html"
    return response


def _server_error(error):
    """Roll back whatever the request wrote and show the 500 page."""
    without_database()
    return render_template("errors/500.html"), 500


def is_storage_full(error: BaseException) -> bool:
    """Tell whether error says the disk is full: SQLITE_FULL, PostgreSQL's disk_full, ENOSPC."""
    if isinstance(error, OSError) and error.errno in FULL_ERRNOS:
        return True
    orig = getattr(error, "orig", None)
    if orig is not None:
        if getattr(orig, "sqlstate", None) == "53100":  # psycopg: disk_full
            return True
        if getattr(orig, "sqlite_errorname", None) == "SQLITE_FULL":
            return True
        return "database or disk is full" in str(orig).lower()
    return False


def storage_full(error: BaseException):
    """Answer 503 saying storage is full; nothing was stored (the transaction is rolled back)."""
    without_database()
    log.error("Storage is full: a write was refused and rolled back (%s)", error)
    page = render_template("errors/storage_full.html")
    return page, 503, {"Retry-After": "300"}


def _database_error(error: OperationalError):
    """Answer 503 with Retry-After when SQLite stays locked or storage is full; else 500."""
    if is_storage_full(error):
        return storage_full(error)
    message = str(error.orig).lower()
    if "locked" not in message and "busy" not in message:
        raise error
    without_database()
    return render_template("errors/503.html"), 503, {"Retry-After": "5"}


def _os_error(error: OSError):
    """Answer 503 when a file could not be written because the disk is full; else 500."""
    if is_storage_full(error):
        return storage_full(error)
    raise error


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, page_for)
    app.register_error_handler(OperationalError, _database_error)
    app.register_error_handler(OSError, _os_error)
    app.register_error_handler(500, _server_error)
