"""Posts mailed to subscribers, and the outbox's behaviour when the SMTP server misbehaves."""

import re
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.mail import deliver_due, delivery, outbox, sender
from blog.models import OutboxMessage, Post, Subscriber, utcnow
from blog.newsletter import queue_post_newsletter, tokens
from blog.newsletter.services import NewsletterError
from conftest import HX, free_port, received

BODY = "First paragraph with [a link](/about/) and an image:\n\n![A map](/static/demo/atlas.svg)"


@pytest.fixture
def app_config(app_config):
    app_config.update(
        MAIL_BACKGROUND_SENDER=False,
        SITE_URL="https://blog.test",
        NEWSLETTER_SENDER_NAME="The Editors",
        NEWSLETTER_SENDER_EMAIL="editors@blog.test",
        NEWSLETTER_SUBSCRIBE_LIMIT_PER_IP="1000 per minute",
        MAIL_RETRY_BASE_SECONDS=60,
    )
    return app_config


def add_subscribers(count: int, status: str = "confirmed", prefix: str = "reader") -> list[int]:
    rows = [
        Subscriber(email=f"{prefix}{n:04d}@example.com", status=status, source="test")
        for n in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def outbox_statuses(**where) -> dict[str, int]:
    statement = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    for name, value in where.items():
        statement = statement.where(getattr(OutboxMessage, name) == value)
    counts = dict(db.session.execute(statement).all())
    db.session.commit()
    return counts


def status_of(email: str) -> str | None:
    status = db.session.scalar(select(Subscriber.status).where(Subscriber.email == email))
    db.session.commit()
    return status


@pytest.fixture
def clock(monkeypatch):
    """Move the outbox's clock forward: clock(hours=2)."""

    def forward(**delta):
        later = utcnow() + timedelta(**delta)
        for module in (outbox, delivery):  # claiming, and recording outcomes
            monkeypatch.setattr(module, "utcnow", lambda: later)

    return forward


@pytest.fixture
def counting_smtp(app, smtp_server):
    """Point the app at an SMTP server that counts its connections."""
    server = smtp_server()
    app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port)
    return server


# --- A post as a newsletter ------------------------------------------------------------------


def test_send_newsletter_mails_every_confirmed_subscriber_once_with_list_headers(
    app, runner, make_post, counting_smtp
):
    post = make_post(title="Maps of the harbour", slug="harbour-maps", body=BODY)
    confirmed = add_subscribers(120)
    add_subscribers(5, "pending", prefix="pending")
    add_subscribers(3, "unsubscribed", prefix="gone")
    add_subscribers(2, "bounced", prefix="bounced")

    result = runner.invoke(args=["send-newsletter", "harbour-maps"])
    assert result.exit_code == 0, result.output
    assert "Queued 120 new deliveries" in result.output and "sent 120" in result.output

    messages = received(counting_smtp)
    recipients = sorted(to for _, [to], _ in counting_smtp.messages)
    assert recipients == [f"reader{n:04d}@example.com" for n in range(120)]
    assert len(counting_smtp.connections) == 1  # one SMTP connection for the whole batch

    by_id = {row.email: row.id for row in db.session.scalars(select(Subscriber))}
    for message in messages:
        to = str(message["To"])
        assert message["Subject"] == "Maps of the harbour"
        assert message["From"] == "The Editors <editors@blog.test>"
        assert message["Reply-To"] == "editors@blog.test"
        assert message["Message-ID"] == f"<newsletter.{post.id}.{by_id[to]}@blog.test>"
        assert message["List-Id"] == '"Test Blog" <newsletter.blog.test>'
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        https, mailto = re.fullmatch(
            r"<(https://[^>]+)>, <(mailto:[^>]+)>", message["List-Unsubscribe"].strip()
        ).groups()
        assert https.startswith("https://blog.test/newsletter/unsubscribe/")
        assert mailto.startswith("mailto:editors@blog.test?subject=unsubscribe")
        html = message.get_body(preferencelist=("html",)).get_content()
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert (
            "https://blog.test/harbour-maps/" in html and "https://blog.test/harbour-maps/" in text
        )
        assert 'href="https://blog.test/about/"' in html  # site links made absolute
        assert 'src="https://blog.test/static/demo/atlas.svg"' in html
        assert https in html and https in text  # the footer's unsubscribe link
    # No header value was folded into an injected line.
    raw_headers = counting_smtp.messages[0][2].split(b"\r\n\r\n", 1)[0].decode()
    assert all(re.match(r"^([\w-]+: |[ \t])", line) for line in raw_headers.split("\r\n"))
    assert len(confirmed) == 120


