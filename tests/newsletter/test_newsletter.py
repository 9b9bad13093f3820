"""Subscribing, confirming and unsubscribing, against a real SMTP server on 127.0.0.1."""

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeSerializer
from sqlalchemy import func, select

from blog.extensions import db
from blog.mail import deliver_due
from blog.models import OutboxMessage, Subscriber
from blog.newsletter import tokens
from blog.newsletter.views import TOO_MANY
from conftest import HX, received

SUCCESS = "Success! Now Check Your Email"
SUCCESS_DETAIL = (
    "To complete Subscribe, click the confirmation link in your inbox. "
    "If it doesn't arrive within 3 minutes, check your spam folder."
)


@pytest.fixture
def app_config(app_config):
    """Send only when a test says so (deliver_due), and keep limits out of the way."""
    app_config.update(
        MAIL_BACKGROUND_SENDER=False,
        NEWSLETTER_SUBSCRIBE_LIMIT_PER_IP="1000 per minute",
        NEWSLETTER_SUBSCRIBE_LIMIT_PER_ADDRESS="1000 per minute",
    )
    return app_config


def subscribe(client, email="reader@example.com", htmx=True, **fields):
    data = {"email": email, "form_id": "subscribe-inline", **fields}
    return client.post("/newsletter/", data=data, headers=HX if htmx else {})


def status_of(email: str) -> str | None:
    status = db.session.scalar(select(Subscriber.status).where(Subscriber.email == email))
    db.session.commit()  # end the read: SQLite holds the write lock outside requests
    return status


def count(model) -> int:
    total = db.session.scalar(select(func.count()).select_from(model))
    db.session.commit()
    return total


def add_subscriber(email: str, status: str = "confirmed") -> Subscriber:
    subscriber = Subscriber(email=email, status=status, source="test")
    db.session.add(subscriber)
    db.session.commit()
    return subscriber


