"""Sessions and sign-in limits (issue 10, items 8, 9 and 10): sign-out, a password change and
deactivation revoke every session and remember-me cookie server-side; failed sign-ins lock an
account only from the client address they came from, as Ghost's limits do; a configured
number of trusted proxies decides which X-Forwarded-For entry is the client."""

import pytest

from blog import create_app
from blog.extensions import db
from conftest import PASSWORD, form_token, make_config

pytestmark = pytest.mark.usefixtures("fresh_requests")


def signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def copy_cookies(source, target) -> None:
    """Give target every cookie source holds (an attacker who copied them)."""
    for name in ("session", "remember_token"):
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def test_a_copied_session_and_remember_cookie_stop_working_after_sign_out(
    app, client, login, make_user
):
    make_user(role="owner")
    user = make_user()
    login(client, user, remember="on")
    thief, thief_remember_only = app.test_client(), app.test_client()
    copy_cookies(client, thief)
    thief_remember_only.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert signed_in(thief) and signed_in(thief_remember_only)

    token = form_token(client, "/admin/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert not signed_in(thief)
    fresh_thief = app.test_client()
    fresh_thief.set_cookie("remember_token", thief_remember_only.get_cookie("remember_token").value)
    assert not signed_in(fresh_thief)
    # Signing in again works, and gives a session that works.
    login(client, user)
    assert signed_in(client)


def test_a_password_change_revokes_remember_cookies_but_keeps_this_session(
    app, client, login, make_user
):
    user = make_user()
    login(client, user, remember="on")
    other = app.test_client()
    other.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert signed_in(other)
    token = form_token(client, "/admin/profile/")
    new = "a brand new password"
    response = client.post(
        "/admin/profile/password",
        data={"csrf_token": token, "current": PASSWORD, "password": new, "confirm": new},
    )
    assert response.status_code == 303
    assert signed_in(client)
    assert not signed_in(other)
    later = app.test_client()  # the browser restarted: only this browser's new cookie
    later.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert signed_in(later)


def test_deactivation_revokes_sessions_for_good(app, client, login, make_user):
    make_user(role="owner")
    user = make_user()
    login(client, user, remember="on")
    copy = app.test_client()
    copy_cookies(client, copy)
    user.is_active = False
    db.session.commit()
    assert not signed_in(copy)
    user.is_active = True  # reactivated: the old cookies still do not sign in
    db.session.commit()
    assert not signed_in(client) and not signed_in(copy)


def sign_in(client, email, password, ip, headers=None):
    token = form_token(client, "/login")
    return client.post(
        "/login",
        data={"csrf_token": token, "email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
        headers=headers or {},
    )


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out_elsewhere(
    app, login, make_user
):
    owner = make_user(role="owner")
    attacker = app.test_client()
    for _ in range(6):
        assert sign_in(attacker, owner.email, "wrong password!", "203.0.113.66").status_code in (
            401,
            429,
        )
    assert sign_in(attacker, owner.email, PASSWORD, "203.0.113.66").status_code == 429
    owner_client = app.test_client()
    assert sign_in(owner_client, owner.email, PASSWORD, "198.51.100.20").status_code == 303


def test_an_address_that_fails_too_often_is_locked_for_every_account(app, make_user):
    user = make_user()
    client = app.test_client()
    for n in range(20):
        sign_in(client, f"guess{n}@example.com", "wrong password!", "203.0.113.66")
    assert sign_in(client, user.email, PASSWORD, "203.0.113.66").status_code == 429


@pytest.fixture
def proxied_app(database, tmp_path, smtp_sink, app, monkeypatch):
    """A second app on the same database, behind one trusted proxy."""
    config = make_config(database, tmp_path, smtp_sink, app.config["SQLALCHEMY_DATABASE_URI"])
    config["TRUSTED_PROXIES"] = 1
    db.session.commit()
    return create_app(config)


PROXY = "127.0.0.1"  # what every request comes from behind the README's reverse proxy


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(proxied_app, make_user):
    user = make_user()
    email = user.email
    db.session.rollback()
    client = proxied_app.test_client()
    for n in range(20):
        sign_in(client, f"guess{n}@example.com", "x" * 12, PROXY,
                {"X-Forwarded-For": "203.0.113.66"})  # fmt: skip
    locked = sign_in(client, email, PASSWORD, PROXY, {"X-Forwarded-For": "203.0.113.66"})
    assert locked.status_code == 429
    # The attacker prepending an address of their own changes nothing: the proxy appends.
    spoofed = sign_in(client, email, PASSWORD, PROXY,
                      {"X-Forwarded-For": "198.51.100.20, 203.0.113.66"})  # fmt: skip
    assert spoofed.status_code == 429
    other = sign_in(proxied_app.test_client(), email, PASSWORD, PROXY,
                    {"X-Forwarded-For": "198.51.100.20"})  # fmt: skip
    assert other.status_code == 303


def test_without_trusted_proxies_forwarded_headers_are_ignored(app, make_user):
    user = make_user()
    client = app.test_client()
    for n in range(20):
        sign_in(client, f"guess{n}@example.com", "x" * 12, "203.0.113.66",
                {"X-Forwarded-For": f"198.51.100.{n}"})  # fmt: skip
    response = sign_in(client, user.email, PASSWORD, "203.0.113.66",
                       {"X-Forwarded-For": "192.0.2.1"})  # fmt: skip
    assert response.status_code == 429
