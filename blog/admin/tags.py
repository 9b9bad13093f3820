"""Tags (editors and up): rename them, change their slug and description, delete them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import delete, func, select

from blog.admin.views import bp
from blog.authors.permissions import can
from blog.extensions import db
from blog.forms import Form, slug
from blog.models import PostTag, Tag
from blog.slugs import SlugError, check_slug, unique_slug


def _page(form: Form | None = None, editing: int | None = None, status: int = 200):
    """Render the tag list with post counts."""
    counts = dict(
        db.session.execute(select(PostTag.tag_id, func.count()).group_by(PostTag.tag_id)).all()
    )
    tags = db.session.scalars(select(Tag).order_by(func.lower(Tag.name))).all()
    return render_template(
        "admin/tags.html", tags=tags, counts=counts, form=form, editing=editing
    ), status


def _managed_tag(tag_id: int | None = None) -> Tag | None:
    """Refuse anyone below editor; return the tag the URL names (404 if there is none)."""
    if not can(current_user, "tag.manage"):
        abort(403)
    return db.get_or_404(Tag, tag_id) if tag_id is not None else None


@bp.get("/admin/tags/")
def tags():
    """List every tag and how many posts carry it."""
    _managed_tag()
    return _page()


@bp.post("/admin/tags/<int:tag_id>/")
def edit_tag(tag_id: int):
    """Rename a tag, or change its slug (its page moves) and description."""
    tag = _managed_tag(tag_id)
    form = Form(request.form)
    name = form.text("name", "Name", 191, required=True)
    slug(form, fallback=name)
    form.text("description", "Description", 500, lines=True)
    if name and db.session.scalar(
        select(Tag.id).where(func.lower(Tag.name) == name.lower(), Tag.id != tag.id).limit(1)
    ):
        form.errors["name"] = f"Another tag is called “{name}”."
    wanted = form.values.get("slug")
    if form.values["slug_typed"] and wanted and wanted != tag.slug:
        try:
            check_slug(Tag, wanted, exclude_id=tag.id, what="tag")
        except SlugError as error:
            form.errors["slug"] = error.message
    elif not form.values["slug_typed"] and name:  # emptied: made from the name, numbered
        form.values["slug"] = unique_slug(Tag, name, exclude_id=tag.id)
    if not form.ok:
        return _page(form, tag.id, 422)
    tag.name, tag.slug = form.values["name"], form.values["slug"]
    tag.description = form.values.get("description")
    db.session.commit()
    flash(f"Saved the tag “{tag.name}”.", "success")
    return redirect(url_for("admin.tags"), 303)


@bp.post("/admin/tags/<int:tag_id>/delete")
def delete_tag(tag_id: int):
    """Delete a tag; posts keep their other tags."""
    tag = _managed_tag(tag_id)
    db.session.execute(delete(PostTag).where(PostTag.tag_id == tag.id))
    db.session.delete(tag)
    db.session.commit()
    flash(f"Deleted the tag “{tag.name}”.", "success")
    return redirect(url_for("admin.tags"), 303)
