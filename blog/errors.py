"""Error pages in the site's own look, and a 503 when the database stays locked."""

from flask import Flask, render_template
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, SecurityError

from blog.extensions import db

PAGES = {403: "errors/403.html", 404: "errors/404.html"}


def _page(error: HTTPException):
    """Render an HTTP error in the site's look, keeping its status and headers."""
    if isinstance(error, SecurityError):  # an untrusted Host: no URLs can be built for it
        return error.get_response()
    template = PAGES.get(error.code or 0, "errors/error.html")
    response = error.get_response()
    response.set_data(render_template(template, error=error))
    response.mimetype = "text/html"
    return response


def _server_error(error):
    """Roll back whatever the request wrote and show the 500 page."""
    db.session.rollback()
    return render_template("errors/500.html"), 500


def _database_busy(error: OperationalError):
    """Answer 503 with Retry-After when SQLite stays locked past the busy timeout."""
    db.session.rollback()
    if "locked" not in str(error.orig).lower() and "busy" not in str(error.orig).lower():
        raise error
    return render_template("errors/503.html"), 503, {"Retry-After": "5"}


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, _page)
    app.register_error_handler(OperationalError, _database_busy)
    app.register_error_handler(500, _server_error)
