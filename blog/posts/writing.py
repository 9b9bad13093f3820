"""Writing posts: saving the editor's fields, tags and authors, slugs and old-slug redirects,
publishing, scheduling and deleting. Reading is blog.posts.reading; the screens are blog.admin."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import and_, delete, func, select
from sqlalchemy.exc import IntegrityError

from blog import images
from blog.authors.permissions import can
from blog.content import Rendered, render
from blog.extensions import db
from blog.models import Post, PostAuthor, PostTag, SlugRedirect, Tag, User, utcnow
from blog.posts.reading import visible
from blog.slugs import SlugError, check_slug, slugify, unique_slug

# How often a save takes the next free slug when concurrent saves keep claiming the one it chose.
SLUG_ATTEMPTS = 30


class PostError(ValueError):
    """The editor's input cannot be saved; field names the input, message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- Saving the editor ----------------------------------------------------------------------


def new_post() -> Post:
    """Start a draft (added to the session, with its author, by save_post)."""
    return Post(title="", slug="", markdown="", status="draft", type="post")


def set_body(post: Post, body: Rendered) -> None:
    """Store a rendered body on post: its HTML (uploaded images given their width and height,
    images.declare_sizes), plain text, excerpt and reading time."""
    post.html = images.declare_sizes(body.html)
    post.plaintext, post.excerpt, post.reading_time = body.text, body.excerpt, body.reading_time


def save_post(post: Post, values: dict, user: User, body: Rendered | None = None) -> None:
    """Copy the editor's fields onto post with its rendered body; raise PostError.

    body is blog.content.render(values["markdown"]) (rendered here when not given; render it
    beforehand with no transaction open, so SQLite's write lock is not held meanwhile).
    Only fields the user may change are taken: authors and featured need post.set_authors,
    new tags tag.create; a new post is written by user unless an editor names authors.
    Status is changed by the publishing functions, never here.

    Slugs: when a concurrent save takes the slug chosen here between the check and the
    write (a unique violation on PostgreSQL), the change is undone to a savepoint and made
    again with the next free slug, as Ghost numbers clashing slugs (-2, -3, ...).
    """
    body = body or render(values["markdown"])
    for attempt in range(1, SLUG_ATTEMPTS + 1):
        try:
            with db.session.begin_nested():
                _fill_post(post, values, user, body)
            return
        except IntegrityError as error:
            if attempt == SLUG_ATTEMPTS or "slug" not in str(error.orig).lower():
                raise


def _fill_post(post: Post, values: dict, user: User, body: Rendered) -> None:
    """Copy the fields onto post and flush (save_post's one attempt)."""
    # Look everything up before touching the post, so no half-filled post is flushed.
    tags = find_tags(values.get("tags") or [], create=can(user, "tag.create"))
    authors = None
    if can(user, "post.set_authors") and values.get("authors"):
        authors = find_authors(values["authors"])
    elif post.id is None:
        authors = [user]
    title = values["title"] or "Untitled"
    slug = choose_slug(post, values.get("slug"), title)
    old_slug = post.slug
    post.title, post.slug = title, slug
    post.markdown = values["markdown"]
    set_body(post, body)
    for name in ("custom_excerpt", "meta_title", "meta_description", "feature_image_alt"):
        setattr(post, name, values.get(name))
    if values.get("remove_feature_image"):
        post.feature_image = None
    elif values.get("feature_image"):
        post.feature_image = values["feature_image"]
    if can(user, "post.set_authors"):
        post.featured = bool(values.get("featured"))
    if post.id is None:
        db.session.add(post)
    set_tags(post, tags)
    if authors is not None:
        set_authors(post, authors)
    keep_old_slug(post, old_slug)
    db.session.flush()


def find_tag(name: str) -> Tag | None:
    """Return the tag called name: exactly, else ignoring case (as Ghost's editor matches).

    Never by slug: `C++` must not find `C` (slug `c`), nor `Go` find `Go!` (slug `go`); each
    distinct name keeps its own tag (issue 8).
    """
    for condition in (Tag.name == name, func.lower(Tag.name) == name.lower()):
        tag = db.session.scalar(select(Tag).where(condition).order_by(Tag.id).limit(1))
        if tag is not None:
            return tag
    return None


def find_tags(names: list[str], create: bool) -> list[Tag]:
    """Return tags for names in order (see find_tag); create missing ones if allowed."""
    tags = []
    for name in names:
        tag = find_tag(name)
        if tag is None:
            if not create:
                raise PostError("tags", f"There is no tag “{name}”, and you cannot create tags.")
            tag = Tag(name=name, slug=unique_slug(Tag, name))
            db.session.add(tag)
            db.session.flush()
        if tag not in tags:
            tags.append(tag)
    return tags


