"""The Content API's resources: what readers may see of posts, pages, tags and authors, queried
in a fixed number of statements and shaped as Ghost's Content API shapes them.

Each browse is one count and one page select, plus one select per included relation (authors,
tags, post counts), whatever the number of rows. Filters come from blog.api.nql trees and are
compiled here against an allow-list of properties per resource; anything else is a FilterError.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select, true
from sqlalchemy.sql import Select

from blog.api import nql
from blog.extensions import db
from blog.ghost.reader import parse_date
from blog.models import Post, PostAuthor, PostTag, Tag, User
from blog.posts.reading import visible
from blog.site import absolute_url, safe_url

_posts, _tags, _users = Post.__table__.c, Tag.__table__.c, User.__table__.c
_post_tags, _post_authors = PostTag.__table__.c, PostAuthor.__table__.c
DEFAULT_LIMIT = 15
MAX_LIMIT = 100


class ApiError(Exception):
    """An error answered in Ghost's envelope: {"errors": [{"message", "type", "context", ...}]}."""

    def __init__(
        self, status: int, kind: str, message: str, context: str | None = None, code=None
    ) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.context = status, kind, message, context
        self.code = code

    def body(self) -> dict:
        return {
            "errors": [
                {
                    "message": self.message,
                    "context": self.context,
                    "type": self.kind,
                    "details": None,
                    "property": None,
                    "help": None,
                    "code": self.code,
                    "id": None,
                    "ghostErrorCode": None,
                }
            ]
        }


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


# --- Filters -------------------------------------------------------------------------------------


def _compare(column, operator: str, value) -> ColumnElement:
    if value is nql.NULL:
        return column.is_(None) if operator == "=" else false()
    if operator == "in":
        values = [v for v in value if v is not nql.NULL]
        condition = column.in_(values)
        return or_(condition, column.is_(None)) if len(values) < len(value) else condition
    if operator in ("~", "~^", "~$"):
        text = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = {"~": f"%{text}%", "~^": f"{text}%", "~$": f"%{text}"}[operator]
        return func.lower(column).like(pattern.lower(), escape="\\")
    return {
        "=": column.__eq__,
        ">": column.__gt__,
        "<": column.__lt__,
        ">=": column.__ge__,
        "<=": column.__le__,
    }[operator](value)


def _date_value(value):
    if isinstance(value, list):
        return [_date_value(v) for v in value]
    if value is nql.NULL:
        return value
    moment = parse_date(value if isinstance(value, str) else str(value))
    if moment is None:
        raise nql.FilterError(f"{value!r} is not a date")
    return moment


def _text_value(value):
    if isinstance(value, list):
        return [_text_value(v) for v in value]
    if value is nql.NULL:
        return value
    return str(value).lower() if isinstance(value, bool) else str(value)


def _linked(links, key, target_table, target_column, operator, value, primary: bool):
    """EXISTS a link from the post to a tag/author whose column matches (the first if primary).

    links is the join table's columns, key the link column naming the tag or author.
    """
    condition = and_(links.post_id == _posts.id, target_table.c.id == key)
    if primary:
        earlier = key.table.alias("earlier")
        condition = and_(
            condition,
            ~exists().where(
                earlier.c.post_id == links.post_id, earlier.c.sort_order < links.sort_order
            ),
        )
    return exists(
        select(1)
        .select_from(key.table.join(target_table, target_table.c.id == key))
        .where(condition, _compare(target_column, operator, value))
    )


