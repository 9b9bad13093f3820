"""Newsletter pages: subscribe (any subscribe form posts here), confirm, unsubscribe."""

import hashlib
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter import RateLimitExceeded

from blog.addresses import address_key
from blog.extensions import csrf, db, limiter
from blog.htmx import is_htmx, render
from blog.newsletter import forms, services, tokens

# cli_group=None: the blueprint's commands are top-level (flask --app blog worker).
bp = Blueprint("newsletter", __name__, cli_group=None)

PAGE, FORM, DONE = (
    "newsletter/subscribe.html",
    "newsletter/_subscribe.html",
    "newsletter/_subscribed.html",
)
# Every subscribe box on the site, so a re-rendered box keeps its id and heading.
FORMS = {
    "subscribe": ("Subscribe to Our Newsletter", "subscribe-title"),
    "subscribe-page": ("Subscribe to Our Newsletter", "subscribe-page-title"),
    "subscribe-inline": ("Subscribe to Our Newsletter", "subscribe-inline-title"),
    "subscribe-cta": ("Never Miss a Post – Subscribe Now", "subscribe-cta-title"),
}
TOO_MANY = "Too many attempts from here. Please wait a few minutes, then try again."


def box(form_id: str | None) -> dict:
    """Return the template context of one subscribe box, by its (allow-listed) form id."""
    form_id = form_id if form_id in FORMS else "subscribe-page"
    heading, heading_id = FORMS[form_id]
    return {
        "form_id": form_id,
        "heading": heading,
        "heading_id": heading_id,
        "with_name": form_id == "subscribe-page",
    }


def _address_key() -> str:
    """Rate-limit key for the address being subscribed (hashed: no addresses in the store)."""
    address = address_key(request.form.get("email", ""))
    return "newsletter-address:" + hashlib.sha256(address.encode()).hexdigest()[:32]


def refuse_cross_site() -> None:
    """Answer 403 to a POST sent by another site's page (the form carries no CSRF token)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        abort(403, "Subscribe from this site's own pages.")
    origin = request.headers.get("Origin")
    if origin is not None:
        site = urlsplit(current_app.config["SITE_URL"])
        own = {f"{site.scheme}://{site.netloc}", request.host_url.rstrip("/")}
        if origin not in own:
            abort(403, "Subscribe from this site's own pages.")


# Writes that answer another site's POST: subscribe (refuse_cross_site guards it) and the
# RFC 8058 one-click unsubscribe, which a mail provider's server sends.
CROSS_SITE_EXEMPT = {"newsletter.subscribe", "newsletter.unsubscribe"}


@bp.before_request
def _refuse_foreign_writes() -> None:
    """Refuse a state-changing request from another site's page, as every staff route does."""
    if request.endpoint not in CROSS_SITE_EXEMPT:
        from blog.authors.views import reject_foreign_origin

        reject_foreign_origin()


@bp.route("/newsletter/", methods=["GET", "POST"])
@csrf.exempt  # public pages stay cacheable: refuse_cross_site() guards the POST instead
@limiter.limit(lambda: current_app.config["NEWSLETTER_SUBSCRIBE_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["NEWSLETTER_SUBSCRIBE_LIMIT_PER_ADDRESS"],
    key_func=_address_key,
    methods=["POST"],
    exempt_when=lambda: not request.form.get("email", "").strip(),
)
def subscribe():
    """Show the newsletter page; take a subscribe request from any subscribe box."""
    if request.method == "GET":
        return render(PAGE, FORM, **box("subscribe-page"))
    refuse_cross_site()
    context = box(request.form.get("form_id"))
    form = forms.parse_subscribe(request.form)
    if form.errors:
        return render(PAGE, FORM, 422, values=form.values, errors=form.errors, **context)
    if not form.is_bot:  # a bot gets the same reply, and nothing is stored or sent
        services.subscribe(form.email, form.name)
        db.session.commit()
    if is_htmx():
        return render_template(DONE, **context)
    return redirect(url_for(".subscribed"), 303)


@bp.get("/newsletter/subscribed/")
def subscribed():
    """Show the "check your email" message (where a subscribe without JavaScript lands)."""
    return render_template(PAGE, done=True, **box("subscribe-page"))


@bp.errorhandler(RateLimitExceeded)
def too_many_requests(error: RateLimitExceeded):
    """Show the subscribe box again, with a readable 429 message (Retry-After is added)."""
    values = {"email": forms.printable(request.form.get("email", ""))}
    context = box(request.form.get("form_id"))
    return render(PAGE, FORM, 429, values=values, errors={"email": TOO_MANY}, **context)


def _bad_link(problem: str):
    """Show why a newsletter link cannot work, with a subscribe box to start again."""
    return render_template("newsletter/link_problem.html", problem=problem, **box(None)), 400


@bp.route("/newsletter/confirm/<token>/", methods=["GET", "POST"])
def confirm(token: str):
    """Show a Confirm button (a GET changes nothing: mail scanners fetch links); POST confirms."""
    subscriber, problem = tokens.read_confirm_token(token)
    if subscriber is None or subscriber.status not in ("pending", "confirmed"):
        return _bad_link(problem or "invalid")
    if request.method == "POST":
        services.confirm_subscription(subscriber)
        db.session.commit()
        return redirect(url_for(".confirm", token=token), 303)
    return _private(render_template("newsletter/confirm.html", subscriber=subscriber, token=token))


@bp.route("/newsletter/unsubscribe/<token>/", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: mail providers POST with no cookie and no token
def unsubscribe(token: str):
    """Show the subscription with its button; POST unsubscribes, one-click (RFC 8058) or not."""
    subscriber = tokens.read_unsubscribe_token(token)
    if subscriber is None:
        return _bad_link("invalid")
    if request.method == "GET":
        page = render_template("newsletter/unsubscribe.html", subscriber=subscriber, token=token)
        return _private(page)
    services.unsubscribe(subscriber)
    db.session.commit()
    if request.form.get("List-Unsubscribe") == "One-Click":
        return Response("Unsubscribed.\n", 200, mimetype="text/plain")
    return redirect(url_for(".unsubscribe", token=token), 303)


@bp.post("/newsletter/unsubscribe/<token>/resubscribe")
def resubscribe(token: str):
    """Subscribe an unsubscribed address again, from the link in its own mail."""
    subscriber = tokens.read_unsubscribe_token(token)
    if subscriber is None:
        return _bad_link("invalid")
    services.resubscribe(subscriber)
    db.session.commit()
    return redirect(url_for(".unsubscribe", token=token), 303)


def _private(body: str) -> Response:
    """Keep a page that names a reader's address out of shared caches."""
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = "private, no-store"
    return response
