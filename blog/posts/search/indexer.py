"""Keeping the search index current: an after_flush hook re-indexes what each ORM write
touched, index_posts() serves bulk writers that bypass the ORM, rebuild() and the
`search-reindex` command start again from the posts table."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import bindparam, event, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from blog.extensions import db
from blog.models import SEARCH_TABLE, Post, PostAuthor, PostTag, Tag, User
from blog.posts import sitemaps
from blog.posts.search.backends import postgres_config
from blog.posts.search.query import CONTROL

MAX_BODY_CHARS = 200_000  # PostgreSQL's tsvector holds at most 1 MB; the start of a book is enough
BATCH = 500


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
            doc[key] = CONTROL.sub(" ", doc[key])  # PostgreSQL refuses NUL in text
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
    sitemaps.forget()  # bulk writers bypass the ORM hook that tells the sitemaps
    conn = connection if connection is not None else db.session.connection()
    ids = sorted({int(i) for i in post_ids if i is not None})
    config = postgres_config() if conn.dialect.name != "sqlite" else ""
    for start in range(0, len(ids), BATCH):
        _write(conn, ids[start : start + BATCH], config)


def rebuild(connection: Connection) -> int:
    """Empty the index and index every published and scheduled post again; return how many
    posts were read (drafts included, which are left out)."""
    connection.execute(text(f"DELETE FROM {SEARCH_TABLE}"))
    ids = list(connection.scalars(select(Post.__table__.c.id).order_by(Post.__table__.c.id)))
    config = postgres_config() if connection.dialect.name != "sqlite" else ""
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


def init_app(app: Flask) -> None:
    """Keep the index current on every ORM write, and add the search-reindex command."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
    app.cli.add_command(search_reindex)


@click.command("search-reindex")
@with_appcontext
def search_reindex() -> None:
    """Rebuild the search index from the posts table (after an import or a language change)."""
    count = rebuild(db.session.connection())
    db.session.commit()
    click.echo(f"Search index rebuilt: {count} {'post' if count == 1 else 'posts'} read.")
