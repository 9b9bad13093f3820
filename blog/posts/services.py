"""Queries for what readers see: published posts, newest first, in fixed query counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

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
        """Parse a cursor from a URL; anything malformed is None (the page falls back)."""
        if not value or len(value) > 60:
            return None
        stamp, _, ident = value.partition("_")
        try:
            return cls(datetime.strptime(stamp, "%Y%m%dT%H%M%S.%f"), int(ident))
        except ValueError:
            return None


@dataclass
class Page:
    posts: list[Post]
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
    return and_(Post.status.in_(("published", "scheduled")), Post.published_at <= (now or utcnow()))


def with_cards(stmt: Select) -> Select:
    """Load what a card shows (authors, tags) in two extra queries, whatever the page size."""
    return stmt.options(
        selectinload(Post.author_links).joinedload(PostAuthor.author, innerjoin=True),
        selectinload(Post.tag_links).joinedload(PostTag.tag, innerjoin=True),
    )


def list_posts(
    number: int, per_page: int, cursor: Cursor | None = None, author=None, tag=None
) -> Page:
    """Return one page of published posts, newest first, optionally by one author or tag.

    With a cursor the page starts after it (a keyset seek); without one it counts over the
    index to the page's offset.
    """
    stmt = select(Post).where(Post.type == "post", visible())
    if author is not None:
        stmt = stmt.join(PostAuthor, PostAuthor.post_id == Post.id).where(
            PostAuthor.author_id == author.id
        )
    if tag is not None:
        stmt = stmt.join(PostTag, PostTag.post_id == Post.id).where(PostTag.tag_id == tag.id)
    stmt = stmt.order_by(Post.published_at.desc(), Post.id.desc())
    if cursor is not None:
        stmt = stmt.where(
            or_(
                Post.published_at < cursor.published_at,
                and_(Post.published_at == cursor.published_at, Post.id < cursor.id),
            )
        )
    else:
        stmt = stmt.offset((number - 1) * per_page)
    posts = list(db.session.scalars(with_cards(stmt.limit(per_page + 1))))
    return Page(posts=posts[:per_page], number=number, has_next=len(posts) > per_page)


def get_post(slug: str) -> Post | None:
    """Return the post or static page readers may see at slug."""
    stmt = select(Post).where(Post.slug == slug, visible())
    return db.session.scalars(with_cards(stmt)).first()


def read_more(post: Post, limit: int = 3) -> list[Post]:
    """Return the newest other published posts, for the "Read More" section."""
    stmt = (
        select(Post)
        .where(Post.type == "post", visible(), Post.id != post.id)
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(with_cards(stmt)))


def get_author(slug: str) -> User | None:
    """Return the active staff user with this slug."""
    return db.session.scalar(select(User).where(User.slug == slug, User.is_active.is_(True)))


def get_tag(slug: str) -> Tag | None:
    """Return the tag with this slug."""
    return db.session.scalar(select(Tag).where(Tag.slug == slug))
