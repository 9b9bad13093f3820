"""One URL, full page or fragment: the htmx helpers every view uses."""

from flask import Flask, Response, render_template, request


def is_htmx() -> bool:
    """Tell whether htmx asks for a piece of the page (not a boosted link, not a history restore)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(page_template: str, partial_template: str, status: int = 200, **context):
    """Render the partial for htmx and the full page (which includes it) for everyone else."""
    template = partial_template if is_htmx() else page_template
    return render_template(template, **context), status


def _vary_on_htmx(response: Response) -> Response:
    """Tell caches that a response may differ by HX-Request whenever htmx could ask for it."""
    if response.mimetype == "text/html":
        response.vary.add("HX-Request")
    return response


def init_app(app: Flask) -> None:
    """Add Vary: HX-Request to every HTML response."""
    app.after_request(_vary_on_htmx)
