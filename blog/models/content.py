"""Staff (users), posts and tags: what readers see."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blog.models.base import Base, new_uuid, object_id, utcnow

# Ghost's staff roles, most powerful first.
ROLES = ("owner", "administrator", "editor", "author", "contributor")
POST_STATUSES = ("draft", "scheduled", "published")
POST_TYPES = ("post", "page")


class User(UserMixin, Base):
    """A member of staff: someone who signs in (owner, administrator, editor, author or
    contributor). Staff credited on a post are its authors (PostAuthor); newsletter readers
    are Subscribers, never Users. Flask-Login's UserMixin supplies is_authenticated and
    is_anonymous; is_active is the column (deactivated staff cannot sign in)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(191))
    slug: Mapped[str] = mapped_column(String(191), unique=True, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="author")
    bio: Mapped[str | None] = mapped_column(Text)
    profile_image: Mapped[str | None] = mapped_column(String(2000))
    website: Mapped[str | None] = mapped_column(String(2000))
    location: Mapped[str | None] = mapped_column(String(191))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Part of every session's and remember-me cookie's user id: raising it signs out everywhere.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Ghost's ObjectId: kept from an import, made up for our own rows (Content API ids).
    ghost_id: Mapped[str | None] = mapped_column(
        String(24), unique=True, index=True, default=object_id
    )

    post_links: Mapped[list[PostAuthor]] = relationship(back_populates="author")

    @property
    def url(self) -> str:
        return f"/author/{self.slug}/"

    def get_id(self) -> str:
        """Return "<id>-<session_version>": what sessions and remember-me cookies carry."""
        return f"{self.id}-{self.session_version or 0}"

    def __repr__(self) -> str:
        return f"<User {self.slug} ({self.role})>"


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(191))
    slug: Mapped[str] = mapped_column(String(191), unique=True, index=True)
    description: Mapped[str | None] = mapped_column(Text)
    feature_image: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ghost_id: Mapped[str | None] = mapped_column(
        String(24), unique=True, index=True, default=object_id
    )

    post_links: Mapped[list[PostTag]] = relationship(back_populates="tag")

    @property
    def url(self) -> str:
        return f"/tag/{self.slug}/"

    def __repr__(self) -> str:
        return f"<Tag {self.slug}>"


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        # Lists walk this index newest first (WHERE type = ? ORDER BY published_at DESC, id DESC);
        # with status in it, a deep /page/<n>/ skips its OFFSET rows without reading post rows;
        # with updated_at, the tags and authors sitemaps read it instead of post rows.
        Index("ix_posts_reader_listing", "type", "published_at", "id", "status", "updated_at"),
        # The posts and pages sitemaps count out and read their files from this alone, in id
        # order (blog.posts.reading.sitemap): post rows are large, updated_at comes after them.
        Index("ix_posts_sitemap", "type", "id", "status", "published_at", "updated_at", "slug"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(191), unique=True, index=True)
    markdown: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    plaintext: Mapped[str] = mapped_column(Text, default="")
    custom_excerpt: Mapped[str | None] = mapped_column(String(300))
    excerpt: Mapped[str] = mapped_column(String(500), default="")
    reading_time: Mapped[int] = mapped_column(default=1)
    feature_image: Mapped[str | None] = mapped_column(String(2000))
    feature_image_alt: Mapped[str | None] = mapped_column(String(191))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    type: Mapped[str] = mapped_column(String(20), default="post")
    featured: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    meta_title: Mapped[str | None] = mapped_column(String(300))
    meta_description: Mapped[str | None] = mapped_column(String(500))
    # Ghost's identity and social fields, so an imported blog and Ghost clients keep theirs.
    ghost_id: Mapped[str | None] = mapped_column(
        String(24), unique=True, index=True, default=object_id
    )
    uuid: Mapped[str | None] = mapped_column(String(36), unique=True, index=True, default=new_uuid)
    canonical_url: Mapped[str | None] = mapped_column(String(2000))
    og_image: Mapped[str | None] = mapped_column(String(2000))
    og_title: Mapped[str | None] = mapped_column(String(300))
    og_description: Mapped[str | None] = mapped_column(String(500))
    twitter_image: Mapped[str | None] = mapped_column(String(2000))
    twitter_title: Mapped[str | None] = mapped_column(String(300))
    twitter_description: Mapped[str | None] = mapped_column(String(500))
    # Schedule's "email subscribers when it goes live": the sender mails it at published_at.
    email_when_published: Mapped[bool] = mapped_column(default=False, server_default="0")
    # The secret part of the draft's share link; a new one revokes the old link, None has none.
    preview_key: Mapped[str | None] = mapped_column(String(64))

    author_links: Mapped[list[PostAuthor]] = relationship(
        back_populates="post",
        order_by="PostAuthor.sort_order",
        collection_class=ordering_list("sort_order"),
        cascade="all, delete-orphan",
    )
    tag_links: Mapped[list[PostTag]] = relationship(
        back_populates="post",
        order_by="PostTag.sort_order",
        collection_class=ordering_list("sort_order"),
        cascade="all, delete-orphan",
    )
    authors: AssociationProxy[list[User]] = association_proxy(
        "author_links", "author", creator=lambda user: PostAuthor(author=user)
    )
    tags: AssociationProxy[list[Tag]] = association_proxy(
        "tag_links", "tag", creator=lambda tag: PostTag(tag=tag)
    )

    @property
    def url(self) -> str:
        return f"/{self.slug}/"

    @property
    def primary_author(self) -> User | None:
        return self.author_links[0].author if self.author_links else None

    @property
    def primary_tag(self) -> Tag | None:
        return self.tag_links[0].tag if self.tag_links else None

    def __repr__(self) -> str:
        return f"<Post {self.slug} ({self.status})>"


class PostAuthor(Base):
    __tablename__ = "posts_authors"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    author_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    sort_order: Mapped[int] = mapped_column(default=0)

    post: Mapped[Post] = relationship(back_populates="author_links")
    author: Mapped[User] = relationship(back_populates="post_links")


class PostTag(Base):
    __tablename__ = "posts_tags"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    sort_order: Mapped[int] = mapped_column(default=0)

    post: Mapped[Post] = relationship(back_populates="tag_links")
    tag: Mapped[Tag] = relationship(back_populates="post_links")
