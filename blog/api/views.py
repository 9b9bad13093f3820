"""Ghost's Content API: /ghost/api/content/{posts,pages,tags,authors,settings}/.

What Ghost's own client (@tryghost/content-api) sends and expects: `?key=` (26 hex) first in
the query, `Accept-Version`, a trailing slash; browse answers {resource: [...], "meta":
{"pagination"}}, read answers {resource: [one]} without meta, errors come as {"errors": [...]}.
The older versioned prefixes (/ghost/api/v4/content/...) answer too. Every response may be
cached publicly and read from any origin, as Ghost's are (Cache-Control: public, max-age=0;
Access-Control-Allow-Origin: *).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from blog.api import keys, query
from blog.api.errors import ApiError
from blog.api.options import read_options
from blog.api.shapes import settings_object
from blog.site import settings

bp = Blueprint("api", __name__)

PREFIXES = ("/ghost/api/content", "/ghost/api/<any(v2,v3,v4,v5,canary):version>/content")
RESOURCES = ("posts", "pages", "tags", "authors")
SINGULAR = {"posts": "Post", "pages": "Page", "tags": "Tag", "authors": "Author"}
# Ghost's defaults: caching:contentAPI:maxAge is 0, caching:cors:maxAge is 86400.
CACHE_CONTROL = "public, max-age=0"
CORS_MAX_AGE = "86400"


def _route(rule: str, **options):
    """Register a view under the plain and the versioned prefix."""

    def register(view):
        for prefix in PREFIXES:
            bp.add_url_rule(prefix + rule, view_func=view, **options)
        return view

    return register


@bp.before_request
def check_key():
    """Answer CORS preflights; refuse requests without a valid Content API key, as Ghost does:
    none is 403 NoPermissionError, an unknown one 401 UnauthorizedError."""
    if request.method == "OPTIONS":
        return Response(status=204)
    key = request.args.get("key")
    if not key:
        raise ApiError(
            403,
            "NoPermissionError",
            "Authorization failed",
            "Unable to determine the authenticated member or integration. Check the supplied "
            "Content API Key and ensure cookies are being passed through if member auth is "
            "failing.",
        )
    if not keys.key_is_valid(key):
        raise ApiError(
            401, "UnauthorizedError", "Unknown Content API Key", code="UNKNOWN_CONTENT_API_KEY"
        )
    return None


@bp.after_request
def public_headers(response: Response) -> Response:
    """Let any origin read the API and any cache keep it, as Ghost does for its public API."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        asked = request.headers.get("Access-Control-Request-Headers")
        if asked:
            response.headers["Access-Control-Allow-Headers"] = asked[:500]
        response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
        response.headers.add("Vary", "Access-Control-Request-Headers")
    elif response.status_code < 400:
        response.headers["Cache-Control"] = CACHE_CONTROL
    else:
        response.headers["Cache-Control"] = "no-cache, private, no-store, must-revalidate"
    response.headers["Content-Version"] = "v5.0"
    response.headers.add("Vary", "Accept-Version")
    return response


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    """Answer an ApiError with its status and Ghost's error envelope."""
    return jsonify(error.body()), error.status


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Errors raised inside the API (405 and the like) in Ghost's envelope, not as pages."""
    kind = {404: "NotFoundError", 405: "MethodNotAllowedError"}.get(error.code or 500, "Error")
    return api_error(ApiError(error.code or 500, kind, error.name, error.description))


def _browse(resource: str):
    """Answer a browse: {resource: [rows], "meta": {"pagination": ...}}."""
    options = read_options(request.args, resource)
    rows, meta = query.browse(resource, options)
    return jsonify({resource: rows, "meta": meta})


def _read(resource: str, ghost_id: str | None = None, slug: str | None = None):
    """Answer a read: {resource: [row]}, or 404 NotFoundError."""
    options = read_options(request.args, resource)
    found = query.read(resource, options, ghost_id=ghost_id, slug=slug)
    if found is None:
        raise ApiError(404, "NotFoundError", f"{SINGULAR[resource]} not found.")
    return jsonify({resource: [found]})


def _make_views(resource: str) -> None:
    """Register browse, read by id and read by slug for one resource."""
    def browse_view(version: str | None = None):
        return _browse(resource)

    def read_by_id(ghost_id: str, version: str | None = None):
        return _read(resource, ghost_id=ghost_id[:24])

    def read_by_slug(slug: str, version: str | None = None):
        return _read(resource, slug=slug[:191])

    browse_view.__doc__ = f"Browse {resource} readers may see, a page at a time."
    read_by_id.__doc__ = f"Read one of the {resource} by its Ghost id."
    read_by_slug.__doc__ = f"Read one of the {resource} by its slug."
    _route(f"/{resource}/", endpoint=f"{resource}_browse", methods=["GET", "OPTIONS"])(browse_view)
    _route(f"/{resource}/<ghost_id>/", endpoint=f"{resource}_read", methods=["GET", "OPTIONS"])(
        read_by_id
    )
    _route(f"/{resource}/slug/<slug>/", endpoint=f"{resource}_slug", methods=["GET", "OPTIONS"])(
        read_by_slug
    )


for _resource in RESOURCES:
    _make_views(_resource)


@_route("/settings/", methods=["GET", "OPTIONS"])
def site_settings(version: str | None = None):
    """The site's public settings, one object (the client returns it as is)."""
    return jsonify({"settings": settings_object(settings()), "meta": {}})


@_route("/<path:anything>", methods=["GET", "OPTIONS"])
def unknown(anything: str, version: str | None = None):
    """Any other path under the API: Ghost's 404 in its envelope."""
    raise ApiError(404, "NotFoundError", "Resource not found")