def _post_property(name: str, operator: str, value) -> ColumnElement:
    tags, users = Tag.__table__, User.__table__
    relations = {
        ("tag", "tags", "tags.slug"): (_post_tags, _post_tags.tag_id, tags, tags.c.slug, False),
        ("tags.id",): (_post_tags, _post_tags.tag_id, tags, tags.c.ghost_id, False),
        ("tags.name",): (_post_tags, _post_tags.tag_id, tags, tags.c.name, False),
        ("primary_tag", "primary_tag.slug"): (
            _post_tags, _post_tags.tag_id, tags, tags.c.slug, True),
        ("author", "authors", "authors.slug"): (
            _post_authors, _post_authors.author_id, users, users.c.slug, False),
        ("authors.id",): (_post_authors, _post_authors.author_id, users, users.c.ghost_id, False),
        ("primary_author", "primary_author.slug"): (
            _post_authors, _post_authors.author_id, users, users.c.slug, True),
    }  # fmt: skip
    for names, (links, key, table, column, primary) in relations.items():
        if name in names:
            return _linked(links, key, table, column, operator, _text_value(value), primary)
    if name in ("published_at", "created_at", "updated_at"):
        return _compare(_posts[name], operator, _date_value(value))
    if name == "featured":
        if not isinstance(value, bool) and value not in ([True], [False]):
            raise nql.FilterError("featured takes true or false")
        return _compare(_posts.featured, operator, value)
    if name == "visibility":
        matches = "public" in (value if isinstance(value, list) else [value])
        return true() if matches else false()
    columns = {"id": _posts.ghost_id, "uuid": _posts.uuid, "slug": _posts.slug,
               "title": _posts.title, "status": _posts.status}  # fmt: skip
    if name in columns:
        return _compare(columns[name], operator, _text_value(value))
    raise nql.FilterError(f"Unknown property {name!r}")


def _simple_property(table, names: dict[str, str]):
    def compile_property(name: str, operator: str, value) -> ColumnElement:
        if name == "visibility":
            matches = "public" in (value if isinstance(value, list) else [value])
            return true() if matches else false()
        if name not in names:
            raise nql.FilterError(f"Unknown property {name!r}")
        return _compare(table.c[names[name]], operator, _text_value(value))

    return compile_property


_COMPILERS = {
    "posts": _post_property,
    "pages": _post_property,
    "tags": _simple_property(Tag.__table__, {"id": "ghost_id", "slug": "slug", "name": "name"}),
    "authors": _simple_property(User.__table__, {"id": "ghost_id", "slug": "slug", "name": "name"}),
}


def compile_filter(tree, resource: str) -> ColumnElement:
    """Turn an NQL tree into a SQL condition for resource; raise nql.FilterError."""
    kind = tree[0]
    if kind in ("and", "or"):
        parts = [compile_filter(part, resource) for part in tree[1]]
        return and_(*parts) if kind == "and" else or_(*parts)
    _, name, operator, value, negated = tree
    condition = _COMPILERS[resource](name, operator, value)
    return not_(condition) if negated else condition


# --- Rows ----------------------------------------------------------------------------------------

ORDERABLE = {
    "posts": {"title", "slug", "published_at", "created_at", "updated_at", "featured", "id"},
    "tags": {"name", "slug", "created_at", "id"},
    "authors": {"name", "slug", "created_at", "id"},
}
ORDERABLE["pages"] = ORDERABLE["posts"]
DEFAULT_ORDER = {
    "posts": (("published_at", True), ("id", True)),
    "pages": (("published_at", True), ("id", True)),
    "tags": (("name", False),),
    "authors": (("name", False),),
}


def _base(resource: str) -> tuple[Select, object]:
    """The select of everything readers may see of a resource, and its table."""
    if resource in ("posts", "pages"):
        kind = "post" if resource == "posts" else "page"
        return select(Post.__table__).where(_posts.type == kind, visible()), Post.__table__
    if resource == "tags":
        has_posts = exists(
            select(1)
            .select_from(PostTag.__table__.join(Post.__table__, _posts.id == _post_tags.post_id))
            .where(_post_tags.tag_id == _tags.id, visible())
        )
        public = ~_tags.name.startswith("#")  # Ghost's internal tags start with #
        return select(Tag.__table__).where(public, has_posts), Tag.__table__
    has_posts = exists(
        select(1)
        .select_from(PostAuthor.__table__.join(Post.__table__, _posts.id == _post_authors.post_id))
        .where(_post_authors.author_id == _users.id, visible())
    )
    return select(User.__table__).where(_users.is_active.is_(True), has_posts), User.__table__


def _ordered(stmt: Select, table, resource: str, order) -> Select:
    columns = []
    for name, descending in [*[o for o in order if o[0] in ORDERABLE[resource]],
                             *DEFAULT_ORDER[resource]]:  # fmt: skip
        column = table.c.ghost_id if name == "id" else table.c[name]
        columns.append(column.desc() if descending else column.asc())
    return stmt.order_by(*columns, table.c.id.desc())


