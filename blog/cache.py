"""Reader pages served from memory: conditional GET and a response cache for anonymous readers.

Two parts, wired by init_app:

- A Flask after_request hook marks a reader page (200 to a GET or HEAD, on an endpoint in
  READER_BLUEPRINTS / READER_ENDPOINTS, for a visitor who is not signed in, with no cookie to
  set) as public: `Cache-Control: public, max-age=HTTP_CACHE_MAX_AGE` and a `Last-Modified`
  of the time the content last changed.
- A WSGI middleware around the app gives every marked response a strong `ETag` (a hash of its
  body), answers `If-None-Match` / `If-Modified-Since` with 304 and no body (RFC 9110 13.1),
  answers HEAD, and keeps marked responses, keyed by host, path, query and whether htmx asked
  for a fragment. Later anonymous requests are answered from there without entering Flask.

What is kept lives under a content *generation*: a counter shared by every worker (a file in
the instance folder, or a Redis key when REDIS_URL is set, so every machine shares it).
bump_content_generation() moves it on, so every kept page is stale at once, with no key to
scan. Any commit that writes a table a reader page shows (everything but QUIET_TABLES) bumps
it by itself; code that writes another way (bulk loaders, raw SQL) calls it after committing.
The generation also remembers when the next scheduled post goes live, and moves on by itself
at that moment. A request that carries the session or remember-me cookie (staff) never reads
or fills the cache.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask, Response, current_app, has_app_context, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.http import http_date, parse_date, parse_etags

log = logging.getLogger(__name__)

# Blueprints and endpoints whose GET responses are the same for every anonymous reader.
READER_BLUEPRINTS = {"posts", "api"}
READER_ENDPOINTS = {"authors.author", "newsletter.subscribe", "newsletter.subscribed"}
# Tables no reader page shows: writing them never makes a kept page stale.
QUIET_TABLES = {"subscribers", "mail_outbox", "login_attempts", "invites", "alembic_version"}
ENVIRON_KEY = "blog.public_page"  # set by the Flask hook: this response may be kept
GENERATION_KEY = "blog.generation"  # the generation this request renders under
HIT_HEADERS_304 = ("ETag", "Cache-Control", "Last-Modified", "Vary")


def _now() -> float:
    """The current Unix time in seconds (one place, so tests can move the clock)."""
    return time.time()


@dataclass(frozen=True)
class Generation:
    """One content generation: number (bumped on every change), last_modified and next_go_live
    (Unix seconds of the next scheduled post's publication; None: none is scheduled; -1: not
    looked up yet, which the first request does).

    last_modified is the whole second after the change, plus one: every copy a client got
    before the change carries an earlier Last-Modified (sent as at most the current time), so
    If-Modified-Since stays correct with one-second dates even when changes come quickly.
    """

    number: int
    last_modified: int
    next_go_live: float | None

    def header_time(self) -> int:
        """Last-Modified as sent now: never in the future (RFC 9110 8.8.2.1)."""
        return min(self.last_modified, int(_now()))

    def encode(self) -> str:
        return f"{self.number} {self.last_modified} {self.next_go_live or 0}"

    @classmethod
    def decode(cls, text: str | bytes | None) -> Generation | None:
        if not text:
            return None
        if isinstance(text, bytes):
            text = text.decode()
        try:
            number, modified, go_live = text.split()
            return cls(int(number), int(modified), float(go_live) or None)
        except ValueError:
            return None


# --- Where the generation lives ---------------------------------------------------------------


class FileGenerations:
    """The generation in a small file: shared by every worker on one machine."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    def read(self) -> Generation | None:
        try:
            return Generation.decode(self.path.read_text())
        except FileNotFoundError:
            return None

    def start(self) -> None:
        """Create the file when there is none, with the next go-live still to be looked up
        (-1: the first request does), so reading a page never adds a file."""
        self.lock_path.touch()
        try:
            with open(self.path, "x") as file:
                file.write(Generation(1, math.ceil(_now()) + 1, -1).encode())
        except FileExistsError:
            pass

    def bump(self, now: float, next_go_live: float | None) -> Generation:
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one bump at a time: numbers never repeat
            old = self.read()
            new = _next(old, now, next_go_live)
            draft = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
            draft.write_text(new.encode())
            os.replace(draft, self.path)
        return new


