"""Post history (every save kept, Ghost's post history), the newsletter's send status, and
the list of static pages."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blog.admin import editing
from blog.admin.editor_page import editable
from blog.admin.views import bp
from blog.authors.permissions import can
from blog.content import render
from blog.extensions import db
from blog.posts import revisions, staff_list
from blog.posts.writing import set_body


@bp.get("/admin/posts/<int:post_id>/history/")
def history(post_id: int):
    """List the post's revisions (who, when, why) and show one against the current text."""
    post = editable(post_id)
    listed = revisions.list_revisions(post)
    chosen = None
    if request.args.get("revision", "").isdigit():
        chosen = revisions.get_revision(post, int(request.args["revision"])) or abort(404)
    elif listed:
        chosen = listed[0]
    diff = revisions.diff_lines(chosen.markdown, post.markdown) if chosen else []
    return render_template(
        "admin/history.html",
        post=post,
        revisions=listed,
        chosen=chosen,
        diff=diff,
        title_changed=chosen is not None and chosen.title != post.title,
    )


@bp.post("/admin/posts/<int:post_id>/history/<int:revision_id>/restore")
def restore(post_id: int, revision_id: int):
    """Bring back a revision's title and text; the restore is itself kept as a revision."""
    post = editable(post_id)
    revision = revisions.get_revision(post, revision_id) or abort(404)
    if post.status != "draft" and not can(current_user, "post.publish", post):
        abort(403)  # changing what readers see is publishing
    post.title, post.markdown = revision.title, revision.markdown
    set_body(post, render(post.markdown))
    db.session.flush()
    revisions.record_revision(post, current_user, "restore")
    db.session.commit()
    when = revision.created_at.strftime("%d %b %Y %H:%M")
    flash(f"Restored the version of {when} UTC. The text before it is kept in History.", "success")
    return redirect(url_for("admin.edit_post", post_id=post.id), 303)


@bp.get("/admin/posts/<int:post_id>/send-status")
def send_status(post_id: int):
    """Show the newsletter's progress for a post (htmx asks again while mail is queued)."""
    post = editable(post_id)
    return render_template(
        "admin/_send_status.html", post=post, deliveries=editing.send_status(post)
    )


@bp.get("/admin/pages/")
def pages():
    """List static pages (About, Contact), apart from posts."""
    listed = staff_list.list_pages(current_user)
    return render_template(
        "admin/pages.html", pages=listed, display_status=staff_list.display_status
    )
