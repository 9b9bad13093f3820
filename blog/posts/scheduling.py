"""Scheduled posts going live: at its time a scheduled post becomes published in every sense.

Readers see a scheduled post from its published_at on without any job (posts.services.visible);
this turns its status to "published" too, so the editor, the API, the newsletter and every
later query agree, and sends the newsletter the author asked for when scheduling. Ghost does
the same with its scheduler: the post is published at its time and the email goes out then.

Whatever runs first does it: the mail sender's loop (`flask worker` or the thread inside
each web process), and the admin screens before they read posts. Each post is claimed by one
conditional UPDATE, so two processes never publish or email it twice.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from blog.extensions import db
from blog.models import Post, utcnow

log = logging.getLogger(__name__)


def publish_due_posts() -> list[int]:
    """Publish every scheduled post whose time has come; queue the go-live newsletters.

    Returns the ids of the posts this call published. Flushes; the caller commits.
    """
    now = utcnow()
    due = db.session.scalars(
        select(Post.id).where(Post.status == "scheduled", Post.published_at <= now)
    ).all()
    published = []
    for post_id in due:
        claimed = db.session.execute(
            update(Post)
            .where(Post.id == post_id, Post.status == "scheduled", Post.published_at <= now)
            .values(status="published")
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            published.append(post_id)
    for post_id in published:
        post = db.session.get(Post, post_id, populate_existing=True)
        if post is not None and post.email_when_published:
            _send_newsletter(post)
    if published:
        log.info("Published %s scheduled posts", len(published))
    return published


def _send_newsletter(post: Post) -> None:
    """Queue the post's newsletter and clear its go-live flag (queueing is idempotent)."""
    from blog.newsletter.services import queue_post_newsletter  # the newsletter's sender

    post.email_when_published = False
    if post.type == "post":
        queue_post_newsletter(post)
    db.session.flush()
