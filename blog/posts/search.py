"""Full-text search over what readers may see: one interface over SQLite FTS5 and PostgreSQL.

The index (blog.models.search) holds one document per published or scheduled post or page:
title, excerpt, tag names, author names and body text. It is kept current inside the
transaction that changes a post (an after_flush hook: save, publish, unpublish, delete, tag and
author renames), by index_posts() for bulk writers that bypass the ORM (the demo, importers),
and rebuilt whole by `flask --app blog search-reindex`. Queries join the posts table and apply
the reader's visibility rule, so drafts, posts scheduled for later and deleted posts are never
found, even for a moment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlalchemy import Select, bindparam, column, event, func, inspect, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from blog.models import SEARCH_TABLE, Post, PostAuthor, PostTag, Tag, User, utcnow
from blog.posts.reading import CARD_COLUMNS, Card, read_records, visible

MAX_QUERY_CHARS = 300  # a search box, not a document: longer is refused (400)
MAX_TERMS = 12
MAX_BODY_CHARS = 200_000  # PostgreSQL's tsvector holds at most 1 MB; the start of a book is enough
BATCH = 500
WINDOW = 200  # PostgreSQL: newest matches checked for visibility beyond the page size
_HIT_START, _HIT_END = "\ue000", "\ue001"  # private-use marks, escaped text goes between them
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script: nothing an FTS parser reads
# Site language (ISO 639-1) -> PostgreSQL text search configuration with its stemmer.
POSTGRES_CONFIGS = {
    "da": "danish", "de": "german", "en": "english", "es": "spanish", "fi": "finnish",
    "fr": "french", "hu": "hungarian", "it": "italian", "nb": "norwegian", "nl": "dutch",
    "no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish",
    "tr": "turkish",
}  # fmt: skip


class QueryError(ValueError):
    """A search that cannot be run as typed; str(error) says why, for the reader (HTTP 400)."""


def parse_query(raw: str) -> list[str]:
    """Return the words to search for in raw, lower-cased, in order, without repeats.

    Only letters and digits are kept, so FTS operators, quotes, `*`, `NEAR(`, `:` and column
    filters are plain text, never syntax. Raises QueryError for control characters (NUL),
    more than MAX_QUERY_CHARS characters or MAX_TERMS words, or no word at all.
    """
    if _CONTROL.search(raw):
        raise QueryError("That search contains characters that cannot be typed in a search box.")
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryError(f"Searches are limited to {MAX_QUERY_CHARS} characters.")
    terms = list(dict.fromkeys(word.lower() for word in _WORD.findall(raw)))
    if not terms:
        raise QueryError("Type at least one word or number to search for.")
    if len(terms) > MAX_TERMS:
        raise QueryError(f"Search for at most {MAX_TERMS} words at a time.")
    return terms


@dataclass(slots=True)
class Hit(Card):
    """A post found by a search: its card, and a snippet with the matched words marked."""

    plaintext: str = ""
    snippet: str = ""

    @property
    def highlighted(self) -> Markup:
        """The snippet as HTML: the text escaped, matched words in <mark>."""
        safe = str(escape(self.snippet))
        return Markup(safe.replace(_HIT_START, "<mark>").replace(_HIT_END, "</mark>"))


@dataclass
class Results:
    terms: list[str]
    hits: list[Hit] = field(default_factory=list)
    has_more: bool = False


def search(query: str, limit: int = 20) -> Results:
    """Find published posts and pages holding every word of query (the last also as a prefix,
    for results as you type): first those whose title holds them all, then those whose
    excerpt, tags or authors do, then the rest (the body); newest first within each group.

    Each group is one index lookup read in post id order that stops at the limit, so a search
    costs milliseconds however many posts match (relevance scoring such as bm25 would score
    every match: about a second for a common word at 100,000 posts, docs/benchmarks-search.md).
    Raises QueryError (see parse_query). Uses the session's connection and dialect.
    """
    from blog.extensions import db

    terms = parse_query(query)
    if db.session.get_bind().dialect.name == "sqlite":
        match = _fts5_query(terms)
        matches = [f"title : ({match})", f"{{excerpt tags authors}} : ({match})", match]
        groups, extra = zip([_SQLITE_TIER] * 3, matches, strict=True), {}
    else:
        groups, extra = (
            zip(_POSTGRES_TIERS, [_tsquery(terms)] * 3, strict=True),
            {"config": _config(), "window": limit + WINDOW},
        )
    ids: list[int] = []
    for stmt, match in groups:
        wanted = limit + 1 - len(ids)
        if wanted <= 0:
            break
        params = {"match": match, "seen": ids or [-1], "now": utcnow(), "limit": wanted, **extra}
        ids += db.session.scalars(stmt, params)
    found = {hit.id: hit for hit in read_records(_HITS, {"ids": ids or [-1]}, Hit)}
    hits = [found[i] for i in ids if i in found]
    for hit in hits:
        hit.snippet, hit.plaintext = make_snippet(hit.plaintext, terms), ""
    return Results(terms=terms, hits=hits[:limit], has_more=len(hits) > limit)


def _fts5_query(terms: list[str]) -> str:
    """Every word as a quoted FTS5 string (never an operator), all required; the last one
    also as a prefix (stemmed words are stored stemmed, so "soups" must match as a word)."""
    *whole, last = terms
    return " AND ".join([f'"{word}"' for word in whole] + [f'("{last}" OR "{last}"*)'])


def _tsquery(terms: list[str]) -> str:
    """Every word ANDed for to_tsquery (letters and digits only, so no syntax errors); the last
    word also matches as a prefix."""
    *whole, last = terms
    return " & ".join([*whole, f"{last}:*"])


def _config() -> str:
    """The PostgreSQL text search configuration for the site's language ('simple': no stemming)."""
    from flask import current_app

    language = str(current_app.config.get("SITE_LANGUAGE") or "en").split("-")[0].lower()
    return POSTGRES_CONFIGS.get(language, "simple")


