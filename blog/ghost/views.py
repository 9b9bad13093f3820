"""Old Ghost addresses: images at /content/images/..., AMP pages, and Ghost's admin at /ghost/."""

from flask import Blueprint, abort, redirect, url_for
from sqlalchemy import select

from blog.extensions import db
from blog.ghost.reader import image_path
from blog.models import GhostImage

bp = Blueprint("ghost", __name__)


@bp.get("/content/images/<path:path>")
def content_image(path: str):
    """Redirect (301) a Ghost image path, or a resized copy of it (`size/w600/...`), to the image
    an import stored; 404 when no import brought it."""
    found = image_path(f"content/images/{path}")
    url = found and db.session.scalar(
        select(GhostImage.url).where(GhostImage.path == found.lower())
    )
    return redirect(url, 301) if url else abort(404)


@bp.get("/<slug>/amp/")
def amp(slug: str):
    """Ghost 1-4 served an AMP copy of each post at /<slug>/amp/; send readers to the post (301),
    as Ghost does once AMP is off."""
    return redirect(url_for("posts.post", slug=slug), 301)


@bp.get("/ghost/")
def ghost_admin():
    """Ghost's admin lived at /ghost/: a staff member's old bookmark opens ours."""
    return redirect(url_for("admin.index"), 302)
