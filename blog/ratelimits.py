"""Rate limits: the one way to declare one, counted where every worker and machine sees it.

A limit is a scope (what is limited: "login-ip", "subscribe-address"), a key (who: a client
address, a hashed mail address) and rules such as "10 per minute; 100 per day". Hits are
counted in Redis when REDIS_URL is set (a sorted set per key, changed by one Lua script, so
concurrent workers agree), otherwise in the database (blog.models.RateLimitHit rows). Never in
a process's memory: four workers would each allow the whole limit.

Windows slide: a key is refused while it has `count` hits in the last `seconds`; it may try
again once the count-th newest hit leaves the window (that wait is the Retry-After). A refused
hit is not counted, so a flood stores at most `count` hits per key.

    check(scope, key, rules)  -> seconds to wait, 0 when allowed; records nothing
    hit(scope, key, rules)    -> the same, recording the hit when allowed
    @limited(scope, rules, key=client_address)   the same for a view: 429 and Retry-After

Database hits join the caller's transaction: commit it (limited() does, after its view).
"""

from __future__ import annotations

import math
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from functools import wraps

from flask import current_app, request
from sqlalchemy import delete, select, text
from werkzeug.exceptions import TooManyRequests

from blog.extensions import db
from blog.models import RateLimitHit, utcnow

DAY = 86400  # the longest window; database hits older than this are deleted
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": DAY}
RULE = re.compile(r"\s*(\d+)\s*(?:per|/)\s*(\d+)?\s*(second|minute|hour|day)s?\s*", re.I)


@dataclass(frozen=True)
class Rule:
    """At most count hits in any seconds-long window."""

    count: int
    seconds: int


def parse(rules: str) -> tuple[Rule, ...]:
    """Read "10 per minute; 100 per day" ("5/hour", "3 per 10 minutes"; "," also separates).

    Raises ValueError for anything else, or a window over a day.
    """
    parsed = []
    for part in filter(str.strip, re.split(r"[;,]", rules)):
        match = RULE.fullmatch(part)
        if match is None:
            raise ValueError(f"Not a rate limit: {part!r} (write e.g. '10 per minute')")
        seconds = int(match[2] or 1) * UNITS[match[3].lower()]
        if seconds > DAY:
            raise ValueError(f"Rate limit windows can be at most a day: {part!r}")
        parsed.append(Rule(int(match[1]), seconds))
    return tuple(parsed)


class RateLimited(TooManyRequests):
    """429 Too Many Requests with a Retry-After header of retry_after seconds."""

    def __init__(self, retry_after: int, scope: str) -> None:
        super().__init__(retry_after=retry_after)
        self.scope = scope


def check(scope: str, key: str, rules: str | tuple[Rule, ...]) -> int:
    """Return how many seconds key must wait in scope (0: it may go on); record nothing."""
    return _store().take(scope, key[:254], _rules(rules), record=False)


def hit(scope: str, key: str, rules: str | tuple[Rule, ...]) -> int:
    """Like check, but count this hit when it is allowed."""
    return _store().take(scope, key[:254], _rules(rules), record=True)


def record(scope: str, key: str) -> None:
    """Count one hit against key whatever its count (a failed sign-in, after check)."""
    _store().take(scope, key[:254], (), record=True)


def forget(scope: str, key: str, suffix: bool = False) -> None:
    """Forget key's hits in scope (after a successful sign-in); with suffix=True, the hits of
    every key that ends with key."""
    _store().forget(scope, key[:254], suffix)


def client_address() -> str:
    """The requesting client's address (behind TRUSTED_PROXIES proxies: the forwarded one)."""
    return request.remote_addr or "unknown"


def limited(
    scope: str,
    rules: Callable[[], str] | str,
    key: Callable[[], str | None] = client_address,
    methods: tuple[str, ...] = ("POST",),
):
    """Limit a view: each request in methods is a hit on key() (None: not limited).

    Over the limit, raises RateLimited (429; a blueprint's errorhandler may show its own page
    and must keep error.retry_after as Retry-After). A database hit joins the view's own
    transaction (one write per request, as SQLite under load needs) and is committed after
    the view, so a request the view refuses (422) counts too; one that raises does not. A
    refused hit ends the transaction before raising, so no lock outlives the refusal.
    """

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            who = key() if request.method in methods else None
            if who is None:
                return view(*args, **kwargs)
            wait = hit(scope, who, rules() if callable(rules) else rules)
            if wait:  # end the transaction: it holds locks (SQLite's, PostgreSQL's advisory)
                db.session.commit()
                raise RateLimited(wait, scope)
            response = view(*args, **kwargs)  # an inner limit's refusal commits this hit too
            db.session.commit()  # the hit, when the view did not commit it with its change
            return response

        return guarded

    return decorate


