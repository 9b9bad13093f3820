"""Numbers from URLs and query strings, bounded before they reach a query.

A page number or id too large for the database (SQLite raises OverflowError past 2**63 - 1;
PostgreSQL's integer columns stop at 2**31 - 1) must answer 404, not 500. Every `<int:...>`
route goes through BoundedInt, and query-string numbers through query_int.
"""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

# PostgreSQL's `integer` (what every id column is); the largest page number too.
MAX_INT = 2**31 - 1


class BoundedInt(IntegerConverter):
    """Werkzeug's int converter, taking ASCII digits only and at most MAX_INT by default.

    Out of range, or Unicode digits that int() would accept (`/page/٣/`), match no route: 404.
    """

    regex = r"[0-9]{1,10}"

    def __init__(
        self, map, fixed_digits: int = 0, min: int | None = None, max=MAX_INT, signed=False
    ):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def parse_int(raw: str | None, low: int = 1, high: int = MAX_INT) -> int | None:
    """Return raw as an int in low..high; None if it is out of range.

    Raises ValueError unless raw is ASCII digits only (no sign, no spaces, no `٣`).
    """
    if not raw or not (raw.isascii() and raw.isdigit()):
        raise ValueError(f"not a whole number: {raw[:40]!r}")
    if len(raw.lstrip("0")) > len(str(high)):  # never hand int() a 100,000-digit string
        return None
    number = int(raw)
    return number if low <= number <= high else None


def query_int(name: str, default: int, low: int = 1, high: int = MAX_INT) -> int:
    """Read a whole number from the query string (`?page=3`); absent or empty gives default.

    Aborts 400 when the value is not a whole number, 404 when it is outside low..high.
    """
    raw = request.args.get(name, "")
    if raw == "":
        return default
    try:
        number = parse_int(raw, low, high)
    except ValueError:
        abort(400, f"“{name}” must be a whole number.")
    if number is None:
        abort(404)
    return number


def init_app(app: Flask) -> None:
    """Make every `<int:...>` route bounded; call before registering blueprints."""
    app.url_map.converters["int"] = BoundedInt
