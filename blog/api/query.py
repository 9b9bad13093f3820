"""Content API reads: what readers may see of posts, pages, tags and authors, a page at a time,
in a fixed number of statements, shaped as Ghost's Content API shapes them.

Each browse is one count and one page select, plus one select per included relation (authors,
tags, post counts), whatever the number of rows.
"""

from __future__ import annotations

import math

from sqlalchemy import exists, func, select
from sqlalchemy.sql import Select

from blog.api import nql
from blog.api.errors import ApiError
from blog.api.filters import compile_filter
from blog.api.options import Options
from blog.api.shapes import author_shape, only_fields, post_shape, tag_shape
from blog.extensions import db
from blog.models import Post, PostAuthor, PostTag, Tag, User
from blog.posts.reading import visible

_posts, _tags, _users = Post.__table__.c, Tag.__table__.c, User.__table__.c
_post_tags, _post_authors = PostTag.__table__.c, PostAuthor.__table__.c

ORDERABLE = {
    "posts": {"title", "slug", "published_at", "created_at", "updated_at", "featured", "id"},
    "tags": {"name", "slug", "created_at", "id"},
    "authors": {"name", "slug", "created_at", "id"},
}
ORDERABLE["pages"] = ORDERABLE["posts"]
DEFAULT_ORDER = {
    "posts": (("published_at", True), ("id", True)),
    "pages": (("published_at", True), ("id", True)),
    "tags": (("name", False),),
    "authors": (("name", False),),
}


def _base(resource: str) -> tuple[Select, object]:
    """The select of everything readers may see of a resource, and its table."""
    if resource in ("posts", "pages"):
        kind = "post" if resource == "posts" else "page"
        return select(Post.__table__).where(_posts.type == kind, visible()), Post.__table__
    if resource == "tags":
        has_posts = exists(
            select(1)
            .select_from(PostTag.__table__.join(Post.__table__, _posts.id == _post_tags.post_id))
            .where(_post_tags.tag_id == _tags.id, visible())
        )
        public = ~_tags.name.startswith("#")  # Ghost's internal tags start with #
        return select(Tag.__table__).where(public, has_posts), Tag.__table__
    has_posts = exists(
        select(1)
        .select_from(PostAuthor.__table__.join(Post.__table__, _posts.id == _post_authors.post_id))
        .where(_post_authors.author_id == _users.id, visible())
    )
    return select(User.__table__).where(_users.is_active.is_(True), has_posts), User.__table__


def _ordered(stmt: Select, table, resource: str, order) -> Select:
    columns = []
    for name, descending in [*[o for o in order if o[0] in ORDERABLE[resource]],
                             *DEFAULT_ORDER[resource]]:  # fmt: skip
        column = table.c.ghost_id if name == "id" else table.c[name]
        columns.append(column.desc() if descending else column.asc())
    return stmt.order_by(*columns, table.c.id.desc())


def browse(resource: str, options: Options) -> tuple[list[dict], dict]:
    """Return one page of a resource's rows as Ghost shapes them, and the pagination meta."""
    stmt, table = _base(resource)
    if options.filter is not None:
        try:
            stmt = stmt.where(compile_filter(options.filter, resource))
        except nql.FilterError as error:
            raise ApiError(400, "BadRequestError", "Error parsing filter", str(error)) from None
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    stmt = _ordered(stmt, table, resource, options.order)
    stmt = stmt.limit(options.limit).offset((options.page - 1) * options.limit)
    rows = list(db.session.execute(stmt).mappings())
    pages = max(1, math.ceil(total / options.limit))
    pagination = {
        "page": options.page,
        "limit": options.limit,
        "pages": pages,
        "total": total,
        "next": options.page + 1 if options.page < pages else None,
        "prev": options.page - 1 if options.page > 1 else None,
    }
    return shape(resource, rows, options), {"pagination": pagination}


def read(resource: str, options: Options, ghost_id: str | None = None, slug: str | None = None):
    """Return the one row readers may see with this id or slug, shaped, or None."""
    stmt, table = _base(resource)
    column, value = (table.c.ghost_id, ghost_id) if ghost_id is not None else (table.c.slug, slug)
    row = db.session.execute(stmt.where(column == value).limit(1)).mappings().first()
    return shape(resource, [row], options)[0] if row else None


def _related(links, key, table, ids: list[int]) -> dict[int, list]:
    """Every post's tags or authors, in order: one select for all the posts."""
    stmt = (
        select(links.post_id, table)
        .join_from(key.table, table, table.c.id == key)
        .where(links.post_id.in_(ids))
        .order_by(links.post_id, links.sort_order)
    )
    found: dict[int, list] = {post_id: [] for post_id in ids}
    for row in db.session.execute(stmt).mappings():
        found[row["post_id"]].append(row)
    return found


def _post_counts(links, key, ids: list[int]) -> dict[int, int]:
    """How many posts readers may see per tag or author: one grouped select."""
    stmt = (
        select(key, func.count())
        .join_from(key.table, Post.__table__, _posts.id == links.post_id)
        .where(key.in_(ids), _posts.type == "post", visible())
        .group_by(key)
    )
    return dict(db.session.execute(stmt).all())


def shape(resource: str, rows: list, options: Options) -> list[dict]:
    """Shape rows as Ghost's Content API does, with the included relations and fields only."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    if resource in ("posts", "pages"):
        authors = tags = None
        if "authors" in options.include:
            authors = _related(_post_authors, _post_authors.author_id, User.__table__, ids)
        if "tags" in options.include:
            tags = _related(_post_tags, _post_tags.tag_id, Tag.__table__, ids)
        out = []
        for row in rows:
            data = only_fields(post_shape(row, options), options.fields)
            if authors is not None:
                data["authors"] = [author_shape(a) for a in authors[row["id"]]]
                data["primary_author"] = data["authors"][0] if data["authors"] else None
            if tags is not None:
                data["tags"] = [tag_shape(t) for t in tags[row["id"]]]
                data["primary_tag"] = data["tags"][0] if data["tags"] else None
            out.append(data)
        return out
    shaper = tag_shape if resource == "tags" else author_shape
    counts = None
    if "count.posts" in options.include:
        links = _post_tags if resource == "tags" else _post_authors
        key = links.tag_id if resource == "tags" else links.author_id
        counts = _post_counts(links, key, ids)
    out = []
    for row in rows:
        data = only_fields(shaper(row), options.fields)
        if counts is not None:
            data["count"] = {"posts": counts.get(row["id"], 0)}
        out.append(data)
    return out

