"""A Content API request's query parameters (limit, page, include, fields, formats, order,
filter), checked as Ghost checks them."""

from __future__ import annotations

from dataclasses import dataclass

from blog.api import nql
from blog.api.errors import ApiError

DEFAULT_LIMIT = 15
MAX_LIMIT = 100


@dataclass
class Options:
    """A request's parameters, checked: limit 1-100 ("all" is 100), page >= 1, the rest sets."""

    limit: int = DEFAULT_LIMIT
    page: int = 1
    include: frozenset[str] = frozenset()
    fields: frozenset[str] = frozenset()
    formats: frozenset[str] = frozenset({"html"})
    order: tuple[tuple[str, bool], ...] = ()  # (field, descending)
    filter: tuple | None = None


def _words(value: str | None) -> frozenset[str]:
    """The comma-separated words of a parameter, as a set."""
    return frozenset(w.strip() for w in (value or "").split(",") if w.strip())


def read_options(args, resource: str) -> Options:
    """Check a request's query parameters; raise ApiError (400 bad filter, 422 bad numbers).

    Ghost answers a filter it cannot parse with 400 BadRequestError "Error parsing filter",
    and a malformed limit or page with 422 ValidationError.
    """
    options = Options(include=_words(args.get("include")), fields=_words(args.get("fields")))
    if args.get("formats"):
        options.formats = _words(args.get("formats")) & {"html", "plaintext"}
    limit = (args.get("limit") or "").strip()
    if limit:
        if limit == "all":
            options.limit = MAX_LIMIT
        elif limit.isdigit() and int(limit) >= 1:
            options.limit = min(int(limit), MAX_LIMIT)
        else:
            raise ApiError(422, "ValidationError", f"Validation error, cannot list {resource}.",
                           f'Validation (isInt) failed for limit: "{limit[:50]}"')  # fmt: skip
    page = (args.get("page") or "").strip()
    if page:
        if not page.isdigit() or not 1 <= int(page) <= 1_000_000:
            raise ApiError(422, "ValidationError", f"Validation error, cannot list {resource}.",
                           f'Validation (isInt) failed for page: "{page[:50]}"')  # fmt: skip
        options.page = int(page)
    if args.get("filter"):
        try:
            options.filter = nql.parse(args["filter"])
        except nql.FilterError as error:
            raise ApiError(400, "BadRequestError", "Error parsing filter", str(error)) from None
    order = []
    for part in (args.get("order") or "").split(","):
        words = part.split()
        if words and len(words) <= 2:
            descending = len(words) == 2 and words[1].lower() == "desc"
            order.append((words[0].lower(), descending))
    options.order = tuple(order)
    return options
