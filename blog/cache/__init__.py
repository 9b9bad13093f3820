"""Reader pages served from memory: conditional GET and a response cache for anonymous readers.

The parts, wired by init_app:

- public: a Flask before_request hook notes the content generation a request renders under,
  and an after_request hook marks reader pages for anonymous visitors as public.
- conditional: a WSGI middleware around the app gives marked responses an ETag, answers 304s
  and HEAD, and keeps them (kept: in memory, or in Redis when REDIS_URL is set).
- generations / content_cache: the content *generation*, a counter shared by every worker (a
  file in the instance folder, or a Redis key, so every machine shares it).
  bump_content_generation() moves it on, so every kept page is stale at once, with no key to
  scan. The generation also remembers when the next scheduled post goes live, and moves on by
  itself at that moment.
- commits: any commit that writes a table a reader page shows (everything but QUIET_TABLES)
  bumps the generation by itself; code that writes another way (bulk loaders, raw SQL) calls
  bump_content_generation() after committing.
"""

from __future__ import annotations

from flask import Flask

from blog.cache import commits, public
from blog.cache.conditional import ConditionalCache
from blog.cache.content_cache import ContentCache, bump_content_generation

__all__ = ["bump_content_generation", "init_app"]


def init_app(app: Flask) -> None:
    """Mark public reader responses and wrap the app in the conditional GET / cache layer."""
    cfg = app.config
    if cfg.get("RESPONSE_CACHE") is None:
        cfg["RESPONSE_CACHE"] = not cfg.get("TESTING")
    cache = app.extensions["response_cache"] = ContentCache(app)
    cache.start()
    commits.listen()
    app.before_request(public.start_request)
    app.after_request(public.mark_public)
    staff_cookies = (cfg["SESSION_COOKIE_NAME"], cfg.get("REMEMBER_COOKIE_NAME", "remember_token"))
    app.wsgi_app = ConditionalCache(app.wsgi_app, cache, staff_cookies)
