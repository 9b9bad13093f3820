"""Feeds and crawler files: RSS for the site, an author or a tag; robots.txt."""

import html
from urllib.parse import urljoin, urlsplit

from flask import abort, render_template
from markupsafe import Markup

from blog.content import absolute_urls
from blog.posts import reading
from blog.posts.views import bp
from blog.site import absolute_url, settings

FEED_SIZE = 15


def html_text(text: str | None) -> str:
    """Escape plain text for a feed field that readers treat as HTML (an RSS description).

    Only &, < and > are escaped: markup someone typed shows as typed, and quotes never turn
    into a visible `&#34;`. The template escapes the result once more, for XML.
    """
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_text(value: object) -> Markup:
    """Escape a value for an XML text node: &, < and > only, so quotes stay quotes.

    Characters XML 1.0 forbids, in rows stored before they were dropped on input, are dropped
    from the whole feed on its way out (blog.xmlchars), not field by field: each field's scan
    would read the feed's text a second time.
    """
    text = value if type(value) is str else "" if value is None else str(value)
    # str.__new__: the escaped text as Markup without Markup.__new__'s Python checks (a feed
    # calls this some 200 times).
    return str.__new__(Markup, html_text(text))


def cdata(value: str | None) -> Markup:
    """Wrap HTML for an XML text node as a CDATA section, as Ghost's feeds carry a post's
    content: the HTML goes out as it is, unescaped (a feed's largest field, escaped it was
    7% of an uncached /rss/). A "]]>" inside, which would end the section, is split across
    two sections (XML 1.0, section 2.7). Forbidden characters are dropped from the whole feed
    on its way out, as for every field (blog.xmlchars)."""
    text = str.replace(value or "", "]]>", "]]]]><![CDATA[>")  # str's: Markup's would escape
    return str.__new__(Markup, "<![CDATA[" + text + "]]>")


def _item(post: reading.Article, home: str) -> dict:
    """Return what a feed item shows of post, every URL in it absolute (on home, the site's
    absolute address with its trailing slash)."""
    url = home + post.url.lstrip("/")
    image = _absolute_image(post.feature_image, home)
    content = absolute_urls(post.html, url)
    if image:  # as Ghost does: not every reader shows media:content
        alt = html.escape(post.feature_image_alt or post.title)
        content = f'<img src="{html.escape(image)}" alt="{alt}">' + content
    return {
        "post": post,
        "url": url,
        "image": image,
        "description": html_text(post.custom_excerpt or post.excerpt),
        "content": content,
    }


def _absolute_image(image: str | None, home: str) -> str | None:
    """A feature image's absolute http(s) URL (resolved against home, RFC 3986), or None
    (forms allow no other kind; a row from elsewhere might)."""
    if not image:
        return None
    if image.startswith("/") and not image.startswith("//") and "/." not in image:
        return _origin(home) + image  # what urljoin gives, without its parsing
    joined = urljoin(home, image)
    return joined if urlsplit(joined).scheme in ("http", "https") else None


def _origin(url: str) -> str:
    """scheme://host[:port] of an absolute URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _rss(title: str, link: str, description: str, **filters):
    """Render an RSS 2.0 feed of the newest published posts matching filters."""
    posts = reading.list_articles(FEED_SIZE, **filters)
    home = absolute_url("/")
    body = render_template(
        "posts/rss.xml",
        title=title,
        link=link,
        description=html_text(description),
        items=[_item(post, home) for post in posts],
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
    author = reading.get_author(slug) or abort(404)
    return _rss(author.name, author.url, author.bio or "", author=author)


@bp.get("/tag/<slug>/rss/")
def tag_feed(slug: str):
    """Serve one tag's RSS feed."""
    tag = reading.get_tag(slug) or abort(404)
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