class RedisGenerations:
    """The generation in one Redis key: shared by every worker on every machine."""

    BUMP = """
    local old = redis.call('GET', KEYS[1])
    local number = 0
    if old then number = tonumber(string.match(old, '^(%d+)')) or 0 end
    local value = string.format('%d %s %s', number + 1, ARGV[1], ARGV[2])
    redis.call('SET', KEYS[1], value)
    return value
    """

    def __init__(self, redis_client, key: str) -> None:
        self.redis = redis_client
        self.key = key
        self._bump = redis_client.register_script(self.BUMP)

    def read(self) -> Generation | None:
        return Generation.decode(self.redis.get(self.key))

    def bump(self, now: float, next_go_live: float | None) -> Generation:
        value = self._bump(keys=[self.key], args=[math.ceil(now) + 1, repr(next_go_live or 0)])
        return Generation.decode(value)


def _next(old: Generation | None, now: float, next_go_live: float | None) -> Generation:
    return Generation((old.number if old else 0) + 1, math.ceil(now) + 1, next_go_live)


# --- Where pages are kept ---------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A kept response: status line, headers (with ETag and Last-Modified) and body bytes."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    etag: str  # unquoted
    last_modified: int

    def encode(self) -> bytes:
        head = "\n".join([self.status, self.etag, str(self.last_modified)])
        head += "".join(f"\n{name}: {value}" for name, value in self.headers)
        raw = head.encode("latin-1")
        return len(raw).to_bytes(4, "big") + raw + self.body

    @classmethod
    def decode(cls, data: bytes) -> Page:
        size = int.from_bytes(data[:4], "big")
        status, etag, modified, *lines = data[4 : 4 + size].decode("latin-1").split("\n")
        headers = tuple(tuple(line.split(": ", 1)) for line in lines)
        return cls(status, headers, data[4 + size :], etag, int(modified))  # type: ignore[arg-type]


