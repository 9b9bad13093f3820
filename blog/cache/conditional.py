"""The WSGI side of the response cache: ETag, 304, HEAD, and the kept responses.

A middleware around the app gives every response blog.cache.public marked a strong `ETag` (a
hash of its body), answers `If-None-Match` / `If-Modified-Since` with 304 and no body (RFC 9110
13.1), answers HEAD, and keeps marked responses, keyed by host, path, query and whether htmx
asked for a fragment. Later anonymous requests are answered from there without entering Flask.
A request that carries the session or remember-me cookie (staff) never reads or fills the cache.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from werkzeug.http import http_date, parse_date, parse_etags

from blog.cache import clock
from blog.cache.content_cache import ContentCache
from blog.cache.kept import KeptResponse
from blog.cache.public import ENVIRON_KEY, GENERATION_KEY

log = logging.getLogger(__name__)

HIT_HEADERS_304 = ("ETag", "Cache-Control", "Last-Modified", "Vary")


class ConditionalCache:
    """WSGI middleware: validators and 304s for marked responses, and the response cache."""

    def __init__(self, wsgi_app, cache: ContentCache, staff_cookies: tuple[str, ...]) -> None:
        self.wsgi_app = wsgi_app
        self.cache = cache
        self.staff_cookies = tuple(f"{name}=" for name in staff_cookies)

    def __call__(self, environ, start_response):
        """Answer a GET or HEAD from the kept responses when it can; run the app otherwise."""
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        cookies = environ.get("HTTP_COOKIE", "")
        anonymous = not any(name in cookies for name in self.staff_cookies)
        key = generation = None
        if self.cache.enabled and anonymous:
            query = environ.get("QUERY_STRING")
            key = (
                environ.get("HTTP_HOST", ""),
                environ.get("HTTP_HX_REQUEST") == "true"
                and environ.get("HTTP_HX_BOOSTED") != "true"
                and environ.get("HTTP_HX_HISTORY_RESTORE_REQUEST") != "true",
                environ.get("PATH_INFO", "") + (f"?{query}" if query else ""),
            )
            try:
                generation = environ[GENERATION_KEY] = self.cache.current()
                kept = self.cache.responses.get(generation.number, key)
            except Exception:
                log.warning("Response cache unavailable", exc_info=True)
                key = kept = None
            if kept is not None:
                return self._answer(environ, start_response, kept, "hit")
        return self._render(environ, start_response, key, generation)

    def _render(self, environ, start_response, key, generation):
        """Run the app; give a marked 200 its ETag, keep it, and answer it (maybe with 304)."""
        head = environ.get("REQUEST_METHOD") == "HEAD"
        inner = dict(environ, REQUEST_METHOD="GET") if head else environ  # HEAD = GET minus body
        captured: list = []

        def capture(status, headers, exc_info=None):
            captured[:] = [status, headers, exc_info]

            def write(data):  # pragma: no cover - Flask never uses write()
                raise RuntimeError("write() is not supported")

            return write

        app_iter = self.wsgi_app(inner, capture)
        marked = inner.get(ENVIRON_KEY)
        if not captured or marked is None or not captured[0].startswith("200"):
            if head:  # the app rendered a body for GET: drop it
                if hasattr(app_iter, "close"):
                    app_iter.close()
                app_iter = []
            if captured:
                start_response(*captured)
            return app_iter
        try:
            body = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
        status, headers = captured[0], captured[1]
        if any(name.lower() == "set-cookie" for name, _ in headers):
            headers = [(n, v) for n, v in headers if n.lower() != "cache-control"]
            headers.append(("Cache-Control", "private, no-store"))
            start_response(status, headers)
            return [] if head else [body]
        kept = _with_etag(status, headers, body, marked.last_modified)
        if key is not None and generation is not None:
            try:
                self.cache.responses.put(generation.number, key, kept)
            except Exception:
                log.warning("Could not keep a page in the response cache", exc_info=True)
        return self._answer(environ, start_response, kept, "miss" if key else None)

    def _answer(self, environ, start_response, kept: KeptResponse, outcome: str | None):
        """Send a kept response: 304 when the client's copy matches, headers only for HEAD."""
        sent = min(kept.last_modified, int(clock.now()))
        headers = [*kept.headers, ("Last-Modified", http_date(sent))]
        if outcome:
            headers.append(("X-Cache", outcome))
        if not_modified(environ, kept):
            keep = [(n, v) for n, v in headers if n in HIT_HEADERS_304 or n == "X-Cache"]
            start_response("304 NOT MODIFIED", keep)
            return []
        start_response(kept.status, headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [kept.body]


def _with_etag(status: str, headers: list, body: bytes, last_modified: int) -> KeptResponse:
    """A response to keep: a strong ETag (a hash of the body) and its Content-Length; its
    Last-Modified is set each time it is sent.

    Every uncached page pays the hash, so it is the quickest good one on both kinds of CPU the
    benchmarks met: SHA-1, cut to 128 bits. With SHA instructions (x86 SHA-NI, ARMv8) hashlib
    runs SHA-1 and SHA-256 on them (SHA-256 took 35 µs for a 60 KB feed there, BLAKE2b 73);
    without them SHA-256 took 214 µs for that feed, SHA-1 104, BLAKE2b 126, MD5 133. An ETag
    is a validator, not a signature (RFC 9110 8.8.3): only staff write what is hashed, and a
    collision would at worst keep a browser's copy of a page until its next change."""
    etag = hashlib.sha1(body, usedforsecurity=False).hexdigest()[:32]
    drop = ("etag", "content-length", "last-modified")
    headers = [(n, v) for n, v in headers if n.lower() not in drop]
    headers += [("ETag", f'"{etag}"'), ("Content-Length", str(len(body)))]
    return KeptResponse(status, tuple(headers), body, etag, last_modified)


def not_modified(environ, kept: KeptResponse) -> bool:
    """Tell whether the client's copy is current (RFC 9110 13.1.2, 13.1.3; ETag wins)."""
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match:
        etags = parse_etags(if_none_match)
        return etags.star_tag or etags.contains_weak(kept.etag)
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        moment = parse_date(since)
        if moment is not None:
            return datetime.fromtimestamp(kept.last_modified, UTC) <= moment
    return False

