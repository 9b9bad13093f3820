"""Requests a stranger can send (issue 10, items 7, 11, 13 and 15): redirects never leave the
site, control characters in a path are a 404, NUL in a query is a 400 on both databases,
cross-site writes are refused on every staff and newsletter route, HSTS on https sites."""

import re
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import Subscriber
from blog.newsletter import tokens
from blog.security import on_site
from conftest import form_token

pytestmark = pytest.mark.usefixtures("fresh_requests")

OFF_SITE_PATHS = [
    "/%09/evil.example/x",
    "/%0a/evil.example/x",
    "/%0d/evil.example/x",
    "/%0D%0ALocation:%20https://evil.example/",
    "/%00/x",
    "/%7f/x",
    "/%c2%85/x",  # NEL, a C1 control
    "//evil.example/x",
    "//evil.example",
    "/%5C/evil.example/x",
    "/%5Cevil.example/X",
    "///evil.example/x",
]


@pytest.mark.parametrize("path", OFF_SITE_PATHS)
def test_no_request_path_redirects_off_the_site(app, client, path):
    # As a server hands it over (a test client would read "//host" as a host name).
    response = client.get("/", environ_overrides={"PATH_INFO": unquote(path, "latin-1")})
    assert response.status_code in (200, 301, 308, 404), response.status_code
    location = response.headers.get("Location")
    if location is not None:
        with app.test_request_context("/"):
            assert on_site(location), location
        target = urlsplit(location)
        assert target.netloc in ("", "localhost") and not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("char", ["%09", "%0a", "%0d", "%00", "%1b", "%7f"])
def test_a_control_character_in_a_path_is_a_404(client, char):
    response = client.get(f"/{char}/evil.example/x")
    assert response.status_code == 404
    assert "Location" not in response.headers
    assert "<html" in response.get_data(as_text=True)  # the site's own 404 page


def test_canonical_redirects_still_work_and_stay_on_the_site(client, make_post):
    make_post("Hello", slug="hello")
    response = client.get("/Hello?x=1", follow_redirects=True)
    assert response.status_code == 200 and "Hello" in response.text
    assert [urlsplit(r.headers["Location"]).path for r in response.history][-1] == "/hello/"


@pytest.mark.parametrize(
    "location, ok",
    [
        ("/admin/", True),
        ("http://localhost/x", True),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("/\t/evil.example", False),
        ("https://evil.example/", False),
        ("javascript:alert(1)", False),
        ("https:evil.example", False),
    ],
)
def test_on_site_tells_local_redirects_from_others(app, location, ok):
    with app.test_request_context("/"):
        assert on_site(location) is ok


@pytest.mark.parametrize(
    "path", ["/admin/?q=%00", "/?q=%00", "/newsletter/?x=a%00b", "/rss/?%00=1", "/admin/?q=a%00"]
)
def test_nul_in_a_query_is_a_400(client, login, make_user, path):
    login(client, make_user(role="owner"))
    response = client.get(path)
    assert response.status_code == 400
    assert "not allowed" in response.get_data(as_text=True)


def test_an_admin_search_with_nul_stores_nothing_and_the_next_one_works(client, login, make_user):
    login(client, make_user(role="owner"))
    assert client.get("/admin/?q=%00").status_code == 400
    assert client.get("/admin/?q=ok").status_code == 200


