"""Author pages, and staff sign-in: login, logout, password reset and accepting invites."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.security import generate_password_hash

from blog import ratelimits, security
from blog.accounts import AccountError, find_staff, hash_matches, revoke_sessions
from blog.authors import services
from blog.authors.forms import parse_account, parse_login
from blog.authors.sessions import end_session, start_session
from blog.extensions import db
from blog.forms import Form, check_new_password
from blog.posts import reading as posts
from blog.posts.views import listing
from blog.transactions import expect_writes, release_write_lock

bp = Blueprint("authors", __name__)
security.guard_writes(bp)

SIGN_IN_FAILED = "That email address and password do not match a staff account."


@bp.get("/author/<slug>/", defaults={"number": 1})
@bp.get("/author/<slug>/page/<int:number>/")
def author(slug: str, number: int):
    """Show an author's profile and a page of their published posts."""
    found = posts.get_author(slug) or abort(404)
    return listing("authors/author.html", "authors.author", number, author=found)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign a staff member in; failures are rate-limited per IP and per account."""
    next_url = services.safe_next(request.values.get("next"), url_for("admin.index"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url)
        return render_template("authors/login.html", form=Form(MultiDict()), next_url=next_url)
    form = parse_login(request.form)
    ip = ratelimits.client_address()  # the client's, behind TRUSTED_PROXIES proxies
    account = services.account_key(form.values["email"], ip)
    wait = _sign_in_wait(ip, account)
    if wait:
        return _locked_out(form, next_url, wait)
    user = find_staff(form.values["email"]) if form.ok else None
    stored, active = (user.password_hash, user.is_active) if user else (None, False)
    release_write_lock()  # hashing takes ~0.1 s: never while holding SQLite's write lock
    if not hash_matches(stored, form.values["password"]) or not active:
        ratelimits.record("login-ip", ip)
        ratelimits.record("login-account", account)
        db.session.commit()
        form.errors["form"] = SIGN_IN_FAILED
        return render_template("authors/login.html", form=form, next_url=next_url), 401
    ratelimits.forget("login-account", account)
    start_session(user, remember=form.values["remember"])
    db.session.commit()
    return redirect(next_url, 303)


def _locked_out(form: Form, next_url: str, wait: int):
    """Answer 429 with the sign-in form, saying how many minutes to wait (Retry-After: wait)."""
    minutes = -(-wait // 60)
    form.errors["form"] = (
        f"Too many failed sign-ins. Wait {minutes} minute{'s' if minutes > 1 else ''} "
        "and try again, or reset your password."
    )
    page = render_template("authors/login.html", form=form, next_url=next_url)
    return page, 429, {"Retry-After": str(wait)}


def _sign_in_wait(ip: str, account: str) -> int:
    """Return how many seconds sign-in stays locked for this IP, or for this account from
    this IP (0: not locked). Keyed as Ghost's brute-force limits are (userLogin: address and
    IP; globalBlock: IP), so a stranger's failures cannot lock the owner out elsewhere."""
    cfg = current_app.config
    window = cfg["LOGIN_FAILURE_WINDOW"]
    by_ip = ratelimits.Rule(cfg["LOGIN_MAX_FAILURES_PER_IP"], window)
    by_account = ratelimits.Rule(cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"], window)
    return max(
        ratelimits.check("login-ip", ip, (by_ip,)),
        ratelimits.check("login-account", account, (by_account,)),
    )


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """Sign out (POST only): end the session and forget the remember-me cookie."""
    if request.method != "POST":  # routed, so GET is a 405 rather than a redirect to /logout/
        abort(405, valid_methods=["POST"])
    if current_user.is_authenticated:  # a copied session or remember-me cookie dies too
        revoke_sessions(current_user)
        db.session.commit()
    end_session()
    return redirect(url_for("posts.index"), 303)


@bp.route("/login/forgot", methods=["GET", "POST"])
def forgot():
    """Mail a password reset link; the answer is the same whether the address is known."""
    if request.method == "GET":
        return render_template("authors/forgot.html", sent=False, error=None)
    email = request.form.get("email", "").strip()[:254]
    wait = _reset_wait(ratelimits.client_address(), services.account_key(email))
    if wait:
        error = f"Too many reset requests. Try again in {-(-wait // 60)} minutes."
        page = render_template("authors/forgot.html", sent=False, error=error)
        return page, 429, {"Retry-After": str(wait)}
    db.session.commit()
    expect_writes()  # the reset mail is queued in a second transaction
    user = find_staff(email)
    if user is not None and user.is_active:
        try:
            services.send_reset_link(user)
            db.session.commit()
        except Exception:  # the answer must not reveal that this address exists
            db.session.rollback()
            current_app.logger.exception("Could not mail a password reset link")
    return render_template("authors/forgot.html", sent=True, error=None)


def _reset_wait(ip: str, account: str) -> int:
    """Count a reset request per IP and per address (PASSWORD_RESET_LIMIT_PER_* an hour);
    return the seconds to wait (0: counted, go on)."""
    cfg = current_app.config
    by_ip = ratelimits.Rule(cfg["PASSWORD_RESET_LIMIT_PER_IP"], 3600)
    by_account = ratelimits.Rule(cfg["PASSWORD_RESET_LIMIT_PER_ADDRESS"], 3600)
    wait = max(
        ratelimits.check("reset-ip", ip, (by_ip,)),
        ratelimits.check("reset-account", account, (by_account,)),
    )
    if not wait:
        ratelimits.record("reset-ip", ip)
        ratelimits.record("reset-account", account)
    return wait


@bp.route("/login/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    """Choose a new password from a mailed link (valid for an hour, once)."""
    user = services.user_for_reset_token(token)
    if user is None:
        return render_template("authors/link_invalid.html", what="password reset"), 400
    form = Form(request.form if request.method == "POST" else MultiDict())
    if request.method == "POST":
        check_new_password(form)
        if form.ok:
            user.password_hash = generate_password_hash(form.values["password"])
            services.clear_account_attempts(user.email)
            start_session(user)
            db.session.commit()
            return redirect(url_for("admin.index"), 303)
    status = 422 if form.errors else 200
    return render_template("authors/reset.html", form=form, user=user), status


@bp.route("/admin/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    """Join the staff from an invite link: choose a name and password."""
    invite = services.find_invite(token)
    if invite is None:
        return render_template("authors/link_invalid.html", what="invitation"), 400
    form = Form(request.form if request.method == "POST" else MultiDict())
    if request.method == "POST":
        form = parse_account(request.form, with_email=False)
        if form.ok:
            try:
                user = services.accept_invite(invite, form.values["name"], form.values["password"])
            except AccountError as error:
                form.errors["form"] = str(error)
            else:
                start_session(user)
                db.session.commit()
                return redirect(url_for("admin.index"), 303)
    status = 422 if form.errors else 200
    return render_template("authors/invite.html", form=form, invite=invite), status
