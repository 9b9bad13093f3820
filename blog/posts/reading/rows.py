"""The row shape every reader of posts gets: Card (a list's post) and Article (a post's own
page, a feed item, a newsletter), with their Bylines and TagLabels, read as plain rows."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import itemgetter

from sqlalchemy import Select, String, bindparam, cast, literal, null, select, union_all

from blog import images
from blog.models import Post, PostAuthor, PostTag, Tag, User
from blog.posts.reading import cursor
from blog.transactions import reading_connection

# --- What reader pages show, read as plain rows ------------------------------------------------
# A list page shows a dozen posts with their authors and tags. Loaded as models (identity map,
# instance state, association proxies) they took about 3 ms of a 6 ms request on the benchmark
# machine; the same three queries read as plain rows take about 0.4 ms (docs/benchmarks.md).
# So reader pages get these small read-only records. Everything that writes uses the models.


@dataclass(slots=True)
class Byline:
    """An author as reader pages show them."""

    id: int
    name: str
    slug: str
    profile_image: str | None

    url = User.url


@dataclass(slots=True)
class TagLabel:
    """A tag as reader pages show it."""

    id: int
    name: str
    slug: str

    url = Tag.url


@dataclass(slots=True)
class Card:
    """A post as a card shows it; it answers the same names as a Post for templates."""

    id: int
    title: str
    slug: str
    type: str
    status: str
    featured: bool
    custom_excerpt: str | None
    excerpt: str
    reading_time: int
    feature_image: str | None
    feature_image_alt: str | None
    published_at: datetime
    authors: list[Byline] = field(default_factory=list)
    tags: list[TagLabel] = field(default_factory=list)

    url = Post.url

    @property
    def primary_author(self) -> Byline | None:
        return self.authors[0] if self.authors else None

    @property
    def primary_tag(self) -> TagLabel | None:
        return self.tags[0] if self.tags else None

    @property
    def image_srcset(self) -> str:
        """The feature image's srcset ("" when it is no upload): blog.images.srcset."""
        return images.srcset(self.feature_image)

    @property
    def image_size(self) -> tuple[int, int] | None:
        """The feature image's (width, height) from its name: blog.images.image_size."""
        return images.image_size(self.feature_image)

    @property
    def author_names(self) -> str:
        """The authors' names, comma-separated, as a byline shows them."""
        return ", ".join(author.name for author in self.authors)


@dataclass(slots=True)
class Article(Card):
    """A post or static page as its own page shows it."""

    html: str = ""
    updated_at: datetime | None = None
    meta_title: str | None = None
    meta_description: str | None = None


@dataclass(slots=True)
class AuthorProfile:
    """An author as their own page and feed show them (a public author: lists.public_author)."""

    id: int
    name: str
    slug: str
    bio: str | None
    location: str | None
    website: str | None
    profile_image: str | None

    url = User.url


@dataclass(slots=True)
class TagProfile:
    """A tag as its own page and feed show it."""

    id: int
    name: str
    slug: str
    description: str | None
    feature_image: str | None

    url = Tag.url


def read_profile(stmt: Select, params: dict, record: type) -> AuthorProfile | TagProfile | None:
    """Run a select of record's fields, in order, on the request's reading connection
    (blog.transactions); return the first row as a record, or None. A plain row, not a model:
    a third of the time."""
    _, rows = cursor.run(reading_connection(), stmt, params)
    return record(*rows[0]) if rows else None


def _columns(record: type[Card]) -> list:
    """The posts columns a record is built from, in its field order."""
    posts = Post.__table__.c
    return [posts[f.name] for f in fields(record) if f.name not in ("authors", "tags")]


CARD_COLUMNS, ARTICLE_COLUMNS = _columns(Card), _columns(Article)
_posts_authors, _posts_tags = PostAuthor.__table__, PostTag.__table__
_users, _tags = User.__table__, Tag.__table__
# Every post's bylines and tags in one query (a UNION ALL, kind 0 = author, 1 = tag): one round
# trip instead of two, on SQLite and PostgreSQL alike. Unordered: read_records puts the few
# dozen rows in order (an ORDER BY made SQLite sort each half in a temporary B-tree, a fifth of
# the query's time).
_BYLINES_AND_TAGS = union_all(
    select(
        _posts_authors.c.post_id,
        literal(0).label("kind"),
        _posts_authors.c.sort_order,
        _users.c.id,
        _users.c.name,
        _users.c.slug,
        _users.c.profile_image,
    )
    .join_from(_posts_authors, _users, _users.c.id == _posts_authors.c.author_id)
    .where(_posts_authors.c.post_id.in_(bindparam("ids", expanding=True))),
    select(
        _posts_tags.c.post_id,
        literal(1).label("kind"),
        _posts_tags.c.sort_order,
        _tags.c.id,
        _tags.c.name,
        _tags.c.slug,
        cast(null(), String).label("profile_image"),
    )
    .join_from(_posts_tags, _tags, _tags.c.id == _posts_tags.c.tag_id)
    .where(_posts_tags.c.post_id.in_(bindparam("ids", expanding=True))),
)


_BYLINE_ORDER = itemgetter(2)  # sort_order: authors and tags go to lists of their own


def read_records(
    stmt: Select, params: dict, record: type[Card] = Card, bylines: bool = True
) -> list:
    """Run a select of record's columns (CARD_COLUMNS or ARTICLE_COLUMNS first, in that order),
    then (bylines) fill in every post's authors and tags, in order: two queries whatever the
    number of posts (one when there are none). Returns a list of record, in the select's order.

    Rows are read on the request's reading connection (blog.transactions) through cursor.run
    (on SQLite, the DB-API cursor): plain columns, and a list page reads a few dozen rows."""
    connection = reading_connection()
    names, rows = cursor.run(connection, stmt, params)
    found = [record(**dict(zip(names, row, strict=True))) for row in rows]
    if found and bylines:
        by_id = {card.id: card for card in found}
        _, rows = cursor.run(connection, _BYLINES_AND_TAGS, {"ids": list(by_id)})
        rows.sort(key=_BYLINE_ORDER)  # each post's authors, and its tags, in their order
        for post_id, kind, _order, ident, name, slug, image in rows:
            if kind:
                by_id[post_id].tags.append(TagLabel(ident, name, slug))
            else:
                by_id[post_id].authors.append(Byline(ident, name, slug, image))
    return found