def _rules(rules: str | tuple[Rule, ...]) -> tuple[Rule, ...]:
    return parse(rules) if isinstance(rules, str) else rules


def _store():
    """The app's store: Redis when REDIS_URL is set (one client per process), else the db."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return DatabaseStore
    stores = current_app.extensions.setdefault("ratelimits", {})
    store = stores.get(os.getpid())
    if store is None:
        prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
        store = stores[os.getpid()] = RedisStore(url, prefix)
    return store


class DatabaseStore:
    """Hits as rows in the caller's transaction. On PostgreSQL a transaction-scoped advisory
    lock per key makes check-and-add atomic; SQLite writes take the database's one lock."""

    @staticmethod
    def take(scope: str, key: str, rules: tuple[Rule, ...], record: bool) -> int:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"{scope}|{key}"}
            )
        now = utcnow()
        wait = 0
        for rule in rules:
            window = now - timedelta(seconds=rule.seconds)
            recent = db.session.scalars(
                select(RateLimitHit.created_at)
                .where(
                    RateLimitHit.scope == scope,
                    RateLimitHit.key == key,
                    RateLimitHit.created_at > window,
                )
                .order_by(RateLimitHit.created_at.desc())
                .limit(rule.count)
            ).all()
            if len(recent) >= rule.count:
                left = rule.seconds - (now - recent[-1]).total_seconds()
                wait = max(wait, max(1, math.ceil(left)))
        if record and not wait:
            db.session.add(RateLimitHit(scope=scope, key=key, created_at=now))
            db.session.execute(
                delete(RateLimitHit).where(RateLimitHit.created_at < now - timedelta(seconds=DAY))
            )
        return wait

    @staticmethod
    def forget(scope: str, key: str, suffix: bool) -> None:
        match = RateLimitHit.key == key
        if suffix:
            escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            match = RateLimitHit.key.like(f"%{escaped}", escape="\\")
        db.session.execute(delete(RateLimitHit).where(RateLimitHit.scope == scope, match))


class RedisStore:
    """Hits as members of one sorted set per key (score: the hit's time in milliseconds)."""

    # KEYS[1]: the key. ARGV: now, record (0/1), member, longest window, then count, window
    # pairs (milliseconds). Returns the milliseconds to wait (0: allowed, and recorded).
    TAKE = """
    local now, longest = tonumber(ARGV[1]), tonumber(ARGV[4])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
    local wait = 0
    for i = 5, #ARGV, 2 do
      local count, window = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
      local recent = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '(' .. (now - window),
        'WITHSCORES', 'LIMIT', count - 1, 1)
      if #recent > 0 then
        wait = math.max(wait, tonumber(recent[2]) + window - now)
      end
    end
    if ARGV[2] == '1' and wait == 0 then
      redis.call('ZADD', KEYS[1], now, ARGV[3])
      redis.call('PEXPIRE', KEYS[1], longest)
    end
    return wait
    """

    def __init__(self, url: str, prefix: str) -> None:
        import redis  # the optional "redis" extra: needed only when REDIS_URL is set

        self.client = redis.Redis.from_url(url, socket_timeout=2)
        self.prefix = prefix
        self._take = self.client.register_script(self.TAKE)

    def _key(self, scope: str, key: str) -> str:
        return f"{self.prefix}:{scope}:{key}"

    def take(self, scope: str, key: str, rules: tuple[Rule, ...], record: bool) -> int:
        now = int(utcnow().replace(tzinfo=UTC).timestamp() * 1000)
        longest = max([rule.seconds for rule in rules] + [DAY]) * 1000
        args = [now, int(record), f"{now}-{uuid.uuid4().hex[:8]}", longest]
        for rule in rules:
            args += [rule.count, rule.seconds * 1000]
        wait = int(self._take(keys=[self._key(scope, key)], args=args))
        return math.ceil(wait / 1000) if wait > 0 else 0

    def forget(self, scope: str, key: str, suffix: bool) -> None:
        if not suffix:
            self.client.delete(self._key(scope, key))
            return
        pattern = self._key(scope, "*" + re.sub(r"([\\*?\[\]])", r"\\\1", key))
        for found in self.client.scan_iter(match=pattern, count=500):
            self.client.delete(found)