def find_authors(slugs: list[str]) -> list[User]:
    """Return active staff for slugs (or email addresses) in order; raise PostError."""
    authors = []
    for ref in slugs:
        user = db.session.scalar(
            select(User).where(
                (User.slug == ref.lower()) | (func.lower(User.email) == ref.lower()),
                User.is_active.is_(True),
            )
        )
        if user is None:
            raise PostError("authors", f"There is no active staff member “{ref}”.")
        if user not in authors:
            authors.append(user)
    return authors


def set_tags(post: Post, tags: list[Tag]) -> None:
    """Give post exactly these tags in this order, keeping links that stay."""
    kept = {link.tag_id: link for link in post.tag_links if link.tag_id is not None}
    post.tag_links = [kept.get(tag.id) or PostTag(tag=tag) for tag in tags]
    post.tag_links.reorder()


def set_authors(post: Post, authors: list[User]) -> None:
    """Give post exactly these authors in this order (the first is the primary author)."""
    kept = {link.author_id: link for link in post.author_links if link.author_id is not None}
    post.author_links = [kept.get(user.id) or PostAuthor(author=user) for user in authors]
    post.author_links.reorder()


def choose_slug(post: Post, wanted: str | None, title: str) -> str:
    """Return the post's slug: the one asked for, else one from the title while a draft.

    A draft whose slug still follows its title keeps following it; a published post keeps
    its slug unless one is asked for. Never a reserved word, never another post's: a
    generated slug gets a numeric suffix, a typed one that is taken or reserved raises
    PostError on the slug field (wanted must already be a slug: blog.slugs.clean_slug).
    """
    automatic = not post.slug or (
        post.status == "draft"
        and re.fullmatch(rf"{re.escape(slugify(post.title) or 'untitled')}(-[0-9]+)?", post.slug)
    )
    if not wanted or (automatic and wanted == post.slug):
        wanted = post.slug if post.slug and not automatic else slugify(title)
        return unique_slug(Post, wanted or "untitled", exclude_id=post.id)
    if wanted != post.slug:  # typed: used as it is, or refused (only generated slugs get -2)
        try:
            check_slug(Post, wanted, exclude_id=post.id, what="post")
        except SlugError as error:
            raise PostError("slug", error.message) from None
    return wanted


def keep_old_slug(post: Post, old: str | None) -> None:
    """After a slug change, keep the old slug of a post readers have seen as a redirect."""
    if old == post.slug:
        return
    # The new slug belongs to this post now, whichever post it used to redirect to.
    db.session.execute(delete(SlugRedirect).where(SlugRedirect.old_slug == post.slug))
    if not old or post.status == "draft":
        return
    redirect = db.session.scalar(select(SlugRedirect).where(SlugRedirect.old_slug == old))
    if redirect is None:
        db.session.add(SlugRedirect(old_slug=old, post=post))
    else:
        redirect.post = post


def redirect_for(slug: str) -> str | None:
    """Return the URL a post that readers may see now has, if slug is one it used to have."""
    post = db.session.scalar(
        select(Post)
        .join(SlugRedirect, SlugRedirect.post_id == Post.id)
        .where(and_(SlugRedirect.old_slug == slug, visible()))
    )
    return post.url if post is not None else None


# --- Publishing -----------------------------------------------------------------------------


def publish(post: Post, when: datetime | None = None) -> None:
    """Publish post now; a past moment back-dates it (a future one is what Schedule is for)."""
    now = utcnow()
    if when is not None and when <= now:
        post.published_at = when
    elif post.published_at is None or post.published_at > now:
        post.published_at = now
    post.status = "published"


def schedule(post: Post, when: datetime | None) -> None:
    """Schedule post for a future moment; readers see it from then on (no job needed)."""
    if when is None or when <= utcnow():
        raise PostError("published_at", "Choose a date and time in the future to schedule.")
    post.status = "scheduled"
    post.published_at = when


def unpublish(post: Post) -> None:
    """Turn post back into a draft, hidden from readers."""
    post.status = "draft"
    post.published_at = None


def update_date(post: Post, when: datetime | None) -> None:
    """Apply an edited publication date to a published or scheduled post; raise PostError."""
    if when is None or post.status == "draft":
        return
    if post.status == "scheduled" and when <= utcnow():
        post.status, post.published_at = "published", when  # its time has passed: it is live
    elif post.status == "scheduled":
        schedule(post, when)
    elif when > utcnow():
        raise PostError("published_at", "To publish later, unpublish the post and schedule it.")
    else:
        post.published_at = when


def delete_post(post: Post) -> None:
    """Delete post; its tag and author links and old slugs go with it."""
    db.session.delete(post)
    db.session.flush()
