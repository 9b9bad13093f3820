"""Staff sign-in: one answer for every failure, rate limits, sessions and cookies, safe `next`,
sign-out, password reset links, invites and the first-run owner setup."""

import re
from datetime import UTC, timedelta
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from blog.extensions import db
from blog.models import Invite, User, utcnow
from conftest import HX, PASSWORD, form_token, received_mail

pytestmark = pytest.mark.usefixtures("fresh_requests")

FAILED = "That email address and password do not match a staff account."


@pytest.fixture
def app_config(app_config):
    app_config["LOGIN_MAX_FAILURES_PER_IP"] = 8  # per account stays at 5
    app_config["MAIL_BACKGROUND_SENDER"] = False  # received_mail sends the outbox itself
    return app_config


def sign_in(client, email, password, **fields):
    data = {"csrf_token": form_token(client), "email": email, "password": password, **fields}
    return client.post("/login", data=data)


def signed_in(client) -> bool:
    response = client.get("/admin/")
    return response.status_code == 200 and "Sign out" in response.text


def error_message(response) -> str:
    found = re.search(r'class="flash flash--error" role="alert">([^<]*)<', response.text)
    return found[1] if found else ""


def shift_clock(monkeypatch, **delta):
    """Move the clocks sign-in limits and signed links read forward by delta."""
    moved = utcnow() + timedelta(**delta)
    monkeypatch.setattr("blog.ratelimits.utcnow", lambda: moved)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(moved.replace(tzinfo=UTC).timestamp()))


# --- Signing in -----------------------------------------------------------------------------


def test_the_right_password_signs_in_and_opens_the_admin(client, make_user):
    user = make_user(name="Ada Admin", role="administrator")
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200 and "Ada Admin" in page.text


def test_the_address_is_matched_whatever_its_letter_case(client, make_user):
    make_user(email="mixed@example.com")
    assert sign_in(client, "  MIXED@Example.COM ", PASSWORD).status_code == 303


@pytest.mark.parametrize(
    "email, password",
    [
        ("nobody@example.com", PASSWORD),  # unknown address
        ("writer1@example.com", "wrong password!"),  # wrong password
        ("not an address", PASSWORD),  # not even an address
        ("inactive@example.com", PASSWORD),  # deactivated account, right password
    ],
)
def test_every_failed_sign_in_gets_the_same_answer(client, make_user, email, password):
    make_user(email="writer1@example.com")
    make_user(email="inactive@example.com", is_active=False)
    response = sign_in(client, email, password)
    assert response.status_code == 401
    assert error_message(response) == FAILED
    assert not signed_in(client)


def test_sign_in_without_a_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert not signed_in(client)


def test_failed_sign_ins_lock_the_account_with_429_and_retry_after(client, make_user):
    user = make_user()
    for _ in range(5):
        assert sign_in(client, user.email, "wrong password!").status_code == 401
    response = sign_in(client, user.email, PASSWORD)  # the right password, too late
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins. Wait 15 minutes" in response.text
    assert not signed_in(client)


def test_the_lockout_ends_when_the_window_has_passed(client, make_user, monkeypatch):
    user = make_user()
    for _ in range(5):
        sign_in(client, user.email, "wrong password!")
    assert sign_in(client, user.email, PASSWORD).status_code == 429
    shift_clock(monkeypatch, minutes=16)
    assert sign_in(client, user.email, PASSWORD).status_code == 303


def test_unknown_addresses_lock_out_just_like_known_ones(client):
    for _ in range(5):
        sign_in(client, "ghost@example.com", "whatever you like")
    assert sign_in(client, "ghost@example.com", "whatever you like").status_code == 429


