"""Sitemaps for crawlers (sitemaps.org protocol): an index at /sitemap.xml pointing at the
posts, pages, tags and authors sitemaps, each split into files of at most 50,000 URLs, as
Ghost serves them (sitemap-posts.xml, then sitemap-posts-2.xml, ...).

Only what readers may see is listed: published posts and pages that are due, and tags and
authors with at least one such post (their pages answer 404 otherwise).
"""

from __future__ import annotations

from flask import abort, current_app, render_template
from sqlalchemy import Select, func, select

from blog.extensions import db
from blog.models import Post, PostAuthor, PostTag, Tag, User
from blog.posts.services import visible
from blog.posts.views import bp

KINDS = ("pages", "posts", "tags", "authors")
XML = {"Content-Type": "application/xml; charset=utf-8"}


def urls_per_file() -> int:
    """How many URLs one sitemap file may hold: the protocol's 50,000 (config can lower it)."""
    return int(current_app.config.get("SITEMAP_URLS_PER_FILE", 50_000))


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
    stmt = (
        select(owner.slug, func.max(posts.updated_at), owner.id)
        .join(links, links.c[key] == owner.id)
        .join(Post.__table__, posts.id == links.c.post_id)
        .where(posts.type == "post", visible())
        .group_by(owner.id, owner.slug)
        .order_by(owner.id)
    )
    return stmt.where(User.is_active.is_(True)) if owner is User else stmt


def _path(kind: str, slug: str) -> str:
    return {"tags": f"/tag/{slug}/", "authors": f"/author/{slug}/"}.get(kind, f"/{slug}/")


def _file_name(kind: str, number: int) -> str:
    return f"/sitemap-{kind}.xml" if number == 1 else f"/sitemap-{kind}-{number}.xml"


def _files(kind: str) -> list[tuple[str, object]]:
    """Return (path, lastmod) of each file one kind needs: one query, whatever the count."""
    slug, lastmod, ident = _rows(kind).order_by(None).subquery().c
    position = func.row_number().over(order_by=ident) - 1
    numbered = select(lastmod.label("lastmod"), position.label("n")).subquery()
    chunk = (numbered.c.n // urls_per_file()).label("chunk")
    found = db.session.execute(
        select(chunk, func.max(numbered.c.lastmod)).group_by(chunk).order_by(chunk)
    ).all()
    if not found and kind == "pages":  # the home page is always listed
        return [(_file_name(kind, 1), None)]
    return [(_file_name(kind, int(number) + 1), lastmod) for number, lastmod in found]


@bp.get("/sitemap.xml")
def sitemap():
    """Serve the sitemap index: every sitemap file, with when its newest entry changed."""
    files = [entry for kind in KINDS for entry in _files(kind)]
    body = render_template("posts/sitemap_index.xml", files=files)
    return body, 200, XML


@bp.get("/sitemap-<name>.xml")
def sitemap_file(name: str):
    """Serve one sitemap file (sitemap-posts.xml, sitemap-posts-2.xml, ...): up to
    urls_per_file() URLs of one kind, with lastmod."""
    kind, _, suffix = name.partition("-")
    number = int(suffix) if suffix.isdigit() and len(suffix) < 6 and suffix[0] != "0" else 0
    if kind not in KINDS or (suffix and number < 2):
        abort(404)
    number = number or 1
    size = urls_per_file()
    rows = db.session.execute(_rows(kind).offset((number - 1) * size).limit(size)).all()
    urls = [(_path(kind, slug), lastmod) for slug, lastmod, _ in rows]
    if kind == "pages" and number == 1:
        newest = db.session.scalar(select(func.max(Post.updated_at)).where(visible()))
        urls.insert(0, ("/", newest))
    if not urls and number > 1:
        abort(404)
    body = render_template("posts/sitemap_urls.xml", urls=urls)
    return body, 200, XML
