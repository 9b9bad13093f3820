"""What sitemaps list, read for readers' eyes only: published posts and pages that are due,
and tags and authors with at least one such post (their pages answer 404 otherwise).

A sitemap file holds up to 50,000 entries, so these are (path, lastmod) pairs, not Cards:
reading every post's authors and tags would cost seconds at 100,000 posts for nothing shown.

Every query here reads indexes only, never post rows (large: HTML, Markdown, plain text):
posts and pages through ix_posts_sitemap (type, id, status, published_at, updated_at, slug),
tags and authors through ix_posts_reader_listing, which holds updated_at.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, literal, select

from blog.extensions import db
from blog.models import Post, PostAuthor, PostTag, Tag, User, utcnow
from blog.posts.reading.lists import visible

KINDS = ("pages", "posts", "tags", "authors")


def _rows(kind: str) -> Select:
    """The select of (slug, lastmod, id) for one kind, in id order (stable, for splitting)."""
    posts = Post.__table__.c
    if kind in ("posts", "pages"):
        return (
            select(posts.slug, posts.updated_at, posts.id)
            .where(posts.type == kind[:-1], visible())
            .order_by(posts.id)
        )
    owner, links, key = (
        (Tag, PostTag.__table__, "tag_id")
        if kind == "tags"
        else (User, PostAuthor.__table__, "author_id")
    )
    # Authors are listed whether active or not: a deactivated author's page stays while
    # their posts are up (public_author). Newest post per owner id first, then the owners:
    # joining owners to every link row as well cost 40% more (119 against 85 ms for the tags
    # at 100,000 posts on SQLite).
    newest = (
        select(links.c[key].label("owner"), func.max(posts.updated_at).label("lastmod"))
        .join(Post.__table__, posts.id == links.c.post_id)
        .where(posts.type == "post", visible())
        .group_by(links.c[key])
        .subquery()
    )
    return (
        select(owner.slug, newest.c.lastmod, owner.id)
        .join(newest, newest.c.owner == owner.id)
        .order_by(owner.id)
    )


def _path(kind: str, slug: str) -> str:
    return {"tags": f"/tag/{slug}/", "authors": f"/author/{slug}/"}.get(kind, f"/{slug}/")


def sitemap_chunks(kind: str, per_file: int) -> list[tuple[int, datetime | None]]:
    """Return (file number from 1, newest lastmod in it) for each file of per_file entries one
    kind (of KINDS) needs: one query, whatever the count. Pages always have file 1 (the home
    page is always listed)."""
    if kind in ("posts", "pages"):
        found = db.session.execute(_post_chunks(kind, per_file)).all()
    else:
        slug, lastmod, ident = _rows(kind).order_by(None).subquery().c
        position = func.row_number().over(order_by=ident) - 1
        numbered = select(lastmod.label("lastmod"), position.label("n")).subquery()
        chunk = (numbered.c.n // per_file).label("chunk")
        found = db.session.execute(
            select(chunk, func.max(numbered.c.lastmod)).group_by(chunk).order_by(chunk)
        ).all()
    if not found and kind == "pages":
        return [(1, None)]
    return [(int(number) + 1, newest) for number, newest in found]


def _post_chunks(kind: str, per_file: int) -> Select:
    """The select of (file number from 0, newest lastmod in it) for the posts or pages files.

    A recursive query walks ix_posts_sitemap file by file: each file's first and last id are
    found from the last id before them by skipping ids along the index, then its newest
    lastmod is read from that id range. Numbering every row with row_number() instead took
    four times as long (117 against 28 ms at 100,000 posts on SQLite, both from the index)."""
    posts = Post.__table__.c
    now = utcnow()  # one moment for every part of the query
    ids = select(posts.id).where(posts.type == kind[:-1], visible(now)).order_by(posts.id)
    files = select(
        ids.limit(1).scalar_subquery().label("first"),
        ids.offset(per_file - 1).limit(1).scalar_subquery().label("last"),
        literal(0).label("n"),
    ).cte("files", recursive=True)
    after = ids.where(posts.id > files.c.last)
    files = files.union_all(
        select(
            after.limit(1).scalar_subquery(),
            after.offset(per_file - 1).limit(1).scalar_subquery(),
            files.c.n + 1,
        ).where(files.c.last.is_not(None))
    )
    end = func.coalesce(files.c.last, select(func.max(posts.id)).scalar_subquery())
    newest = (
        select(func.max(posts.updated_at))
        .where(posts.type == kind[:-1], visible(now), posts.id.between(files.c.first, end))
        .scalar_subquery()
    )
    return select(files.c.n, newest).where(files.c.first.is_not(None)).order_by(files.c.n)


def sitemap_entries(kind: str, number: int, per_file: int) -> list[tuple[str, datetime | None]]:
    """Return (site path, lastmod) of the entries in file number (from 1) of one kind, in id
    order; the pages' first file starts with the home page, lastmod its newest post's."""
    rows = db.session.execute(_rows(kind).offset((number - 1) * per_file).limit(per_file)).all()
    entries = [(_path(kind, slug), lastmod) for slug, lastmod, _ in rows]
    if kind == "pages" and number == 1:
        newest = db.session.scalar(select(func.max(Post.updated_at)).where(visible()))
        entries.insert(0, ("/", newest))
    return entries
