"""What the editor shows beside the text: the version it started from, a save conflict, the
newsletter's send status, and the word count."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from blog.content import WORDS_PER_MINUTE
from blog.extensions import db
from blog.models import OutboxMessage, Post, PostRevision, User

STALE_AUTOSAVE = (
    "Not saved: this post was changed in another tab or by someone else. "
    "Press Save draft to see both versions; your text is still here."
)


def version_of(post: Post) -> str:
    """Return the token a save must carry to overwrite post: its updated_at, to the microsecond.

    Ghost detects the same collision by comparing the updated_at the editor loaded with the
    stored one.
    """
    return post.updated_at.isoformat(timespec="microseconds") if post.updated_at else ""


def same_version(post: Post, version: str | None, values: dict) -> bool:
    """Tell whether a save may overwrite post: it started from the stored version, or it
    carries the stored title and text already (an autosave that landed just before: nothing
    would be lost). A save without a version (a form from before versions) is trusted.
    """
    if not version or version == version_of(post):
        return True
    return (values.get("title") or "Untitled", values.get("markdown")) == (
        post.title,
        post.markdown,
    )


@dataclass
class Conflict:
    title: str
    markdown: str
    updated_at: object
    by: User | None


def conflict(post: Post) -> Conflict:
    """Describe the stored (newer) version a stale save collided with."""
    latest = db.session.scalar(
        select(PostRevision)
        .where(PostRevision.post_id == post.id)
        .order_by(PostRevision.id.desc())
        .limit(1)
    )
    by = latest.author if latest is not None else None
    return Conflict(post.title, post.markdown, post.updated_at, by)


@dataclass
class SendStatus:
    """A post's newsletter: how many mails wait, went and failed, and why they failed."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.queued > 0


def send_status(post: Post) -> SendStatus | None:
    """Count the post's newsletter deliveries by state; None when it was never sent."""
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.post_id == post.id)
            .group_by(OutboxMessage.status)
        ).all()
    )
    if not counts:
        return None
    reasons = db.session.execute(
        select(OutboxMessage.last_error, func.count())
        .where(OutboxMessage.post_id == post.id, OutboxMessage.status == "failed")
        .group_by(OutboxMessage.last_error)
        .order_by(func.count().desc())
        .limit(5)
    ).all()
    return SendStatus(
        queued=counts.get("queued", 0) + counts.get("sending", 0),
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        cancelled=counts.get("cancelled", 0),
        reasons=[(reason or "No reason given", n) for reason, n in reasons],
    )


def word_count(markdown: str) -> tuple[int, int]:
    """Return (words, minutes to read) for the text as typed, at Ghost's 275 words a minute."""
    words = len(markdown.split())
    return words, max(1, round(words / WORDS_PER_MINUTE)) if words else 0
