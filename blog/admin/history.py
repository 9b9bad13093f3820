"""Post history (every save kept, Ghost's post history), the newsletter's send status, and
the list of static pages."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blog.admin import editing
from blog.admin.editor import _editable
from blog.admin.services import display_status
from blog.admin.views import bp
from blog.authors.permissions import can
from blog.content import make_excerpt, plain_text, reading_time, render_markdown
from blog.extensions import db
from blog.models import Post
from blog.posts import revisions
from blog.posts.services import with_cards


@bp.get("/admin/posts/<int:post_id>/history/")
def history(post_id: int):
    """List the post's revisions (who, when, why) and show one against the current text."""
    post = _editable(post_id)
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
    post = _editable(post_id)
    revision = revisions.get_revision(post, revision_id) or abort(404)
    if post.status != "draft" and not can(current_user, "post.publish", post):
        abort(403)  # changing what readers see is publishing
    post.title, post.markdown = revision.title, revision.markdown
    post.html = render_markdown(post.markdown)
    post.plaintext = plain_text(post.html)
    post.excerpt = make_excerpt(post.plaintext)
    post.reading_time = reading_time(post.plaintext)
    db.session.flush()
    revisions.record_revision(post, current_user, "restore")
    db.session.commit()
    when = revision.created_at.strftime("%d %b %Y %H:%M")
    flash(f"Restored the version of {when} UTC. The text before it is kept in History.", "success")
    return redirect(url_for("admin.edit_post", post_id=post.id), 303)


@bp.get("/admin/posts/<int:post_id>/send-status")
def send_status(post_id: int):
    """Show the newsletter's progress for a post (htmx asks again while mail is queued)."""
    post = _editable(post_id)
    return render_template(
        "admin/_send_status.html", post=post, deliveries=editing.send_status(post)
    )


@bp.get("/admin/pages/")
def pages():
    """List static pages (About, Contact), apart from posts."""
    listed = db.session.scalars(
        with_cards(select(Post).where(Post.type == "page").order_by(Post.title, Post.id))
    ).all()
    listed = [page for page in listed if can(current_user, "post.edit", page)]
    return render_template("admin/pages.html", pages=listed, display_status=display_status)
