"""Outgoing mail. Every message is first a row in the outbox, written in the caller's transaction.
Senders claim due rows atomically, deliver them over one reused SMTP connection (or into
instance/mail/ when no server is set) and record each outcome at once, so a crash can repeat at
most the one message in flight. What the server cannot take yet is retried with back-off."""

from __future__ import annotations

import json
import logging
import os
import random
import re
import smtplib
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, g, has_app_context
from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.exc import OperationalError

from blog import sent_journal
from blog.bidi import isolate_text
from blog.extensions import db
from blog.models import OutboxMessage, Subscriber, utcnow
from blog.models.newsletter import PRIORITY_NOW

log = logging.getLogger(__name__)
# Outcome updates go through the table (SQLAlchemy Core): one per message, so they stay cheap.
OUTBOX = OutboxMessage.__table__


# Quoted-printable UTF-8 bodies: readable in the raw message, and lines stay under 78 characters.
UTF8 = Charset("utf-8")
UTF8.body_encoding = QP
ADDRESS_HEADERS = {"From", "To", "Reply-To"}


def _one_line(name: str, value: str) -> str | Header:
    """Return a header value ready to set; raise ValueError if it holds CR or LF (injection)."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"The {name} header must be on one line.")
    if name in ADDRESS_HEADERS:
        return formataddr(parseaddr(value))  # encodes a non-ASCII display name, not the address
    if name == "Subject":
        return _subject(value)
    return value if value.isascii() else Header(value, "utf-8")


def _subject(value: str) -> str | Header:
    """Return a Subject that mail clients show exactly as typed.

    Plain ASCII words pass as they are. Otherwise the whole text becomes RFC 2047 encoded
    words (email.header.Header with the header's name, so the first line's room is counted):
    a title that merely looks like an encoded word ("=?utf-8?q?...?=") is encoded itself, so
    it is shown literally, never decoded; a word too long for one line is split between
    encoded words, which unfold without the stray leading space a plain fold would leave
    (RFC 2047 section 6.2; RFC 5322 section 2.2.3). Bidi controls are isolated (blog.bidi).
    """
    value = isolate_text(value)
    words = value.split(" ")
    plain = (
        value.isascii()
        and "=?" not in value
        and len("Subject: ") + len(words[0]) <= 78
        and all(len(word) <= 76 for word in words)
    )
    return value if plain else Header(value, "utf-8", header_name="Subject")


def site_host() -> str:
    """Return the host name of the configured SITE_URL (for Message-IDs and List-Id)."""
    return urlsplit(current_app.config["SITE_URL"]).hostname or "localhost"


def default_sender() -> str:
    """Return the address part of MAIL_DEFAULT_SENDER."""
    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1] or f"noreply@{site_host()}"


def compose(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    sender: str,
    reply_to: str | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> Message:
    """Build a plain-text message with an optional HTML alternative.

    Built with the email package's classic classes, as Flask-Mail does: about three times
    faster per message than EmailMessage, which counts when a newsletter goes to thousands.
    Raises ValueError for a header value with CR or LF in it.
    """
    message: Message = MIMEText(text, "plain", UTF8)
    if html:
        parts = [message, MIMEText(html, "html", UTF8)]
        # A random boundary spares the generator its search of the body for a free one.
        message = MIMEMultipart("alternative", f"=={uuid.uuid4().hex}", _subparts=parts)
    values = {
        "Subject": subject,
        "From": sender,
        "To": to,
        "Reply-To": reply_to,
        "Date": formatdate(usegmt=True),
        "Message-ID": message_id or make_msgid(domain=site_host()),
        **(headers or {}),
    }
    for name, value in values.items():
        if value:
            message[name] = _one_line(name, value)
    return message


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

    Raises ValueError for a header value with CR or LF in it.
    """
    sender = sender or current_app.config["MAIL_DEFAULT_SENDER"]
    values = {"To": to, "Subject": subject, "From": sender, "Reply-To": reply_to or ""}
    for name, value in {**values, **(headers or {})}.items():
        _one_line(name, value)  # refuse now, in the caller's request, not later in the sender
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


