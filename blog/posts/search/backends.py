"""The search statements of each database: SQLite's FTS5 table and PostgreSQL's tsvector columns.

A search runs in groups (title, then excerpt/tags/authors, then everything): each group is one
statement that reads the index in post id order, keeps visible posts not found by an earlier
group, and stops at the limit.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import Select, bindparam, column, func, select, table, text

from blog.models import SEARCH_TABLE, Post, PostTag, Tag
from blog.posts.reading import CARD_COLUMNS, visible

WINDOW = 200  # PostgreSQL: newest matches checked for visibility beyond the page size
# Site language (ISO 639-1) -> PostgreSQL text search configuration with its stemmer.
POSTGRES_CONFIGS = {
    "da": "danish", "de": "german", "en": "english", "es": "spanish", "fi": "finnish",
    "fr": "french", "hu": "hungarian", "it": "italian", "nb": "norwegian", "nl": "dutch",
    "no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish",
    "tr": "turkish",
}  # fmt: skip


def postgres_config() -> str:
    """The PostgreSQL text search configuration for the site's language ('simple': no stemming).
    Needs an app context (reads SITE_LANGUAGE)."""
    language = str(current_app.config.get("SITE_LANGUAGE") or "en").split("-")[0].lower()
    return POSTGRES_CONFIGS.get(language, "simple")


FTS = table(SEARCH_TABLE, column("rowid"), column("post_id"))
_POSTS = Post.__table__
# One group of hits: visible posts matching, not already found, newest id first, up to limit.
SQLITE_GROUP = (
    select(_POSTS.c.id)
    .select_from(_POSTS.join(FTS, FTS.c.rowid == _POSTS.c.id))
    .where(
        text(f"{SEARCH_TABLE} MATCH :match"),
        visible(bindparam("now")),
        _POSTS.c.id.not_in(bindparam("seen", expanding=True)),
    )
    .order_by(FTS.c.rowid.desc())
    .limit(bindparam("limit"))
)


def _postgres_group(column_name: str) -> Select:
    """One group on PostgreSQL: the GIN index finds every match first (MATERIALIZED: left to
    itself the planner may walk post ids newest first and test every row's vector, seconds at
    100,000 posts when little matches), then the newest visible ones are kept."""
    matched = (
        select(FTS.c.post_id)
        .where(
            text(f"{SEARCH_TABLE}.{column_name} @@ to_tsquery(CAST(:config AS regconfig), :match)")
        )
        .cte(f"matched_{column_name}")
        .prefix_with("MATERIALIZED")
    )
    return (
        select(_POSTS.c.id)
        .select_from(_POSTS.join(matched, matched.c.post_id == _POSTS.c.id))
        .where(visible(bindparam("now")), _POSTS.c.id.not_in(bindparam("seen", expanding=True)))
        .order_by(_POSTS.c.id.desc())
        .limit(bindparam("limit"))
    )


POSTGRES_GROUPS = [_postgres_group(name) for name in ("title", "about", "document")]
_LINKS, _TAGS = PostTag.__table__, Tag.__table__
# A hit shows its primary tag's name only (no bylines): read with it, not by a second query.
_TAG_NAME = (
    select(_TAGS.c.name)
    .join_from(_LINKS, _TAGS, _TAGS.c.id == _LINKS.c.tag_id)
    .where(_LINKS.c.post_id == _POSTS.c.id)
    .order_by(_LINKS.c.sort_order)
    .limit(1)
    .scalar_subquery()
)
# The cards of the posts found, with the start of their text for snippets.
HITS = select(
    *CARD_COLUMNS,
    func.substr(_POSTS.c.plaintext, 1, 20_000).label("plaintext"),
    _TAG_NAME.label("tag_name"),
).where(_POSTS.c.id.in_(bindparam("ids", expanding=True)))
