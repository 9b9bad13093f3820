"""The Flask side of the response cache: which responses are public, and under which generation.

A reader page (200 to a GET or HEAD, on an endpoint in READER_BLUEPRINTS / READER_ENDPOINTS,
for a visitor who is not signed in, with no cookie to set) gets `Cache-Control: public,
max-age=HTTP_CACHE_MAX_AGE` and a `Last-Modified` of the time the content last changed, and is
marked in the WSGI environ (ENVIRON_KEY) for blog.cache.conditional to keep.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from flask import Response, current_app, request, session
from flask_login import current_user
from werkzeug.http import http_date

from blog.cache.content_cache import ContentCache

log = logging.getLogger(__name__)

# Blueprints and endpoints whose GET responses are the same for every anonymous reader.
READER_BLUEPRINTS = {"posts", "api"}
READER_ENDPOINTS = {"authors.author", "newsletter.subscribe", "newsletter.subscribed"}
ENVIRON_KEY = "blog.public_page"  # set by the Flask hook: this response may be kept
GENERATION_KEY = "blog.generation"  # the generation this request renders under


def start_request() -> None:
    """Note the generation this request renders under; on a new one, forget stored settings.

    Settings are kept per worker for a few seconds (blog.settings); a page rendered with a
    worker's old copy under a new generation would be kept stale, so a new generation drops it.
    """
    cache: ContentCache = current_app.extensions["response_cache"]
    generation = request.environ.get(GENERATION_KEY)
    if generation is None and request.method not in ("GET", "HEAD"):
        # A write is never kept: no go-live look-up on a second connection beside this
        # request's own, which may hold SQLite's write lock (or the pool's last connection).
        generation = cache.generations.read()
        if generation is None:
            return
    if generation is None:
        try:
            generation = request.environ[GENERATION_KEY] = cache.current()
        except Exception:
            log.warning("Content generation unavailable", exc_info=True)
            return
    if generation.number != cache.seen:
        current_app.extensions.get("stored_settings", {}).clear()
        cache.seen = generation.number


def mark_public(response: Response) -> Response:
    """Give an anonymous reader page its Cache-Control and Last-Modified, and mark it."""
    if (
        request.method not in ("GET", "HEAD")
        or response.status_code != 200
        or "Cache-Control" in response.headers
        or not (
            request.blueprint in READER_BLUEPRINTS or request.endpoint in READER_ENDPOINTS
        )
        or current_user.is_authenticated
    ):
        return response
    if session.modified or "Set-Cookie" in response.headers:  # this reader's own copy only
        response.headers["Cache-Control"] = "private, no-store"
        return response
    cache: ContentCache = current_app.extensions["response_cache"]
    generation = request.environ.get(GENERATION_KEY)
    if generation is None:  # the generation store is away: the page goes out, only not kept
        return response
    # Written whole (the response had no Cache-Control, checked above): response.cache_control
    # would parse and re-serialise the header on each attribute set.
    response.headers["Cache-Control"] = f"public, max-age={cache.max_age}"
    response.headers["Last-Modified"] = _http_date(generation.header_time())
    request.environ[ENVIRON_KEY] = generation
    return response


@lru_cache(maxsize=64)
def _http_date(seconds: int) -> str:
    """werkzeug.http.http_date, remembered: every page of a generation sends the same one."""
    return http_date(seconds)
