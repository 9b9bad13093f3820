"""url_for, remembered: a page asks for the same dozen fixed URLs on every render.

Building a URL walks Werkzeug's rule builder and the url_defaults hooks (the static
fingerprint): about 10 µs a call, 17 calls and a tenth of a list page's time
(docs/benchmarks.md). A URL with no values but the endpoint, or a static file's name, is the
same for every request under one script root, so each is built once per worker and kept.
Anything else (values, _external, _anchor, _method, _scheme) is built every time. Both ways
in are remembered: templates' url_for and flask.url_for in Python code.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, has_request_context, request

MAX_KEPT = 512  # fixed URLs a template names: a few dozen; the bound only guards a mistake


def remembering(build: Callable[..., str]) -> Callable[..., str]:
    """Wrap a Flask app's url_for so fixed URLs are built once: same arguments and answers,
    same errors (a BuildError for an unknown endpoint is raised each time, never kept)."""
    kept: dict[tuple, str] = {}

    def url_for(endpoint: str, **values) -> str:
        # flask.url_for passes _anchor, _method, _scheme and _external as None when not
        # given; a None value builds nothing (Werkzeug drops it), so only the others count.
        named = {name for name, value in values.items() if value is not None}
        if not has_request_context() or (named and named != {"filename"}):
            return build(endpoint, **values)
        blueprint = request.blueprint if endpoint.startswith(".") else None
        key = (request.script_root, blueprint, endpoint, values.get("filename"))
        found = kept.get(key)
        if found is None:
            found = build(endpoint, **values)
            if len(kept) < MAX_KEPT:
                kept[key] = found
        return found

    return url_for


def init_app(app: Flask) -> None:
    """Make app.url_for (what flask.url_for and templates call) remember fixed URLs."""
    app.url_for = remembering(app.url_for)  # type: ignore[method-assign]
    app.jinja_env.globals["url_for"] = app.url_for
