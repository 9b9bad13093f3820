"""Author pages (and, with the authoring issue, sign-in and staff screens)."""

from flask import Blueprint, abort

from blog.posts import services
from blog.posts.views import listing

bp = Blueprint("authors", __name__)


@bp.get("/author/<slug>/", defaults={"number": 1})
@bp.get("/author/<slug>/page/<int:number>/")
def author(slug: str, number: int):
    """Show an author's profile and a page of their published posts."""
    found = services.get_author(slug) or abort(404)
    return listing("authors/author.html", "authors.author", number, author=found)
