"""The editor: write, autosave, publish, schedule, unpublish and delete posts and pages."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blog import images
from blog.admin import editing
from blog.admin.editor_page import editable, editor_page, new_type
from blog.admin.forms import MAX_MARKDOWN, Form, parse_post
from blog.admin.views import bp
from blog.authors.permissions import can
from blog.bounds import parse_int
from blog.content import Rendered
from blog.content import render as render_content
from blog.extensions import db
from blog.htmx import is_htmx
from blog.models import Post, utcnow
from blog.newsletter.services import queue_post_newsletter
from blog.posts import writing
from blog.posts.revisions import record_revision
from blog.posts.scheduling import publish_due_posts
from blog.transactions import expect_writes, release_write_lock

# What each button needs beyond editing the post.
ACTION_PERMISSIONS = {
    "publish": "post.publish",
    "schedule": "post.publish",
    "unpublish": "post.publish",
    "email": "post.email",
}


@bp.get("/admin/posts/new")
def new_post():
    """Show an empty editor (for a static page with ?type=page)."""
    if not can(current_user, "post.create"):
        abort(403)
    return editor_page(None)


@bp.get("/admin/posts/<int:post_id>/")
def edit_post(post_id: int):
    """Show the editor for a post."""
    return editor_page(editable(post_id))


@bp.post("/admin/posts/new")
@bp.post("/admin/posts/<int:post_id>/")
def save(post_id: int | None = None):
    """Save the editor, then publish, schedule, unpublish or email as the button asked.

    Every failure re-renders the editor with everything typed, at a URL that works: the
    post's own when it exists, /admin/posts/new when it does not. A save that started from
    an older version than the stored one answers 409 with both texts (Ghost refuses such a
    save too); nothing is written then.

    Markdown is rendered and a feature image re-encoded with no transaction open, so the
    write that follows holds SQLite's lock for milliseconds (issue 10); the version check runs
    inside that write, so two tabs cannot both pass it.
    """
    post = _target(post_id)
    shown = post if post.id is not None else None
    form = parse_post(request.form)
    permission = ACTION_PERMISSIONS.get(form.values["action"])
    if permission and not can(current_user, permission, shown):
        abort(403)
    if not form.ok:
        too_long = len(request.form.get("markdown", "")) > MAX_MARKDOWN
        return editor_page(shown, form, 413 if too_long else 422)
    release_write_lock()  # render and re-encode with no lock held; the write takes milliseconds
    body = render_content(form.values["markdown"])
    upload = request.files.get("feature_image_file")
    refused = _store_upload(form, upload)
    if refused:
        return editor_page(shown, form, refused)
    publish_due_posts()  # a scheduled post whose time came is published (and emailed) first
    if shown and not editing.same_version(post, request.form.get("version"), form.values):
        db.session.rollback()
        _forget_upload(form, upload)
        return editor_page(shown, form, 409, conflict=editing.conflict(post))
    try:
        action = _write(post, form.values, body)
    except writing.PostError as error:
        _forget_upload(form, upload)
        form.errors[error.field] = error.message
        return editor_page(shown, form, 422)
    except BaseException:
        _forget_upload(form, upload)
        raise
    _after_save(post, action)
    return redirect(url_for("admin.edit_post", post_id=post.id), 303)


def _store_upload(form: Form, upload) -> int | None:
    """Store the feature image uploaded with the form into its values; on failure record the
    error on the form and return the HTTP status to answer with."""
    if upload is None or not upload.filename:
        return None
    try:
        form.values["feature_image"] = images.save_image(upload)
        form.values["remove_feature_image"] = False
    except images.UploadError as error:
        form.errors["feature_image_file"] = error.message
        return error.status
    return None


def _write(post: Post, values: dict, body: Rendered) -> str:
    """Save the fields, apply the pressed button and keep a revision, in one commit; return
    the action done. Anything raised (PostError among it) rolls the write back."""
    try:
        writing.save_post(post, values, current_user, body)
        action = _apply_action(post, values["action"], values)
        published = action in ("publish", "schedule", "email")  # kept beyond the last 20
        record_revision(post, current_user, "publish" if published else "save")
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if action == "email":
        expect_writes()  # the newsletter is queued in a second transaction
    return action


def _forget_upload(form: Form, upload) -> None:
    """Remove an image stored for a save that then failed, so nothing is left behind."""
    if upload is not None and upload.filename and form.values.get("feature_image"):
        images.delete_image(form.values["feature_image"])
        form.values["feature_image"] = None


def _target(post_id: int | None) -> Post:
    """Return the post a save is for: the URL's, the one autosave already made, or a new one."""
    if post_id is None and request.form.get("post_id"):
        try:
            post_id = parse_int(request.form["post_id"])
        except ValueError:
            abort(400, "The post id must be a whole number.")
        if post_id is None:
            abort(404)
    if post_id is not None:
        return editable(post_id)
    if not can(current_user, "post.create"):
        abort(403)
    post = writing.new_post()
    post.type = new_type()
    return post


