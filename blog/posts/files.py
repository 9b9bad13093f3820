"""Public files every page links to: the theme stylesheet and uploaded images."""

from flask import Response, request, url_for

from blog import images
from blog.posts.views import bp
from blog.settings import accent_color, theme_css
from blog.site import settings


def theme_css_url() -> str:
    """Return the theme stylesheet's URL; it changes whenever the accent colour does.

    A template global on every page (blog.posts.init_app)."""
    return url_for("posts.theme", v=accent_color(settings().get("accent_color"))[1:])


@bp.get("/assets/theme.css")
def theme():
    """Serve the accent colour as CSS custom properties (no inline styles needed)."""
    color = accent_color(settings().get("accent_color"))
    response = Response(theme_css(color), mimetype="text/css")
    versioned = request.args.get("v") == color[1:]
    response.cache_control.public = True
    response.cache_control.max_age = 31_536_000 if versioned else 300
    if versioned:
        response.cache_control.immutable = True
    return response


@bp.get("/uploads/<name>")
def uploaded(name: str):
    """Serve an uploaded image with its image type; names are ours, so never a path."""
    response = images.send_upload(name)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.cache_control.immutable = True
    response.cache_control.public = True
    return response
