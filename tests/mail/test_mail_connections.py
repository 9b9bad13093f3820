"""The mail worker sends over several SMTP connections at once (MAIL_CONNECTIONS or
`flask worker --connections N`), still exactly once per recipient."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.mail import deliver_due, delivery, outbox, queue, sender
from blog.models import OutboxMessage, Subscriber, utcnow
from blog.newsletter import queue_post_newsletter

COUNT = 120


@pytest.fixture
def app_config(app_config):
    app_config["MAIL_BACKGROUND_SENDER"] = False
    app_config["MAIL_BATCH_SIZE"] = 5  # small claims, so the connections take turns often
    return app_config


@pytest.mark.timeout(120)
def test_several_connections_send_each_newsletter_mail_exactly_once(app, make_post, smtp_server):
    server = smtp_server(delay=0.002)
    app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port)
    db.session.add_all(
        Subscriber(email=f"reader{n:04d}@example.com", status="confirmed") for n in range(COUNT)
    )
    db.session.commit()
    assert queue_post_newsletter(make_post()) == COUNT
    db.session.commit()
    db.session.remove()

    report = sender.run_parallel(app, threading.Event(), burst=True, connections=3)

    assert report.sent == COUNT
    per_reader = Counter(to for _, [to], _ in server.messages)
    assert sorted(per_reader) == [f"reader{n:04d}@example.com" for n in range(COUNT)]
    assert set(per_reader.values()) == {1}
    assert len(server.connections) == 3  # three SMTP sessions carried the mail
    pending = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
    assert db.session.scalar(pending) == 0


def test_the_worker_command_takes_a_connection_count(app, runner):
    result = runner.invoke(args=["worker", "--burst", "--connections", "0"])
    assert result.exit_code == 2 and "--connections" in result.output


def test_a_sender_whose_lease_ran_out_never_sends_what_another_has_taken(
    app, smtp_server, monkeypatch
):
    """A sender stalls between claiming and sending, past its lease; a second sender claims
    the rows and sends them. The first, back, sends none of them again."""
    server = smtp_server()
    app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_LEASE_SECONDS=60)
    clock = [utcnow()]
    for module in (outbox, delivery):  # claiming, and renewing or recording
        monkeypatch.setattr(module, "utcnow", lambda: clock[0])
    stalled = []

    def stall_then_prepare(jobs):
        if not stalled:  # the first sender, only
            stalled.append(True)
            clock[0] += timedelta(seconds=61)  # its lease runs out; another sender comes

            def second_sender():
                with app.app_context():
                    assert deliver_due().sent == 2
                    db.session.remove()

            other = threading.Thread(target=second_sender)
            other.start()
            other.join()
        return outbox.stored(jobs)

    monkeypatch.setitem(outbox.RENDERERS, "stalling", stall_then_prepare)
    for n in range(2):
        queue(f"reader{n}@example.com", "Hello", "Some text.", kind="stalling")
    db.session.commit()
    db.session.remove()

    assert deliver_due().sent == 0  # the first sender sent nothing: the rows were not its own
    assert sorted(to for _, [to], _ in server.messages) == [
        "reader0@example.com",
        "reader1@example.com",
    ]
    statuses = db.session.scalars(select(OutboxMessage.status)).all()
    assert statuses == ["sent", "sent"]
