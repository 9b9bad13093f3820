"""The mail sender under a held SQLite lock (issue 10, item 4), with a real aiosmtpd server: a
message the server accepted is recorded as sent even though the database was locked at that
moment, and is never sent a second time by a later claim; and mail headers show a post's title
literally (item 14): no RFC 2047 decoding of a typed encoded word, no header injection, long
words fold without a stray space."""

import email
import email.policy
import re
import threading
import time

import pytest
from sqlalchemy import select

from blog import mail
from blog.extensions import db
from blog.mail import journal as sent_journal
from blog.models import OutboxMessage


@pytest.fixture
def app_config(app_config, locking_sink):
    app_config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=locking_sink.port,
        SQLITE_BUSY_TIMEOUT_MS=100,
        MAIL_LEASE_SECONDS=1,
    )
    return app_config


def queue_one(to="reader@example.com") -> int:
    row = mail.queue(to, "Hello", "Some text.")
    db.session.commit()
    return row.id


def status(row_id: int) -> str:
    """Read a row's status, ending the read at once (on SQLite it holds the write lock)."""
    db.session.rollback()
    value = db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == row_id))
    db.session.rollback()
    return value


def deliver(app):
    """Run one sender pass in its own app context, as the sender thread does."""
    with app.app_context():
        try:
            return mail.deliver_due()
        except Exception as error:  # noqa: BLE001 - a failed pass is part of the story
            return error
        finally:
            db.session.remove()


def test_a_sent_message_is_recorded_although_the_database_was_locked(
    app, locking_sink, sqlite_lock
):
    row_id = queue_one()
    db.session.remove()

    def lock_for_a_moment():
        sqlite_lock.take()
        threading.Timer(0.3, sqlite_lock.release).start()

    locking_sink.on_accept = lock_for_a_moment
    deliver(app)
    locking_sink.on_accept = None
    assert status(row_id) == "sent"
    time.sleep(1.1)  # the claim's lease has run out: nothing is due again
    deliver(app)
    assert len(locking_sink.messages) == 1


def test_a_message_whose_record_failed_is_never_sent_again(app, locking_sink, sqlite_lock):
    row_id = queue_one()
    db.session.remove()
    locking_sink.on_accept = sqlite_lock.take  # held past the sender's patience
    first = deliver(app)
    locking_sink.on_accept = None
    assert isinstance(first, Exception)  # the pass gave up recording
    sqlite_lock.release()
    assert status(row_id) == "sending"  # its outcome is unknown to the database...
    with app.app_context():
        assert any("@" in mid for mid in sent_journal.sent_ids())  # ...but not to the journal
    time.sleep(1.1)  # the lease runs out: another claim takes the row
    second = deliver(app)
    assert not isinstance(second, Exception), second
    assert status(row_id) == "sent"
    assert len(locking_sink.messages) == 1


# --- Titles as typed (item 14) --------------------------------------------------------------

TITLES = [
    "=?utf-8?q?Hello=0D=0ABcc:_victim@example.com?=",  # looks like an encoded word
    "=?utf-8?b?SGVsbG8=?= world",
    "Supercalifragilisticexpialidocious" * 3 + " and more",  # a first word longer than a line
    "Grüße aus " + "Donaudampfschifffahrtsgesellschaftskapitän" * 2,
    "A plain title",
]


@pytest.mark.parametrize("title", TITLES)
def test_a_subject_arrives_exactly_as_typed(app, locking_sink, title):
    queue_one_with(title)
    db.session.remove()
    deliver(app)
    [(_, recipients, raw)] = locking_sink.messages
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == title
    assert recipients == ["reader@example.com"]
    assert message["Bcc"] is None and b"\nBcc:" not in raw and b"\r\nBcc:" not in raw
    header_block = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n")[0]
    assert all(len(line) <= 78 for line in header_block.splitlines())


def test_a_subject_with_bidi_controls_is_isolated(app, locking_sink):
    title = "invoice\u202efdp.exe"
    queue_one_with(title)
    db.session.remove()
    deliver(app)
    [(_, _, raw)] = locking_sink.messages
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "\u2068invoice\u202efdp.exe\u2069"


def queue_one_with(subject: str) -> None:
    mail.queue("reader@example.com", subject, "Some text.")
    db.session.commit()


def test_titles_with_bidi_controls_are_isolated_on_every_page(app, client, make_post, login,
                                                              make_user):  # fmt: skip
    title = "invoice\u202efdp.exe"
    post_id = make_post(title, slug="invoice").id
    isolated = "<bdi>invoice\u202efdp.exe</bdi>"
    # A card's title is its heading's only text, a paragraph of its own: nothing to reorder.
    assert '<a href="/invoice/">invoice\u202efdp.exe</a></h2>' in client.get("/").text
    page = client.get("/invoice/").get_data(as_text=True)
    assert '<h1 class="article__title">invoice\u202efdp.exe</h1>' in page  # its own paragraph
    assert "<title>\u2068invoice\u202efdp.exe\u2069 – " in page
    db.session.rollback()
    login(client, make_user(role="owner"))
    assert re.search(r'<bdi><a href="/admin/posts/\d+/">invoice\u202efdp.exe</a></bdi>',
                     client.get("/admin/").text)  # fmt: skip
    assert f"Delete “{isolated}”?" in client.get(f"/admin/posts/{post_id}/delete").text
