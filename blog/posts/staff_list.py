"""The staff's post list (the admin's first screen): every post a staff member may see, with
status filters and title search, newest change first. Readers' lists are blog.posts.reading."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from blog.authors.permissions import can
from blog.extensions import db
from blog.models import Post, PostAuthor, PostTag, Tag, User, utcnow
from blog.posts.reading import Page, visible

STATUS_FILTERS = ("draft", "scheduled", "published")


def with_cards(stmt: Select) -> Select:
    """Load what a row shows (authors, tags) in two extra queries, whatever the page size."""
    return stmt.options(
        selectinload(Post.author_links).joinedload(PostAuthor.author, innerjoin=True),
        selectinload(Post.tag_links).joinedload(PostTag.tag, innerjoin=True),
    )


def escape_like(text: str) -> str:
    """Escape LIKE's wildcards so a search for % or _ finds those characters."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_staff_posts(
    user: User,
    status: str | None = None,
    author: User | None = None,
    query: str | None = None,
    number: int = 1,
    per_page: int = 25,
) -> Page:
    """Return one page (number from 1) of the posts user may see, newest change first, as
    Post models with authors and tags loaded.

    Filtered by status (one of STATUS_FILTERS: scheduled means not yet due, published
    means readers see it), by author (only with post.view_all; others see their own posts
    only) and by query, a case-insensitive substring of the title.
    """
    stmt = select(Post).where(Post.type == "post")  # static pages have their own list
    if not can(user, "post.view_all"):
        author = user
    if author is not None:
        stmt = stmt.where(
            Post.id.in_(select(PostAuthor.post_id).where(PostAuthor.author_id == author.id))
        )
    now = utcnow()
    if status == "draft":
        stmt = stmt.where(Post.status == "draft")
    elif status == "scheduled":
        stmt = stmt.where(Post.status == "scheduled", Post.published_at > now)
    elif status == "published":
        stmt = stmt.where(visible(now))
    if query:
        stmt = stmt.where(Post.title.ilike(f"%{escape_like(query)}%", escape="\\"))
    stmt = stmt.order_by(Post.updated_at.desc(), Post.id.desc())
    stmt = stmt.offset((number - 1) * per_page).limit(per_page + 1)
    posts = list(db.session.scalars(with_cards(stmt)))
    return Page(posts=posts[:per_page], number=number, has_next=len(posts) > per_page)


def list_pages(user: User) -> list[Post]:
    """Return the static pages (About, Contact) user may edit, by title, as Post models."""
    listed = db.session.scalars(
        with_cards(select(Post).where(Post.type == "page").order_by(Post.title, Post.id))
    ).all()
    return [page for page in listed if can(user, "post.edit", page)]


def display_status(post: Post, now: datetime | None = None) -> str:
    """Return what readers see of a post: draft, scheduled (not yet due) or published."""
    now = now or utcnow()
    if post.status == "draft" or post.published_at is None:
        return "draft"
    return "scheduled" if post.published_at > now else "published"


def staff_members() -> list[User]:
    """Return every active staff member, by name."""
    return list(
        db.session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name))
    )


def all_tags() -> list[Tag]:
    """Return every tag, by name."""
    return list(db.session.scalars(select(Tag).order_by(func.lower(Tag.name))))
