"""Content API filters: NQL trees (blog.api.nql) compiled into SQL conditions, against an
allow-list of properties per resource; anything else is a nql.FilterError.

Ghost's names are kept: `tag`/`tags`/`tags.slug`, `primary_tag`, `author`/`authors`,
`primary_author`, dates, `featured`, `visibility` (always public here), `id` (the Ghost id).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select, true

from blog.api import nql
from blog.ghost.reader import parse_date
from blog.models import Post, PostAuthor, PostTag, Tag, User

_posts = Post.__table__.c
_post_tags, _post_authors = PostTag.__table__.c, PostAuthor.__table__.c


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
