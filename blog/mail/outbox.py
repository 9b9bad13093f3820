"""The outbox: every message is first a row, written in the caller's transaction, and leaves
once that transaction commits. Senders claim due rows atomically (blog.mail.delivery sends
them); a message is composed from its stored parts, or at send time by its kind's renderer."""

from __future__ import annotations

import json
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from email.utils import make_msgid

from flask import current_app
from sqlalchemy import and_, or_, select, update

from blog.extensions import db
from blog.mail import journal
from blog.mail.message import Message, check_header, compose, render, site_host
from blog.models import OutboxMessage, utcnow
from blog.models.newsletter import PRIORITY_NOW

# Outcome updates go through the table (SQLAlchemy Core): one per message, so they stay cheap.
OUTBOX = OutboxMessage.__table__
QUEUED = "mail_queued"  # in db.session.info: this session queued mail (blog.mail.sender wakes)


def queue(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    sender: str | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    kind: str = "message",
    subscriber_id: int | None = None,
) -> OutboxMessage:
    """Add a message to the outbox; it leaves once the caller's transaction commits.

    sender defaults to MAIL_DEFAULT_SENDER. Raises ValueError for a header value with CR or
    LF in it, at once, in the caller's request rather than later in the sender.
    """
    sender = sender or current_app.config["MAIL_DEFAULT_SENDER"]
    values = {"To": to, "Subject": subject, "From": sender, "Reply-To": reply_to or ""}
    for name, value in {**values, **(headers or {})}.items():
        check_header(name, value)
    row = OutboxMessage(
        kind=kind,
        priority=PRIORITY_NOW,
        recipient=to,
        subscriber_id=subscriber_id,
        sender=sender,
        reply_to=reply_to,
        subject=subject,
        body_text=text,
        body_html=html,
        headers=json.dumps(headers) if headers else None,
        message_id=make_msgid(domain=site_host()),
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    note_queued()
    return row


def send_templated(
    to: str,
    subject: str,
    template: str,
    *,
    sender: str | None = None,
    reply_to: str | None = None,
    kind: str = "message",
    subscriber_id: int | None = None,
    **context,
) -> OutboxMessage:
    """Queue a text + HTML message rendered from templates/email/<template>.{txt,html}.

    The templates get context and `site` (the site's settings). It leaves once the caller
    commits: over SMTP, or as an .eml file in instance/mail/ when no MAIL_SERVER is set.
    Raises ValueError for a header value with CR or LF in it, jinja2's TemplateNotFound for
    a missing template. Newsletter confirmations, password resets and staff invites all
    come through here.
    """
    text, html = render(template, **context)
    return queue(
        to,
        subject,
        text,
        html,
        sender=sender,
        reply_to=reply_to,
        kind=kind,
        subscriber_id=subscriber_id,
    )


def note_queued() -> None:
    """Note in the database session that mail was queued, so the in-process sender is woken
    after the request (blog.mail.sender); no request, session cookie or g is touched."""
    db.session.info[QUEUED] = True


@dataclass
class Job:
    """A claimed outbox row, copied out so no transaction stays open while SMTP talks."""

    id: int
    kind: str
    recipient: str
    subscriber_id: int | None
    post_id: int | None
    sender: str | None
    reply_to: str | None
    subject: str | None
    body_text: str | None
    body_html: str | None
    headers: str | None
    message_id: str | None
    attempts: int
    created_at: datetime


_JOB_COLUMNS = [getattr(OutboxMessage, f.name) for f in fields(Job)]

# kind -> prepare(jobs): loads what a batch of that kind needs in one go and returns a
# function that builds each job's message, or None when the mail is no longer wanted.
Builder = Callable[[Job], Message | None]
RENDERERS: dict[str, Callable[[list[Job]], Builder]] = {}


def register_renderer(kind: str, prepare: Callable[[list[Job]], Builder]) -> None:
    """Let a part of the app build its own kind of outbox mail at send time."""
    RENDERERS[kind] = prepare


def stored(jobs: list[Job]) -> Builder:
    """Build messages whose content was stored when they were queued."""

    def build(job: Job) -> Message:
        return compose(
            to=job.recipient,
            subject=job.subject or "",
            text=job.body_text or "",
            html=job.body_html,
            sender=job.sender or current_app.config["MAIL_DEFAULT_SENDER"],
            reply_to=job.reply_to,
            message_id=job.message_id,
            headers=json.loads(job.headers) if job.headers else None,
        )

    return build


def _due(now: datetime):
    """Rows a sender may take: queued and due, or claimed by a sender whose lease ran out."""
    return or_(
        and_(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
    )


def claim(size: int) -> tuple[str, list[Job]]:
    """Take up to size due rows for this sender alone; return the claim's token and the jobs.

    PostgreSQL skips rows another sender has locked; SQLite writes one transaction at a time
    (BEGIN IMMEDIATE), and the UPDATE re-checks that each row is still free either way.
    """
    now = utcnow()
    token = f"{socket.gethostname()[:50]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    pick = (
        select(OutboxMessage.id)
        .where(_due(now))
        .order_by(OutboxMessage.priority, OutboxMessage.id)
        .limit(size)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = db.session.scalars(pick).all()
    jobs: list[Job] = []
    if ids:
        lease = timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), _due(now))
            .values(status="sending", claimed_by=token, claimed_until=now + lease),
            execution_options={"synchronize_session": False},
        )
        rows = db.session.execute(
            select(*_JOB_COLUMNS)
            .where(OutboxMessage.claimed_by == token, OutboxMessage.status == "sending")
            .order_by(OutboxMessage.priority, OutboxMessage.id)
        )
        jobs = [Job(**row._mapping) for row in rows]
    db.session.commit()
    return token, jobs


def retry_delay(attempts: int) -> timedelta:
    """Return the wait before attempt number attempts + 1: doubling from
    MAIL_RETRY_BASE_SECONDS, capped at MAIL_RETRY_MAX_SECONDS, with 20 % jitter."""
    cfg = current_app.config
    seconds = min(
        cfg["MAIL_RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0), cfg["MAIL_RETRY_MAX_SECONDS"]
    )
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def purge_finished(days: int = 7) -> int:
    """Delete finished mail other than newsletter deliveries (which keep each post sent once);
    return how many rows went.

    Stored bodies hold links with tokens (confirmation, password reset): keep them no longer
    than they can help someone looking into a delivery problem.
    """
    cutoff = utcnow() - timedelta(days=days)
    journal.prune()
    result = db.session.execute(
        OUTBOX.delete().where(
            OUTBOX.c.post_id.is_(None),
            OUTBOX.c.status.in_(("sent", "failed", "cancelled")),
            OUTBOX.c.created_at < cutoff,
        )
    )
    return result.rowcount
