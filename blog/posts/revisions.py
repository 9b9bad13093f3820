"""Post history: every save keeps a revision; the last 20 stay, and every published one.

Ghost keeps a post's revisions for its post history screen (the last 20 saves); we do the
same, and never prune a revision that was published, so the text readers got is always there.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from blog.extensions import db
from blog.models import Post, PostRevision, User, utcnow

KEEP_SAVES = 20
BACKGROUND_INTERVAL = timedelta(minutes=10)  # Ghost's revision interval for autosaves


def record_revision(
    post: Post, user: User | None, reason: str = "save", background: bool = False
) -> PostRevision | None:
    """Keep the post's title and text as a revision (reason: save, publish or restore).

    A save that changed neither title nor text adds nothing, unless it publishes or
    restores. A background save (autosave) within BACKGROUND_INTERVAL of the same person's
    last save revision updates that one instead, as Ghost's post revisions do, so a few
    minutes of typing do not push the last 20 out. Older save revisions beyond KEEP_SAVES
    are deleted. Flushes.
    """
    latest = db.session.scalar(
        select(PostRevision)
        .where(PostRevision.post_id == post.id)
        .order_by(PostRevision.id.desc())
        .limit(1)
    )
    unchanged = latest is not None and (latest.title, latest.markdown) == (
        post.title,
        post.markdown,
    )
    if unchanged and reason == "save":
        return None
    author_id = user.id if user is not None else None
    if (
        background
        and latest is not None
        and latest.reason == "save"
        and latest.author_id == author_id
        and utcnow() - latest.created_at < BACKGROUND_INTERVAL
    ):
        latest.title, latest.markdown, latest.created_at = post.title, post.markdown, utcnow()
        db.session.flush()
        return latest
    if unchanged and reason == "publish" and latest.reason == "save":
        latest.reason = "publish"  # the same text, now the one readers got
        db.session.flush()
        return latest
    revision = PostRevision(
        post_id=post.id,
        author_id=author_id,
        title=post.title,
        markdown=post.markdown,
        reason=reason,
    )
    db.session.add(revision)
    db.session.flush()
    _prune(post.id)
    return revision


def _prune(post_id: int) -> None:
    """Delete the save and restore revisions older than the newest KEEP_SAVES of them."""
    kept = (
        select(PostRevision.id)
        .where(PostRevision.post_id == post_id, PostRevision.reason != "publish")
        .order_by(PostRevision.id.desc())
        .limit(KEEP_SAVES)
    )
    db.session.execute(
        delete(PostRevision)
        .where(
            PostRevision.post_id == post_id,
            PostRevision.reason != "publish",
            PostRevision.id.not_in(kept.scalar_subquery()),
        )
        .execution_options(synchronize_session=False)
    )


def list_revisions(post: Post) -> list[PostRevision]:
    """Return the post's revisions, newest first, with their authors loaded."""
    from sqlalchemy.orm import selectinload

    return list(
        db.session.scalars(
            select(PostRevision)
            .where(PostRevision.post_id == post.id)
            .options(selectinload(PostRevision.author))
            .order_by(PostRevision.id.desc())
        )
    )


def get_revision(post: Post, revision_id: int) -> PostRevision | None:
    """Return one revision of post, or None when it is not this post's."""
    revision = db.session.get(PostRevision, revision_id)
    return revision if revision is not None and revision.post_id == post.id else None


@dataclass
class DiffLine:
    kind: str  # "same", "added" (in the current text only), "removed" (in the revision only)
    text: str


def diff_lines(old: str, new: str, context: int = 3) -> list[DiffLine]:
    """Return a line diff from old (a revision) to new (the current text), with context.

    A line with kind "gap" stands for unchanged lines left out.
    """
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if lines:
            lines.append(DiffLine("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [DiffLine("same", text) for text in matcher.a[i1:i2]]
                continue
            lines += [DiffLine("removed", text) for text in matcher.a[i1:i2]]
            lines += [DiffLine("added", text) for text in matcher.b[j1:j2]]
    return lines
