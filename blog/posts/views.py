"""Reader pages: the home page and its pages, posts and static pages, tag pages."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from blog.htmx import is_htmx, render
from blog.posts import reading, share
from blog.posts import search as search_index
from blog.posts.reading import Cursor
from blog.posts.writing import redirect_for

bp = Blueprint("posts", __name__)

# Paths that keep their case and slashes: files, and screens that are not reader pages.
_LEAVE_ALONE = ("/static/", "/uploads/", "/admin", "/newsletter/", "/login", "/logout")


def canonical_redirect():
    """Send a reader to the canonical form of a path in one redirect: lower case, with the
    trailing slash a page has and a file (`/sitemap.xml`, `/robots.txt`) has not.

    An app-wide before_request hook (blog.posts.init_app): every path is canonicalised."""
    path = request.path
    if path.startswith(_LEAVE_ALONE) or request.method not in ("GET", "HEAD"):
        return None
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if (
        request.routing_exception is None
        and path == path.lower()
        and not ("." in last and path.endswith("/"))
    ):
        return None  # routed as it is: nothing to match again (the common case, kept cheap)
    target = canonical_path(path)
    if target is None:
        abort(404)  # a file path that is no file here: never a slash added to it
    if target == path:
        return None
    query = request.query_string.decode()
    return redirect(target + (f"?{query}" if query else ""), 301)


def canonical_path(path: str) -> str | None:
    """Return the path a route answers for path: lower-cased, then with the trailing slash
    routing asks for (`/page/1/` becomes `/`). A file-like last segment (with a dot) never
    gains a slash, and loses one it was given; None when such a file does not exist."""
    adapter = current_app.create_url_adapter(request)
    lowered = path.lower()
    is_file = "." in lowered.rstrip("/").rsplit("/", 1)[-1]
    # A file keeps its own case where it exists as typed (uploaded names may have capitals).
    candidates = [path.rstrip("/"), lowered.rstrip("/")] if is_file else [lowered]
    for candidate in candidates:
        try:
            adapter.match(candidate, method="GET")
        except RequestRedirect as moved:
            target = urlsplit(moved.new_url).path
            if is_file and target.endswith("/"):
                continue  # a page's slash rule, e.g. /<slug>/: not this file
            return target
        except HTTPException:
            continue
        return candidate
    return None if is_file else lowered


def listing(page_template: str, endpoint: str, number: int, **filters):
    """Render one page of cards for the home, author or tag page, or just the cards for htmx."""
    if number < 1:
        abort(404)
    per_page = current_app.config["POSTS_PER_PAGE"]
    try:
        cursor = Cursor.decode(request.args.get("after"))
    except ValueError:
        abort(400, "This “Read More” link is damaged: open the page without it.")
    page = reading.list_cards(number, per_page, cursor, **filters)
    if number > 1 and not page.posts:
        abort(404)
    here, prev_url, next_page_url, next_url = _page_urls(endpoint, page, filters)
    # An author's or tag's page says how many posts it holds (Ghost: "A collection of N posts").
    post_count = reading.count_posts(**filters) if filters and not is_htmx() else None
    return render(
        page_template,
        "posts/_cards.html",
        page=page,
        post_count=post_count,
        share=share.for_listing(here, prev_url, next_page_url, **filters),
        posts=page.posts,
        next_url=next_url,
        next_page_url=next_page_url,
        **filters,
    )


def _page_urls(endpoint: str, page: reading.Page, filters: dict) -> tuple:
    """Return (this page, the previous page, the next page, the next page after this page's
    last card) as URLs of endpoint; None where there is no such page."""
    owner = next(iter(filters.values()), None)
    slugs = {"slug": owner.slug} if owner else {}
    number = page.number
    next_url = next_page_url = None
    if page.next_cursor:
        next_page_url = url_for(endpoint, number=number + 1, **slugs)
        next_url = url_for(endpoint, number=number + 1, after=page.next_cursor.encode(), **slugs)
    prev_url = url_for(endpoint, number=number - 1, **slugs) if number > 1 else None
    return url_for(endpoint, number=number, **slugs), prev_url, next_page_url, next_url


@bp.get("/", defaults={"number": 1})
@bp.get("/page/<int:number>/")
def index(number: int):
    """Show a page of the newest published posts."""
    return listing("posts/index.html", "posts.index", number)


@bp.get("/search/")
def search():
    """Search published posts and pages; htmx gets only the results, as the reader types.

    Hits come STEP (10) at a time, as in Ghost's search: ?limit=20 shows the first 20, up to
    MOST (100), and "Show more results" links to the next step. Another limit answers 400.
    """
    query = request.args.get("q", "")
    results = error = more = None
    limit = _search_limit(request.args.get("limit"))
    if limit is None:
        step, most = search_index.STEP, search_index.MOST
        error = f"Results come {step} at a time: the limit is a multiple of {step} up to {most}."
    elif query.strip():
        try:
            results = search_index.search(query, limit)
        except search_index.QueryError as problem:
            error = str(problem)
        else:
            more = limit + search_index.STEP if results.has_more else None
    latest = reading.list_cards(1, 3).posts if results and not results.hits else []
    context = {"query": query, "results": results, "error": error, "latest": latest}
    context["more"] = more if more and more <= search_index.MOST else None
    # After "Show more results", focus goes to the first hit added (htmx and browsers both
    # focus [autofocus]): a keyboard reader goes on from there, and the header's box stays open.
    first_added = limit - search_index.STEP if limit else 0
    context["first_added"] = first_added or None  # none on the first step
    return render(
        "posts/search.html", "posts/_search_results.html", 400 if error else 200, **context
    )


def _search_limit(value: str | None) -> int | None:
    """?limit= of a search: None when it is not a multiple of STEP from STEP to MOST."""
    if value is None:
        return search_index.STEP
    number = int(value) if len(value) <= 3 and value.isascii() and value.isdigit() else 0
    step, most = search_index.STEP, search_index.MOST
    return number if number % step == 0 and step <= number <= most else None


@bp.get("/tag/<slug>/", defaults={"number": 1})
@bp.get("/tag/<slug>/page/<int:number>/")
def tag(slug: str, number: int):
    """Show a tag and a page of its published posts."""
    found = reading.get_tag(slug) or abort(404)
    return listing("posts/tag.html", "posts.tag", number, tag=found)


@bp.get("/<slug>/")
def post(slug: str):
    """Show a published post or static page."""
    found = reading.get_post(slug)
    if found is None:  # a slug the post used to have: 301
        moved = redirect_for(slug)
        return redirect(moved, 301) if moved else abort(404)
    more = reading.read_more(found) if found.type == "post" else []
    return render_template(
        "posts/post.html", post=found, read_more=more, share=share.for_post(found)
    )
