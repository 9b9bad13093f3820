"""What sits between the WSGI server and Flask: health checks.

`GET /healthz` answers liveness: 200 while the process can answer at all, with no database
work. `GET /healthz/ready` answers readiness: 200 when the database answers and its schema is
at the newest migration, else 503 with the reason, so a load balancer sends readers only to
servers that can serve them. Both run before Flask, so they need no session, cookie or trusted
Host (a load balancer asks by IP address), and they are never cached.

A reverse proxy's X-Forwarded-* headers are believed only with TRUSTED_PROXIES set (see
blog.security, which applies Werkzeug's ProxyFix).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from flask import Flask
from sqlalchemy import text

from blog.extensions import db

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
]


@cache
def migration_heads() -> frozenset[str]:
    """Return the newest migration revision(s), read from the migration files (no Alembic:
    importing it would cost every worker about 12 MB)."""
    revisions, parents = set(), set()
    for path in MIGRATIONS.glob("*.py"):
        source = path.read_text()
        found = re.search(r'^revision\s*(?::\s*str\s*)?=\s*["\']([^"\']+)', source, re.M)
        if found:
            revisions.add(found[1])
        down = re.search(r"^down_revision\s*(?::[^=]+)?=\s*(.+)$", source, re.M)
        if down:
            parents.update(re.findall(r'["\']([^"\']+)["\']', down[1]))
    return frozenset(revisions - parents)


def readiness(app: Flask) -> tuple[bool, dict]:
    """Check the database answers and is migrated: (ready, details for the JSON body)."""

    with app.app_context():
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                try:
                    current = set(conn.scalars(text("SELECT version_num FROM alembic_version")))
                except Exception:
                    current = set()
        except Exception as error:
            return False, {"status": "unavailable", "database": type(error).__name__}
    heads = migration_heads()
    if current != heads:
        return False, {
            "status": "unavailable",
            "database": "ok",
            "migrations": "behind: run flask --app blog init-db",
            "schema": sorted(current),
            "newest": sorted(heads),
        }
    return True, {"status": "ok", "database": "ok", "migrations": "current"}


class HealthChecks:
    """WSGI middleware answering /healthz and /healthz/ready before the app sees them."""

    def __init__(self, wsgi_app, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path not in ("/healthz", "/healthz/", "/healthz/ready", "/healthz/ready/"):
            return self.wsgi_app(environ, start_response)
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("405 METHOD NOT ALLOWED", [*HEADERS, ("Allow", "GET, HEAD")])
            return [b'{"status": "method not allowed"}']
        if path.startswith("/healthz/ready"):
            ready, details = readiness(self.app)
        else:
            ready, details = True, {"status": "ok"}
        body = json.dumps(details).encode()
        start_response(
            "200 OK" if ready else "503 SERVICE UNAVAILABLE",
            [*HEADERS, ("Content-Length", str(len(body)))] + ([] if ready else [("Retry-After", "5")]),
        )
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def init_app(app: Flask) -> None:
    """Answer the health checks before Flask sees the request."""
    app.wsgi_app = HealthChecks(app.wsgi_app, app)