def test_failures_from_one_ip_lock_it_out_whatever_accounts_it_tries(client, make_user):
    user = make_user()
    for n in range(8):
        assert sign_in(client, f"guess{n}@example.com", "wrong password!").status_code == 401
    spoofed = {"X-Forwarded-For": "203.0.113.9"}  # no trusted proxy: the header is ignored
    token = form_token(client)
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
        headers=spoofed,
    )
    assert response.status_code == 429 and "Retry-After" in response.headers
    other_ip = client.post(
        "/login",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert other_ip.status_code == 303


def test_a_successful_sign_in_starts_a_new_session(app, client, make_user):
    user = make_user()
    token_before = form_token(client)
    cookie_before = client.get_cookie("session").value
    response = client.post(
        "/login", data={"csrf_token": token_before, "email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 303
    assert client.get_cookie("session").value != cookie_before
    assert form_token(client, "/admin/") != token_before  # the CSRF token was replaced too
    # Someone holding the pre-sign-in cookie gets nothing.
    planted = app.test_client()
    planted.set_cookie("session", cookie_before)
    assert planted.get("/admin/").status_code == 302


UNSAFE_NEXT = [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "/%2F%2Fevil.example",
    "/%252F%252Fevil.example",
    "/%09/evil.example",
    "/%5Cevil.example",
    "javascript:alert(1)",
    " //evil.example",
    "/\t/evil.example",
]


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_next_never_leads_off_site(client, make_user, target):
    user = make_user()
    response = sign_in(client, user.email, PASSWORD, next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"


def test_next_leads_back_to_a_page_on_this_site(client, make_user):
    user = make_user(role="administrator")
    assert client.get("/admin/settings/").headers["Location"] == "/login?next=/admin/settings/"
    response = sign_in(client, user.email, PASSWORD, next="/admin/settings/")
    assert response.headers["Location"] == "/admin/settings/"


# --- Sessions and cookies -------------------------------------------------------------------


def test_sign_out_is_a_post_only(client, login, make_user):
    login(client, make_user())
    assert client.get("/logout").status_code == 405
    assert signed_in(client)


def test_sign_out_ends_the_session_and_forgets_remember_me(app, client, login, make_user):
    user = make_user()
    response = login(client, user, remember="on")
    remember = client.get_cookie("remember_token")
    assert remember is not None
    token = form_token(client, "/admin/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get_cookie("remember_token") is None
    assert not signed_in(client)
    # The old remember-me cookie alone does not sign anyone back in either... it was cleared
    # in the browser; the session it came with is gone.
    assert client.get("/admin/").status_code == 302


def test_remember_me_signs_back_in_after_the_browser_session_ends(client, login, make_user):
    login(client, make_user(), remember="on")
    client.delete_cookie("session")  # the browser was closed
    assert signed_in(client)
    login_again = client.get("/login")
    assert login_again.status_code == 302  # already signed in: on to the admin


def test_cookies_are_httponly_lax_and_bounded(client, make_user):
    user = make_user()
    response = sign_in(client, user.email, PASSWORD, remember="on")
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name]
        assert "Secure" not in cookies[name]  # plain http in tests
    assert "Expires" not in cookies["session"]  # ends with the browser session
    expires = re.search(r"Expires=([^;]+)", cookies["remember_token"])[1]
    from email.utils import parsedate_to_datetime

    assert parsedate_to_datetime(expires).replace(tzinfo=None) < utcnow() + timedelta(days=31)


def test_cookies_are_secure_when_the_site_is_served_over_https(
    database, tmp_path, smtp_sink, monkeypatch, make_user, app
):
    from blog import create_app
    from conftest import make_config

    config = make_config(database, tmp_path, smtp_sink, app.config["SQLALCHEMY_DATABASE_URI"])
    config["SITE_URL"] = "https://blog.example.com"
    secure_app = create_app(config)
    user = make_user()
    email = user.email
    db.session.rollback()  # the other app writes through its own connection
    client = secure_app.test_client()
    page = client.get("/login", base_url="https://localhost")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": email, "password": PASSWORD, "remember": "on"},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )
    assert response.status_code == 303
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c for c in cookies)


def test_admin_and_sign_in_pages_are_never_stored(client, login, make_user):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    login(client, make_user())
    for path in ("/admin/", "/admin/posts/new", "/admin/profile/"):
        assert client.get(path).headers["Cache-Control"] == "no-store"
    # Public pages seen by staff carry a CSRF token: private to this browser.
    assert "no-store" in client.get("/").headers["Cache-Control"]


def test_public_pages_carry_no_session_token_for_readers(client, make_post):
    make_post("Open to all")
    response = client.get("/")
    assert response.status_code == 200 and "Open to all" in response.text
    assert 'name="csrf-token"' not in response.text
    assert "Set-Cookie" not in response.headers


def test_a_deactivated_user_is_signed_out_at_the_next_request(client, login, make_user):
    make_user(role="owner")
    user = make_user()
    login(client, user)
    assert signed_in(client)
    user.is_active = False
    db.session.commit()
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    htmx = client.get("/admin/", headers=HX)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")


def test_changing_the_password_ends_other_sessions(app, client, login, make_user):
    user = make_user()
    other_device = app.test_client()
    login(client, user)
    login(other_device, user)
    token = form_token(client, "/admin/profile/")
    new_password = "a brand new password"
    response = client.post(
        "/admin/profile/password",
        data={"csrf_token": token, "current": PASSWORD, "password": new_password,
              "confirm": new_password},
    )  # fmt: skip
    assert response.status_code == 303
    assert signed_in(client)
    assert not signed_in(other_device)
    assert sign_in(app.test_client(), user.email, new_password).status_code == 303


def test_anonymous_writes_get_401_not_a_redirect(client):
    token = form_token(client)
    response = client.post("/admin/preview", data={"csrf_token": token, "markdown": "x"})
    assert response.status_code == 401 and "Location" not in response.headers


# --- Password reset -------------------------------------------------------------------------


def request_reset(client, email):
    return client.post(
        "/login/forgot", data={"csrf_token": form_token(client, "/login/forgot"), "email": email}
    )


def reset_link(app, smtp_sink) -> str:
    message = received_mail(app, smtp_sink)[-1]
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://localhost(/login/reset/\S+)", text)[1]


def test_a_reset_link_is_mailed_and_works_once(app, client, make_user, smtp_sink):
    user = make_user(email="forgetful@example.com")
    response = request_reset(client, "forgetful@example.com")
    assert response.status_code == 200 and "a link to choose a new password" in response.text
    link = reset_link(app, smtp_sink)
    assert received_mail(app, smtp_sink)[-1]["To"] == "forgetful@example.com"
    assert client.get(link).status_code == 200
    token = form_token(client, link)
    new_password = "my new secret words"
    response = client.post(
        link, data={"csrf_token": token, "password": new_password, "confirm": new_password}
    )
    assert response.status_code == 303 and signed_in(client)
    assert sign_in(app.test_client(), user.email, PASSWORD).status_code == 401
    again = app.test_client().get(link)
    assert again.status_code == 400 and "does not work any more" in again.text


def test_reset_requests_get_the_same_answer_for_unknown_addresses(app, make_user, smtp_sink):
    make_user(email="known@example.com")
    known = request_reset(app.test_client(), "known@example.com")
    unknown = request_reset(app.test_client(), "unknown@example.com")

    def visible(response):
        return re.sub(r'value="[^"]*"', "", response.text)

    assert known.status_code == unknown.status_code == 200
    assert visible(known) == visible(unknown)
    messages = received_mail(app, smtp_sink, count=2, timeout=1)
    assert [m["To"] for m in messages] == ["known@example.com"]


def test_a_reset_link_expires_after_an_hour(app, client, make_user, smtp_sink, monkeypatch):
    make_user(email="slow@example.com")
    request_reset(client, "slow@example.com")
    link = reset_link(app, smtp_sink)
    shift_clock(monkeypatch, minutes=61)
    assert client.get(link).status_code == 400


def test_a_tampered_reset_link_does_nothing(app, client, make_user, smtp_sink):
    make_user(email="target@example.com")
    request_reset(client, "target@example.com")
    link = reset_link(app, smtp_sink)
    assert client.get(link[:-3] + "abc").status_code == 400


def test_reset_requests_are_rate_limited(client, make_user):
    make_user(email="target@example.com")
    for _ in range(3):
        assert request_reset(client, "target@example.com").status_code == 200
    response = request_reset(client, "target@example.com")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


# --- Invites --------------------------------------------------------------------------------


def invite(client, email, role):
    token = form_token(client, "/admin/staff/")
    return client.post(
        "/admin/staff/invite", data={"csrf_token": token, "email": email, "role": role}
    )


def test_an_invite_is_mailed_and_shown_and_signs_the_new_author_in(
    app, client, login, make_user, smtp_sink
):
    login(client, make_user(role="administrator"))
    response = invite(client, "newbie@example.com", "author")
    assert response.status_code == 201
    shown = re.search(r'id="invite-url" readonly value="http://localhost(/admin/invite/[^"]+)"',
                      response.text)[1]  # fmt: skip
    text = received_mail(app, smtp_sink)[-1].get_body(preferencelist=("plain",)).get_content()
    assert f"http://localhost{shown}" in text
    newcomer = app.test_client()
    page = newcomer.get(shown)
    assert page.status_code == 200 and "newbie@example.com" in page.text
    token = form_token(newcomer, shown)
    response = newcomer.post(
        shown,
        data={"csrf_token": token, "name": "New Writer", "password": "long enough pw",
              "confirm": "long enough pw"},
    )  # fmt: skip
    assert response.status_code == 303 and signed_in(newcomer)
    user = db.session.scalar(select(User).where(User.email == "newbie@example.com"))
    assert user.role == "author" and user.name == "New Writer"
    assert app.test_client().get(shown).status_code == 400  # used up


def test_invites_work_without_a_mail_server(app, client, login, make_user):
    app.config["MAIL_SERVER"] = None
    login(client, make_user(role="editor"))
    response = invite(client, "offline@example.com", "contributor")
    assert response.status_code == 201 and "/admin/invite/" in response.text


def test_an_invite_expires(app, client, login, make_user, monkeypatch):
    login(client, make_user(role="administrator"))
    response = invite(client, "late@example.com", "author")
    link = re.search(r'value="http://localhost(/admin/invite/[^"]+)"', response.text)[1]
    pending = db.session.scalar(select(Invite))
    pending.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert app.test_client().get(link).status_code == 400


def test_staff_cannot_be_invited_twice(client, login, make_user):
    admin = make_user(role="administrator")
    login(client, admin)
    response = invite(client, admin.email, "author")
    assert response.status_code == 422 and "already a member of staff" in response.text


# --- First run ------------------------------------------------------------------------------


def setup_owner(client, **fields):
    data = {
        "csrf_token": form_token(client, "/admin/"),
        "site_title": "Fresh Blog",
        "name": "Olive Owner",
        "email": "owner@example.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
        **fields,
    }
    return client.post("/admin/setup", data=data)


def test_first_run_offers_owner_setup_until_an_owner_exists(app, client):
    page = client.get("/admin/")
    assert page.status_code == 200 and "Set up your blog" in page.text
    response = setup_owner(client)
    assert response.status_code == 303 and signed_in(client)
    owner = db.session.scalar(select(User).where(User.email == "owner@example.com"))
    assert owner.role == "owner"
    assert "Fresh Blog" in client.get("/").text  # the site title was stored as a setting
    stranger = app.test_client()
    assert stranger.get("/admin/").status_code == 302  # no setup form any more
    token = form_token(stranger, "/login")
    again = stranger.post(
        "/admin/setup",
        data={"csrf_token": token, "name": "Mallory", "email": "m@example.com",
              "password": PASSWORD, "confirm": PASSWORD},
    )  # fmt: skip
    assert again.status_code == 404
    assert db.session.scalar(select(User).where(User.email == "m@example.com")) is None


def test_setup_checks_its_input(client):
    response = setup_owner(client, password="short", confirm="different")
    assert response.status_code == 422
    assert "at least 10 characters" in response.text
    assert db.session.scalar(select(User)) is None


def test_the_login_page_shows_where_a_signed_out_visitor_was_going(client):
    response = client.get("/admin/staff/")
    assert response.status_code == 302
    parts = urlsplit(response.headers["Location"])
    assert parts.path == "/login" and parts.query == "next=/admin/staff/"
