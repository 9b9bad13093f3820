"""A post as a newsletter reads well everywhere: the HTML part fits 600 px and scales down on
a phone (checked in Chromium at 390 px), the text part keeps paragraphs, list items and link
URLs, replies go to the Reply-To the owner chose, and the demo's promise about replies holds."""

import io
import re
import threading

import pytest
from flask import g
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.serving import make_server

from blog import demo, images
from blog.content import make_excerpt, plain_text, render_markdown
from blog.extensions import db
from blog.models import Post, Subscriber
from tests.conftest import form_token, received

LONG_URL = "https://example.com/" + "a-very-long-path-segment-" * 8
BODY = """First paragraph with [a link](/about/) and [another](https://example.org/docs).
It goes on.

Second paragraph, with *emph*asis joined to its word.

- apples
- pears
    - conference pears

1. one
2. two

{wide_html}

![A map]({image})

{long_url}

```
print("a code line far wider than any phone: " + "x" * 120)
```

| Column with a long heading | Another long heading | A third | And a fourth one |
|---|---|---|---|
| {long_url} | text | more text | and more |

https://www.youtube.com/watch?v=dQw4w9WgXcQ
"""


@pytest.fixture
def app_config(app_config):
    app_config.update(MAIL_BACKGROUND_SENDER=False, NEWSLETTER_SENDER_EMAIL=None)
    return app_config


def wide_image() -> str:
    """Store a real 2020 x 1000 upload; return its URL."""
    data = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (2020, 1000), "teal").save(data, "PNG")
    data.seek(0)
    return images.save_image(FileStorage(data, filename="wide.png"))


def send(runner, make_post, body: str, email: str = "reader@example.com"):
    """Publish a post with body and mail it to one confirmed reader (through the SMTP sink)."""
    g.pop("site_settings", None)  # as in a fresh `flask send-newsletter` process
    db.session.add(Subscriber(email=email, status="confirmed", source="test"))
    db.session.commit()
    make_post(title="Pears and other fruit", slug="pears", body=body)
    result = runner.invoke(args=["send-newsletter", "pears"])
    assert result.exit_code == 0, result.output


def newsletter(app, runner, make_post, smtp_sink, body=None):
    image = wide_image()
    wide_html = f'<img src="{image}" width="2020" height="1000" alt="Wide">'
    body = body or BODY.format(wide_html=wide_html, image=image, long_url=LONG_URL)
    send(runner, make_post, body)
    [message] = received(smtp_sink)
    return message


def test_images_get_a_width_of_at_most_600_and_scale(app, runner, make_post, smtp_sink):
    html = newsletter(app, runner, make_post, smtp_sink).get_body(("html",)).get_content()
    tags = re.findall(r"<img\b[^>]*>", html)
    assert len(tags) == 2
    for tag in tags:
        width = int(re.search(r'\swidth="(\d+)"', tag)[1])
        assert width <= 600 and "height=" not in tag.replace("height:auto", "")
        assert "max-width:100%" in tag and "height:auto" in tag
    assert "<iframe" not in html and "https://www.youtube-nocookie.com/embed/" in html


def test_the_text_part_keeps_paragraphs_list_items_and_link_urls(app, runner, make_post, smtp_sink):
    text = newsletter(app, runner, make_post, smtp_sink).get_body(("plain",)).get_content()
    text = text.replace("\r\n", "\n")
    assert "First paragraph with a link [http://localhost/about/] and another " in text
    assert "another [https://example.org/docs]. It goes on.\n\nSecond paragraph" in text
    assert "with emphasis joined" in text
    assert "\n- apples\n- pears\n  - conference pears\n" in text
    assert "\n1. one\n2. two\n" in text
    assert LONG_URL in text
    assert "Pears and other fruit" in text and "http://localhost/pears/" in text


def test_descriptions_separate_paragraphs_and_never_join_words(client, make_post):
    html = render_markdown("Ends here.\n\n- Starts\n- there\n\nA<br>B and *un*done")
    assert plain_text(html) == "Ends here.\n\n- Starts\n- there\n\nA\nB and undone"
    assert make_excerpt(plain_text(html)) == "Ends here. Starts there A B and undone"  # no bullets
    make_post(title="Joined", slug="joined", body="One.\n\nTwo<br>three")
    page = client.get("/joined/").text
    assert '<meta property="og:description" content="One. Two three">' in page
    assert '<meta name="description" content="One. Two three">' in page


