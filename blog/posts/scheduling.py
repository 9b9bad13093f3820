"""Scheduled posts going live: at its time a scheduled post becomes published in every sense.

Readers see a scheduled post from its published_at on without any job (posts.reading.visible);
this turns its status to "published" too, so the editor, the API, the newsletter and every
later query agree, and sends the newsletter the author asked for when scheduling. Ghost does
the same with its scheduler: the post is published at its time and the email goes out then.

Whatever runs first does it: the mail sender's loop (`flask worker` or the thread inside
each web process), an editor save, and `send-newsletter`. Each post is claimed by one
conditional UPDATE, so two processes never publish or email it twice.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from blog.extensions import db
from blog.models import Post, utcnow
from blog.newsletter.services import queue_post_newsletter

log = logging.getLogger(__name__)


def publish_due_posts() -> list[int]:
    """Publish every scheduled post whose time has come; queue the go-live newsletters.

    Returns the ids of the posts this call published. Flushes; the caller commits.
    """
    now = utcnow()
    due = db.session.execute(
        select(Post.id, Post.email_when_published, Post.type).where(
            Post.status == "scheduled", Post.published_at <= now
        )
    ).all()
    published = []
    for post_id, email, kind in due:
        claimed = db.session.execute(
            update(Post)
            .where(Post.id == post_id, Post.status == "scheduled", Post.published_at <= now)
            # Going live is not an edit: keep updated_at, so open editors can still save.
            .values(status="published", email_when_published=False, updated_at=Post.updated_at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            continue  # another process published it first
        published.append(post_id)
        post = db.session.get(Post, post_id, populate_existing=True)
        if email and kind == "post" and post is not None:
            queue_post_newsletter(post)
    if published:
        db.session.flush()
        log.info("Published %s scheduled posts", len(published))
    return published