def _apply_action(post: Post, action: str, values: dict) -> str:
    """Change the post's status as the pressed button asks; return what was done.

    Publish (or Publish and email) with a future date schedules the post for that date,
    never dropping it; the email then goes out when the post goes live. Raise PostError.
    """
    when = values["published_at"]
    future = when is not None and when > utcnow()
    if action in ("publish", "email") and future and post.status == "draft":
        action, values["email_when_published"] = "schedule", action == "email"
    if action in ("publish", "email"):
        writing.publish(post, when)
    elif action == "schedule":
        writing.schedule(post, when)
        post.email_when_published = bool(values.get("email_when_published")) and can(
            current_user, "post.email"
        )
    elif action == "unpublish":
        writing.unpublish(post)
        post.email_when_published = False
    else:
        writing.update_date(post, when)
        if post.status == "scheduled" and can(current_user, "post.email"):
            post.email_when_published = bool(values.get("email_when_published"))
    return action


def _after_save(post: Post, action: str) -> None:
    """Tell the writer what happened, and hand the post to the newsletter when asked."""
    messages = {
        "publish": "Published.",
        "schedule": f"Scheduled for {post.published_at:%d %b %Y %H:%M} UTC"
        + (", and it will be emailed to subscribers then." if post.email_when_published else ".")
        if post.published_at
        else "Scheduled.",
        "unpublish": "Unpublished: the post is a draft again.",
        "save": "Saved.",
    }
    if action != "email":
        flash(messages[action], "success")
        return
    try:
        queue_post_newsletter(post)
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("Could not queue the newsletter for post %s", post.id)
        flash("Published, but the newsletter could not be queued. Try again later.", "error")
        return
    flash("Published, and the newsletter is on its way to subscribers.", "success")


@bp.post("/admin/posts/autosave")
def autosave():
    """Save a draft in the background; answer with the status line (and the new post's id)."""
    post = _target(None)
    existed = post.id is not None
    if existed and post.status != "draft":
        return _saved(post, 409, "Published posts are not saved automatically: press Update.")
    form = parse_post(request.form)
    if existed and not editing.same_version(post, request.form.get("version"), form.values):
        return _saved(None, 409, editing.STALE_AUTOSAVE)
    if not form.ok:
        return _saved(
            post if existed else None, 422, "Not saved: " + next(iter(form.errors.values()))
        )
    release_write_lock()
    body = render_content(form.values["markdown"])
    if existed and not editing.same_version(post, request.form.get("version"), form.values):
        return _saved(None, 409, editing.STALE_AUTOSAVE)  # saved by another tab meanwhile
    try:
        writing.save_post(post, form.values, current_user, body)
        record_revision(post, current_user, background=True)
    except writing.PostError as error:
        db.session.rollback()
        return _saved(post if existed else None, 422, "Not saved: " + error.message)
    db.session.commit()
    if not is_htmx():
        return redirect(url_for("admin.edit_post", post_id=post.id), 303)
    return _saved(post, 200, None)


def _saved(post: Post | None, status: int, error: str | None):
    """Render the autosave status line."""
    saved_at = utcnow() if error is None else None
    version = editing.version_of(post) if post is not None and error is None else None
    page = render_template(
        "admin/_autosave.html", post=post, error=error, saved_at=saved_at, version=version
    )
    return page, status


@bp.route("/admin/posts/<int:post_id>/delete", methods=["GET", "POST"])
def delete(post_id: int):
    """Ask to confirm, then delete a post for good."""
    post = db.get_or_404(Post, post_id)
    if not can(current_user, "post.delete", post):
        abort(403)
    if request.method == "GET":
        return render_template("admin/delete.html", post=post)
    title = post.title
    writing.delete_post(post)
    db.session.commit()
    flash(f"Deleted “{title}”.", "success")
    return redirect(url_for("admin.index"), 303)
