"""Content API shapes: our rows as Ghost's Content API writes posts, tags, authors and the
site's settings (its field names, absolute URLs, and null for what we do not keep)."""

from __future__ import annotations

import re

from blog.api.options import Options
from blog.site import absolute_url, safe_url


def iso(moment) -> str | None:
    """A stored UTC time as Ghost's API writes it: 2017-09-01T12:29:50.000+00:00."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00" if (
        moment
    ) else None  # fmt: skip


def absolute(url: str | None) -> str | None:
    """A site path as an absolute URL on the canonical address; http(s) URLs unchanged; anything
    else (javascript:, data:) None."""
    url = safe_url(url)
    if url.startswith("/") and not url.startswith("//"):
        return absolute_url(url)
    return url or None


_RELATIVE = re.compile(r'(\s(?:src|href)=")(/(?!/))')


def absolute_html(html: str) -> str:
    """Make the site paths in stored HTML absolute, as Ghost's API does for its URLs."""
    site = absolute_url("/").rstrip("/")
    return _RELATIVE.sub(lambda m: f"{m[1]}{site}/", html)


def _ghost_id(row) -> str:
    """The row's Ghost id: the imported ObjectId, else our id as 24 hex digits."""
    return row["ghost_id"] or f"{row['id']:024x}"


def post_shape(row, options: Options) -> dict:
    """A post or page row (a mapping of the posts table) as Ghost writes it, in options'
    formats (html, plaintext)."""
    data = {
        "id": _ghost_id(row),
        "uuid": row["uuid"],
        "title": row["title"],
        "slug": row["slug"],
    }
    if "html" in options.formats:
        data["html"] = absolute_html(row["html"] or "")
    if "plaintext" in options.formats:
        data["plaintext"] = row["plaintext"] or ""
    data |= {
        "comment_id": _ghost_id(row),
        "feature_image": absolute(row["feature_image"]),
        "feature_image_alt": row["feature_image_alt"],
        "feature_image_caption": None,
        "featured": bool(row["featured"]),
        "visibility": "public",
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "published_at": iso(row["published_at"]),
        "custom_excerpt": row["custom_excerpt"],
        "codeinjection_head": None,
        "codeinjection_foot": None,
        "custom_template": None,
        "canonical_url": row["canonical_url"],
        "url": absolute_url(f"/{row['slug']}/"),
        "excerpt": row["custom_excerpt"] or row["excerpt"],
        "reading_time": row["reading_time"],
        "access": True,
        "comments": False,
        "og_image": absolute(row["og_image"]),
        "og_title": row["og_title"],
        "og_description": row["og_description"],
        "twitter_image": absolute(row["twitter_image"]),
        "twitter_title": row["twitter_title"],
        "twitter_description": row["twitter_description"],
        "meta_title": row["meta_title"],
        "meta_description": row["meta_description"],
        "email_subject": None,
        "frontmatter": None,
    }
    return data


def tag_shape(row) -> dict:
    """A tag row as Ghost writes it."""
    return {
        "id": _ghost_id(row),
        "name": row["name"],
        "slug": row["slug"],
        "description": row["description"],
        "feature_image": absolute(row["feature_image"]),
        "visibility": "public",
        "og_image": None,
        "og_title": None,
        "og_description": None,
        "twitter_image": None,
        "twitter_title": None,
        "twitter_description": None,
        "meta_title": None,
        "meta_description": None,
        "codeinjection_head": None,
        "codeinjection_foot": None,
        "canonical_url": None,
        "accent_color": None,
        "url": absolute_url(f"/tag/{row['slug']}/"),
    }


def author_shape(row) -> dict:
    """A user row as Ghost writes an author (no address, no role)."""
    return {
        "id": _ghost_id(row),
        "name": row["name"],
        "slug": row["slug"],
        "profile_image": absolute(row["profile_image"]),
        "cover_image": None,
        "bio": row["bio"],
        "website": safe_url(row["website"]) or None,
        "location": row["location"],
        "facebook": None,
        "twitter": None,
        "meta_title": None,
        "meta_description": None,
        "url": absolute_url(f"/author/{row['slug']}/"),
    }


def only_fields(data: dict, fields: frozenset[str]) -> dict:
    """Keep only the asked fields (all when none were asked)."""
    return {k: v for k, v in data.items() if k in fields} if fields else data


def settings_object(values: dict) -> dict:
    """The site's settings as Ghost's Content API `settings` object."""
    return {
        "title": values.get("title"),
        "description": values.get("description"),
        "logo": absolute(values.get("logo")),
        "icon": None,
        "accent_color": values.get("accent_color"),
        "cover_image": None,
        "facebook": None,
        "twitter": None,
        "lang": values.get("language") or "en",
        "locale": values.get("language") or "en",
        "timezone": "Etc/UTC",
        "codeinjection_head": None,
        "codeinjection_foot": None,
        "navigation": [
            {"label": item.get("label"), "url": item.get("url")}
            for item in values.get("navigation") or []
            if isinstance(item, dict)
        ],
        "secondary_navigation": [],
        "meta_title": None,
        "meta_description": None,
        "og_image": None,
        "og_title": None,
        "og_description": None,
        "twitter_image": None,
        "twitter_title": None,
        "twitter_description": None,
        "members_support_address": None,
        "url": absolute_url("/"),
    }
