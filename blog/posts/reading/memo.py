"""What reader pages would otherwise count over every post on each request, worked out once per
content generation in each worker: the number of posts an author or tag page shows, and where
deep pages of a list start (so /page/<n>/ seeks instead of skipping (n-1) x 12 rows).

At 100,000 posts an author's COUNT(*) took 30 ms and /page/8334/'s OFFSET 15 ms on SQLite,
against about 2 ms for a whole page; remembered, both cost what they cost at 2,000 posts.

The content generation (blog.cache) moves on with every change a reader sees, in every worker,
and by itself when a scheduled post goes live, so a memo is never older than the content. Each
reader request notes its generation (blog.cache.public); outside a request nothing is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from flask import current_app, has_request_context, request

from blog.cache.public import GENERATION_KEY

T = TypeVar("T")
MAX_ENTRIES = 512  # authors and tags with a count, lists with marks: a worker keeps at most this
_lock = threading.Lock()


def remembered(key: tuple, work_out: Callable[[], T]) -> T:
    """Return work_out()'s value for key (a hashable tuple naming the question), from this
    worker's memo (one per app) when it was worked out under the request's content generation.

    Outside a request, or before the generation is known, it always calls work_out().
    """
    generation = request.environ.get(GENERATION_KEY) if has_request_context() else None
    if generation is None:
        return work_out()
    number = generation.number
    kept = current_app.extensions.setdefault("reader_memo", {"generation": None, "values": {}})
    with _lock:
        if kept["generation"] != number:
            kept["generation"], kept["values"] = number, {}
        values = kept["values"]
        if key in values:
            return values[key]
    value = work_out()
    with _lock:
        if kept["generation"] == number:
            if len(values) >= MAX_ENTRIES:
                values.clear()
            values[key] = value
    return value