@pytest.mark.parametrize("width", [390, 320])
def test_the_mail_fits_a_phone_in_chromium(app, runner, make_post, smtp_sink, page, width):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        app.config["SITE_URL"] = f"http://127.0.0.1:{server.server_port}"
        message = newsletter(app, runner, make_post, smtp_sink)
        html = message.get_body(("html",)).get_content()
        page.set_viewport_size({"width": width, "height": 800})
        page.set_content(html, wait_until="load")
        overflow = page.evaluate(
            """(width) => {
                const wide = [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > width + 0.5)
                    .map(e => e.tagName + ' ' + Math.round(e.getBoundingClientRect().right));
                return {scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 5)};
            }""",
            width,
        )
        assert overflow == {"scroll": width, "wide": []}
        loaded = page.evaluate("[...document.images].map(i => [i.naturalWidth, i.width])")
        assert loaded and all(natural > 0 and shown <= width - 40 for natural, shown in loaded)

        page.set_viewport_size({"width": 1280, "height": 800})
        column = page.evaluate(
            "Math.max(...[...document.body.children].map(e => e.getBoundingClientRect().width))"
        )
        assert column <= 600
    finally:
        server.shutdown()
        thread.join(timeout=5)


# --- Reply-To ---------------------------------------------------------------------------------


def test_the_reply_to_setting_is_saved_and_sent(
    fresh_requests, app, client, login, make_user, runner, make_post, smtp_sink
):
    login(client, make_user(role="administrator"))
    settings = client.get("/admin/settings/").text
    assert 'name="newsletter_reply_to"' in settings and "Reply-to address" in settings
    data = {
        "csrf_token": form_token(client, "/admin/settings/"),
        "title": "Test Blog",
        "accent_color": "#ff1a75",
        "language": "en",
        "newsletter_reply_to": " Letters@Example.COM ",
    }
    assert client.post("/admin/settings/", data=data).status_code == 303
    send(runner, make_post, "Hello.")
    [message] = received(smtp_sink)
    assert message["Reply-To"] == "letters@example.com"
    assert message["From"] == "Test Blog <blog@localhost>"  # the sender stays the default


def test_a_bad_reply_to_is_refused_on_the_settings_screen(fresh_requests, client, login, make_user):
    login(client, make_user(role="administrator"))
    data = {
        "csrf_token": form_token(client, "/admin/settings/"),
        "title": "Test Blog",
        "accent_color": "#ff1a75",
        "language": "en",
        "newsletter_reply_to": "not an address",
    }
    response = client.post("/admin/settings/", data=data)
    assert response.status_code == 422 and "Enter a valid reply-to address." in response.text


def test_the_config_reply_to_is_sent_when_no_setting_overrides_it(
    app, runner, make_post, smtp_sink
):
    app.config["NEWSLETTER_REPLY_TO"] = "desk@example.com"
    send(runner, make_post, "Hello.")
    [message] = received(smtp_sink)
    assert message["Reply-To"] == "desk@example.com"


def test_no_reply_to_is_invented_when_nothing_is_set(app, runner, make_post, smtp_sink):
    send(runner, make_post, "Hello.")
    [message] = received(smtp_sink)
    assert message["Reply-To"] is None


def test_the_demos_promise_about_replies_holds(app, runner, smtp_sink):
    demo.fill(3)  # what `flask demo` adds (the command also runs migrations first)
    db.session.commit()
    post = db.session.scalar(select(Post).where(Post.type == "post"))
    slug = post.slug
    db.session.add(Subscriber(email="reader@example.com", status="confirmed", source="test"))
    db.session.commit()
    g.pop("site_settings", None)  # as in a fresh `flask send-newsletter` process
    assert runner.invoke(args=["send-newsletter", slug]).exit_code == 0
    [message] = received(smtp_sink)
    text = message.get_body(("plain",)).get_content()
    promised = re.search(r"write to us at (\S+@\S+?)\.\s", text)
    assert promised and message["Reply-To"] == promised[1]
