"""Exporting the blog in Ghost's JSON export shape, so a team can move to Ghost or back.

The document is what Ghost 5's "Export content" writes ({"db": [{"meta", "data"}]}) with the
tables Ghost's importer reads: posts (with `html`, and no mobiledoc or lexical, so Ghost
builds its editor document from the HTML), posts_meta, tags, users (no password, no secrets),
roles, roles_users, posts_tags and posts_authors (in order: the first is the primary), and the
site settings both know (title, description, accent colour, language, navigation, logo).
Subscribers move as the members CSV (flask export-subscribers), as in Ghost.
"""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from blog.extensions import db
from blog.models import ROLES, Post, PostAuthor, PostTag, Tag, User
from blog.models.base import object_id
from blog.site import as_utc, settings

GHOST_VERSION = "5.0.0"
# Fixed ids for Ghost's five staff roles, so every export names them alike.
ROLE_IDS = {role: f"{index + 1:024x}" for index, role in enumerate(ROLES)}
_META_FIELDS = (
    "og_image",
    "og_title",
    "og_description",
    "twitter_image",
    "twitter_title",
    "twitter_description",
    "meta_title",
    "meta_description",
    "feature_image_alt",
)


def _date(moment) -> str | None:
    """A stored time as Ghost writes it: ISO 8601 in UTC with milliseconds and a Z."""
    moment = as_utc(moment)
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        if moment
        else None
    )


def _id(row) -> str:
    """The row's Ghost id, made (and kept) if it has none yet."""
    if not row.ghost_id:
        row.ghost_id = object_id()
    return row.ghost_id


def export_document() -> dict:
    """Return the whole blog's posts, pages, tags and staff as a Ghost export document.

    Rows without a Ghost id get one, stored (the session is committed), so a second export
    names every row the same way and an import back matches them.
    """
    users = list(db.session.scalars(select(User).order_by(User.id)))
    tags = list(db.session.scalars(select(Tag).order_by(Tag.id)))
    posts = list(db.session.scalars(select(Post).order_by(Post.id)))
    author_links = list(
        db.session.scalars(select(PostAuthor).order_by(PostAuthor.post_id, PostAuthor.sort_order))
    )
    tag_links = list(
        db.session.scalars(select(PostTag).order_by(PostTag.post_id, PostTag.sort_order))
    )
    user_ids = {user.id: _id(user) for user in users}
    tag_ids = {tag.id: _id(tag) for tag in tags}
    post_ids = {post.id: _id(post) for post in posts}
    db.session.commit()

    data: dict[str, list[dict]] = {
        "posts": [_post(post, post_ids[post.id]) for post in posts],
        "posts_meta": [
            {"id": object_id(), "post_id": post_ids[post.id]}
            | {name: getattr(post, name) for name in _META_FIELDS}
            for post in posts
        ],
        "tags": [_tag(tag, tag_ids[tag.id]) for tag in tags],
        "users": [_user(user, user_ids[user.id]) for user in users],
        "roles": [
            {"id": ROLE_IDS[role], "name": role.capitalize(), "description": role.capitalize()}
            for role in ROLES
        ],
        "roles_users": [
            {"id": object_id(), "role_id": ROLE_IDS[user.role], "user_id": user_ids[user.id]}
            for user in users
            if user.role in ROLE_IDS
        ],
        "posts_tags": [
            {"id": object_id(), "post_id": post_ids[link.post_id],
             "tag_id": tag_ids[link.tag_id], "sort_order": link.sort_order}
            for link in tag_links
        ],
        "posts_authors": [
            {"id": object_id(), "post_id": post_ids[link.post_id],
             "author_id": user_ids[link.author_id], "sort_order": link.sort_order}
            for link in author_links
        ],  # fmt: skip
    }
    data["settings"] = _settings()
    meta = {"exported_on": int(time.time() * 1000), "version": GHOST_VERSION}
    return {"db": [{"meta": meta, "data": data}]}


def _tag(tag: Tag, ghost_id: str) -> dict:
    """A tag as a row of Ghost's tags table (a name starting with # is an internal tag)."""
    return {
        "id": ghost_id,
        "name": tag.name,
        "slug": tag.slug,
        "description": tag.description,
        "feature_image": tag.feature_image,
        "parent_id": None,
        "visibility": "internal" if tag.name.startswith("#") else "public",
        "created_at": _date(tag.created_at),
        "updated_at": _date(tag.created_at),
    }


def _user(user: User, ghost_id: str) -> dict:
    """A user as a row of Ghost's users table (no password)."""
    return {
        "id": ghost_id,
        "name": user.name,
        "slug": user.slug,
        "email": user.email,
        "profile_image": user.profile_image,
        "cover_image": None,
        "bio": user.bio,
        "website": user.website,
        "location": user.location,
        "status": "active" if user.is_active else "inactive",
        "visibility": "public",
        "created_at": _date(user.created_at),
        "updated_at": _date(user.updated_at),
    }


def _post(post: Post, ghost_id: str) -> dict:
    """A post or page as a row of Ghost's posts table."""
    return {
        "id": ghost_id,
        "uuid": post.uuid,
        "title": post.title,
        "slug": post.slug,
        "html": post.html,
        "plaintext": post.plaintext,
        "feature_image": post.feature_image,
        "featured": bool(post.featured),
        "type": post.type,
        "status": post.status,
        "locale": None,
        "visibility": "public",
        "created_at": _date(post.created_at),
        "updated_at": _date(post.updated_at),
        "published_at": _date(post.published_at),
        "custom_excerpt": post.custom_excerpt,
        "codeinjection_head": None,
        "codeinjection_foot": None,
        "custom_template": None,
        "canonical_url": post.canonical_url,
    }


def _settings() -> list[dict]:
    """The site settings Ghost and our import both know, as Ghost's settings rows."""
    values = settings()
    rows = {
        "title": values.get("title"),
        "description": values.get("description"),
        "accent_color": values.get("accent_color"),
        "lang": values.get("language"),
        "logo": values.get("logo"),
        "navigation": json.dumps(values.get("navigation") or []),
    }
    return [
        {"id": object_id(), "key": key, "value": value, "type": "string"}
        for key, value in rows.items()
    ]
