"""The editor: write, preview, autosave, publish, schedule, unpublish and delete posts."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blog import images
from blog.admin import services
from blog.admin.forms import MAX_MARKDOWN, Form, parse_post
from blog.admin.views import bp
from blog.authors.permissions import can
from blog.bounds import parse_int
from blog.content import nesting_problem, render_markdown
from blog.extensions import db, expect_writes
from blog.htmx import is_htmx, render
from blog.models import Post, utcnow
from blog.transactions import release_write_lock

# What each button needs beyond editing the post.
ACTION_PERMISSIONS = {
    "publish": "post.publish",
    "schedule": "post.publish",
    "unpublish": "post.publish",
    "email": "post.email",
}


def _editable(post_id: int) -> Post:
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
        return fields
    fields = {name: (getattr(post, name) or "") if post else "" for name in FIELDS}
    fields["tags"] = ", ".join(tag.name for tag in post.tags) if post else ""
    fields["authors"] = ", ".join(user.slug for user in post.authors) if post else ""
    published_at = post.published_at if post else None
    fields["published_at"] = f"{published_at:%Y-%m-%dT%H:%M}" if published_at else ""
    fields["featured"] = bool(post and post.featured)
    return fields


def _editor(post: Post | None, form: Form | None = None, status: int = 200, **extra):
    """Render the editor for post (None: a new one), echoing form input when given."""
    fields = _fields(post, form)
    context = {
        "post": post,
        "form": form,
        "fields": fields,
        "errors": form.errors if form is not None else {},
        "preview": (post.html if post else "")
        if form is None
        else ("" if "markdown" in form.errors else render_markdown(fields["markdown"])),
        "tags": services.all_tags(),
        "staff": services.staff_members() if can(current_user, "post.set_authors") else [],
        "status": services.display_status(post) if post and post.id else "draft",
        **extra,
    }
    return render_template("admin/editor.html", **context), status


@bp.get("/admin/posts/new")
def new_post():
    """Show an empty editor."""
    if not can(current_user, "post.create"):
        abort(403)
    return _editor(None)


@bp.get("/admin/posts/<int:post_id>/")
def edit_post(post_id: int):
    """Show the editor for a post."""
    return _editor(_editable(post_id))


@bp.post("/admin/posts/new")
@bp.post("/admin/posts/<int:post_id>/")
def save(post_id: int | None = None):
    """Save the editor, then publish, schedule, unpublish or email as the button asked."""
    post = _target(post_id)
    form = parse_post(request.form)
    action = form.values["action"]
    permission = ACTION_PERMISSIONS.get(action)
    if permission and not can(current_user, permission, post if post.id else None):
        abort(403)
    if not form.ok:
        too_long = len(request.form.get("markdown", "")) > MAX_MARKDOWN
        return _editor(post if post.id else None, form, 413 if too_long else 422)
    release_write_lock()  # render and re-encode with no lock held; the write takes milliseconds
    body = services.render_body(form.values["markdown"])
    upload = request.files.get("feature_image_file")
    if upload is not None and upload.filename:
        try:
            form.values["feature_image"] = images.save_image(upload)
            form.values["remove_feature_image"] = False
        except images.UploadError as error:
            form.errors["feature_image_file"] = error.message
            return _editor(post if post.id else None, form, error.status)
    try:
        services.save_post(post, form.values, current_user, body)
        _apply_action(post, action, form.values["published_at"])
        db.session.commit()
    except services.PostError as error:
        db.session.rollback()
        _forget_upload(form, upload)
        form.errors[error.field] = error.message
        return _editor(post if post.id else None, form, 422)
    except BaseException:
        db.session.rollback()
        _forget_upload(form, upload)
        raise
    if action == "email":
        expect_writes()  # the newsletter is queued in a second transaction
    _after_save(post, action)
    return redirect(url_for("admin.edit_post", post_id=post.id), 303)


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
        return _editable(post_id)
    if not can(current_user, "post.create"):
        abort(403)
    return services.new_post()


def _apply_action(post: Post, action: str, when) -> None:
    """Change the post's status as the pressed button asks; raise PostError."""
    if action in ("publish", "email"):
        services.publish(post, when)
    elif action == "schedule":
        services.schedule(post, when)
    elif action == "unpublish":
        services.unpublish(post)
    else:
        services.update_date(post, when)


def _after_save(post: Post, action: str) -> None:
    """Tell the writer what happened, and hand the post to the newsletter when asked."""
    messages = {
        "publish": "Published.",
        "schedule": f"Scheduled for {post.published_at:%d %b %Y %H:%M} UTC."
        if post.published_at
        else "Scheduled.",
        "unpublish": "Unpublished: the post is a draft again.",
        "save": "Saved.",
    }
    if action != "email":
        flash(messages[action], "success")
        return
    try:
        from blog.newsletter.services import queue_post_newsletter  # the newsletter's sender
    except ImportError:
        flash("Published, but sending newsletters is not set up on this blog yet.", "error")
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
    if post.id is not None and post.status != "draft":
        return _saved(post, 409, "Published posts are not saved automatically: press Update.")
    form = parse_post(request.form)
    if not form.ok:
        return _saved(post, 422, "Not saved: " + next(iter(form.errors.values())))
    release_write_lock()
    body = services.render_body(form.values["markdown"])
    try:
        services.save_post(post, form.values, current_user, body)
    except services.PostError as error:
        db.session.rollback()
        return _saved(post if post.id else None, 422, "Not saved: " + error.message)
    db.session.commit()
    if not is_htmx():
        return redirect(url_for("admin.edit_post", post_id=post.id), 303)
    return _saved(post, 200, None)


def _saved(post: Post | None, status: int, error: str | None):
    """Render the autosave status line."""
    saved_at = utcnow() if error is None else None
    page = render_template("admin/_autosave.html", post=post, error=error, saved_at=saved_at)
    return page, status


@bp.post("/admin/preview")
def preview():
    """Render Markdown the way readers will see it (sanitised), for the live preview."""
    markdown = request.form.get("markdown", "")[:500_000].replace("\x00", "")
    title = " ".join(request.form.get("title", "").split())[:255]
    return render(
        "admin/preview.html",
        "admin/_preview.html",
        html=render_markdown(markdown),
        title=title,
        problem=nesting_problem(markdown),  # what saving would refuse, said before it is lost
    )


@bp.route("/admin/posts/<int:post_id>/delete", methods=["GET", "POST"])
def delete(post_id: int):
    """Ask to confirm, then delete a post for good."""
    post = db.get_or_404(Post, post_id)
    if not can(current_user, "post.delete", post):
        abort(403)
    if request.method == "GET":
        return render_template("admin/delete.html", post=post)
    title = post.title
    services.delete_post(post)
    db.session.commit()
    flash(f"Deleted “{title}”.", "success")
    return redirect(url_for("admin.index"), 303)
