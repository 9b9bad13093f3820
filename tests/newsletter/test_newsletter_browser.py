"""End to end in real Chromium: subscribe from a post page in place (and without JavaScript),
then confirm from the link in the mail the SMTP server received."""

import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from blog.extensions import db
from blog.models import Subscriber
from conftest import received


@pytest.fixture
def sending(app):
    """The default install's in-process sender; stopped before the app goes away."""
    app.config["MAIL_BACKGROUND_SENDER"] = True
    yield
    if "mail_sender" in app.extensions:
        app.extensions["mail_sender"].stop()


def confirmation_path(sink) -> str:
    deadline = time.monotonic() + 15
    while not sink.messages:
        assert time.monotonic() < deadline, "no confirmation mail arrived"
        time.sleep(0.05)
    [message] = received(sink)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return urlsplit(re.search(r"https?://\S+/newsletter/confirm/\S+", text)[0]).path


def post_path(post) -> str:
    """Read what the test needs, then end the transaction: outside a request it began with
    BEGIN IMMEDIATE, and the live server's writes would wait for it."""
    path = post.url
    db.session.commit()
    return path


def status_of(email: str) -> str | None:
    status = db.session.scalar(select(Subscriber.status).where(Subscriber.email == email))
    db.session.commit()
    return status


@pytest.mark.browser
def test_inline_form_subscribes_in_place_then_the_mailed_link_confirms(
    page, live_server, make_post, smtp_sink, sending
):
    page.goto(live_server + post_path(make_post(title="A walk by the harbour")))
    page.evaluate("window.__marker = 1")  # a page load would forget it
    page.locator(".site-header__cta").click()  # the header's Subscribe opens the dialog
    inline = page.locator("#subscribe-inline")

    inline.get_by_label("Email address").fill("reader@localhost")  # the browser lets it pass
    inline.get_by_role("button", name="Subscribe").click()
    expect(page.locator("#subscribe-inline [data-members-error]")).to_contain_text(
        "Enter a valid email address"
    )
    expect(page.locator("#subscribe-inline")).to_have_class(re.compile(r"\berror\b"))

    page.locator("#subscribe-inline").get_by_label("Email address").fill("reader@example.com")
    page.locator("#subscribe-inline").get_by_role("button", name="Subscribe").click()
    expect(page.locator("#subscribe-inline")).to_contain_text("Success! Now Check Your Email")
    expect(page.locator("#subscribe-inline")).to_have_class(re.compile(r"\bsuccess\b"))
    assert page.evaluate("window.__marker") == 1
    # Once subscribed, the other box on the page says the same instead of asking again.
    expect(page.locator("#subscribe-cta")).to_contain_text("Success! Now Check Your Email")

    page.goto(live_server + confirmation_path(smtp_sink))
    expect(page.get_by_role("heading", name="Confirm your subscription")).to_be_visible()
    assert status_of("reader@example.com") == "pending"
    page.get_by_role("button", name="Confirm subscription").click()
    expect(page.get_by_role("heading", name="You're subscribed")).to_be_visible()
    assert status_of("reader@example.com") == "confirmed"


@pytest.mark.browser
def test_without_javascript_the_form_posts_and_lands_on_the_same_message(
    browser, live_server, make_post, smtp_sink, sending
):
    path = post_path(make_post())
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server + path)
        cta = page.locator("#subscribe-cta")
        cta.get_by_label("Email address").fill("nojs@example.com")
        cta.get_by_role("button", name="Subscribe").click()
        page.wait_for_url(re.compile(r"/newsletter/subscribed/$"))
        expect(page.get_by_text("Success! Now Check Your Email")).to_be_visible()
        confirmation_path(smtp_sink)
        assert status_of("nojs@example.com") == "pending"
    finally:
        context.close()
