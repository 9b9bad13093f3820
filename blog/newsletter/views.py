"""Newsletter pages: subscribe (any subscribe form posts here), confirm, unsubscribe."""

import hashlib

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from blog import ratelimits, security
from blog.addresses import address_key
from blog.extensions import csrf, db
from blog.htmx import is_htmx, render
from blog.newsletter import forms, services, tokens

bp = Blueprint("newsletter", __name__)

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


def _address_key() -> str | None:
    """Rate-limit key for the address being subscribed (hashed: no addresses in the store);
    None (no limit) when the form has no address."""
    if not request.form.get("email", "").strip():
        return None
    address = address_key(request.form.get("email", ""))
    return hashlib.sha256(address.encode()).hexdigest()[:32]


# Another site's POST is refused: subscribe checks with its own message (after its limits
# count the hit), and the RFC 8058 one-click unsubscribe comes from a mail provider's server.
security.guard_writes(bp, exempt={"newsletter.subscribe", "newsletter.unsubscribe"})
CROSS_SITE = "Subscribe from this site's own pages."


def _limit(name: str):
    """Read a subscribe limit ("10 per minute; 100 per day") from the config when used."""
    return lambda: current_app.config[name]


@bp.route("/newsletter/", methods=["GET", "POST"])
@csrf.exempt  # public pages stay cacheable: the cross-origin guard protects the POST instead
@ratelimits.limited("subscribe-ip", _limit("NEWSLETTER_SUBSCRIBE_LIMIT_PER_IP"))
@ratelimits.limited(
    "subscribe-address", _limit("NEWSLETTER_SUBSCRIBE_LIMIT_PER_ADDRESS"), key=_address_key
)
def subscribe():
    """Show the newsletter page; take a subscribe request from any subscribe box."""
    if request.method == "GET":
        return render(PAGE, FORM, **box("subscribe-page"))
    security.reject_foreign_origin(CROSS_SITE)  # the form carries no CSRF token
    context = box(request.form.get("form_id"))
    deliverability = current_app.config["NEWSLETTER_CHECK_DELIVERABILITY"]
    form = forms.parse_subscribe(request.form, deliverability)
    if form.errors:
        values = forms.echo(request.form)
        return render(PAGE, FORM, 422, values=values, errors=form.errors, **context)
    if not form.values["is_bot"]:  # a bot gets the same reply, and nothing is stored or sent
        services.subscribe(form.values["email"], form.values["name"])
        db.session.commit()
    if is_htmx():
        return render_template(DONE, **context)
    return redirect(url_for(".subscribed"), 303)


@bp.get("/newsletter/subscribed/")
def subscribed():
    """Show the "check your email" message (where a subscribe without JavaScript lands)."""
    return render_template(PAGE, done=True, **box("subscribe-page"))


@bp.errorhandler(ratelimits.RateLimited)
def too_many_requests(error: ratelimits.RateLimited):
    """Show the subscribe box again, with a readable 429 message and Retry-After."""
    context = box(request.form.get("form_id"))
    errors = {"email": TOO_MANY}
    page = render(PAGE, FORM, 429, values=forms.echo(request.form), errors=errors, **context)
    response = make_response(page)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


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
