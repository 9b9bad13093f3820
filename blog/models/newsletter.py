"""Newsletter subscribers and the mail outbox (which also holds each post's deliveries)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from blog.models.base import Base, utcnow

# pending: asked, not yet confirmed; bounced: the SMTP server refused the address for good.
SUBSCRIBER_STATUSES = ("pending", "confirmed", "unsubscribed", "bounced")
# queued -> sending (claimed by one sender) -> sent | failed | cancelled (no longer wanted).
OUTBOX_STATUSES = ("queued", "sending", "sent", "failed", "cancelled")
PRIORITY_NOW = 0  # one reader is waiting for it (confirmation mails)
PRIORITY_BULK = 1  # newsletters


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str | None] = mapped_column(String(191))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    source: Mapped[str] = mapped_column(String(20), default="form")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last subscribe request while not confirmed; pending rows older than the
    # confirmation window are purged from it.
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    # Confirmation mails sent in the 24 hours since confirmations_since.
    confirmations_sent: Mapped[int] = mapped_column(default=0)
    confirmations_since: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<Subscriber {self.id} ({self.status})>"


class OutboxMessage(Base):
    """One mail to send. A newsletter delivery is a row with post_id and subscriber_id set."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        UniqueConstraint("post_id", "subscriber_id"),
        # Senders claim WHERE status = 'queued' ORDER BY priority, id.
        Index("ix_mail_outbox_due", "status", "priority", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="message")
    priority: Mapped[int] = mapped_column(SmallInteger, default=PRIORITY_NOW)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    recipient: Mapped[str] = mapped_column(String(254))
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # Stored content, for every kind but newsletters (those are rendered from the post).
    sender: Mapped[str | None] = mapped_column(String(400))
    reply_to: Mapped[str | None] = mapped_column(String(400))
    subject: Mapped[str | None] = mapped_column(String(400))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[str | None] = mapped_column(Text)  # JSON object of extra headers
    message_id: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} ({self.status})>"
