"""A sent mail whose "sent" mark SQLite's write lock holds up for longer than the claim's lease.

The busy timeout (5 s by default) can be longer than a lease, and SQLite's busy handler can
starve a waiting sender while other senders write: two `flask worker` senders sent one mail
twice that way. Now the mark waits only while the lease lasts, so the Message-ID is in the
sent journal before another sender may claim the row, and that sender marks it sent without
sending it again.
"""

import threading
import time

from sqlalchemy import select

from blog import mail
from blog.extensions import db
from blog.mail import journal
from blog.models import OutboxMessage

LEASE = 3  # seconds: shorter than the busy timeout, which stays at its default


def test_a_mark_locked_out_past_the_lease_is_journaled_before_another_sender_claims_it(
    app, app_config, locking_sink, sqlite_lock
):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=locking_sink.port,
                      MAIL_LEASE_SECONDS=LEASE)  # fmt: skip
    assert app.config["SQLITE_BUSY_TIMEOUT_MS"] > LEASE * 1000
    row = mail.queue("reader@example.com", "Hello", "Some text.")
    db.session.commit()
    row_id, message_id = row.id, row.message_id
    db.session.remove()
    accepted = threading.Event()

    def lock_the_database():  # another writer takes the lock as the server says 250
        sqlite_lock.take()
        accepted.set()

    locking_sink.on_accept = lock_the_database
    first = threading.Thread(target=deliver, args=(app,))
    first.start()
    assert accepted.wait(10)
    lease_ends = time.monotonic() + LEASE - 0.05  # the claim was taken before the 250
    with app.app_context():
        while message_id not in journal.sent_ids() and time.monotonic() < lease_ends:
            time.sleep(0.02)
        assert message_id in journal.sent_ids(), "the mark still waited when the lease ended"
    time.sleep(max(lease_ends - time.monotonic(), 0) + 0.3)  # now another sender may claim it
    sqlite_lock.release()
    deliver(app)
    first.join(15)
    assert not first.is_alive()
    assert len(locking_sink.messages) == 1
    assert db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == row_id)) == (
        "sent"
    )


def deliver(app) -> None:
    """Run one sender pass in its own app context, as a sender thread does."""
    with app.app_context():
        try:
            mail.deliver_due()
        except Exception:  # noqa: BLE001, S110 - a pass that gave up marking leaves it to the next
            pass
        finally:
            db.session.remove()