def test_sending_twice_sends_nothing_new_and_later_subscribers_get_it_once(
    app, runner, make_post, smtp_sink
):
    post = make_post(slug="once")
    add_subscribers(4)
    runner.invoke(args=["send-newsletter", "once"])
    assert len(smtp_sink.messages) == 4
    again = runner.invoke(args=["send-newsletter", "once"])
    assert "Queued 0 new deliveries" in again.output and len(smtp_sink.messages) == 4
    add_subscribers(1, prefix="late")
    assert queue_post_newsletter(db.session.get(Post, post.id)) == 1
    assert queue_post_newsletter(db.session.get(Post, post.id)) == 0
    db.session.commit()
    deliver_due()
    recipients = [to for _, [to], _ in smtp_sink.messages]
    assert len(recipients) == 5 and recipients[-1] == "late0000@example.com"


def test_drafts_and_unknown_slugs_cannot_be_sent(app, runner, make_post):
    draft = make_post(slug="draft", status="draft", published_at=None)
    add_subscribers(2)
    with pytest.raises(NewsletterError):
        queue_post_newsletter(draft)
    assert "Only a published post" in runner.invoke(args=["send-newsletter", "draft"]).output
    assert "no post with the slug" in runner.invoke(args=["send-newsletter", "nope"]).output
    assert outbox_statuses() == {}


def test_title_with_line_breaks_stays_one_subject_line(app, make_post, smtp_sink):
    post = make_post(title="Line one\r\nBcc: victim@example.com")
    add_subscribers(1)
    queue_post_newsletter(post)
    db.session.commit()
    deliver_due()
    [(_, rcpt, raw)] = smtp_sink.messages
    assert rcpt == ["reader0000@example.com"]
    assert b"\r\nBcc:" not in raw.split(b"\r\n\r\n", 1)[0]
    assert received(smtp_sink)[0]["Subject"] == "Line one Bcc: victim@example.com"


def test_one_click_unsubscribe_from_the_list_unsubscribe_header(app, make_post, smtp_sink):
    add_subscribers(1)
    queue_post_newsletter(make_post())
    db.session.commit()
    deliver_due()
    [message] = received(smtp_sink)
    url = re.search(r"<(https://[^>]+)>", message["List-Unsubscribe"])[1]
    response = app.test_client(use_cookies=False).post(
        urlsplit(url).path, data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200 and "Location" not in response.headers
    assert status_of("reader0000@example.com") == "unsubscribed"


def test_a_subscriber_who_unsubscribes_mid_send_gets_nothing_more(app, make_post, smtp_sink):
    app.config["MAIL_BATCH_SIZE"] = 2
    ids = add_subscribers(10)
    post = make_post()
    queue_post_newsletter(post)
    db.session.commit()
    assert deliver_due(limit=4).sent == 4
    leaving = db.session.get(Subscriber, ids[7])
    path = f"/newsletter/unsubscribe/{tokens.unsubscribe_token(leaving.id, leaving.email)}/"
    db.session.commit()
    assert app.test_client().post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    report = deliver_due()
    assert report.sent == 5
    recipients = [to for _, [to], _ in smtp_sink.messages]
    assert "reader0007@example.com" not in recipients
    assert sorted(recipients) == sorted(f"reader{n:04d}@example.com" for n in range(10) if n != 7)
    assert outbox_statuses(post_id=post.id) == {"sent": 9, "cancelled": 1}


def test_pending_and_confirmation_mail_goes_before_a_newsletter_backlog(
    app, client, make_post, smtp_sink
):
    add_subscribers(30)
    queue_post_newsletter(make_post())
    db.session.commit()
    client.post("/newsletter/", data={"email": "new@example.com"}, headers=HX)
    deliver_due(limit=1)
    assert [to for _, [to], _ in smtp_sink.messages] == ["new@example.com"]


# --- Faults ----------------------------------------------------------------------------------


def test_smtp_down_then_up_loses_nothing_and_sends_once(app, client, smtp_sink, clock):
    app.config["MAIL_PORT"] = free_port()  # nothing listens here
    response = client.post("/newsletter/", data={"email": "reader@example.com"}, headers=HX)
    assert response.status_code == 200 and "Check Your Email" in response.text

    report = deliver_due()
    assert (report.sent, report.retrying) == (0, 1)
    row = db.session.scalar(select(OutboxMessage))
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.next_attempt_at > utcnow() and "Connection" in row.last_error
    db.session.commit()

    app.config["MAIL_PORT"] = smtp_sink.port  # the server is back
    assert deliver_due().sent == 0  # not before the back-off is over
    clock(minutes=5)
    assert deliver_due().sent == 1
    clock(hours=5)
    assert deliver_due().handled == 0
    assert [to for _, [to], _ in smtp_sink.messages] == ["reader@example.com"]
    assert outbox_statuses() == {"sent": 1}


def test_temporary_refusal_is_retried_with_back_off(app, make_post, smtp_server, clock):
    server = smtp_server(replies={"reader0000@example.com": ["451 4.7.1 Greylisted, try later"]})
    app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port)
    add_subscribers(2)
    queue_post_newsletter(make_post())
    db.session.commit()
    report = deliver_due()
    assert (report.sent, report.retrying) == (1, 1)
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.status == "queued"))
    first_wait = row.next_attempt_at - utcnow()
    assert timedelta(seconds=40) < first_wait < timedelta(seconds=80) and "451" in row.last_error
    db.session.commit()
    clock(minutes=2)
    assert deliver_due().sent == 1
    assert sorted(to for _, [to], _ in server.messages) == [
        "reader0000@example.com",
        "reader0001@example.com",
    ]


