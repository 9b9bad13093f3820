"""Queries for what readers see: published posts, newest first, in fixed query counts."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cache

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import selectinload

from blog.bounds import parse_int
from blog.extensions import db
from blog.models import Post, PostAuthor, PostTag, Tag, User, utcnow


@dataclass(frozen=True)
class Cursor:
    """The last card a reader has seen: the next page starts strictly after it."""

    published_at: datetime
    id: int

    def encode(self) -> str:
        return f"{self.published_at.strftime('%Y%m%dT%H%M%S.%f')}_{self.id}"

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        """Parse a cursor from a URL (`20261128T093000.000000_42`); None when there is none.

        Raises ValueError when it is malformed or its id is outside the database's range.
        """
        if not value:
            return None
        stamp, _, ident = value.partition("_")
        if len(stamp) != 22:
            raise ValueError(f"malformed cursor: {value[:60]!r}")
        moment = datetime.strptime(stamp, "%Y%m%dT%H%M%S.%f")
        number = parse_int(ident)
        if number is None:
            raise ValueError(f"cursor id out of range: {value[:60]!r}")
        return cls(moment, number)


@dataclass
class Page:
    posts: list  # of Post (list_posts) or Card (list_cards)
    number: int
    has_next: bool

    @property
    def next_cursor(self) -> Cursor | None:
        if not self.has_next or not self.posts:
            return None
        last = self.posts[-1]
        return Cursor(last.published_at, last.id)


def visible(now: datetime | None = None):
    """The condition for a post readers may see: published (or scheduled) and due."""
    posts = Post.__table__.c  # table columns serve ORM and plain-row queries alike
    due = utcnow() if now is None else now  # or a bindparam, in the prepared statements below
    return and_(posts.status.in_(("published", "scheduled")), posts.published_at <= due)


def with_cards(stmt: Select) -> Select:
    """Load what a card shows (authors, tags) in two extra queries, whatever the page size."""
    return stmt.options(
        selectinload(Post.author_links).joinedload(PostAuthor.author, innerjoin=True),
        selectinload(Post.tag_links).joinedload(PostTag.tag, innerjoin=True),
    )


@cache
def _page_statement(models: bool, by_author: bool, by_tag: bool, after: bool) -> Select:
    """Build, once per shape, the select for one page of a list: models (with their authors and
    tags) or card columns, optionally by one author or tag, after a cursor or at an offset.

    Values are bind parameters (_page binds them), so a request builds nothing: building and
    hashing a fresh statement cost about a tenth of a list page's time.
    """
    posts = Post.__table__.c
    stmt = with_cards(select(Post)) if models else select(*CARD_COLUMNS)
    stmt = stmt.where(posts.type == "post", visible(bindparam("now")))
    if by_author:
        links = PostAuthor.__table__
        stmt = stmt.join(links, links.c.post_id == posts.id)
        stmt = stmt.where(links.c.author_id == bindparam("author_id"))
    if by_tag:
        links = PostTag.__table__
        stmt = stmt.join(links, links.c.post_id == posts.id)
        stmt = stmt.where(links.c.tag_id == bindparam("tag_id"))
    stmt = stmt.order_by(posts.published_at.desc(), posts.id.desc())
    if after:  # a keyset seek: strictly after the last card the reader has seen
        at = bindparam("after_at")
        stmt = stmt.where(
            or_(
                posts.published_at < at,
                and_(posts.published_at == at, posts.id < bindparam("after_id")),
            )
        )
    else:  # a direct visit to /page/<n>/ counts over the index to its offset
        stmt = stmt.offset(bindparam("offset"))
    return stmt.limit(bindparam("limit"))


def _page(models: bool, number: int, per_page: int, cursor, author, tag) -> list:
    """Run one page's select; it returns one row more than the page when there is more."""
    stmt = _page_statement(models, author is not None, tag is not None, cursor is not None)
    params = {"now": utcnow(), "limit": per_page + 1}
    if author is not None:
        params["author_id"] = author.id
    if tag is not None:
        params["tag_id"] = tag.id
    if cursor is not None:
        params.update(after_at=cursor.published_at, after_id=cursor.id)
    else:
        params["offset"] = (number - 1) * per_page
    if models:
        return list(db.session.scalars(stmt, params))
    return _records(stmt, params)


def list_posts(
    number: int, per_page: int, cursor: Cursor | None = None, author=None, tag=None
) -> Page:
    """Return one page of published posts as models, newest first, optionally by one author or
    tag (feeds use this; reader pages use list_cards)."""
    posts = _page(True, number, per_page, cursor, author, tag)
    return Page(posts=posts[:per_page], number=number, has_next=len(posts) > per_page)


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


@dataclass(slots=True)
class Article(Card):
    """A post or static page as its own page shows it."""

    html: str = ""
    updated_at: datetime | None = None
    meta_title: str | None = None
    meta_description: str | None = None


def _columns(record: type[Card]) -> list:
    """The posts columns a record is built from, in its field order."""
    posts = Post.__table__.c
    return [posts[f.name] for f in fields(record) if f.name not in ("authors", "tags")]