_FTS = table(SEARCH_TABLE, column("rowid"), column("post_id"))
_POSTS = Post.__table__
# One group of hits: visible posts matching, not already found, newest id first, up to limit.
_SQLITE_TIER = (
    select(_POSTS.c.id)
    .select_from(_POSTS.join(_FTS, _FTS.c.rowid == _POSTS.c.id))
    .where(
        text(f"{SEARCH_TABLE} MATCH :match"),
        visible(bindparam("now")),
        _POSTS.c.id.not_in(bindparam("seen", expanding=True)),
    )
    .order_by(_FTS.c.rowid.desc())
    .limit(bindparam("limit"))
)


def _postgres_tier(column_name: str) -> Select:
    """One group on PostgreSQL: the GIN index finds every match first (MATERIALIZED: left to
    itself the planner may walk post ids newest first and test every row's vector, seconds at
    100,000 posts when little matches), then the newest visible ones are kept."""
    matched = (
        select(_FTS.c.post_id)
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


_POSTGRES_TIERS = [_postgres_tier(name) for name in ("title", "about", "document")]
_HITS = select(*CARD_COLUMNS, func.substr(_POSTS.c.plaintext, 1, 20_000).label("plaintext")).where(
    _POSTS.c.id.in_(bindparam("ids", expanding=True))
)


def _stem(word: str) -> str:
    """Strip one common English ending, carefully: "notes" -> "note" (not "not"), "boxes" ->
    "box", "walking"/"walked" -> "walk"; short words stay whole."""
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    for ending in ("ing", "ed"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    if word.endswith("s") and not word.endswith("ss") and len(word) >= 4:
        return word[:-1]
    return word


def make_snippet(text_: str, terms: list[str], words: int = 30) -> str:
    """Return about words words of text around the first matched word, matched words between
    the private-use marks that Hit.highlighted turns into <mark>.

    A word matches when it starts with a search word less a common English ending (_stem:
    "walks" marks "walking"), roughly as the index's stemmer matched it.
    """
    stems = sorted({_stem(term) for term in terms}, key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, stems)) + r")\w*", re.IGNORECASE)
    tokens = _CONTROL.sub(" ", text_).replace(_HIT_START, "").replace(_HIT_END, "").split()
    first = next((n for n, token in enumerate(tokens) if pattern.search(token)), 0)
    start = max(0, first - 8)
    chunk = " ".join(tokens[start : start + words])
    marked = pattern.sub(lambda m: f"{_HIT_START}{m[0]}{_HIT_END}", chunk)
    return ("…" if start else "") + marked + ("…" if start + words < len(tokens) else "")


# --- Keeping the index current -----------------------------------------------------------------


def _documents(conn: Connection, ids: list[int]) -> list[dict]:
    """Read what the index holds for each post in ids that is published or scheduled."""
    posts, links, tags, users = (
        Post.__table__,
        PostTag.__table__,
        Tag.__table__,
        User.__table__,
    )
    rows = conn.execute(
        select(
            posts.c.id, posts.c.title, posts.c.custom_excerpt, posts.c.excerpt,
            posts.c.meta_description, posts.c.plaintext,
        ).where(posts.c.id.in_(ids), posts.c.status.in_(("published", "scheduled")))
    ).all()  # fmt: skip
    docs = {
        row.id: {
            "id": row.id,
            "title": row.title or "",
            "excerpt": " ".join(
                filter(None, (row.custom_excerpt, row.meta_description, row.excerpt))
            ),
            "body": (row.plaintext or "")[:MAX_BODY_CHARS],
            "tags": [],
            "authors": [],
        }
        for row in rows
    }
    if docs:
        found = list(docs)
        for post_id, name in conn.execute(
            select(links.c.post_id, tags.c.name)
            .join(tags, tags.c.id == links.c.tag_id)
            .where(links.c.post_id.in_(found))
        ):
            docs[post_id]["tags"].append(name)
        by = PostAuthor.__table__
        for post_id, name in conn.execute(
            select(by.c.post_id, users.c.name)
            .join(users, users.c.id == by.c.author_id)
            .where(by.c.post_id.in_(found))
        ):
            docs[post_id]["authors"].append(name)
    for doc in docs.values():
        doc["tags"], doc["authors"] = " ".join(doc["tags"]), " ".join(doc["authors"])
        for key in ("title", "excerpt", "tags", "authors", "body"):
            doc[key] = _CONTROL.sub(" ", doc[key])  # PostgreSQL refuses NUL in text
    return list(docs.values())


