"""Feeds and crawler files: RSS for the site, an author or a tag; robots.txt."""

from flask import abort, render_template

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
