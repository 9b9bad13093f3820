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


def add_vary(response: Response, name: str) -> None:
    """Add name (a request header, e.g. "Cookie") to response's Vary unless it is there
    (compared case-insensitively, RFC 9110 12.5.5): appended to a single Vary line, or a line
    of its own beside several.

    response.vary.add does the same by parsing the header into a set and writing it back, and
    leaves only the first line when there are several: 25 µs a call, two calls a page.
    """
    headers = response.headers
    lines = [value for key, value in headers.items() if key.lower() == "vary"]
    wanted = name.lower()
    for line in lines:
        if any(part.strip().lower() == wanted for part in line.split(",")):
            return
    if len(lines) == 1:
        headers["Vary"] = f"{lines[0]}, {name}" if lines[0].strip() else name
    else:
        headers.add("Vary", name)


def _vary_on_htmx(response: Response) -> Response:
    """Tell caches that a response may differ by HX-Request whenever htmx could ask for it."""
    if response.mimetype == "text/html":
        add_vary(response, "HX-Request")
    return response


def init_app(app: Flask) -> None:
    """Add Vary: HX-Request to every HTML response."""
    app.after_request(_vary_on_htmx)