def _write(conn: Connection, ids: list[int], config: str) -> None:
    """Replace the index entries of ids (one batch) with their current documents."""
    docs = _documents(conn, ids)
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(f"DELETE FROM {SEARCH_TABLE} WHERE rowid IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        )
        if docs:
            conn.execute(
                text(
                    f"INSERT INTO {SEARCH_TABLE} (rowid, title, excerpt, tags, authors, body) "
                    "VALUES (:id, :title, :excerpt, :tags, :authors, :body)"
                ),
                docs,
            )
        return
    conn.execute(
        text(f"DELETE FROM {SEARCH_TABLE} WHERE post_id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        ),
        {"ids": ids},
    )
    if docs:
        conn.execute(
            text(
                f"INSERT INTO {SEARCH_TABLE} (post_id, title, about, document) VALUES (:id, "
                "to_tsvector(CAST(:config AS regconfig), :title), "
                "to_tsvector(CAST(:config AS regconfig), :excerpt || ' ' || :tags || ' ' || :authors), "
                "setweight(to_tsvector(CAST(:config AS regconfig), :title), 'A') || "
                "setweight(to_tsvector(CAST(:config AS regconfig), :excerpt), 'B') || "
                "setweight(to_tsvector(CAST(:config AS regconfig), :tags || ' ' || :authors), 'C') || "
                "setweight(to_tsvector(CAST(:config AS regconfig), :body), 'D'))"
            ),
            [{**doc, "config": config} for doc in docs],
        )


def index_posts(post_ids, connection: Connection | None = None) -> None:
    """Bring the index up to date for these post ids (ints): add or refresh the published and
    scheduled ones, drop drafts and posts that no longer exist.

    For bulk writers that bypass the ORM (the demo, the Ghost importer): call it in the same
    transaction, after the posts and their tag and author links are written. connection
    defaults to the request's session.
    """
    from blog.extensions import db
    from blog.posts import sitemaps

    sitemaps.forget()  # bulk writers bypass the ORM hook that tells the sitemaps
    conn = connection if connection is not None else db.session.connection()
    ids = sorted({int(i) for i in post_ids if i is not None})
    config = _config() if conn.dialect.name != "sqlite" else ""
    for start in range(0, len(ids), BATCH):
        _write(conn, ids[start : start + BATCH], config)


def rebuild(connection: Connection) -> int:
    """Empty the index and index every published and scheduled post again; return how many
    posts were read (drafts included, which are left out)."""
    connection.execute(text(f"DELETE FROM {SEARCH_TABLE}"))
    ids = list(connection.scalars(select(Post.__table__.c.id).order_by(Post.__table__.c.id)))
    config = _config() if connection.dialect.name != "sqlite" else ""
    for start in range(0, len(ids), BATCH):
        _write(connection, ids[start : start + BATCH], config)
    return len(ids)


def _renamed(obj) -> bool:
    """Tell whether a tag's or user's name changed in this flush."""
    return inspect(obj).attrs.name.history.has_changes()


def _after_flush(session: Session, flush_context) -> None:
    """Re-index every post this flush touched, in the same transaction."""
    touched: set[int] = set()
    renamed_tags, renamed_users = [], []
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Post):
            touched.add(obj.id)
        elif isinstance(obj, (PostTag, PostAuthor)):
            touched.add(obj.post_id)
        elif isinstance(obj, Tag) and obj not in session.new and _renamed(obj):
            renamed_tags.append(obj.id)
        elif isinstance(obj, User) and obj not in session.new and _renamed(obj):
            renamed_users.append(obj.id)
    if not (touched or renamed_tags or renamed_users):
        return
    conn = session.connection()
    if renamed_tags:
        links = PostTag.__table__.c
        touched |= set(conn.scalars(select(links.post_id).where(links.tag_id.in_(renamed_tags))))
    if renamed_users:
        links = PostAuthor.__table__.c
        touched |= set(
            conn.scalars(select(links.post_id).where(links.author_id.in_(renamed_users)))
        )
    index_posts(touched, conn)


def init_app(app) -> None:
    """Keep the index current on every ORM write, and add the search-reindex command."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)

    import click

    @app.cli.command("search-reindex")
    def search_reindex() -> None:
        """Rebuild the search index from the posts table (after an import or a language change)."""
        from blog.extensions import db

        count = rebuild(db.session.connection())
        db.session.commit()
        click.echo(f"Search index rebuilt: {count} {'post' if count == 1 else 'posts'} read.")