def note_queued() -> None:
    """Remember that this request queued mail, so the in-process sender is woken after it."""
    if has_app_context():
        g.mail_queued = True


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


def _stored(jobs: list[Job]) -> Builder:
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


# --- Transports ------------------------------------------------------------------------------


class Unreachable(Exception):
    """The mail server cannot take any message now (down, refusing, misconfigured)."""


class SmtpTransport:
    """Send over one SMTP connection, reused across messages and reopened when it fails."""

    def __init__(self, config) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None
        self.sent_on_connection = 0

    def send(self, message: Message, job: Job) -> None:
        """Send one message; raise Unreachable when the server takes nothing at the moment."""
        limit = self.config["MAIL_MAX_EMAILS"]
        if self.smtp is not None and limit and self.sent_on_connection >= limit:
            self.close()
        reused = self.smtp is not None
        if not reused:
            self.smtp, self.sent_on_connection = self._connect(), 0
        try:
            self.smtp.send_message(message, to_addrs=[job.recipient])
        except smtplib.SMTPServerDisconnected as error:
            self.close()
            if not reused:
                raise Unreachable(f"{type(error).__name__}: {error}") from error
            return self.send(message, job)  # the server had closed the idle connection
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
            codes = getattr(error, "recipients", {}).values()
            if getattr(error, "smtp_code", None) == 421 or any(c == 421 for c, _ in codes):
                self.close()  # 421: the server is closing this connection
            raise
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise Unreachable(f"{type(error).__name__}: {error}") from error
        self.sent_on_connection += 1

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        factory = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
        try:
            smtp = factory(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"])
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls()
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        except (OSError, smtplib.SMTPException) as error:
            raise Unreachable(f"{type(error).__name__}: {error}") from error
        return smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


class FileTransport:
    """Write each message into instance/mail/ and log its links: mail without a server."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: Message, job: Job) -> None:
        path = self.folder / f"{utcnow():%Y%m%d-%H%M%S}-{job.id}.eml"
        draft = path.with_suffix(".part")
        draft.write_bytes(message.as_bytes())
        draft.replace(path)
        text = next((p for p in message.walk() if p.get_content_type() == "text/plain"), None)
        body = text.get_payload(decode=True).decode(text.get_content_charset()) if text else ""
        links = re.findall(r"https?://[^\s<>\"]+", body)
        # A warning, so a fresh install shows it without any logging set up.
        log.warning(
            "No MAIL_SERVER set: mail to %s written to %s. Links: %s",
            job.recipient,
            path,
            " ".join(links),
        )

    def close(self) -> None:
        pass


def make_transport() -> SmtpTransport | FileTransport:
    """Return the SMTP transport, or the file one when no MAIL_SERVER is configured."""
    if current_app.config.get("MAIL_SERVER"):
        return SmtpTransport(current_app.config)
    return FileTransport(Path(current_app.instance_path) / "mail")


# --- Claiming and delivering -----------------------------------------------------------------


@dataclass
class Report:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.cancelled

    def add(self, other: Report) -> None:
        for name in ("sent", "retrying", "failed", "cancelled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


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
    """Return the wait before attempt number attempts + 1: doubling, capped, with jitter."""
    cfg = current_app.config
    seconds = min(
        cfg["MAIL_RETRY_BASE_SECONDS"] * 2 ** max(attempts - 1, 0), cfg["MAIL_RETRY_MAX_SECONDS"]
    )
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


class _Batch:
    """Record each job's outcome in its own short transaction, renewing the claim's lease.

    A record that fails because the database is locked or unreachable is tried again, with
    back-off, for as long as the claim's lease lasts: the outcome is never left unknown to
    a sender that could then send the message again (see blog.sent_journal for the rest).
    """

    def __init__(self, token: str, report: Report) -> None:
        self.token = token
        self.report = report
        self.lease = timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
        self.renew_at = utcnow() + self.lease / 2
        self.postgresql = db.session.get_bind().dialect.name == "postgresql"
        self.already_sent = sent_journal.sent_ids()

    def finish(
        self, job: Job, status: str, error: str | None = None, sent_id: str = "", **values
    ) -> None:
        """Record job's outcome, retrying while the database is locked or unreachable;
        raise the last OperationalError once the lease has run out.

        sent_id: the Message-ID of a message the server accepted. If the first record fails
        it goes into the sent journal at once, so that no later claim sends it again even if
        this process dies while it retries.
        """
        deadline = time.monotonic() + max(self.lease.total_seconds(), 1)
        pause = 0.05
        while True:
            try:
                return self._finish(job, status, error, **values)
            except OperationalError:
                db.session.rollback()
                if sent_id:
                    sent_journal.record(sent_id)
                    sent_id = ""
                if time.monotonic() + pause > deadline:
                    log.error("Could not record that outbox message %s was %s", job.id, status)
                    raise
                log.warning("Outbox message %s is %s; recording it again shortly", job.id, status)
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    def _finish(self, job: Job, status: str, error: str | None = None, **values) -> None:
        now = utcnow()
        values.update(status=status, claimed_until=None, last_error=error and error[:500])
        if status == "sent":
            values["sent_at"] = now
        if self.postgresql:
            # No fsync per mail: the app dying loses nothing committed; only PostgreSQL itself
            # crashing could lose the last marks, and then those mails go again (same Message-ID).
            db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        db.session.execute(update(OUTBOX).where(OUTBOX.c.id == job.id).values(values))
        if now >= self.renew_at:
            self.renew_at = now + self.lease / 2
            db.session.execute(self._mine().values(claimed_until=now + self.lease))
        db.session.commit()
        counter = {"queued": "retrying"}.get(status, status)
        setattr(self.report, counter, getattr(self.report, counter) + 1)

    def retry(self, job: Job, error: str) -> None:
        attempts = job.attempts + 1
        give_up = timedelta(hours=current_app.config["MAIL_GIVE_UP_HOURS"])
        if utcnow() - job.created_at > give_up:
            self.finish(job, "failed", error, attempts=attempts)
        else:
            later = utcnow() + retry_delay(attempts)
            self.finish(job, "queued", error, attempts=attempts, next_attempt_at=later)

    def bounce(self, job: Job, error: str) -> None:
        """Fail the job for good and stop mailing an address the server says does not exist."""
        if job.subscriber_id is not None:
            db.session.execute(
                update(Subscriber)
                .where(Subscriber.id == job.subscriber_id)
                .values(status="bounced")
            )
            db.session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.subscriber_id == job.subscriber_id,
                    OutboxMessage.status == "queued",
                )
                .values(status="cancelled")
            )
        self.finish(job, "failed", error, attempts=job.attempts + 1)

    def postpone(self, job: Job, error: str) -> None:
        """The server takes nothing now: retry this job and hand back the rest, all later."""
        later = utcnow() + retry_delay(job.attempts + 1)
        self.finish(job, "queued", error, attempts=job.attempts + 1, next_attempt_at=later)
        self.release(later, error)
        log.warning("Mail is waiting: %s. Next try at %s UTC.", error, f"{later:%H:%M:%S}")

    def release(self, later: datetime, error: str) -> None:
        """Hand back every job of this claim not yet finished, to be tried again later."""
        db.session.execute(
            self._mine().values(
                status="queued", claimed_until=None, next_attempt_at=later, last_error=error[:500]
            )
        )
        db.session.commit()

    def _mine(self):
        return update(OUTBOX).where(OUTBOX.c.claimed_by == self.token, OUTBOX.c.status == "sending")


def _prepare(jobs: list[Job]) -> dict[str, Builder]:
    """Load what the batch needs, kind by kind, then end the read transaction."""
    builders = {
        kind: RENDERERS.get(kind, _stored)([job for job in jobs if job.kind == kind])
        for kind in {job.kind for job in jobs}
    }
    db.session.commit()
    return builders


def _send_batch(token: str, jobs: list[Job], transport, report: Report, stop) -> bool:
    """Send a claimed batch; return False when the server is unreachable or a stop was asked."""
    batch = _Batch(token, report)
    builders = _prepare(jobs)
    for job in jobs:
        if stop is not None and stop.is_set():
            batch.release(utcnow(), "The sender stopped before this message.")
            return False
        try:
            message = builders[job.kind](job)
        except Exception as error:  # one bad row must not stop the queue
            log.exception("Could not build outbox message %s", job.id)
            batch.finish(job, "failed", f"Could not build the message: {error}")
            continue
        if message is None:
            batch.finish(job, "cancelled")
            continue
        message_id = str(message.get("Message-ID") or "")
        if message_id and message_id in batch.already_sent:
            # A sender before this one got the server's 250 but could not record it.
            batch.finish(job, "sent", attempts=job.attempts + 1)
            continue
        try:
            transport.send(message, job)
        except Unreachable as error:
            batch.postpone(job, f"Mail server unreachable: {error}")
            return False
        except smtplib.SMTPRecipientsRefused as error:
            code, reason = next(iter(error.recipients.values()))
            detail = f"{code} {reason.decode(errors='replace')}"
            if 500 <= code < 600:
                batch.bounce(job, detail)
            else:
                batch.retry(job, detail)
            continue
        except smtplib.SMTPSenderRefused as error:
            # Our own From address was refused: every message would fail the same way.
            batch.postpone(
                job,
                f"the server refused the sender address ({error.smtp_code} {error.smtp_error!r});"
                " check MAIL_DEFAULT_SENDER and the newsletter sender setting",
            )
            return False
        except smtplib.SMTPResponseException as error:
            detail = f"{error.smtp_code} {error.smtp_error!r}"
            if 500 <= error.smtp_code < 600:
                batch.finish(job, "failed", detail, attempts=job.attempts + 1)
            else:
                batch.retry(job, detail)
            continue
        batch.finish(job, "sent", sent_id=message_id, attempts=job.attempts + 1)
    return True


def purge_finished(days: int = 7) -> int:
    """Delete finished mail other than newsletter deliveries (which keep each post sent once).

    Stored bodies hold links with tokens (confirmation, password reset): keep them no longer
    than they can help someone looking into a delivery problem.
    """
    cutoff = utcnow() - timedelta(days=days)
    sent_journal.prune()
    result = db.session.execute(
        OUTBOX.delete().where(
            OUTBOX.c.post_id.is_(None),
            OUTBOX.c.status.in_(("sent", "failed", "cancelled")),
            OUTBOX.c.created_at < cutoff,
        )
    )
    return result.rowcount


def deliver_due(
    limit: int | None = None,
    stop: threading.Event | None = None,
    on_batch: Callable[[Report], None] | None = None,
) -> Report:
    """Claim and send due mail, batch by batch, until none is due or limit jobs were handled.

    One SMTP connection serves every batch; on_batch(report so far) runs after each one.
    """
    report = Report()
    transport = make_transport()
    size = current_app.config["MAIL_BATCH_SIZE"]
    try:
        while limit is None or report.handled < limit:
            if stop is not None and stop.is_set():
                break
            token, jobs = claim(size if limit is None else min(size, limit - report.handled))
            if not jobs:
                break
            carry_on = _send_batch(token, jobs, transport, report, stop)
            if on_batch is not None:
                on_batch(report)
            if not carry_on:
                break
    finally:
        transport.close()
    return report
