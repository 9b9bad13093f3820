"""Full-text search over what readers may see: one interface over SQLite FTS5 and PostgreSQL.

The index (blog.models.search) holds one document per published or scheduled post or page:
title, excerpt, tag names, author names and body text. It is kept current inside the
transaction that changes a post (indexer.py's after_flush hook: save, publish, unpublish,
delete, tag and author renames), by indexer.index_posts() for bulk writers that bypass the ORM
(the demo, importers), and rebuilt whole by `flask --app blog search-reindex`. Queries join the
posts table and apply the reader's visibility rule, so drafts, posts scheduled for later and
deleted posts are never found, even for a moment.

This module answers searches (search()); query.py parses what was typed, backends.py holds each
database's statements, snippets.py marks the words found.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from blog.models import utcnow
from blog.posts.reading import cursor, read_records
from blog.posts.search.backends import (
    HITS,
    POSTGRES_GROUPS,
    SQLITE_GROUP,
    WINDOW,
    postgres_config,
)
from blog.posts.search.query import QueryError, fts5_query, parse_query, tsquery
from blog.posts.search.snippets import Hit, make_snippet
from blog.transactions import reading_connection

__all__ = ["MOST", "STEP", "Hit", "QueryError", "Results", "search"]

# Hits a page shows first, and how many more "Show more results" adds: Ghost's search
# (sodo-search's PopupModal: DEFAULT_MAX_POSTS and STEP_MAX_POSTS are both 10).
STEP = 10
MOST = 100  # the most hits one page shows


@dataclass
class Results:
    """What a search found: the words searched for, a page of hits, and whether more matched."""

    terms: list[str]
    hits: list[Hit] = field(default_factory=list)
    has_more: bool = False


def search(query: str, limit: int = STEP) -> Results:
    """Find published posts and pages holding every word of query (the last also as a prefix,
    for results as you type): first those whose title holds them all, then those whose
    excerpt, tags or authors do, then the rest (the body); newest first within each group.

    Each group is one index lookup read in post id order that stops at the limit, so a search
    costs milliseconds however many posts match (relevance scoring such as bm25 would score
    every match: about a second for a common word at 100,000 posts, docs/benchmarks-search.md).
    Raises QueryError (see parse_query). Reads on the request's reading connection
    (blog.transactions.reading_connection), in its dialect.
    """
    terms = parse_query(query)
    connection = reading_connection()
    if connection.dialect.name == "sqlite":
        match = fts5_query(terms)
        matches = [f"title : ({match})", f"{{excerpt tags authors}} : ({match})", match]
        groups, extra = zip([SQLITE_GROUP] * 3, matches, strict=True), {}
    else:
        groups, extra = (
            zip(POSTGRES_GROUPS, [tsquery(terms)] * 3, strict=True),
            {"config": postgres_config(), "window": limit + WINDOW},
        )
    ids: list[int] = []
    for stmt, match in groups:
        wanted = limit + 1 - len(ids)
        if wanted <= 0:
            break
        params = {"match": match, "seen": ids or [-1], "now": utcnow(), "limit": wanted, **extra}
        ids += [row[0] for row in cursor.run(connection, stmt, params)[1]]
    found = {hit.id: hit for hit in read_records(HITS, {"ids": ids or [-1]}, Hit, bylines=False)}
    hits = [found[i] for i in ids if i in found]
    for hit in hits[:limit]:  # the one past the limit only says there are more
        hit.snippet, hit.plaintext = make_snippet(hit.plaintext, terms), ""
    return Results(terms=terms, hits=hits[:limit], has_more=len(hits) > limit)