CROSS_SITE = [
    {"Origin": "https://evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
]


@pytest.fixture
def subscriber(app):
    row = Subscriber(email="reader@example.com", status="pending")
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_removing_a_subscriber_from_another_site_is_refused(
    client, login, make_user, subscriber, headers
):
    subscriber_id = subscriber.id
    login(client, make_user(role="owner"))
    token = form_token(client, "/admin/subscribers")
    response = client.post(
        f"/admin/subscribers/{subscriber_id}/delete", data={"csrf_token": token}, headers=headers
    )
    assert response.status_code == 403
    assert db.session.scalar(select(Subscriber.id).where(Subscriber.id == subscriber_id))
    same_site = client.post(
        f"/admin/subscribers/{subscriber_id}/delete",
        data={"csrf_token": token},
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    assert same_site.status_code == 303
    db.session.rollback()
    assert db.session.scalar(select(Subscriber.id).where(Subscriber.id == subscriber_id)) is None


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_confirming_from_another_site_is_refused(client, subscriber, headers):
    token = tokens.confirm_token(subscriber)
    path = f"/newsletter/confirm/{token}/"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)[1]
    assert client.post(path, data={"csrf_token": csrf}, headers=headers).status_code == 403
    db.session.rollback()
    assert db.session.get(Subscriber, subscriber.id).status == "pending"
    assert client.post(path, data={"csrf_token": csrf}).status_code == 303
    db.session.rollback()
    assert db.session.get(Subscriber, subscriber.id).status == "confirmed"


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_resubscribing_from_another_site_is_refused(client, subscriber, headers):
    subscriber.status = "unsubscribed"
    db.session.commit()
    token = tokens.unsubscribe_token(subscriber.id, subscriber.email)
    page = client.get(f"/newsletter/unsubscribe/{token}/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    path = f"/newsletter/unsubscribe/{token}/resubscribe"
    assert client.post(path, data={"csrf_token": csrf}, headers=headers).status_code == 403
    db.session.rollback()
    assert db.session.get(Subscriber, subscriber.id).status == "unsubscribed"


def test_one_click_unsubscribe_still_works_from_a_mail_provider(client, subscriber):
    subscriber.status = "confirmed"
    db.session.commit()
    token = tokens.unsubscribe_token(subscriber.id, subscriber.email)
    response = client.post(
        f"/newsletter/unsubscribe/{token}/",
        data={"List-Unsubscribe": "One-Click"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 200
    db.session.rollback()
    assert db.session.get(Subscriber, subscriber.id).status == "unsubscribed"


def test_https_sites_send_hsts(app, client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    app.config["SITE_URL"] = "https://localhost"
    response = client.get("/")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert client.get("/no-such-page/").headers["Strict-Transport-Security"]


# --- Size limits (item 12) ------------------------------------------------------------------


@pytest.fixture
def author(client, login, make_user):
    user = make_user(role="contributor")  # any role can send it
    login(client, user)
    return user


def test_an_oversized_url_encoded_post_is_refused_before_any_work(app, client, author, monkeypatch):
    from blog.admin import editor
    from blog.models import Post

    rendered = []
    monkeypatch.setattr(editor, "render_content", lambda md: rendered.append(md))
    token = form_token(client, "/admin/posts/new")
    body = "x" * (10 * 1024 * 1024)
    response = client.post(
        "/admin/posts/new", data={"csrf_token": token, "title": "Big", "markdown": body}
    )
    assert response.status_code == 413
    assert len(response.get_data()) < 100_000  # the refusal does not echo the text
    assert "more text than this site accepts" in response.get_data(as_text=True)
    assert rendered == []
    db.session.rollback()
    assert db.session.scalar(select(Post.id)) is None


def test_markdown_over_the_limit_gets_413_without_a_preview(client, author, monkeypatch):
    from blog.admin import editor_page

    previews = []
    monkeypatch.setattr(editor_page, "render_markdown", lambda md: previews.append(md) or "")
    token = form_token(client, "/admin/posts/new")
    body = "# Big\n\n" + "word " * (2 * 1024 * 1024 // 5)
    response = client.post(
        "/admin/posts/new", data={"csrf_token": token, "title": "Big", "markdown": body}
    )
    assert response.status_code == 413
    assert "at most 500,000 characters" in response.get_data(as_text=True)
    assert previews == []  # nothing rendered for a text that cannot be saved


@pytest.mark.parametrize("multipart", [False, True])
def test_five_thousand_form_fields_are_refused(client, multipart):
    data = {f"f{n}": "1" for n in range(5000)}
    data["email"] = "reader@example.com"
    if multipart:
        import io

        data["file"] = (io.BytesIO(b"x"), "x.txt")
    response = client.post("/newsletter/", data=data)
    assert response.status_code == 413
    db.session.rollback()
    assert db.session.scalar(select(Subscriber.id)) is None


def test_a_body_over_max_content_length_is_refused(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = client.post("/newsletter/", data={"email": "a@example.com", "x": "y" * 100_000})
    assert response.status_code == 413
    assert client.post("/newsletter/", data={"email": "a@example.com"}).status_code in (200, 303)
