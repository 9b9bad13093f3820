"""Old Ghost image addresses: /content/images/... answers with a redirect to the imported copy."""

from flask import Blueprint, abort, redirect
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
