"""Staff sessions: starting one, and ending it when the password changes.

The session (flask.session, Flask-Login's cookie) is read and written here and in the views
only; blog.authors.services stays request-free. Deactivation and "sign out everywhere" end
sessions through the user's session_version instead (blog.accounts.load_user).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user, login_user, logout_user, user_loaded_from_cookie

from blog.accounts import password_fingerprint
from blog.extensions import login_manager
from blog.htmx import add_vary, is_htmx
from blog.models import User

PASSWORD_KEY = "_pw"  # in the session: password_fingerprint() of the password it began with


def remember_password(user: User) -> None:
    """Tie the current session to the user's current password and session version.

    After a password change this keeps the session that made it: its user id (and the
    remember-me cookie, rewritten when the browser has one) takes the new session version.
    """
    session[PASSWORD_KEY] = password_fingerprint(user)
    if session.get("_user_id") not in (None, user.get_id()):
        session["_user_id"] = user.get_id()
        if request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")):
            session["_remember"] = "set"


def session_is_current(user: User) -> bool:
    """Tell whether this session was started with the user's current password."""
    return session.get(PASSWORD_KEY) == password_fingerprint(user)


def start_session(user: User, remember: bool = False) -> None:
    """Replace whatever session there was with a new one for user (no session fixation)."""
    session.clear()
    login_user(user, remember=remember)
    remember_password(user)


def end_session() -> None:
    """Forget the session and the remember-me cookie."""
    session.clear()
    logout_user()


def end_stale_session() -> None:
    """Sign out a session started before the password changed (deactivation: see load_user).

    A request with neither the session cookie nor the remember-me cookie (every reader's) is
    anonymous: it is noted so at once, as Flask-Login's own look-up would conclude after
    checking both and fingerprinting the browser for its session protection (a SHA-512 of
    address and user agent): a twentieth of an uncached page. Its empty session counts as
    read, as that look-up left it: the page still says Vary: Cookie.
    """
    cookies = request.cookies
    config = current_app.config
    if not cookies or (
        config["SESSION_COOKIE_NAME"] not in cookies
        and config.get("REMEMBER_COOKIE_NAME", "remember_token") not in cookies
    ):
        session.accessed = True
        login_manager._update_request_context_with_user()  # Flask-Login's own: anonymous
        return
    if current_user.is_authenticated and not session_is_current(current_user):
        end_session()


def _restored_from_cookie(sender, user: User) -> None:
    """A remember-me cookie starts a new session: tie it to the current password."""
    remember_password(user)


def unauthorized() -> Response | tuple[str, int]:
    """Send anonymous visitors to sign in: a redirect, HX-Redirect for htmx, 401 for writes."""
    next_path = request.full_path.rstrip("?") if request.method == "GET" else None
    login_url = url_for("authors.login", next=next_path)
    if is_htmx():
        return Response(status=401, headers={"HX-Redirect": login_url})
    if request.method != "GET":
        return render_template("authors/signed_out.html", login_url=login_url), 401
    return redirect(login_url)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, but a request without the cookie (every reader's)
    starts an empty session without building the signing serializer (a key derivation and
    a few objects per request, for nothing to verify). Anything else is Flask's own."""

    def open_session(self, app: Flask, request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        """Flask's, but an empty session that stays empty returns at once (Vary: Cookie when
        it was read), before Flask looks up the cookie's seven settings for nothing."""
        if not session and not session.modified:
            if session.accessed:
                add_vary(response, "Cookie")
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Check every request's session against the password; wire Flask-Login's hooks."""
    app.session_interface = SessionCookies()
    app.before_request(end_stale_session)
    login_manager.unauthorized_handler(unauthorized)
    user_loaded_from_cookie.connect(_restored_from_cookie, app, weak=False)