CARD_COLUMNS, ARTICLE_COLUMNS = _columns(Card), _columns(Article)
_posts_authors, _posts_tags = PostAuthor.__table__, PostTag.__table__
_users, _tags = User.__table__, Tag.__table__
_BYLINES = (
    select(
        _posts_authors.c.post_id, _users.c.id, _users.c.name, _users.c.slug, _users.c.profile_image
    )
    .join_from(_posts_authors, _users, _users.c.id == _posts_authors.c.author_id)
    .where(_posts_authors.c.post_id.in_(bindparam("ids", expanding=True)))
    .order_by(_posts_authors.c.post_id, _posts_authors.c.sort_order)
)
_TAG_LABELS = (
    select(_posts_tags.c.post_id, _tags.c.id, _tags.c.name, _tags.c.slug)
    .join_from(_posts_tags, _tags, _tags.c.id == _posts_tags.c.tag_id)
    .where(_posts_tags.c.post_id.in_(bindparam("ids", expanding=True)))
    .order_by(_posts_tags.c.post_id, _posts_tags.c.sort_order)
)


def _records(stmt: Select, params: dict, record: type[Card] = Card) -> list:
    """Run a select of record's columns, then fill in every post's authors and tags, in order:
    three queries whatever the number of posts (one when there are none)."""
    found = [record(**row._mapping) for row in db.session.execute(stmt, params)]
    by_id = {card.id: card for card in found}
    if by_id:
        ids = {"ids": list(by_id)}
        for post_id, *author in db.session.execute(_BYLINES, ids):
            by_id[post_id].authors.append(Byline(*author))
        for post_id, *tag in db.session.execute(_TAG_LABELS, ids):
            by_id[post_id].tags.append(TagLabel(*tag))
    return found


def list_cards(
    number: int, per_page: int, cursor: Cursor | None = None, author=None, tag=None
) -> Page:
    """Return one page of cards, newest first, optionally by one author or tag."""
    cards = _page(False, number, per_page, cursor, author, tag)
    return Page(posts=cards[:per_page], number=number, has_next=len(cards) > per_page)


_POST = (
    select(*ARTICLE_COLUMNS)
    .where(Post.__table__.c.slug == bindparam("slug"), visible(bindparam("now")))
    .limit(1)
)
_READ_MORE = (
    select(*CARD_COLUMNS)
    .where(
        Post.__table__.c.type == "post",
        visible(bindparam("now")),
        Post.__table__.c.id != bindparam("post_id"),
    )
    .order_by(Post.__table__.c.published_at.desc(), Post.__table__.c.id.desc())
    .limit(bindparam("limit"))
)


def get_post(slug: str) -> Article | None:
    """Return the post or static page readers may see at slug."""
    found = _records(_POST, {"slug": slug, "now": utcnow()}, Article)
    return found[0] if found else None


def read_more(post: Card, limit: int = 3) -> list[Card]:
    """Return the newest other published posts, for the "Read More" section."""
    return _records(_READ_MORE, {"now": utcnow(), "post_id": post.id, "limit": limit})


def _has_visible_post(links, key):
    """An EXISTS over links (posts_authors or posts_tags) for a visible post linked by key."""
    posts = Post.__table__.c
    return (
        select(links.c.post_id)
        .join(Post.__table__, posts.id == links.c.post_id)
        .where(key, posts.type == "post", visible())
        .exists()
    )


def public_author():
    """The condition for a staff user whose author page (and feed) readers may see: one with
    a post readers may see, active or not.

    Ghost answers 404 for an author with nothing published; deactivation locks the admin
    only, so a deactivated author's page stays while their posts are up (issue 8, 14-15).
    """
    return _has_visible_post(_posts_authors, _posts_authors.c.author_id == User.id)


def get_author(slug: str) -> User | None:
    """Return the staff user with this slug if their author page is public (public_author)."""
    return db.session.scalar(select(User).where(User.slug == slug, public_author()))


def get_tag(slug: str) -> Tag | None:
    """Return the tag with this slug, if a post readers may see carries it (a tag on drafts
    only, or on nothing, is not public: its page and feed answer 404)."""
    return db.session.scalar(
        select(Tag).where(
            Tag.slug == slug, _has_visible_post(_posts_tags, _posts_tags.c.tag_id == Tag.id)
        )
    )


def count_posts(author=None, tag=None) -> int:
    """Return how many posts readers may see, by one author or with one tag."""
    posts = Post.__table__.c
    stmt = select(func.count()).select_from(Post.__table__).where(posts.type == "post", visible())
    if author is not None:
        stmt = stmt.join(_posts_authors, _posts_authors.c.post_id == posts.id).where(
            _posts_authors.c.author_id == author.id
        )
    if tag is not None:
        stmt = stmt.join(_posts_tags, _posts_tags.c.post_id == posts.id).where(
            _posts_tags.c.tag_id == tag.id
        )
    return db.session.scalar(stmt) or 0
