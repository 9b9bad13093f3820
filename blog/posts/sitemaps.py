"""Sitemaps for crawlers (sitemaps.org protocol): an index at /sitemap.xml pointing at the
posts, pages, tags and authors sitemaps, each split into files of at most 50,000 URLs, as
Ghost serves them (sitemap-posts.xml, then sitemap-posts-2.xml, ...).

Only what readers may see is listed: published posts and pages that are due, and tags and
authors with at least one such post (their pages answer 404 otherwise).

At 100,000 posts building the files reads every post row (seconds: docs/benchmarks-search.md),
so each worker keeps what it built for SITEMAP_CACHE_SECONDS, and forgets it at once when this
process writes a post, tag or user (other workers catch up when their copy expires).
"""

from __future__ import annotations

import threading
import time
from xml.sax.saxutils import escape

from flask import abort, current_app, render_template
from sqlalchemy import Select, event, func, select
from sqlalchemy.orm import Session

from blog.extensions import db
from blog.models import Post, PostAuthor, PostTag, Tag, User
from blog.posts.services import visible
from blog.posts.views import bp

KINDS = ("pages", "posts", "tags", "authors")
XML = {"Content-Type": "application/xml; charset=utf-8"}
_generation = [0]  # bumped by every write to what sitemaps list, in this process
_lock = threading.Lock()


def forget() -> None:
    """Drop this process's built sitemaps (posts, tags or users changed)."""
    with _lock:
        _generation[0] += 1


def _cached(path: str, build) -> str:
    """Return the sitemap at path, built by build() at most once per SITEMAP_CACHE_SECONDS."""
    built = current_app.extensions.setdefault("built_sitemaps", {})  # path -> (gen, expiry, body)
    now = time.monotonic()
    generation = _generation[0]
    found = built.get(path)
    if found and found[0] == generation and found[1] > now:
        return found[2]
    body = build()
    ttl = float(current_app.config.get("SITEMAP_CACHE_SECONDS", 300))
    with _lock:
        if _generation[0] == generation and ttl > 0:
            built[path] = (generation, now + ttl, body)
    return body


@event.listens_for(Session, "after_flush")
def _forget_on_change(session: Session, flush_context) -> None:
    """Forget built sitemaps when a flush touches what they list."""
    kinds = (Post, PostAuthor, PostTag, Tag, User)
    if any(isinstance(obj, kinds) for obj in (*session.new, *session.dirty, *session.deleted)):
        forget()


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
    # Authors are listed whether active or not: a deactivated author's page stays while
    # their posts are up (posts.services.public_author).
    return (
        select(owner.slug, func.max(posts.updated_at), owner.id)
        .join(links, links.c[key] == owner.id)
        .join(Post.__table__, posts.id == links.c.post_id)
        .where(posts.type == "post", visible())
        .group_by(owner.id, owner.slug)
        .order_by(owner.id)
    )


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

    def build() -> str:
        files = [entry for kind in KINDS for entry in _files(kind)]
        return render_template("posts/sitemap_index.xml", files=files)

    return _cached("/sitemap.xml", build), 200, XML


@bp.get("/sitemap-<name>.xml")
def sitemap_file(name: str):
    """Serve one sitemap file (sitemap-posts.xml, sitemap-posts-2.xml, ...): up to
    urls_per_file() URLs of one kind, with lastmod."""
    kind, _, suffix = name.partition("-")
    number = int(suffix) if suffix.isdigit() and len(suffix) < 6 and suffix[0] != "0" else 0
    if kind not in KINDS or (suffix and number < 2):
        abort(404)
    body = _cached(f"/sitemap-{name}.xml", lambda: _build_file(kind, number or 1))
    if body is None:
        abort(404)
    return body, 200, XML


def _build_file(kind: str, number: int) -> str | None:
    """Build one sitemap file as text (None when it would be empty past the first)."""
    size = urls_per_file()
    rows = db.session.execute(_rows(kind).offset((number - 1) * size).limit(size)).all()
    urls = [(_path(kind, slug), lastmod) for slug, lastmod, _ in rows]
    if kind == "pages" and number == 1:
        newest = db.session.scalar(select(func.max(Post.updated_at)).where(visible()))
        urls.insert(0, ("/", newest))
    if not urls and number > 1:
        return None
    # Plain string building: a Jinja loop over 50,000 URLs took about two seconds.
    base = current_app.config["SITE_URL"].rstrip("/")
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']  # fmt: skip
    for path, lastmod in urls:
        stamp = f"<lastmod>{_iso(lastmod)}</lastmod>" if lastmod else ""
        lines.append(f"  <url><loc>{escape(base + path)}</loc>{stamp}</url>")
    lines.append("</urlset>\n")
    return "\n".join(lines)


def _iso(moment) -> str:
    """W3C datetime in UTC, to the second (the sitemaps.org lastmod format)."""
    return moment.replace(microsecond=0).isoformat() + ("" if moment.tzinfo else "+00:00")
