"""Feeds and crawler files: RSS for the site, an author or a tag; sitemap.xml; robots.txt."""

from flask import abort, render_template
from sqlalchemy import select

from blog.extensions import db
from blog.models import Post, Tag, User
from blog.posts import services
from blog.posts.views import bp
from blog.site import absolute_url, settings

FEED_SIZE = 15


def _rss(title: str, link: str, description: str, **filters):
    """Render an RSS 2.0 feed of the newest published posts matching filters."""
    page = services.list_posts(1, FEED_SIZE, **filters)
    body = render_template(
        "posts/rss.xml", title=title, link=link, description=description, posts=page.posts
    )
    return body, 200, {"Content-Type": "application/rss+xml; charset=utf-8"}


@bp.get("/rss/")
def feed():
    """Serve the site's RSS feed."""
    site = settings()
    return _rss(site["title"], "/", site["description"])


@bp.get("/author/<slug>/rss/")
def author_feed(slug: str):
    """Serve one author's RSS feed."""
    author = services.get_author(slug) or abort(404)
    return _rss(author.name, author.url, author.bio or "", author=author)


@bp.get("/tag/<slug>/rss/")
def tag_feed(slug: str):
    """Serve one tag's RSS feed."""
    tag = services.get_tag(slug) or abort(404)
    return _rss(tag.name, tag.url, tag.description or "", tag=tag)


@bp.get("/sitemap.xml")
def sitemap():
    """List every public URL for crawlers: posts, pages, tags and authors."""
    posts = db.session.execute(
        select(Post.slug, Post.updated_at).where(services.visible()).order_by(Post.id)
    ).all()
    tags = db.session.scalars(select(Tag.slug).order_by(Tag.id)).all()
    authors = db.session.scalars(
        select(User.slug).where(services.public_author()).order_by(User.id)
    ).all()
    body = render_template("posts/sitemap.xml", posts=posts, tags=tags, authors=authors)
    return body, 200, {"Content-Type": "application/xml; charset=utf-8"}


@bp.get("/robots.txt")
def robots():
    """Let crawlers read everything but the staff screens."""
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /login",
        "",
        f"Sitemap: {absolute_url('/sitemap.xml')}",
        "",
    ]
    return "\n".join(lines), 200, {"Content-Type": "text/plain; charset=utf-8"}
