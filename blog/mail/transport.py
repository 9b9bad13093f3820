"""Where mail goes: Flask-Mail's SMTP connection (made safe by one subclass), or files under
instance/mail/ when no MAIL_SERVER is set."""

from __future__ import annotations

import logging
import re
import smtplib
from email.utils import parseaddr
from pathlib import Path

import flask_mail
from flask import current_app

from blog.extensions import mailer
from blog.mail.message import Message
from blog.models import utcnow

log = logging.getLogger(__name__)


class Unreachable(Exception):
    """The mail server cannot take any message now (down, refusing, misconfigured)."""


class Connection(flask_mail.Connection):
    """Flask-Mail's SMTP connection, safe for a sender that runs for days.

    Flask-Mail 0.10 opens smtplib.SMTP(server, port) with no timeout, so a server that stops
    answering would hold a sender, and the batch it claimed, forever. Here every socket
    operation gives up after `timeout` seconds (an OSError: the message is tried again later).
    Three more differences, each for a long-running sender:

    - `with connect() as connection` opens nothing; open() or the first send() does, so a
      sender that finds no mail due never connects;
    - after `max_emails` messages it reopens before the next message (Flask-Mail reopens
      right after the last one, so a failed reopen would look as if a sent message failed);
    - close() never raises: quitting a connection the server has dropped just closes it.

    A MAIL_USERNAME logs in even with an empty MAIL_PASSWORD, as the sender always did.
    """

    def __init__(self, state, timeout: float, max_emails: int | None) -> None:
        super().__init__(state)
        self.timeout = timeout
        self.max_emails = max_emails
        self.envelopes: dict[str, tuple[str, str] | str] = {}  # sender -> MAIL FROM

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        self.close()

    def configure_host(self) -> smtplib.SMTP:
        mail = self.mail
        factory = smtplib.SMTP_SSL if mail.use_ssl else smtplib.SMTP
        host = factory(mail.server, mail.port, timeout=self.timeout)
        host.set_debuglevel(int(mail.debug))
        if mail.use_tls:
            host.starttls()
        if mail.username:
            host.login(mail.username, mail.password or "")
        return host

    def open(self) -> None:
        """Connect unless connected (or MAIL_SUPPRESS_SEND is on); reopen after max_emails."""
        if self.host is not None and self.max_emails and self.num_emails >= self.max_emails:
            self.close()
        if self.host is None and not self.mail.suppress:
            self.host, self.num_emails = self.configure_host(), 0

    def send(
        self, message: flask_mail.Message, envelope_from: str | tuple[str, str] | None = None
    ) -> None:
        """Send over this connection (opening it first); MAIL FROM is the sender's address,
        parsed once per sender rather than re-encoded with its name for every message."""
        self.open()
        if envelope_from is None and isinstance(message.sender, str):
            if message.sender not in self.envelopes:
                address = parseaddr(message.sender)[1]
                self.envelopes[message.sender] = ("", address) if address else message.sender
            envelope_from = self.envelopes[message.sender]
        super().send(message, envelope_from)

    def close(self) -> None:
        """Say QUIT, or just close the socket if the server has gone."""
        if self.host is not None:
            try:
                self.host.quit()
            except (OSError, smtplib.SMTPException):
                self.host.close()
            self.host = None


def connect() -> Connection:
    """Return a Connection (not yet open) with the app's MAIL_* settings as they are now.

    Flask-Mail's documented pattern for many messages over one connection:
    `with connect() as connection: connection.send(message)`.
    """
    app = current_app
    # Flask-Mail's own reconnect after MAIL_MAX_EMAILS is off: Connection.open() does it.
    state = mailer.init_mail({**app.config, "MAIL_MAX_EMAILS": None}, app.debug, app.testing)
    return Connection(state, app.config["MAIL_TIMEOUT"], app.config["MAIL_MAX_EMAILS"])


class SmtpTransport:
    """Send over one Connection, reopened when the server has closed it meanwhile."""

    def __init__(self) -> None:
        self.connection = connect()

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc_info) -> None:
        self.connection.close()

    def send(self, message: Message, job) -> None:
        """Send one message to its job's recipient.

        Raises Unreachable when the server takes nothing at the moment (it cannot be reached,
        refuses us, or a connection fails), and smtplib's SMTPRecipientsRefused or
        SMTPResponseException when it refuses this one message.
        """
        connection = self.connection
        reused = connection.host is not None
        try:
            connection.open()
        except (OSError, smtplib.SMTPException) as error:
            connection.close()
            raise Unreachable(f"{type(error).__name__}: {error}") from error
        try:
            connection.send(message)
        except smtplib.SMTPServerDisconnected as error:
            connection.close()
            if not reused:
                raise Unreachable(f"{type(error).__name__}: {error}") from error
            return self.send(message, job)  # the server had closed the idle connection
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
            codes = getattr(error, "recipients", {}).values()
            if getattr(error, "smtp_code", None) == 421 or any(c == 421 for c, _ in codes):
                connection.close()  # 421: the server is closing this connection
            raise
        except (OSError, smtplib.SMTPException) as error:
            connection.close()
            raise Unreachable(f"{type(error).__name__}: {error}") from error


class FileTransport:
    """Write each message into instance/mail/ and log its links: mail without a server."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> FileTransport:
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def send(self, message: Message, job) -> None:
        """Write the message as instance/mail/<time>-<outbox id>.eml; log its links."""
        path = self.folder / f"{utcnow():%Y%m%d-%H%M%S}-{job.id}.eml"
        draft = path.with_suffix(".part")
        draft.write_bytes(message.as_bytes())
        draft.replace(path)
        links = re.findall(r"https?://[^\s<>\"]+", message.body or "")
        # A warning, so a fresh install shows it without any logging set up.
        log.warning(
            "No MAIL_SERVER set: mail to %s written to %s. Links: %s",
            job.recipient,
            path,
            " ".join(links),
        )


def make_transport() -> SmtpTransport | FileTransport:
    """Return the SMTP transport, or the file one when no MAIL_SERVER is configured."""
    if current_app.config.get("MAIL_SERVER"):
        return SmtpTransport()
    return FileTransport(Path(current_app.instance_path) / "mail")
