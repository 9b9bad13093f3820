"""Sitemaps for crawlers (sitemaps.org protocol): an index at /sitemap.xml pointing at the
posts, pages, tags and authors sitemaps, each split into files of SITEMAP_URLS_PER_FILE URLs
(1,000; the protocol allows 50,000), named as Ghost names them (sitemap-posts.xml, then
sitemap-posts-2.xml, ...). Files of one size cost a crawler the same at any number of posts.

Only what readers may see is listed (blog.posts.reading.sitemap reads it).

Building reads indexes only, never post rows, but the index and the tags and authors files
still walk every post (about 0.2 s for the index at 100,000 posts on SQLite), so each worker
keeps what it built for SITEMAP_CACHE_SECONDS, and forgets it at once when this process writes
a post, tag or user (other workers catch up when their copy expires).
"""

from __future__ import annotations

import threading
import time
from xml.sax.saxutils import escape

from flask import abort, current_app, render_template
from sqlalchemy import event
from sqlalchemy.orm import Session

from blog.models import Post, PostAuthor, PostTag, Tag, User
from blog.posts.reading.sitemap import KINDS, sitemap_chunks, sitemap_entries
from blog.posts.views import bp
from blog.site import format_date
from blog.xmlchars import clean_xml_response, strip_not_xml

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
    body = strip_not_xml(body) if body is not None else None
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
    """How many URLs one sitemap file holds: SITEMAP_URLS_PER_FILE, at most the protocol's
    50,000."""
    return min(int(current_app.config.get("SITEMAP_URLS_PER_FILE", 1_000)), 50_000)


def _file_name(kind: str, number: int) -> str:
    return f"/sitemap-{kind}.xml" if number == 1 else f"/sitemap-{kind}-{number}.xml"


def _files(kind: str) -> list[tuple[str, object]]:
    """Return (path, lastmod) of each file one kind needs."""
    chunks = sitemap_chunks(kind, urls_per_file())
    return [(_file_name(kind, number), lastmod) for number, lastmod in chunks]


@bp.get("/sitemap.xml")
def sitemap():
    """Serve the sitemap index: every sitemap file, with when its newest entry changed."""

    def build() -> str:
        files = [entry for kind in KINDS for entry in _files(kind)]
        return render_template("posts/sitemap_index.xml", files=files)

    return clean_xml_response(_cached("/sitemap.xml", build), XML)


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
    return clean_xml_response(body, XML)


def _build_file(kind: str, number: int) -> str | None:
    """Build one sitemap file as text (None when it would be empty past the first)."""
    urls = sitemap_entries(kind, number, urls_per_file())
    if not urls and number > 1:
        return None
    # Plain string building: a Jinja loop over 50,000 URLs took about two seconds.
    base = current_app.config["SITE_URL"].rstrip("/")
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']  # fmt: skip
    for path, lastmod in urls:
        stamp = f"<lastmod>{format_date(lastmod, 'iso-seconds')}</lastmod>" if lastmod else ""
        lines.append(f"  <url><loc>{escape(base + path)}</loc>{stamp}</url>")
    lines.append("</urlset>\n")
    return "\n".join(lines)
