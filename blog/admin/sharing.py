"""Seeing a post as readers will: the editor's "Open preview", and draft preview links.

A preview link is /p/<token>/, like Ghost's: the post's id and an HMAC signature over
the id and its preview_key, so it cannot be guessed, and revoking it (a new key, or none) makes
every earlier link stop working. Preview pages are never indexed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from types import SimpleNamespace

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from blog.admin.editor_page import editable
from blog.admin.forms import parse_post
from blog.admin.views import bp
from blog.content import nesting_problem, render, render_markdown
from blog.extensions import db
from blog.htmx import is_htmx
from blog.models import Post, Tag, User, utcnow


def _signature(post_id: int, key: str) -> str:
    """Sign (HMAC-SHA256 with the secret key) a post id and its preview key, in lower-case hex."""
    message = f"post-preview:{post_id}:{key}".encode()
    return hmac.new(current_app.secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


def share_token(post: Post) -> str:
    """Return the token of post's preview link (the post must have a preview_key).

    A template global (blog.admin.init_app). Lower case only, so the reader pages' canonical lower-casing leaves /p/<token>/ alone.
    """
    return f"{post.id}-{_signature(post.id, post.preview_key or '')}"


def reader_view(post: Post | SimpleNamespace, **changes) -> SimpleNamespace:
    """Return what posts/post.html needs to show post as readers would, with changes applied."""
    names = ("id", "title", "slug", "type", "html", "custom_excerpt", "excerpt", "feature_image")
    names += ("feature_image_alt", "meta_title", "meta_description", "reading_time")
    view = SimpleNamespace(**{name: getattr(post, name, None) for name in names})
    view.authors = list(getattr(post, "authors", []))
    view.tags = list(getattr(post, "tags", []))
    view.published_at = getattr(post, "published_at", None)
    vars(view).update(changes)
    view.published_at = view.published_at or utcnow()
    view.primary_tag = view.tags[0] if view.tags else None
    view.url = f"/{view.slug or 'preview'}/"
    return view


def _typed_view() -> SimpleNamespace:
    """Build the reader's view of the editor's fields as typed (nothing is saved)."""
    form = parse_post(request.form)
    values = form.values
    if "feature_image" in form.errors:  # not a safe address: show no image rather than it
        values["feature_image"] = None
    body = render(values.get("markdown") or "")
    tags = _typed_tags(values.get("tags") or [])
    slugs = [ref.lower() for ref in values.get("authors") or []]
    authors = list(db.session.scalars(select(User).where(User.slug.in_(slugs)))) or [current_user]
    return reader_view(
        SimpleNamespace(),
        title=values.get("title") or "Untitled",
        slug=values.get("slug"),
        type="page" if request.form.get("type") == "page" else "post",
        html=body.html,
        custom_excerpt=values.get("custom_excerpt"),
        excerpt=body.excerpt,
        reading_time=body.reading_time,
        feature_image=None if values.get("remove_feature_image") else values.get("feature_image"),
        feature_image_alt=values.get("feature_image_alt"),
        published_at=values.get("published_at"),
        authors=authors,
        tags=tags,
    )


def _typed_tags(typed: list[str]) -> list:
    """Return the tags typed, in order: stored ones (matched ignoring case), then new ones as
    stand-ins that link nowhere."""
    names = [name.lower() for name in typed]
    tags = list(db.session.scalars(select(Tag).where(func.lower(Tag.name).in_(names))))
    tags.sort(key=lambda tag: names.index(tag.name.lower()))
    known = {t.name.lower() for t in tags}
    return tags + [SimpleNamespace(name=n, url="#") for n in typed if n.lower() not in known]


def render_preview(view: SimpleNamespace, shared: bool = False):
    """Render the reader's post page for a preview, marked as one and kept out of indexes."""
    page = render_template("admin/preview.html", post=view, read_more=[], shared=shared)
    return page, 200, {"X-Robots-Tag": "noindex, nofollow"}


@bp.post("/admin/preview")
def preview():
    """Render the editor's fields the way readers will see them (sanitised); nothing is saved.

    htmx asks for the live preview pane (the body only); the "Open preview" button gets the
    whole reader page: feature image, byline, tags.
    """
    if is_htmx():
        markdown = request.form.get("markdown", "")[:500_000].replace("\x00", "")
        # problem: what saving would refuse (too deep nesting), said before it is lost
        return render_template(
            "admin/_preview.html", html=render_markdown(markdown), problem=nesting_problem(markdown)
        )
    return render_preview(_typed_view())


@bp.post("/admin/posts/<int:post_id>/share")
def share(post_id: int):
    """Create a preview link for the post, or revoke it (share=revoke)."""
    post = editable(post_id)
    if request.form.get("share") == "revoke":
        post.preview_key = None
        flash("The preview link no longer works.", "success")
    else:
        post.preview_key = secrets.token_urlsafe(24)
        flash("Preview link created: anyone with it can read this draft.", "success")
    db.session.commit()
    return redirect(url_for("admin.edit_post", post_id=post.id) + "#share-title", 303)


@bp.get("/p/<token>/")
def shared_preview(token: str):
    """Show a post to anyone holding its preview link, as readers will see it."""
    post_id, _, signature = token.partition("-")
    post = db.session.get(Post, int(post_id)) if post_id.isdigit() and len(post_id) < 12 else None
    if post is None or not post.preview_key:
        abort(404)
    if not hmac.compare_digest(signature, _signature(post.id, post.preview_key)):
        abort(404)
    return render_preview(reader_view(post), shared=True)