def confirm_link(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/newsletter/confirm/\S+", text)[0]


def csrf_token(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]


def wait_for(sink, n: int, seconds: float = 10) -> list:
    deadline = time.monotonic() + seconds
    while len(sink.messages) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return received(sink)


# --- Subscribing -----------------------------------------------------------------------------


def test_post_pages_carry_two_real_subscribe_forms_with_ghosts_contract(client, make_post):
    page = client.get(make_post().url).get_data(as_text=True)
    for form_id, heading in [
        ("subscribe-inline", "Subscribe to Our Newsletter"),
        ("subscribe-cta", "Never Miss a Post – Subscribe Now"),
    ]:
        form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', page, re.S)[0]
        assert 'method="post"' in form and 'action="/newsletter/"' in form
        assert 'hx-post="/newsletter/"' in form and 'data-members-form="subscribe"' in form
        assert "data-members-email" in form and "data-members-error" in form
        assert heading in form
        assert "csrf_token" not in form  # public pages stay cacheable
    # Loaded where the forms are (it guards itself); its name carries a content fingerprint.
    assert len(re.findall(r'src="/static/js/members(\.[0-9a-f]{12})?\.js"', page)) == 2


def test_htmx_subscribe_swaps_the_box_for_the_check_your_email_message(client):
    response = subscribe(client)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body
    assert SUCCESS in body and SUCCESS_DETAIL in body
    assert 'id="subscribe-inline"' in body and 'id="subscribe-inline-title"' in body
    assert "HX-Request" in response.headers["Vary"]
    assert status_of("reader@example.com") == "pending"


def test_subscribe_without_javascript_redirects_to_a_page_with_the_same_message(client):
    response = subscribe(client, htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/newsletter/subscribed/")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<html" in page and SUCCESS in page and SUCCESS_DETAIL in page
    assert status_of("reader@example.com") == "pending"


def test_newsletter_page_is_a_full_page_with_an_optional_name_field(client):
    page = client.get("/newsletter/")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body
    assert 'name="name"' in body and "data-members-name" in body
    assert "HX-Request" in page.headers["Vary"]


def test_address_is_trimmed_and_lower_cased(client):
    subscribe(client, "  Reader.Name@Example.COM ", name="  Ada  ")
    subscriber = db.session.scalar(select(Subscriber))
    assert (subscriber.email, subscriber.name) == ("reader.name@example.com", "Ada")


def test_confirmation_mail_arrives_and_its_link_confirms_on_post_only(
    app, client, smtp_sink, background_sender
):
    subscribe(client, "reader@example.com")
    # The default install's sender thread sends it within seconds; nobody runs a worker.
    [message] = wait_for(smtp_sink, 1)
    assert smtp_sink.messages[0][1] == ["reader@example.com"]
    assert message["To"] == "reader@example.com"
    assert message["Subject"] == "Confirm your subscription to Test Blog"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "expires in 24 hours" in text and "If you did not ask for this, ignore this mail" in text
    assert "Test Blog" in html and confirm_link(message) in html

    path = urlsplit(confirm_link(message)).path
    page = client.get(path)  # what a mail scanner does
    assert page.status_code == 200 and "Confirm subscription" in page.get_data(as_text=True)
    assert status_of("reader@example.com") == "pending"

    confirmed = client.post(path, data={"csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "You're subscribed" in confirmed.get_data(as_text=True)
    assert status_of("reader@example.com") == "confirmed"
    again = client.post(path, data={"csrf_token": csrf_token(page)}, follow_redirects=True)
    assert again.status_code == 200 and status_of("reader@example.com") == "confirmed"


@pytest.fixture
def background_sender(app):
    """Turn on the in-process sender thread, and stop it before the app goes away."""
    app.config["MAIL_BACKGROUND_SENDER"] = True
    yield
    sender = app.extensions.get("mail_sender")
    if sender is not None:
        sender.stop()


BAD_INPUT = [
    ("", "Enter your email address."),
    ("   ", "Enter your email address."),
    ("not-an-address", "Enter a valid email address"),
    ("reader@localhost", "Enter a valid email address"),
    ("two@example.com, three@example.com", "Enter a valid email address"),
    ("x" * 250 + "@example.com", "That address is too long"),
    ("reader@example.com\r\nBcc: victim@example.com", "on one line"),
    ("reader@example.com\nTo: victim@example.com", "on one line"),
    ("reader@example.com\x00", "on one line"),
    ("<script>alert(1)</script>@example.com", "Enter a valid email address"),
]


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])
@pytest.mark.parametrize("email, message", BAD_INPUT)
def test_bad_input_re_renders_the_form_with_422_and_stores_and_sends_nothing(
    client, smtp_sink, email, message, htmx
):
    response = subscribe(client, email, htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert 'id="subscribe-inline"' in body and "data-members-error" in body
    assert ("<html" in body) is not htmx
    assert "<script>alert(1)" not in body
    assert count(Subscriber) == 0 and count(OutboxMessage) == 0
    deliver_due()
    assert smtp_sink.messages == []


@pytest.mark.parametrize("name", ["x" * 192, "Ada\r\nBcc: victim@example.com"])
def test_bad_name_is_refused_with_422(client, name):
    response = subscribe(client, name=name)
    assert response.status_code == 422 and "Give a name on one line" in response.text
    assert count(Subscriber) == 0


def test_oversized_subscribe_posts_are_refused_with_413_not_a_500(client):
    fields = {f"field{n}": "x" for n in range(5000)} | {"email": "reader@example.com"}
    many_parts = client.post("/newsletter/", data=fields, content_type="multipart/form-data")
    huge = client.post("/newsletter/", data={"email": "x" * 3_000_000 + "@example.com"})
    assert many_parts.status_code == 413
    assert huge.status_code in (413, 422)  # refused by size, or by the form with its message
    assert count(Subscriber) == 0


def test_reply_is_identical_whatever_the_address_and_only_due_mail_is_sent(app, client, smtp_sink):
    app.config["NEWSLETTER_BLOCKED_DOMAINS"] = ["blocked.example"]
    add_subscriber("confirmed@example.com", "confirmed")
    add_subscriber("unsubscribed@example.com", "unsubscribed")
    add_subscriber("bounced@example.com", "bounced")
    subscribe(client, "pending@example.com")
    deliver_due()
    smtp_sink.clear()
    addresses = [
        "new@example.com",
        "pending@example.com",
        "confirmed@example.com",
        "unsubscribed@example.com",
        "bounced@example.com",
        "someone@blocked.example",
        "someone@mail.blocked.example",
    ]
    for htmx in (True, False):
        replies = {
            address: (
                (r := subscribe(client, address, htmx=htmx)).status_code,
                r.get_data(),
                r.headers.get("Location"),
                tuple(sorted(r.headers.keys())),
            )
            for address in addresses
        }
        assert len(set(replies.values())) == 1, replies

    deliver_due()
    mailed = sorted(to for _, [to], _ in smtp_sink.messages)
    # New, pending and unsubscribed addresses get a confirmation mail per request; confirmed,
    # bounced and blocked ones get nothing, and the blocked domain is not even stored.
    assert mailed == sorted(
        ["new@example.com", "pending@example.com"] * 2 + ["unsubscribed@example.com"] * 2
    )
    assert status_of("confirmed@example.com") == "confirmed"
    assert status_of("unsubscribed@example.com") == "pending"
    assert status_of("someone@blocked.example") is None


def test_one_address_gets_at_most_three_confirmation_mails_a_day(client, smtp_sink):
    replies = set()
    for n in range(20):
        response = client.post(
            "/newsletter/",
            data={"email": "target@example.com"},
            headers=HX,
            environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"},
        )
        replies.add((response.status_code, response.get_data()))
    assert len(replies) == 1 and next(iter(replies))[0] == 200
    deliver_due()
    assert [to for _, [to], _ in smtp_sink.messages] == ["target@example.com"] * 3


def test_honeypot_gets_the_same_success_and_nothing_is_stored_or_sent(client, smtp_sink):
    human = subscribe(client, "human@example.com")
    bot = subscribe(client, "bot@example.com", comment="Great post! Visit my site")
    assert (bot.status_code, bot.get_data()) == (human.status_code, human.get_data())
    assert status_of("bot@example.com") is None
    deliver_due()
    assert [to for _, [to], _ in smtp_sink.messages] == ["human@example.com"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.localhost"},
    ],
)
def test_cross_site_subscribe_posts_are_refused(client, smtp_sink, headers):
    response = client.post("/newsletter/", data={"email": "victim@example.com"}, headers=headers)
    assert response.status_code == 403
    assert count(Subscriber) == 0 and count(OutboxMessage) == 0


def test_same_origin_posts_are_accepted(client):
    headers = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin", **HX}
    response = client.post("/newsletter/", data={"email": "reader@example.com"}, headers=headers)
    assert response.status_code == 200 and SUCCESS in response.text


# --- Rate limits -----------------------------------------------------------------------------


@pytest.fixture
def tight_limits(app):
    app.config["NEWSLETTER_SUBSCRIBE_LIMIT_PER_IP"] = "3 per minute"
    app.config["NEWSLETTER_SUBSCRIBE_LIMIT_PER_ADDRESS"] = "2 per minute"


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])
def test_a_flood_from_one_ip_gets_429_with_retry_after_inside_the_form(
    client, smtp_sink, tight_limits, htmx
):
    for n in range(3):
        assert subscribe(client, f"reader{n}@example.com", htmx=htmx).status_code in (200, 303)
    response = subscribe(client, "reader3@example.com", htmx=htmx)
    body = response.get_data(as_text=True)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert TOO_MANY in body and 'id="subscribe-inline"' in body
    assert ("<html" in body) is not htmx
    assert status_of("reader3@example.com") is None
    deliver_due()
    assert len(smtp_sink.messages) == 3


