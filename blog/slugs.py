"""Slugs: URL-safe names for posts, tags and authors, never a reserved word."""

import re
import unicodedata

from sqlalchemy import select

from blog.extensions import db

# Paths the site itself uses; a post may never take one.
RESERVED = frozenset(
    "admin login logout page tag tags author authors rss static uploads newsletter ghost api "
    "sitemap.xml robots.txt favicon.ico feed feeds search signup signin members p email "
    "unsubscribe subscribe confirm assets content public private preview edit new".split()
)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_length: int = 185) -> str:
    """Turn text into a lower-case ASCII slug of words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def unique_slug(model, text: str, exclude_id: int | None = None) -> str:
    """Return a slug for text that no other row of model has and that is not reserved."""
    base = slugify(text) or model.__tablename__.rstrip("s")
    taken = set(
        db.session.scalars(
            select(model.slug).where(
                model.slug.like(f"{base}%"), model.id != (exclude_id if exclude_id else -1)
            )
        )
    )
    slug, number = base, 1
    while slug in taken or slug in RESERVED:
        number += 1
        slug = f"{base}-{number}"
    return slug