class MemoryPages:
    """Pages kept in this process, least recently used dropped past max_bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.generation = -1
        self.pages: OrderedDict[tuple, Page] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, generation: int, key: tuple) -> Page | None:
        with self.lock:
            if generation != self.generation:  # a new generation: everything kept is stale
                self.pages.clear()
                self.size = 0
                self.generation = generation
                return None
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, generation: int, key: tuple, page: Page) -> None:
        cost = len(page.body) + 512
        if cost > self.max_bytes // 8:
            return
        with self.lock:
            if generation != self.generation:
                return  # rendered under a generation that is no longer current: never keep it
            old = self.pages.pop(key, None)
            if old is not None:
                self.size -= len(old.body) + 512
            self.pages[key] = page
            self.size += cost
            while self.size > self.max_bytes and self.pages:
                _, dropped = self.pages.popitem(last=False)
                self.size -= len(dropped.body) + 512


class RedisPages:
    """Pages kept in Redis for ttl seconds (shared by every machine), with a copy in memory."""

    def __init__(self, redis_client, prefix: str, ttl: int, local: MemoryPages) -> None:
        self.redis = redis_client
        self.prefix = prefix
        self.ttl = ttl
        self.local = local

    def _key(self, generation: int, key: tuple) -> str:
        host, htmx, url = key
        return f"{self.prefix}{generation}:{int(htmx)}:{host}{url}"

    def get(self, generation: int, key: tuple) -> Page | None:
        page = self.local.get(generation, key)
        if page is None:
            data = self.redis.get(self._key(generation, key))
            if data is not None:
                page = Page.decode(data)
                self.local.put(generation, key, page)
        return page

    def put(self, generation: int, key: tuple, page: Page) -> None:
        self.local.put(generation, key, page)
        self.redis.set(self._key(generation, key), page.encode(), ex=self.ttl)


# --- The cache as the app sees it -------------------------------------------------------------


class ContentCache:
    """The generation store and page store of one app; app.extensions["response_cache"]."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        cfg = app.config
        self.enabled = bool(cfg["RESPONSE_CACHE"])
        self.max_age = int(cfg["HTTP_CACHE_MAX_AGE"])
        self.redis_url = cfg.get("REDIS_URL")
        self.prefix = cfg["RESPONSE_CACHE_PREFIX"]
        self.file = Path(app.instance_path) / "content-generation"
        self._lock = threading.Lock()
        self._pid = None
        self._stores = None
        self.seen = -1  # the generation this process last rendered under

    def _open(self):
        """Connect (once per process: a forked worker gets its own Redis connections)."""
        if self._stores is not None and self._pid == os.getpid():
            return self._stores
        with self._lock:
            if self._stores is not None and self._pid == os.getpid():
                return self._stores
            local = MemoryPages(int(self.app.config["RESPONSE_CACHE_MAX_BYTES"]))
            if self.redis_url:
                import redis

                client = redis.Redis.from_url(self.redis_url, socket_timeout=2)
                generations = RedisGenerations(client, self.prefix + "generation")
                pages = RedisPages(
                    client, self.prefix + "page:", int(self.app.config["RESPONSE_CACHE_TTL"]), local
                )
            else:
                generations, pages = FileGenerations(self.file), local
            self._stores = (generations, pages)
            self._pid = os.getpid()
        return self._stores

    @property
    def generations(self):
        return self._open()[0]

    @property
    def pages(self):
        return self._open()[1]

    def start(self) -> None:
        """Prepare the generation store at start-up (a file in the instance folder; Redis
        needs nothing, and is not contacted before the first request)."""
        if not self.redis_url:
            FileGenerations(self.file).start()

    def current(self) -> Generation:
        """Return the current generation, starting one (or moving past a go-live) as needed."""
        found = self.generations.read()
        if found is not None and found.next_go_live == -1:
            # The change that started this generation left the next go-live to look up: do
            # it now, as part of that change (its Last-Modified stays; _next adds one second).
            with self.app.app_context():
                return self.generations.bump(found.last_modified - 1, _next_go_live())
        if found is None or (found.next_go_live and _now() >= found.next_go_live):
            with self.app.app_context():
                return self.bump()
        return found

    def bump(self, look_up: bool = True) -> Generation:
        """Start a new generation.

        look_up asks the database when the next scheduled post goes live (needs an app
        context and a connection of its own); without it the generation says -1 and the next
        request asks. Commits bump without it: their session may still hold its connection
        (and on SQLite the write lock), so a second one could wait on the first.
        """
        return self.generations.bump(_now(), _next_go_live() if look_up else -1)


def _next_go_live() -> float | None:
    """Return when the next post due in the future goes live (Unix seconds), or None."""
    from sqlalchemy import func, select

    from blog.extensions import db
    from blog.models import Post, utcnow

    now = utcnow() + timedelta(seconds=_now() - time.time())  # on the cache's clock
    stmt = select(func.min(Post.published_at)).where(
        Post.status.in_(("published", "scheduled")), Post.published_at > now
    )
    try:
        with db.engine.connect().execution_options(read_only=True) as conn:
            moment = conn.execute(stmt).scalar()
    except Exception:  # no schema yet: nothing is scheduled
        log.debug("Could not look for scheduled posts", exc_info=True)
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def bump_content_generation() -> None:
    """Make every kept reader page stale, in every worker and on every machine, at once.

    Call it after committing a change readers see that did not go through the ORM session
    (which bumps by itself on commit): bulk inserts on a separate connection, raw SQL, files.
    Needs an app context. Errors from Redis propagate (redis.RedisError).
    """
    cache: ContentCache | None = current_app.extensions.get("response_cache")
    if cache is not None:
        cache.bump(look_up=False)


# --- The ORM hook: commits that change what readers see bump the generation -------------------