def browse(resource: str, options: Options) -> tuple[list[dict], dict]:
    """Return one page of a resource's rows as Ghost shapes them, and the pagination meta."""
    stmt, table = _base(resource)
    if options.filter is not None:
        try:
            stmt = stmt.where(compile_filter(options.filter, resource))
        except nql.FilterError as error:
            raise ApiError(400, "BadRequestError", "Error parsing filter", str(error)) from None
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    stmt = _ordered(stmt, table, resource, options.order)
    stmt = stmt.limit(options.limit).offset((options.page - 1) * options.limit)
    rows = list(db.session.execute(stmt).mappings())
    pages = max(1, math.ceil(total / options.limit))
    pagination = {
        "page": options.page,
        "limit": options.limit,
        "pages": pages,
        "total": total,
        "next": options.page + 1 if options.page < pages else None,
        "prev": options.page - 1 if options.page > 1 else None,
    }
    return shape(resource, rows, options), {"pagination": pagination}


def read(resource: str, options: Options, ghost_id: str | None = None, slug: str | None = None):
    """Return the one row readers may see with this id or slug, shaped, or None."""
    stmt, table = _base(resource)
    column, value = (table.c.ghost_id, ghost_id) if ghost_id is not None else (table.c.slug, slug)
    row = db.session.execute(stmt.where(column == value).limit(1)).mappings().first()
    return shape(resource, [row], options)[0] if row else None


# --- Shapes --------------------------------------------------------------------------------------


def iso(moment) -> str | None:
    """A stored UTC time as Ghost's API writes it: 2017-09-01T12:29:50.000+00:00."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00" if (
        moment
    ) else None  # fmt: skip


def absolute(url: str | None) -> str | None:
    """A site path as an absolute URL on the canonical address; http(s) URLs unchanged; anything
    else (javascript:, data:) None."""
    url = safe_url(url)
    if url.startswith("/") and not url.startswith("//"):
        return absolute_url(url)
    return url or None


_RELATIVE = re.compile(r'(\s(?:src|href)=")(/(?!/))')


def absolute_html(html: str) -> str:
    """Make the site paths in stored HTML absolute, as Ghost's API does for its URLs."""
    site = absolute_url("/").rstrip("/")
    return _RELATIVE.sub(lambda m: f"{m[1]}{site}/", html)


def _ghost_id(row) -> str:
    return row["ghost_id"] or f"{row['id']:024x}"


def _post(row, options: Options) -> dict:
    data = {
        "id": _ghost_id(row),
        "uuid": row["uuid"],
        "title": row["title"],
        "slug": row["slug"],
    }
    if "html" in options.formats:
        data["html"] = absolute_html(row["html"] or "")
    if "plaintext" in options.formats:
        data["plaintext"] = row["plaintext"] or ""
    data |= {
        "comment_id": _ghost_id(row),
        "feature_image": absolute(row["feature_image"]),
        "feature_image_alt": row["feature_image_alt"],
        "feature_image_caption": None,
        "featured": bool(row["featured"]),
        "visibility": "public",
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "published_at": iso(row["published_at"]),
        "custom_excerpt": row["custom_excerpt"],
        "codeinjection_head": None,
        "codeinjection_foot": None,
        "custom_template": None,
        "canonical_url": row["canonical_url"],
        "url": absolute_url(f"/{row['slug']}/"),
        "excerpt": row["custom_excerpt"] or row["excerpt"],
        "reading_time": row["reading_time"],
        "access": True,
        "comments": False,
        "og_image": absolute(row["og_image"]),
        "og_title": row["og_title"],
        "og_description": row["og_description"],
        "twitter_image": absolute(row["twitter_image"]),
        "twitter_title": row["twitter_title"],
        "twitter_description": row["twitter_description"],
        "meta_title": row["meta_title"],
        "meta_description": row["meta_description"],
        "email_subject": None,
        "frontmatter": None,
    }
    return data


