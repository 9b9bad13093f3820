"""The reader side: pages, feeds, sitemaps, search and public files (views.py and the modules
that add routes to its blueprint), reading posts (reading/) and writing them (writing.py)."""

from flask import Flask

from blog import images
from blog.authors.permissions import can
from blog.posts import favicon, feeds, files, search, share, sitemaps  # noqa: F401 (routes on bp)
from blog.posts.views import bp, canonical_redirect

__all__ = ["bp", "init_app", "search"]


def init_app(app: Flask) -> None:
    """Wire the reader side's app-wide parts: the canonical-path redirect before every
    request, and the template helpers every page uses (theme_css_url, srcset, image_size,
    can, the xml_text and cdata filters)."""
    app.before_request(canonical_redirect)
    app.add_template_global(files.theme_css_url, "theme_css_url")
    app.add_template_filter(feeds.xml_text, "xml_text")
    app.add_template_filter(feeds.cdata, "cdata")
    # Globals, not a context processor: a processor runs on every render, and a macro
    # imported without context (the post card) sees globals only.
    for helper in (can, images.srcset, images.image_size):
        app.add_template_global(helper)
