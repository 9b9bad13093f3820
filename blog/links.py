"""url_for, remembered: a page asks for the same URLs on every render.

Building a URL walks Werkzeug's rule builder and the url_defaults hooks (the static
fingerprint): about 10 µs a call, 17 calls and a tenth of a list page's time
(docs/benchmarks.md). A URL is the same for every request under one script root given the same
endpoint and values, so each is built once per worker and kept (up to MAX_KEPT, then the
store starts again: "Read More" links carry a cursor each, so they keep coming). Anything with
_external, _anchor, _method or _scheme, or a value that cannot be a key, is built every time.
Both ways in are remembered: templates' url_for and flask.url_for in Python code.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, has_request_context, request

MAX_KEPT = 4096  # URLs a worker keeps; past it the store is emptied and fills again
# flask.url_for's own arguments: URLs built with one depend on more than endpoint and values.
SPECIAL = frozenset({"_external", "_anchor", "_method", "_scheme"})


def remembering(build: Callable[..., str]) -> Callable[..., str]:
    """Wrap a Flask app's url_for so each URL is built once: same arguments and answers,
    same errors (a BuildError for an unknown endpoint is raised each time, never kept)."""
    kept: dict[tuple, str] = {}

    def url_for(endpoint: str, **values) -> str:
        # flask.url_for passes _anchor, _method, _scheme and _external as None when not
        # given; a None value builds nothing (Werkzeug drops it), so only the others count.
        # Values are kept in the order given: a template asks the same way each time.
        if values:
            given = tuple((name, value) for name, value in values.items() if value is not None)
            if any(name in SPECIAL for name, _ in given):
                return build(endpoint, **values)
        else:
            given = ()
        if not has_request_context():
            return build(endpoint, **values)
        current = request._get_current_object()  # one proxy look-up, not one per attribute
        blueprint = current.blueprint if endpoint[:1] == "." else None
        key = (current.root_path, blueprint, endpoint, given)
        try:
            found = kept.get(key)
        except TypeError:  # a value that is no key (a list of query values)
            return build(endpoint, **values)
        if found is None:
            found = build(endpoint, **values)
            if len(kept) >= MAX_KEPT:
                kept.clear()
            kept[key] = found
        return found

    return url_for


def init_app(app: Flask) -> None:
    """Make app.url_for (what flask.url_for and templates call) remember the URLs it builds."""
    app.url_for = remembering(app.url_for)  # type: ignore[method-assign]
    app.jinja_env.globals["url_for"] = app.url_for
