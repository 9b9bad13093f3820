"""Composing mail: Flask-Mail's Message with safe headers, rendered from templates/email/.

Request-free: everything here reads current_app (config, templates, the URL map) and the
site's settings, never request, session or g, so the outbox sender can compose in a thread.
"""

from __future__ import annotations

import re
import uuid
from email.charset import QP, Charset
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from urllib.parse import urlsplit

import flask_mail
from flask import current_app

from blog.bidi import isolate_text
from blog.site import settings

# Quoted-printable UTF-8 bodies: readable in the raw message, and lines stay under 78 characters.
UTF8 = Charset("utf-8")
UTF8.body_encoding = QP
SMTP_LINES = compat32.clone(linesep="\r\n")  # the classic policy, with SMTP's line ends
ADDRESS_HEADERS = {"From", "To", "Reply-To"}
_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
# A bare dot-atom address (RFC 5322 section 3.4.1), which parseaddr and formataddr give back
# unchanged: most recipients, so a newsletter's To needs no parsing.
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def check_header(name: str, value: str) -> None:
    """Raise ValueError if a header value holds CR or LF (header injection)."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"The {name} header must be on one line.")


def one_line(text: str | None) -> str:
    """Collapse CR, LF and NUL into spaces: text bound for a mail header stays one header."""
    return re.sub(r"[\r\n\x00]+", " ", text or "").strip()


def header_value(name: str, value: str) -> str | Header:
    """Return a header value ready to set; raise ValueError if it holds CR or LF (injection)."""
    check_header(name, value)
    if name in ADDRESS_HEADERS:
        if _PLAIN_ADDRESS.fullmatch(value):
            return value
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


class Message(flask_mail.Message):
    """Flask-Mail's Message, built as today's mail: one multipart/alternative of a
    quoted-printable text part and an optional HTML part, headers folded the classic way.

    Only _message() (what as_bytes() and as_string() build on) is Flask-Mail 0.10's own
    replaced, because as it stands it wraps the parts in multipart/mixed and folds headers
    with email.policy.SMTP, which turns a List-Unsubscribe URL longer than a line into RFC
    2047 encoded words (no longer a URL for RFC 2369 / RFC 8058 one-click unsubscribe), sends
    8-bit bodies with lines of any length, and takes about four times as long per message.
    """

    def header_values(self) -> dict[str, str | None]:
        """Return the headers this message is sent with, in order, as given (None: left out)."""
        return {
            "Subject": self.subject,
            "From": self.sender,
            "To": ", ".join(self.recipients),
            "Reply-To": self.reply_to,
            "Date": formatdate(self.date, usegmt=True),
            "Message-ID": self.msgId,
            **(self.extra_headers or {}),
        }

    def _message(self) -> MIMEBase:
        # A random boundary spares the generator its search of the body for a free one.
        return mime(self.body or "", self.html, self.header_values(), f"=={uuid.uuid4().hex}")


def mime(text: str, html: str | None, headers: dict, boundary: str) -> MIMEBase:
    """Return the MIME tree of a Message: a quoted-printable text part, in a
    multipart/alternative with boundary when there is html; headers with a value are set.

    Raises ValueError for a header value with CR or LF in it.
    """
    message: MIMEBase = MIMEText(text, "plain", UTF8)
    if html:
        parts = [message, MIMEText(html, "html", UTF8)]
        message = MIMEMultipart("alternative", boundary, _subparts=parts)
    for name, value in headers.items():
        if value:
            message[name] = header_value(name, value)
    message.policy = SMTP_LINES
    return message


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
    """Build a plain-text message to one address, with an optional HTML alternative.

    message_id defaults to a new one on the site's host. Raises ValueError for a header
    value with CR or LF in it.
    """
    values = {"To": to, "Subject": subject, "From": sender, "Reply-To": reply_to or ""}
    for name, value in {**values, **(headers or {})}.items():
        check_header(name, value)
    message = Message(
        subject=subject,
        recipients=[to],
        body=text,
        html=html or None,
        sender=sender,
        reply_to=reply_to,
        extra_headers=headers,
    )
    message.msgId = message_id or make_msgid(domain=site_host())
    return message


def render(template: str, **context) -> tuple[str, str]:
    """Return (text, html) of templates/email/<template>.txt and .html with context and
    `site` (the site's settings); the page context processors are not used (no request)."""
    context = {"site": settings(), **context}
    text, html = (
        current_app.jinja_env.get_template(f"email/{template}.{kind}").render(context)
        for kind in ("txt", "html")
    )
    return text, html


def templated(
    to: str,
    subject: str,
    template: str,
    *,
    sender: str,
    reply_to: str | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    **context,
) -> Message:
    """Compose a text + HTML message from templates/email/<template>.{txt,html} (render).

    Every mail's text and HTML come from render(): send_templated() queues them (newsletter
    confirmations, password resets, staff invites), and the newsletter issue, built per
    subscriber at send time, is composed here. Raises ValueError for a header value with CR
    or LF in it.
    """
    text, html = render(template, **context)
    return compose(
        to=to,
        subject=subject,
        text=text,
        html=html,
        sender=sender,
        reply_to=reply_to,
        message_id=message_id,
        headers=headers,
    )


def site_host() -> str:
    """Return the host name of the configured SITE_URL (for Message-IDs and List-Id)."""
    return urlsplit(current_app.config["SITE_URL"]).hostname or "localhost"


def default_sender() -> str:
    """Return the address part of MAIL_DEFAULT_SENDER."""
    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1] or f"noreply@{site_host()}"


def link(endpoint: str, **values) -> str:
    """Return an endpoint's absolute URL on SITE_URL (never the request's Host), in any context."""
    site = urlsplit(current_app.config["SITE_URL"])
    adapter = current_app.url_map.bind(
        site.netloc, script_name=site.path or "/", url_scheme=site.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def newsletter_identity() -> tuple[str, str | None]:
    """Return the newsletter's From header and Reply-To address (if any) from the settings.

    Reply-To is the newsletter_reply_to setting (NEWSLETTER_REPLY_TO), else the sender
    address when one is set; with neither, replies would go to the default noreply@ sender,
    so no Reply-To is sent. Ghost offers the same choice (a newsletter's "Reply-to" address).
    """
    values = settings()
    address = one_line(values.get("newsletter_sender_email")) or default_sender()
    name = one_line(values.get("newsletter_sender_name")) or one_line(values["title"])
    reply_to = one_line(values.get("newsletter_reply_to")) or one_line(
        values.get("newsletter_sender_email")
    )
    return formataddr((name, address)), reply_to or None
