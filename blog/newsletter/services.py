"""The newsletter's work: subscribing, confirming, unsubscribing, queueing a post's deliveries."""

from __future__ import annotations

import importlib
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from blog.extensions import db
from blog.mail.message import link, newsletter_identity, one_line
from blog.mail.outbox import note_queued, send_templated
from blog.models import OutboxMessage, Post, Subscriber, utcnow
from blog.models.newsletter import PRIORITY_BULK
from blog.newsletter import tokens
from blog.site import settings


class NewsletterError(ValueError):
    """A newsletter action cannot be done; the message says why."""


def is_blocked(email: str) -> bool:
    """Tell whether the address's domain (or a parent domain) is on the blocked list."""
    blocked = settings()["blocked_domains"] or []
    if isinstance(blocked, str):
        blocked = blocked.replace("\n", ",").split(",")
    domain = email.rsplit("@", 1)[-1].lower()
    for entry in (item.strip().lower().lstrip("@.") for item in blocked):
        if entry and (domain == entry or domain.endswith("." + entry)):
            return True
    return False


def subscribe(email: str, name: str | None = None, source: str = "form") -> None:
    """Record a subscribe request and queue a confirmation mail when one is due.

    Whatever the address's state, the caller answers the same (nobody can probe who
    subscribes): a confirmed or bounced address gets no mail, a blocked one is not stored.
    """
    if is_blocked(email):
        return
    subscriber = _find_for_update(email)
    if subscriber is None:
        subscriber = Subscriber(email=email, name=name or None, status="pending", source=source)
        try:
            with db.session.begin_nested():
                db.session.add(subscriber)
        except IntegrityError:  # a concurrent request stored it first (PostgreSQL)
            subscriber = _find_for_update(email)
    elif subscriber.status in ("confirmed", "bounced"):
        return
    else:
        subscriber.status = "pending"
        subscriber.requested_at = utcnow()
        subscriber.name = subscriber.name or name or None
    _queue_confirmation_if_allowed(subscriber)


def _find_for_update(email: str) -> Subscriber | None:
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email).with_for_update())


def _queue_confirmation_if_allowed(subscriber: Subscriber) -> None:
    """Queue the mail that asks the reader to confirm (a signed link that expires after
    NEWSLETTER_CONFIRM_HOURS), unless this address had its day's share already."""
    now = utcnow()
    since = subscriber.confirmations_since
    if since is None or now - since >= timedelta(hours=24):
        subscriber.confirmations_since, subscriber.confirmations_sent = now, 0
    if subscriber.confirmations_sent >= current_app.config["NEWSLETTER_CONFIRMATIONS_PER_DAY"]:
        return
    subscriber.confirmations_sent += 1
    db.session.flush()
    sender, reply_to = newsletter_identity()
    send_templated(
        subscriber.email,
        f"Confirm your subscription to {one_line(settings()['title'])}",
        "confirm",
        sender=sender,
        reply_to=reply_to,
        kind="confirm",
        subscriber_id=subscriber.id,
        confirm_url=link("newsletter.confirm", token=tokens.confirm_token(subscriber)),
        hours=current_app.config["NEWSLETTER_CONFIRM_HOURS"],
        name=subscriber.name,
    )


def confirm_subscription(subscriber: Subscriber) -> bool:
    """Confirm a pending subscriber; tell whether the address is now confirmed (again is fine)."""
    if subscriber.status == "pending":
        subscriber.status = "confirmed"
        subscriber.confirmed_at = utcnow()
        subscriber.unsubscribed_at = None
    return subscriber.status == "confirmed"


def unsubscribe(subscriber: Subscriber) -> None:
    """Unsubscribe at once, and cancel every mail still waiting for this address."""
    if subscriber.status in ("pending", "confirmed"):
        subscriber.status = "unsubscribed"
        subscriber.unsubscribed_at = utcnow()
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.subscriber_id == subscriber.id, OutboxMessage.status == "queued")
        .values(status="cancelled")
    )


def resubscribe(subscriber: Subscriber) -> bool:
    """Subscribe an address again from its unsubscribe link (it was confirmed before)."""
    if subscriber.status == "unsubscribed":
        subscriber.status = "confirmed"
        subscriber.confirmed_at = utcnow()
        subscriber.unsubscribed_at = None
    return subscriber.status == "confirmed"


def queue_post_newsletter(post: Post) -> int:
    """Queue one delivery of a published post per confirmed subscriber; return how many are new.

    Idempotent: a (post, subscriber) pair is queued once, ever, so calling again (or from
    two places at once) adds only subscribers confirmed since. Raises NewsletterError for a
    post that is not published.
    """
    if post.status != "published" or post.type != "post":
        raise NewsletterError("Only a published post can be sent as a newsletter.")
    now = utcnow()
    columns = ["kind", "priority", "status", "recipient", "subscriber_id", "post_id"]
    columns += ["attempts", "next_attempt_at", "created_at"]
    recipients = select(
        literal("newsletter"),
        literal(PRIORITY_BULK),
        literal("queued"),
        Subscriber.email,
        Subscriber.id,
        literal(post.id),
        literal(0),
        literal(now, OutboxMessage.next_attempt_at.type),
        literal(now, OutboxMessage.created_at.type),
    ).where(Subscriber.status == "confirmed")
    # The dialect's own INSERT (for ON CONFLICT), imported here: the PostgreSQL dialect pulls
    # in asyncio and more, which a SQLite install's web workers need not carry.
    name = db.session.get_bind().dialect.name
    dialect = importlib.import_module(f"sqlalchemy.dialects.{name}")
    statement = (
        dialect.insert(OutboxMessage)
        .from_select(columns, recipients)
        .on_conflict_do_nothing()
        .returning(OutboxMessage.id)  # rowcount is not reliable here across drivers
    )
    queued = len(db.session.execute(statement).all())
    if queued:
        note_queued()
    return queued


def delivery_counts(post: Post) -> dict[str, int]:
    """Count a post's deliveries by status."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.post_id == post.id)
        .group_by(OutboxMessage.status)
    )
    return dict(rows.all())


def purge_pending() -> int:
    """Delete pending subscribers whose confirmation window has passed; return how many."""
    cutoff = utcnow() - timedelta(hours=current_app.config["NEWSLETTER_CONFIRM_HOURS"])
    result = db.session.execute(
        delete(Subscriber).where(Subscriber.status == "pending", Subscriber.requested_at < cutoff)
    )
    return result.rowcount


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_subscribers(query: str = "", page: int = 1, per_page: int = 50):
    """Return (subscribers, total) matching query in address or name, newest first."""
    statement = select(Subscriber)
    if query:
        pattern = f"%{_escape_like(query.strip().lower())}%"
        statement = statement.where(
            or_(
                func.lower(Subscriber.email).like(pattern, escape="\\"),
                func.lower(Subscriber.name).like(pattern, escape="\\"),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = db.session.scalars(
        statement.order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return rows, total


def status_counts() -> dict[str, int]:
    """Count subscribers by status."""
    rows = db.session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status))
    return dict(rows.all())


def remove_subscriber(subscriber_id: int) -> bool:
    """Delete a subscriber and every mail still waiting for them; tell whether one existed."""
    result = db.session.execute(delete(Subscriber).where(Subscriber.id == subscriber_id))
    return bool(result.rowcount)