def test_a_spoofed_x_forwarded_for_does_not_evade_the_limit(client, tight_limits):
    for n in range(6):
        response = client.post(
            "/newsletter/",
            data={"email": f"reader{n}@example.com"},
            headers={"X-Forwarded-For": f"203.0.113.{n}", **HX},
        )
        assert response.status_code == (200 if n < 3 else 429)
    # Another client address is another bucket.
    other = client.post(
        "/newsletter/",
        data={"email": "reader9@example.com"},
        headers=HX,
        environ_base={"REMOTE_ADDR": "192.0.2.50"},
    )
    assert other.status_code == 200


def test_one_address_from_many_ips_hits_the_per_address_limit(client, tight_limits):
    statuses = [
        client.post(
            "/newsletter/",
            data={"email": "target@example.com"},
            headers=HX,
            environ_base={"REMOTE_ADDR": f"192.0.2.{n}"},
        ).status_code
        for n in range(1, 4)
    ]
    assert statuses == [200, 200, 429]


# --- Confirm links ---------------------------------------------------------------------------


def test_expired_confirmation_link_shows_a_clear_page_with_a_way_to_subscribe_again(
    app, client, monkeypatch
):
    subscriber = add_subscriber("late@example.com", "pending")
    hours_ago = int(time.time()) - 25 * 3600
    with monkeypatch.context() as patch:  # the clock, a day and an hour ago
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: hours_ago)
        token = tokens.confirm_token(subscriber)
    page = client.get(f"/newsletter/confirm/{token}/")
    body = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "This link has expired" in body and 'action="/newsletter/"' in body
    # Even the button's POST, with a good CSRF token from another confirm page, does nothing.
    other = client.get(
        f"/newsletter/confirm/{tokens.confirm_token(add_subscriber('x@example.com', 'pending'))}/"
    )
    post = client.post(f"/newsletter/confirm/{token}/", data={"csrf_token": csrf_token(other)})
    assert post.status_code == 400 and "This link has expired" in post.text
    assert status_of("late@example.com") == "pending"


