"""The editor's page: the post's fields (as stored, or as typed), its preview, tags, staff
and status, rendered into templates/admin/editor.html."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from blog.admin import editing
from blog.authors.permissions import can
from blog.content import render_markdown
from blog.extensions import db
from blog.forms import Form
from blog.models import Post
from blog.posts import staff_list


def editable(post_id: int) -> Post:
    """Return the post if the current user may edit it; 404 if missing, 403 if not theirs."""
    post = db.get_or_404(Post, post_id)
    if not can(current_user, "post.edit", post):
        abort(403)
    return post


FIELDS = (
    "title",
    "markdown",
    "slug",
    "custom_excerpt",
    "meta_title",
    "meta_description",
    "feature_image",
    "feature_image_alt",
)


def _fields(post: Post | None, form: Form | None) -> dict:
    """Return the editor's field values: what was typed, else what the post holds."""
    if form is not None:
        fields = {name: form.data.get(name, "") for name in (*FIELDS, "tags", "authors")}
        fields["published_at"] = form.data.get("published_at", "")
        fields["featured"] = form.data.get("featured") == "on"
        fields["email_when_published"] = form.data.get("email_when_published") == "on"
        return fields
    fields = {name: (getattr(post, name) or "") if post else "" for name in FIELDS}
    fields["tags"] = ", ".join(tag.name for tag in post.tags) if post else ""
    fields["authors"] = ", ".join(user.slug for user in post.authors) if post else ""
    published_at = post.published_at if post else None
    fields["published_at"] = f"{published_at:%Y-%m-%dT%H:%M}" if published_at else ""
    fields["featured"] = bool(post and post.featured)
    fields["email_when_published"] = bool(post and post.email_when_published)
    return fields


def editor_page(post: Post | None, form: Form | None = None, status: int = 200, **extra):
    """Render the editor for post (None: a new one), echoing form input when given.

    The version field carries the post's updated_at (what this editor started from); a
    conflict passes the version it was compared with, so saving again overwrites knowingly.
    """
    fields = _fields(post, form)
    kind = post.type if post is not None else new_type()
    context = {
        "kind": kind,
        "version": editing.version_of(post) if post is not None else "",
        "deliveries": editing.send_status(post) if post is not None else None,
        "words": editing.word_count(fields["markdown"]),
        "post": post,
        "form": form,
        "fields": fields,
        "errors": form.errors if form is not None else {},
        "preview": (post.html if post else "")
        if form is None
        else ("" if "markdown" in form.errors else render_markdown(fields["markdown"])),
        "tags": staff_list.all_tags(),
        "staff": staff_list.staff_members() if can(current_user, "post.set_authors") else [],
        "status": staff_list.display_status(post) if post and post.id else "draft",
        **extra,
    }
    return render_template("admin/editor.html", **context), status


def new_type() -> str:
    """Return what a new editor writes: a page when asked (?type=page or the form's field)."""
    wanted = request.values.get("type")
    return "page" if wanted == "page" else "post"
