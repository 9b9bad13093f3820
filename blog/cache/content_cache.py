"""The response cache as the app sees it: its generation store and response store, and the
function that starts a new generation (bump_content_generation).

app.extensions["response_cache"] holds the app's ContentCache. Stores are opened on first use in
each process, so a forked worker gets its own Redis connections.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import func, select

from blog.cache import clock
from blog.cache.generations import FileGenerations, Generation, RedisGenerations
from blog.cache.kept import MemoryResponses, RedisResponses
from blog.extensions import db
from blog.models import Post, utcnow

log = logging.getLogger(__name__)


class ContentCache:
    """The generation store and response store of one app; app.extensions["response_cache"]."""

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
            local = MemoryResponses(int(self.app.config["RESPONSE_CACHE_MAX_BYTES"]))
            if self.redis_url:
                import redis  # an optional dependency (the redis extra): only when configured

                client = redis.Redis.from_url(self.redis_url, socket_timeout=2)
                store = RedisGenerations(client, self.prefix + "generation")
                kept = RedisResponses(
                    client, self.prefix + "page:", int(self.app.config["RESPONSE_CACHE_TTL"]), local
                )
            else:
                store, kept = FileGenerations(self.file), local
            self._stores = (store, kept)
            self._pid = os.getpid()
        return self._stores

    @property
    def generations(self) -> FileGenerations | RedisGenerations:
        """Where the generation lives: the instance folder's file, or Redis."""
        return self._open()[0]

    @property
    def responses(self) -> MemoryResponses | RedisResponses:
        """Where responses are kept: this process's memory, or Redis with a copy in memory."""
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
            # it now, as part of that change (its Last-Modified stays; the bump adds one second).
            with self.app.app_context():
                return self.generations.bump(found.last_modified - 1, _next_go_live())
        if found is None or (found.next_go_live and clock.now() >= found.next_go_live):
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
        return self.generations.bump(clock.now(), _next_go_live() if look_up else -1)


def _next_go_live() -> float | None:
    """Return when the next post due in the future goes live (Unix seconds), or None."""
    now = utcnow() + timedelta(seconds=clock.now() - time.time())  # on the cache's clock
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