@pytest.mark.parametrize("forge", ["tamper", "other-key", "garbage"])
def test_forged_confirmation_link_changes_nothing(app, client, forge):
    subscriber = add_subscriber("reader@example.com", "pending")
    token = tokens.confirm_token(subscriber)
    token = {
        "tamper": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "other-key": URLSafeSerializer("another key", salt="newsletter-confirm").dumps(
            [subscriber.id, "0" * 12]
        ),
        "garbage": "not-a-token",
    }[forge]
    page = client.get(f"/newsletter/confirm/{token}/")
    assert page.status_code == 400 and "This link does not work" in page.text
    assert status_of("reader@example.com") == "pending"


# --- Unsubscribing ---------------------------------------------------------------------------


def unsubscribe_path(subscriber: Subscriber) -> str:
    return f"/newsletter/unsubscribe/{tokens.unsubscribe_token(subscriber.id, subscriber.email)}/"


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_post_unsubscribes_at_once_without_redirect_cookie_or_token(app, encoding):
    subscriber = add_subscriber("reader@example.com")
    path = unsubscribe_path(subscriber)
    client = app.test_client(use_cookies=False)  # what a mail provider's server sends
    data = {"List-Unsubscribe": "One-Click"}
    kwargs = (
        {"data": data, "content_type": "multipart/form-data"}
        if encoding == "multipart"
        else {"data": data}
    )
    response = client.post(path, **kwargs)
    assert response.status_code == 200 and "Location" not in response.headers
    assert status_of("reader@example.com") == "unsubscribed"
    again = client.post(path, **kwargs)
    assert again.status_code == 200 and status_of("reader@example.com") == "unsubscribed"


def test_unsubscribe_link_opens_a_page_whose_button_unsubscribes_and_offers_to_resubscribe(
    app, client
):
    subscriber = add_subscriber("reader@example.com")
    path = unsubscribe_path(subscriber)
    page = client.get(path)
    assert page.status_code == 200 and "Unsubscribe?" in page.text
    assert "no-store" in page.headers["Cache-Control"]
    assert status_of("reader@example.com") == "confirmed"  # a GET changes nothing

    done = client.post(path, follow_redirects=True)
    assert "You're unsubscribed" in done.text and "Subscribe again" in done.text
    assert status_of("reader@example.com") == "unsubscribed"

    back = client.post(
        path + "resubscribe", data={"csrf_token": csrf_token(done)}, follow_redirects=True
    )
    assert "Unsubscribe?" in back.text
    assert status_of("reader@example.com") == "confirmed"


def test_forged_unsubscribe_token_changes_nothing(app, client):
    subscriber = add_subscriber("reader@example.com")
    forged = URLSafeSerializer("another key", salt="newsletter-unsubscribe").dumps(
        [subscriber.id, "0" * 12]
    )
    for response in (
        client.post(f"/newsletter/unsubscribe/{forged}/", data={"List-Unsubscribe": "One-Click"}),
        client.get(f"/newsletter/unsubscribe/{forged}/"),
    ):
        assert response.status_code == 400
    assert status_of("reader@example.com") == "confirmed"


# --- No mail server --------------------------------------------------------------------------


def test_without_a_mail_server_mail_is_written_to_files_and_its_link_logged(app, client, caplog):
    app.config["MAIL_SERVER"] = None
    subscribe(client, "reader@example.com")
    with caplog.at_level("INFO", logger="blog.mail"):
        assert deliver_due().sent == 1
    [eml] = (Path(app.instance_path) / "mail").glob("*.eml")
    link = re.search(r"https?://\S+/newsletter/confirm/\S+/", caplog.text)[0]
    assert "reader@example.com" in caplog.text
    assert b"Subject: Confirm your subscription to Test Blog" in eml.read_bytes()
    assert client.get(urlsplit(link).path).status_code == 200
