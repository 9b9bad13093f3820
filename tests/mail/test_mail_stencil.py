"""A newsletter issue is rendered once per batch and stamped out per subscriber
(blog.mail.stencil): each copy is the message composed for that reader alone, byte for byte,
with the reader's own address, Message-ID and unsubscribe links."""

import re
from email.utils import formataddr, parseaddr

import pytest

from blog.extensions import db
from blog.mail import deliver_due
from blog.mail.message import compose, header_value, link
from blog.mail.stencil import Stencil, mark
from blog.models import Subscriber
from blog.newsletter import queue_post_newsletter, tokens
from conftest import received

DATE = 1_700_000_000.0
LONG = "A line longer than quoted-printable allows, so it is soft-broken " * 3
CASES = {
    "plain": ("Hello,\nUnsubscribe: {url}\n", '<p>Hello</p>\n<a href="{url}">Unsubscribe</a>\n'),
    "non-ascii and long lines": (
        f"Grüße aus Köln — {LONG}\n\n{LONG}{{url}} {LONG}\r\nlast line with a trailing space \n",
        f'<p>Grüße {LONG}<a href="{{url}}">x</a>{LONG}</p>\r\n<p>=3D and = signs</p>',
    ),
    "mark at the ends of lines": ("{url}\n{url}{url}", "{url}"),
    "no final line break": ("Bye {url}", "<p>{url}</p>"),
}


def compose_for(text: str, html: str, *, to: str, url: str, token: str, message_id: str):
    """Compose the message for one reader the way any other mail is composed."""
    message = compose(
        to=to,
        subject="Grüße: a title",
        text=text.replace("{url}", url),
        html=html.replace("{url}", url.replace("&", "&amp;")),  # as autoescape writes it
        sender='"The Editors" <editors@blog.test>',
        reply_to="replies@blog.test",
        message_id=message_id,
        headers={
            "List-Unsubscribe": f"<{url}>, <mailto:editors@blog.test?subject=unsubscribe%20{token}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Precedence": "bulk",
        },
    )
    message.date = DATE
    return message


def boundary_free(raw: bytes) -> bytes:
    boundary = re.search(rb'boundary="([^"]+)"', raw)[1]
    return raw.replace(boundary, b"BOUNDARY")


@pytest.mark.parametrize("case", CASES)
def test_a_stamped_copy_is_the_message_composed_for_that_reader_byte_for_byte(app, case):
    text, html = CASES[case]
    marks = {name: mark(name) for name in ("to", "url", "token", "message_id")}
    template = compose_for(
        text,
        html,
        to=marks["to"],
        url=marks["url"],
        token=marks["token"],
        message_id=marks["message_id"],
    )
    stencil = Stencil(template, list(marks))
    readers = [
        ("ada@example.com", "https://blog.test/newsletter/unsubscribe/AAA.b-c_d/", "AAA.b-c_d"),
        ("bob@example.org", "https://blog.test/u/?a=1&b=2", "BBB"),  # & is escaped in HTML
        (f"{'x' * 62}@example.com", "https://x/", "C"),  # "To: " and it: 78 characters, a full line
        (f"{'far-too-long-for-one-header-line' * 3}@example.com", "https://x/", "D"),
    ]
    for number, (to, url, token) in enumerate(readers):
        message_id = f"<newsletter.1.{number}@blog.test>"
        copy = stencil.stamp(to=to, url=url, token=token, message_id=message_id)
        copy.date = DATE
        alone = compose_for(text, html, to=to, url=url, token=token, message_id=message_id)
        assert boundary_free(copy.as_bytes()) == boundary_free(alone.as_bytes())
        assert copy.recipients == [to] and copy.msgId == message_id
        assert copy.body == alone.body and copy.html == alone.html


def test_a_value_with_a_line_break_is_refused(app):
    template = compose_for(
        "{url}", "{url}", to=mark("to"), url=mark("url"), token="t", message_id="<m@blog.test>"
    )
    stencil = Stencil(template, ["to", "url"])
    with pytest.raises(ValueError):
        stencil.stamp(to="a@example.com\r\nBcc: victim@example.com", url="https://x/")


def test_each_subscriber_gets_their_own_address_and_unsubscribe_links(app, make_post, smtp_sink):
    app.config["MAIL_BACKGROUND_SENDER"] = False
    emails = ["ada@example.com", "bob@example.com", "cy@example.com"]
    db.session.add_all(Subscriber(email=email, status="confirmed") for email in emails)
    db.session.commit()
    queue_post_newsletter(make_post(title="One issue, three readers"))
    db.session.commit()
    assert deliver_due().sent == 3

    messages = received(smtp_sink)
    assert sorted(message["To"] for message in messages) == emails
    assert len({message["Message-ID"] for message in messages}) == 3
    for message in messages:
        url = re.search(r"<(https?://[^>]+)>", message["List-Unsubscribe"])[1]
        token = url.rstrip("/").rsplit("/", 1)[1]
        assert tokens.read_unsubscribe_token(token).email == message["To"]
        assert url == link("newsletter.unsubscribe", token=token)
        assert f"unsubscribe%20{token}>" in message["List-Unsubscribe"]
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        assert f"Unsubscribe: {url}" in text
        assert f'<a href="{url}"' in html
        assert set(re.findall(r"/newsletter/unsubscribe/([^/\s\"]+)/", text + html)) == {token}


@pytest.mark.parametrize(
    "address",
    [
        "reader@example.com",
        "first.last+news@mail.example.co.uk",
        "o'brien@example.ie",
        "a..b@example.com",  # not a dot-atom: parsed
        '"quoted local"@example.com',
        "Ada Lovelace <ada@example.com>",
        "Zoë <zoe@example.com>",
        "x@[127.0.0.1]",
    ],
)
def test_an_address_header_is_written_as_the_email_package_writes_it(address):
    assert str(header_value("To", address)) == formataddr(parseaddr(address))
