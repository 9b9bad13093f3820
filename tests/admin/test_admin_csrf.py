"""CSRF on every state-changing route, found from the app's URL map (not a hand-kept list):
no token, another session's token, an htmx request without the header, a foreign Origin.
GET never changes anything: POST-only URLs answer GET with 405."""

import re

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import Base, Post, User
from conftest import HX, form_token

pytestmark = pytest.mark.usefixtures("fresh_requests")

# The only POST routes without a CSRF token, both documented in SECURITY.md #13: the public
# subscribe form (public pages carry no per-session token) and RFC 8058 one-click unsubscribe.
EXEMPT = {"/newsletter/", "/newsletter/unsubscribe/<token>/"}

# What a forged request would try to change, if it got through.
FORGED = {
    "title": "Forged",
    "markdown": "forged",
    "action": "publish",
    "role": "administrator",
    "email": "forged@example.com",
    "name": "Forged",
    "password": "forged password!",
    "confirm": "forged password!",
    "current": "correct horse battery",
    "accent_color": "#000000",
    "language": "en",
}


def post_rules(app):
    """Every URL rule that accepts POST (or another writing method), with sample values."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            path = re.sub(
                r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m[1] == "int" else "sometoken", rule.rule
            )
            yield rule, path


def fingerprint():
    """Everything a forged request could change, to compare before and after."""
    db.session.expire_all()
    counts = {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in Base.metadata.sorted_tables
        if table.name != "login_attempts"
    }
    posts = db.session.execute(select(Post.title, Post.status, Post.slug)).all()
    users = db.session.execute(
        select(User.role, User.is_active, User.password_hash, User.name)
    ).all()
    return counts, sorted(posts), sorted(users)


@pytest.fixture
def signed_in(client, login, make_user, make_post):
    owner = make_user(role="owner")
    make_user(role="author")
    make_post("A post", authors=[owner], status="draft", published_at=None)
    login(client, owner)
    return client


def rejected_for_csrf(response) -> bool:
    return response.status_code == 400 and "CSRF" in response.text


def test_every_post_route_without_a_token_is_refused_except_the_documented_two(app, signed_in):
    rules = list(post_rules(app))
    assert len(rules) > 15  # the map really was walked
    before = fingerprint()
    unprotected = set()
    for rule, path in rules:
        if rule.rule not in EXEMPT and not rejected_for_csrf(signed_in.post(path, data=FORGED)):
            unprotected.add(rule.rule)
    assert fingerprint() == before  # nothing a forged request asked for happened
    # The exemptions are real: those two take a POST without any token.
    for rule, path in rules:
        if rule.rule in EXEMPT and not rejected_for_csrf(signed_in.post(path, data=FORGED)):
            unprotected.add(rule.rule)
    assert unprotected == EXEMPT


def test_a_token_from_another_session_is_refused(app, signed_in, make_user, login):
    stranger = app.test_client()
    login(stranger, make_user(role="administrator"))
    foreign_token = form_token(stranger, "/admin/")
    before = fingerprint()
    for rule, path in post_rules(app):
        if rule.rule in EXEMPT:
            continue
        response = signed_in.post(path, data={**FORGED, "csrf_token": foreign_token})
        assert rejected_for_csrf(response), rule.rule
    assert fingerprint() == before


def test_htmx_requests_without_the_header_are_refused(app, signed_in):
    before = fingerprint()
    for path in ("/admin/posts/autosave", "/admin/preview", "/admin/posts/1/"):
        response = signed_in.post(path, data=FORGED, headers=HX)
        assert response.status_code == 400, path
    assert fingerprint() == before
    token = form_token(signed_in, "/admin/")
    ok = signed_in.post(
        "/admin/preview", data={"markdown": "*hi*"}, headers={**HX, "X-CSRFToken": token}
    )
    assert ok.status_code == 200 and "<em>hi</em>" in ok.text


def test_a_cross_site_post_with_a_valid_session_and_token_is_refused(app, signed_in):
    token = form_token(signed_in, "/admin/")
    before = fingerprint()
    for rule, path in post_rules(app):
        if rule.rule in EXEMPT or not rule.endpoint.startswith(("admin.", "authors.")):
            continue
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            response = signed_in.post(path, data={**FORGED, "csrf_token": token}, headers=headers)
            assert response.status_code == 403, (rule.rule, headers)
    assert fingerprint() == before
    same_site = signed_in.post(
        "/admin/preview",
        data={"csrf_token": token, "markdown": "x"},
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    assert same_site.status_code == 200


def test_urls_that_only_write_answer_get_with_405(app, signed_in):
    readable = {r.rule for r in app.url_map.iter_rules() if "GET" in r.methods}
    checked = 0
    for rule, path in post_rules(app):
        if rule.rule in readable:
            continue
        assert signed_in.get(path).status_code == 405, rule.rule
        checked += 1
    assert checked >= 8
