"""blog.mail's composer and Flask-Mail connection: templated mail without a request, headers
kept as written on the wire, and a connection that gives up on a server that never answers."""

import socket
import threading

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.mail import deliver_due, send_templated
from blog.mail.transport import Connection, connect
from blog.models import OutboxMessage, Subscriber
from blog.newsletter import queue_post_newsletter
from conftest import received


@pytest.fixture
def app_config(app_config):
    app_config["MAIL_BACKGROUND_SENDER"] = False
    return app_config


def test_templated_mail_is_composed_without_a_request(app, smtp_sink, make_user):
    user = make_user(name="Ada Writer")
    row = send_templated(user.email, "Reset your password", "reset", user=user, link="https://x/r")
    db.session.commit()
    assert row.kind == "message" and row.recipient == user.email
    assert deliver_due().sent == 1
    [message] = received(smtp_sink)
    assert message["Subject"] == "Reset your password"
    assert message["From"] == "Test Blog <blog@localhost>"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Hello Ada Writer," in text and "https://x/r" in text
    assert '<a href="https://x/r">Choose a new password</a>' in html
    assert message.get_content_type() == "multipart/alternative"


def test_list_unsubscribe_travels_as_urls_never_as_encoded_words(app, smtp_sink, make_post):
    db.session.add(Subscriber(email="reader@example.com", status="confirmed"))
    db.session.commit()
    queue_post_newsletter(make_post(title="Grüße aus Köln"))
    db.session.commit()
    assert deliver_due().sent == 1
    [(_, _, raw)] = smtp_sink.messages
    headers = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unsubscribe = headers.split("List-Unsubscribe: ", 1)[1].split("\r\nList-Unsubscribe-Post")[0]
    assert "=?utf-8?" not in unsubscribe.lower()
    assert "<http://localhost/newsletter/unsubscribe/" in unsubscribe
    assert "Subject: =?utf-8?" in headers  # the non-ASCII title is encoded, as RFC 2047 says
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_a_server_that_never_answers_times_out_and_the_mail_waits(app, smtp_sink):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # the kernel accepts the connection; nobody ever says 220
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=silent.getsockname()[1], MAIL_TIMEOUT=0.5)
    try:
        send_templated("reader@example.com", "Hello", "reset", user={"name": "R"}, link="x")
        db.session.commit()
        done = threading.Event()
        report = None

        def send():
            nonlocal report
            with app.app_context():
                report = deliver_due()
            done.set()

        threading.Thread(target=send, daemon=True).start()
        assert done.wait(10), "the sender hung on a silent server"
    finally:
        silent.close()
    assert report.retrying == 1 and report.sent == 0
    db.session.rollback()
    row = db.session.scalar(select(OutboxMessage))
    assert row.status == "queued" and "timed out" in row.last_error


def test_the_connection_opens_on_the_first_message_and_closes_quietly(app, smtp_sink):
    with connect() as connection:
        assert isinstance(connection, Connection) and connection.host is None
        connection.open()
        assert connection.host is not None and connection.host.timeout == 30
        connection.host.sock.close()  # the server "went away"
    assert connection.host is None  # leaving the block did not raise