def _tables_written(session: Session) -> set[str]:
    tables = set()
    for obj in (*session.new, *session.deleted, *session.dirty):
        table = getattr(obj, "__table__", None)
        if table is not None and (obj not in session.dirty or session.is_modified(obj)):
            tables.add(table.name)
    return tables


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, flush_context) -> None:
    if _tables_written(session) - QUIET_TABLES:
        session.info["content_changed"] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) not in QUIET_TABLES:
            state.session.info["content_changed"] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the change is not committed until the outer transaction is
    if session.info.pop("content_changed", False) and has_app_context():
        try:
            bump_content_generation()
        except Exception:  # the change is committed; a cache outage must not turn it into a 500
            log.exception("Could not start a new content generation")


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's rollback keeps the outer change
        session.info.pop("content_changed", None)


# --- The Flask side: which responses are public ---------------------------------------------


def _start_request() -> None:
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


def _mark_public(response: Response) -> Response:
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
    response.cache_control.public = True
    response.cache_control.max_age = cache.max_age
    response.headers["Last-Modified"] = http_date(generation.header_time())
    request.environ[ENVIRON_KEY] = generation
    return response


# --- The WSGI side: ETag, 304, HEAD, and the kept pages --------------------------------------


class ConditionalCache:
    """WSGI middleware: validators and 304s for marked responses, and the response cache."""

    def __init__(self, wsgi_app, cache: ContentCache, staff_cookies: tuple[str, ...]) -> None:
        self.wsgi_app = wsgi_app
        self.cache = cache
        self.staff_cookies = tuple(f"{name}=" for name in staff_cookies)

    def __call__(self, environ, start_response):
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
                page = self.cache.pages.get(generation.number, key)
            except Exception:
                log.warning("Response cache unavailable", exc_info=True)
                key = page = None
            if page is not None:
                return self._answer(environ, start_response, page, "hit")
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
            if head and hasattr(app_iter, "close"):
                app_iter.close()
                app_iter = []
            elif head:
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
        etag = hashlib.blake2b(body, digest_size=16).hexdigest()
        drop = ("etag", "content-length", "last-modified")  # Last-Modified: set when sent
        headers = [(n, v) for n, v in headers if n.lower() not in drop]
        headers += [("ETag", f'"{etag}"'), ("Content-Length", str(len(body)))]
        page = Page(status, tuple(headers), body, etag, marked.last_modified)
        if key is not None and generation is not None:
            try:
                self.cache.pages.put(generation.number, key, page)
            except Exception:
                log.warning("Could not keep a page in the response cache", exc_info=True)
        return self._answer(environ, start_response, page, "miss" if key else None)

    def _answer(self, environ, start_response, page: Page, outcome: str | None):
        """Send a kept page: 304 when the client's copy matches, headers only for HEAD."""
        sent = min(page.last_modified, int(_now()))
        headers = [*page.headers, ("Last-Modified", http_date(sent))]
        if outcome:
            headers.append(("X-Cache", outcome))
        if _not_modified(environ, page):
            keep = [(n, v) for n, v in headers if n in HIT_HEADERS_304 or n == "X-Cache"]
            start_response("304 NOT MODIFIED", keep)
            return []
        start_response(page.status, headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [page.body]


def _not_modified(environ, page: Page) -> bool:
    """Tell whether the client's copy is current (RFC 9110 13.1.2, 13.1.3; ETag wins)."""
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match:
        etags = parse_etags(if_none_match)
        return etags.star_tag or etags.contains_weak(page.etag)
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        moment = parse_date(since)
        if moment is not None:
            return datetime.fromtimestamp(page.last_modified, UTC) <= moment
    return False


def init_app(app: Flask) -> None:
    """Mark public reader responses and wrap the app in the conditional GET / cache layer."""
    cfg = app.config
    if cfg.get("RESPONSE_CACHE") is None:
        cfg["RESPONSE_CACHE"] = not cfg.get("TESTING")
    cache = app.extensions["response_cache"] = ContentCache(app)
    cache.start()
    app.before_request(_start_request)
    app.after_request(_mark_public)
    staff_cookies = (cfg["SESSION_COOKIE_NAME"], cfg.get("REMEMBER_COOKIE_NAME", "remember_token"))
    app.wsgi_app = ConditionalCache(app.wsgi_app, cache, staff_cookies)
