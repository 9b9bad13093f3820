"""Queries for what readers see: published posts, newest first, in fixed query counts."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache

from sqlalchemy import Select, and_, bindparam, func, or_, select

from blog.bounds import parse_int
from blog.extensions import db
from blog.models import Post, PostAuthor, PostTag, Tag, User, utcnow
from blog.posts.reading.memo import remembered
from blog.posts.reading.rows import (
    ARTICLE_COLUMNS,
    CARD_COLUMNS,
    Article,
    AuthorProfile,
    Card,
    TagProfile,
    read_profile,
    read_records,
)

_posts_authors, _posts_tags = PostAuthor.__table__, PostTag.__table__
MARK_EVERY = 240  # a deep page seeks to the nearest mark below its offset, then skips < this


@dataclass(frozen=True)
class Cursor:
    """The last card a reader has seen: the next page starts strictly after it."""

    published_at: datetime
    id: int

    def encode(self) -> str:
        """The cursor for a URL: `20261128T093000.000000_42` (strftime's %Y%m%dT%H%M%S.%f)."""
        at = self.published_at
        return (
            f"{at.year:04d}{at.month:02d}{at.day:02d}T{at.hour:02d}{at.minute:02d}{at.second:02d}"
            f".{at.microsecond:06d}_{self.id}"
        )

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
    """One page of a list: its posts (Cards for readers, Post models for the staff's list),
    its number (from 1), and whether a next page exists."""

    posts: list
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


@cache
def _page_statement(
    record: type[Card], by_author: bool, by_tag: bool, after: bool, marks: bool = False
) -> Select:
    """Build, once per shape, the select for one page of a list of record (Card or Article)
    columns, optionally by one author or tag, after a cursor (then skipping `offset` more) or
    at an offset; with marks, the (published_at, id) of every MARK_EVERY-th post of the list.

    Values are bind parameters (_page binds them), so a request builds nothing: building and
    hashing a fresh statement cost about a tenth of a list page's time.
    """
    posts = Post.__table__.c
    stmt = select(*(ARTICLE_COLUMNS if record is Article else CARD_COLUMNS))
    stmt = stmt.where(posts.type == "post", visible(bindparam("now")))
    if by_author:
        links = PostAuthor.__table__
        stmt = stmt.join(links, links.c.post_id == posts.id)
        stmt = stmt.where(links.c.author_id == bindparam("author_id"))
    if by_tag:
        links = PostTag.__table__
        stmt = stmt.join(links, links.c.post_id == posts.id)
        stmt = stmt.where(links.c.tag_id == bindparam("tag_id"))
    if marks:
        position = func.row_number().over(order_by=(posts.published_at.desc(), posts.id.desc()))
        numbered = stmt.with_only_columns(posts.published_at, posts.id, position.label("n"))
        numbered = numbered.subquery()
        return select(numbered.c.published_at, numbered.c.id).where(
            numbered.c.n % MARK_EVERY == 0
        ).order_by(numbered.c.n)
    stmt = stmt.order_by(posts.published_at.desc(), posts.id.desc())
    if after:  # a keyset seek: strictly after the last card the reader has seen
        at = bindparam("after_at")
        stmt = stmt.where(
            or_(
                posts.published_at < at,
                and_(posts.published_at == at, posts.id < bindparam("after_id")),
            )
        )
    # A direct visit to /page/<n>/ counts over the index to its offset; a deep one from a mark.
    return stmt.offset(bindparam("offset")).limit(bindparam("limit"))


def _page(record: type[Card], number: int, per_page: int, cursor, author, tag) -> list:
    """Run one page's select; it returns one row more than the page when there is more.

    A page at an offset of MARK_EVERY or more starts from the list's marks (_marks) instead:
    the same rows, without stepping over every post before them."""
    shape = (record, author is not None, tag is not None)
    params = {"now": utcnow(), "limit": per_page + 1}
    if author is not None:
        params["author_id"] = author.id
    if tag is not None:
        params["tag_id"] = tag.id
    offset, after = 0, (cursor.published_at, cursor.id) if cursor is not None else None
    if cursor is None:
        offset = (number - 1) * per_page
        marks = _marks(author, tag) if offset >= MARK_EVERY else []
        passed = min(offset // MARK_EVERY, len(marks))  # past the list's end: an empty page
        if passed:
            after, offset = marks[passed - 1], offset - passed * MARK_EVERY
    if after is not None:
        params.update(after_at=after[0], after_id=after[1])
        # The seek's index range: `now` bounds published_at, and the OR has no range of its own;
        # bounded by `now` alone, a seek deep in the list stepped over every newer post.
        params["now"] = min(params["now"], after[0])
    params["offset"] = offset
    return read_records(_page_statement(*shape, after is not None), params, record)


def _marks(author, tag) -> list[tuple[datetime, int]]:
    """Return (published_at, id) of the MARK_EVERY-th, 2 x MARK_EVERY-th, ... post of the list
    readers see (newest first; by one author or tag): one query per content generation."""

    def work_out() -> list[tuple[datetime, int]]:
        stmt = _page_statement(Card, author is not None, tag is not None, False, marks=True)
        params = {"now": utcnow(), "author_id": getattr(author, "id", None)}
        params["tag_id"] = getattr(tag, "id", None)
        return [tuple(row) for row in db.session.execute(stmt, params)]

    return remembered(("marks", getattr(author, "id", None), getattr(tag, "id", None)), work_out)


def list_cards(
    number: int, per_page: int, cursor: Cursor | None = None, author=None, tag=None
) -> Page:
    """Return one page (number from 1, or the page after cursor) of the posts readers may see
    as Cards, newest first, optionally by one author or tag (a User, a Tag)."""
    cards = _page(Card, number, per_page, cursor, author, tag)
    return Page(posts=cards[:per_page], number=number, has_next=len(cards) > per_page)


def list_articles(limit: int, author=None, tag=None) -> list[Article]:
    """Return the newest limit posts readers may see as Articles (with their HTML), optionally
    by one author or tag (a User, a Tag): what a feed shows."""
    return _page(Article, 1, limit, None, author, tag)[:limit]


_POST = (
    select(*ARTICLE_COLUMNS)
    .where(Post.__table__.c.slug == bindparam("slug"), visible(bindparam("now")))
    .limit(1)
)
_BY_IDS = select(*ARTICLE_COLUMNS).where(
    Post.__table__.c.id.in_(bindparam("ids", expanding=True)), visible(bindparam("now"))
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
    found = read_records(_POST, {"slug": slug, "now": utcnow()}, Article)
    return found[0] if found else None


def get_articles(ids: list[int]) -> dict[int, Article]:
    """Return the posts and static pages readers may see now among ids, as Articles by id
    (missing: no such post, a draft, or not yet due). Three queries, however many ids."""
    found = read_records(_BY_IDS, {"ids": list(ids) or [-1], "now": utcnow()}, Article)
    return {article.id: article for article in found}


def get_article(post_id: int) -> Article | None:
    """Return the post or static page readers may see now with this id, as an Article
    (what a newsletter of it shows), or None."""
    return get_articles([post_id]).get(post_id)


def read_more(post: Card, limit: int = 3) -> list[Card]:
    """Return the newest other published posts, for the "Read More" section."""
    return read_records(_READ_MORE, {"now": utcnow(), "post_id": post.id, "limit": limit})


def _has_visible_post(links, key, now=None):
    """An EXISTS over links (posts_authors or posts_tags) for a visible post linked by key
    (visible at now: a datetime, a bind parameter, or None for the present)."""
    posts = Post.__table__.c
    return (
        select(links.c.post_id)
        .join(Post.__table__, posts.id == links.c.post_id)
        .where(key, posts.type == "post", visible(now))
        .exists()
    )


def public_author(now=None):
    """The condition for a staff user whose author page (and feed) readers may see: one with
    a post readers may see (at now; None: the present), active or not.

    Ghost answers 404 for an author with nothing published; deactivation locks the admin
    only, so a deactivated author's page stays while their posts are up (issue 8, 14-15).
    """
    return _has_visible_post(_posts_authors, _posts_authors.c.author_id == User.id, now)


# Built once with bind parameters, like the list statements: a page binds slug and now only.
_AUTHOR = select(*(User.__table__.c[f.name] for f in fields(AuthorProfile))).where(
    User.slug == bindparam("slug"), public_author(bindparam("now"))
)
_TAG = select(*(Tag.__table__.c[f.name] for f in fields(TagProfile))).where(
    Tag.slug == bindparam("slug"),
    _has_visible_post(_posts_tags, _posts_tags.c.tag_id == Tag.id, bindparam("now")),
)


def get_author(slug: str) -> AuthorProfile | None:
    """Return the author with this slug if their author page is public (public_author)."""
    return read_profile(_AUTHOR, {"slug": slug, "now": utcnow()}, AuthorProfile)


def get_tag(slug: str) -> TagProfile | None:
    """Return the tag with this slug, if a post readers may see carries it (a tag on drafts
    only, or on nothing, is not public: its page and feed answer 404)."""
    return read_profile(_TAG, {"slug": slug, "now": utcnow()}, TagProfile)


def count_posts(author=None, tag=None) -> int:
    """Return how many posts readers may see, by one author or with one tag: counted once per
    content generation (blog.posts.reading.memo)."""
    key = ("count", getattr(author, "id", None), getattr(tag, "id", None))
    return remembered(key, lambda: _count_posts(author, tag))


def _count_posts(author, tag) -> int:
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