def test_421_closes_the_connection_and_the_rest_goes_on_a_new_one(app, make_post, smtp_server):
    server = smtp_server(replies={"reader0001@example.com": ["421 4.3.2 Closing, try later"]})
    app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port)
    add_subscribers(4)
    queue_post_newsletter(make_post())
    db.session.commit()
    report = deliver_due()
    assert (report.sent, report.retrying) == (3, 1)
    assert len(server.connections) == 2
    assert "reader0001@example.com" not in [to for _, [to], _ in server.messages]


def test_hard_bounce_fails_the_mail_and_suppresses_the_address(app, make_post, smtp_server, clock):
    server = smtp_server(replies={"reader0000@example.com": ["550 5.1.1 No such user"]})
    app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port)
    add_subscribers(2)
    first = make_post()
    queue_post_newsletter(first)
    db.session.commit()
    report = deliver_due()
    assert (report.sent, report.failed) == (1, 1)
    assert status_of("reader0000@example.com") == "bounced"
    clock(hours=3)
    assert deliver_due().handled == 0  # never retried
    assert queue_post_newsletter(make_post()) == 1  # the next post skips the address
    assert outbox_statuses(post_id=first.id) == {"sent": 1, "failed": 1}


def test_stale_pending_subscribers_and_old_finished_mail_are_purged_by_the_sender(
    app, client, make_post, smtp_sink
):
    client.post("/newsletter/", data={"email": "old.mail@example.com"}, headers=HX)
    add_subscribers(1, prefix="reader")
    queue_post_newsletter(make_post())
    db.session.commit()
    deliver_due()
    db.session.execute(
        OutboxMessage.__table__.update().values(created_at=utcnow() - timedelta(days=8))
    )
    add_subscribers(1, "pending", prefix="stale")
    add_subscribers(1, "pending", prefix="fresh")
    add_subscribers(1, "confirmed", prefix="old")
    db.session.execute(
        Subscriber.__table__.update()
        .where(Subscriber.email.in_(["stale0000@example.com", "old0000@example.com"]))
        .values(requested_at=utcnow() - timedelta(hours=25))
    )
    db.session.commit()
    sender.run(app, threading.Event(), burst=True)
    remaining = sorted(db.session.scalars(select(Subscriber.email)))
    assert remaining == [
        "fresh0000@example.com",
        "old.mail@example.com",  # pending, but asked only now
        "old0000@example.com",
        "reader0000@example.com",
    ]
    # The old confirmation mail (its token in the stored body) is gone; the newsletter
    # delivery stays, so the post is never sent to that reader again.
    assert db.session.execute(select(OutboxMessage.kind, OutboxMessage.status)).all() == [
        ("newsletter", "sent")
    ]
