"""Response headers every page carries (CSP, nosniff, framing, HSTS), the request checks
every URL passes first (no control characters in a path, no NUL in a query, no redirect off
the site), the one cross-origin guard for writes, and the one signed-token scheme."""

import re
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, abort, current_app, request
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import NotFound
from werkzeug.middleware.proxy_fix import ProxyFix

from blog.errors import page_for

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: data:",
        "media-src 'self' https:",
        "frame-src https://www.youtube-nocookie.com https://player.vimeo.com",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# A year, as the HSTS preload list asks (RFC 6797 section 6.1.1; hstspreload.org).
HSTS = "max-age=31536000"
# C0 controls, DEL and C1 controls: never part of a page's address. Browsers drop TAB/CR/LF
# from a Location, so "/\t/evil.example" would leave the site (WHATWG URL, "remove tab or newline").
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)


def _secure_headers(response: Response) -> Response:
    """Add the security headers a view has not set itself (a view may set its own CSP).

    The names present are gathered once: Werkzeug answers each missing-header look-up
    (setdefault, `in`) by raising and catching a KeyError, a quarter of this hook's time.
    """
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if "strict-transport-security" not in present and current_app.config[
        "SITE_URL"
    ].lower().startswith("https://"):
        headers.add("Strict-Transport-Security", HSTS)
    return response


def refuse_bad_requests() -> None:
    """Refuse what no page can take, before any other request hook does any work.

    404 for a path with a control character (so no redirect is ever built from one); 400 for
    NUL in the query (PostgreSQL cannot store it; SQLite would); 413 for a body over
    MAX_CONTENT_LENGTH, a url-encoded form over MAX_URLENCODED_FORM_SIZE bytes or with more
    than MAX_FORM_PARTS fields (Werkzeug limits only multipart forms that way).
    """
    if CONTROL.search(request.path):
        abort(404)
    if request.query_string and (
        "\x00" in request.query_string.decode("latin-1")
        or any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True))
    ):
        abort(400, "The address holds a character that is not allowed.")
    length = request.content_length or 0
    if not length:
        return  # no body: nothing more to check
    config = current_app.config
    if config.get("MAX_CONTENT_LENGTH") and length > config["MAX_CONTENT_LENGTH"]:
        abort(413, "That is more than this site accepts in one request.")
    if request.mimetype == "application/x-www-form-urlencoded" and length:
        if length > config["MAX_URLENCODED_FORM_SIZE"]:
            abort(413, "That form holds more text than this site accepts.")
        body = request.get_data(cache=True)  # bounded by the length just checked; parsed later
        if body.count(b"&") + 1 > config["MAX_FORM_PARTS"]:
            abort(413, "That form has more fields than this site accepts.")


def on_site(location: str) -> bool:
    """Tell whether a redirect's Location stays on this site.

    On-site: a path ("/x", never "//x" or "/\\x", which browsers read as another host), or an
    absolute URL on SITE_URL's or this request's origin; no control characters or spaces.
    """
    if CONTROL.search(location) or " " in location:
        return False
    if location.startswith("/"):
        return not location.startswith(("//", "/\\"))
    parts = urlsplit(location)
    if parts.scheme not in ("http", "https") or "\\" in location:
        return False
    return f"{parts.scheme}://{parts.netloc}".lower() in own_origins()


def own_origins() -> set[str]:
    """Return this site's origins ("scheme://host[:port]"): SITE_URL's and this request's."""
    site = urlsplit(current_app.config["SITE_URL"])
    return {f"{site.scheme}://{site.netloc}".lower(), request.host_url.rstrip("/").lower()}


FOREIGN = "This request came from another site."
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def reject_foreign_origin(message: str = FOREIGN) -> None:
    """Answer 403 (with message) to a state-changing request another site's page sent.

    A browser says where a request came from in Sec-Fetch-Site (Fetch Metadata: anything but
    "same-origin", or "none" for one the person typed or bookmarked, is refused) and in Origin
    (RFC 6454; "null" and every origin but this site's are refused). Requests without either
    header (curl, old browsers, mail providers' servers) pass: CSRF tokens still guard forms.
    """
    if request.method not in STATE_CHANGING:
        return
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        abort(403, message)
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/").lower() not in own_origins():
        abort(403, message)


def guard_writes(bp: Blueprint, exempt: set[str] = frozenset(), message: str = FOREIGN) -> None:
    """Run reject_foreign_origin before every request to bp, but for exempt endpoints."""

    def guard() -> None:
        if request.endpoint not in exempt:
            reject_foreign_origin(message)

    bp.before_request(guard)


def signed_tokens(salt: str) -> URLSafeTimedSerializer:
    """Return the serializer for one kind of signed link (itsdangerous, HMAC with SECRET_KEY).

    Every token carries its signing time: read it with loads(token, max_age=seconds) for a
    link that expires (SignatureExpired), or without max_age for one that never does. A
    different salt per kind keeps one kind's token from passing as another's.
    """
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _keep_redirects_on_site(response: Response) -> Response:
    """Turn any redirect that would leave the site into a 404 (the last line of defence)."""
    location = response.headers.get("Location")
    if location is not None and 300 <= response.status_code < 400 and not on_site(location):
        current_app.logger.warning("Refused a redirect off the site to %r", location[:200])
        return page_for(NotFound())
    return response


def init_app(app: Flask) -> None:
    """Trust TRUSTED_PROXIES proxies; check addresses before every other hook; add the
    security headers to every response."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        # The client address and scheme come from the last `proxies` X-Forwarded-* entries;
        # anything a client adds in front of them is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_bad_requests)
    app.after_request(_secure_headers)
    app.after_request(_keep_redirects_on_site)  # registered last: runs first