def _tag(row) -> dict:
    return {
        "id": _ghost_id(row),
        "name": row["name"],
        "slug": row["slug"],
        "description": row["description"],
        "feature_image": absolute(row["feature_image"]),
        "visibility": "public",
        "og_image": None,
        "og_title": None,
        "og_description": None,
        "twitter_image": None,
        "twitter_title": None,
        "twitter_description": None,
        "meta_title": None,
        "meta_description": None,
        "codeinjection_head": None,
        "codeinjection_foot": None,
        "canonical_url": None,
        "accent_color": None,
        "url": absolute_url(f"/tag/{row['slug']}/"),
    }


def _author(row) -> dict:
    return {
        "id": _ghost_id(row),
        "name": row["name"],
        "slug": row["slug"],
        "profile_image": absolute(row["profile_image"]),
        "cover_image": None,
        "bio": row["bio"],
        "website": safe_url(row["website"]) or None,
        "location": row["location"],
        "facebook": None,
        "twitter": None,
        "meta_title": None,
        "meta_description": None,
        "url": absolute_url(f"/author/{row['slug']}/"),
    }


def _only(data: dict, fields: frozenset[str]) -> dict:
    return {k: v for k, v in data.items() if k in fields} if fields else data


def _related(links, key, table, ids: list[int]) -> dict[int, list]:
    """Every post's tags or authors, in order: one select for all the posts."""
    stmt = (
        select(links.post_id, table)
        .join_from(key.table, table, table.c.id == key)
        .where(links.post_id.in_(ids))
        .order_by(links.post_id, links.sort_order)
    )
    found: dict[int, list] = {post_id: [] for post_id in ids}
    for row in db.session.execute(stmt).mappings():
        found[row["post_id"]].append(row)
    return found


def _post_counts(links, key, ids: list[int]) -> dict[int, int]:
    """How many posts readers may see per tag or author: one grouped select."""
    stmt = (
        select(key, func.count())
        .join_from(key.table, Post.__table__, _posts.id == links.post_id)
        .where(key.in_(ids), _posts.type == "post", visible())
        .group_by(key)
    )
    return dict(db.session.execute(stmt).all())


def shape(resource: str, rows: list, options: Options) -> list[dict]:
    """Shape rows as Ghost's Content API does, with the included relations and fields only."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    if resource in ("posts", "pages"):
        authors = tags = None
        if "authors" in options.include:
            authors = _related(_post_authors, _post_authors.author_id, User.__table__, ids)
        if "tags" in options.include:
            tags = _related(_post_tags, _post_tags.tag_id, Tag.__table__, ids)
        out = []
        for row in rows:
            data = _only(_post(row, options), options.fields)
            if authors is not None:
                data["authors"] = [_author(a) for a in authors[row["id"]]]
                data["primary_author"] = data["authors"][0] if data["authors"] else None
            if tags is not None:
                data["tags"] = [_tag(t) for t in tags[row["id"]]]
                data["primary_tag"] = data["tags"][0] if data["tags"] else None
            out.append(data)
        return out
    shaper = _tag if resource == "tags" else _author
    counts = None
    if "count.posts" in options.include:
        links = _post_tags if resource == "tags" else _post_authors
        key = links.tag_id if resource == "tags" else links.author_id
        counts = _post_counts(links, key, ids)
    out = []
    for row in rows:
        data = _only(shaper(row), options.fields)
        if counts is not None:
            data["count"] = {"posts": counts.get(row["id"], 0)}
        out.append(data)
    return out


def settings_object(values: dict) -> dict:
    """The site's settings as Ghost's Content API `settings` object."""
    return {
        "title": values.get("title"),
        "description": values.get("description"),
        "logo": absolute(values.get("logo")),
        "icon": None,
        "accent_color": values.get("accent_color"),
        "cover_image": None,
        "facebook": None,
        "twitter": None,
        "lang": values.get("language") or "en",
        "locale": values.get("language") or "en",
        "timezone": "Etc/UTC",
        "codeinjection_head": None,
        "codeinjection_foot": None,
        "navigation": [
            {"label": item.get("label"), "url": item.get("url")}
            for item in values.get("navigation") or []
            if isinstance(item, dict)
        ],
        "secondary_navigation": [],
        "meta_title": None,
        "meta_description": None,
        "og_image": None,
        "og_title": None,
        "og_description": None,
        "twitter_image": None,
        "twitter_title": None,
        "twitter_description": None,
        "members_support_address": None,
        "url": absolute_url("/"),
    }
