"""What a shared link and a search engine see of a reader page: the canonical URL, prev/next,
the meta description, Open Graph and Twitter card tags, and JSON-LD, shaped as Ghost's
ghost_head helper emits them (Article for posts and pages, WebSite for the home page, Person
for author pages, Series for tag pages).

Each for_* function returns a plain dict that templates/posts/_share.html prints; JSON-LD goes
through Jinja's tojson, which escapes <, > and &, so a "</script>" in a title stays text.
"""

from __future__ import annotations

import re
import struct
from functools import lru_cache
from pathlib import Path

from flask import current_app

from blog.site import absolute_url, format_date, settings

DESCRIPTION_CHARS = 160  # about what search engines show; whole sentences up to it
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")


def meta_description(post) -> str:
    """Return a post's description: its custom excerpt, else its meta description, else the
    first sentences of its text (up to DESCRIPTION_CHARS, at least one), on one line.

    The order is the one issue 12 asks for. White space, paragraph breaks included, becomes
    single spaces, so no two words run together.
    """
    for text in (post.custom_excerpt, post.meta_description):
        if text and text.strip():
            return " ".join(text.split())
    words = " ".join((post.excerpt or "").split())
    chosen = ""
    for sentence in _SENTENCE.split(words):
        if chosen and len(chosen) + 1 + len(sentence) > DESCRIPTION_CHARS:
            break
        chosen = f"{chosen} {sentence}".strip()
    return chosen


def absolute(url: str | None) -> str | None:
    """Return url absolute: site paths joined to SITE_URL, http(s) URLs kept, others None."""
    if not url:
        return None
    if url.startswith("/") and not url.startswith("//"):
        return absolute_url(url)
    return url if url.startswith(("http://", "https://")) else None


def image_size(url: str | None) -> tuple[int, int] | None:
    """Return (width, height) in pixels of a site image (/static/... or /uploads/...) read from
    its file header (PNG, GIF, JPEG, WebP); None for SVG, remote or missing images."""
    if not url or not url.startswith(("/static/", "/uploads/")) or ".." in url:
        return None
    if url.startswith("/static/"):
        path = Path(current_app.static_folder or "") / url[len("/static/") :]
    else:
        path = Path(current_app.instance_path) / current_app.config["UPLOAD_FOLDER"] / url[9:]
    try:
        return _header_size(str(path), path.stat().st_mtime)
    except OSError:
        return None


@lru_cache(maxsize=512)
def _header_size(path: str, mtime: float) -> tuple[int, int] | None:
    """Read an image's size from the first bytes of its file (cached per path and mtime)."""
    with open(path, "rb") as file:
        head = file.read(64 * 1024)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<HH", head[6:10])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = head[12:16]
        if kind == b"VP8X":
            return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(
                head[27:30], "little"
            )
        if kind == b"VP8 ":
            w, h = struct.unpack("<HH", head[26:30])
            return w & 0x3FFF, h & 0x3FFF
        if kind == b"VP8L":
            bits = int.from_bytes(head[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        return None
    if head[:2] == b"\xff\xd8":  # JPEG: walk the segments to the first start-of-frame
        at = 2
        while at + 9 < len(head):
            if head[at] != 0xFF:
                return None
            marker = head[at + 1]
            length = struct.unpack(">H", head[at + 2 : at + 4])[0]
            if marker in (
                0xC0,
                0xC1,
                0xC2,
                0xC3,
                0xC5,
                0xC6,
                0xC7,
                0xC9,
                0xCA,
                0xCB,
                0xCD,
                0xCE,
                0xCF,
            ):
                h, w = struct.unpack(">HH", head[at + 5 : at + 9])
                return w, h
            at += 2 + length
    return None


def _publisher() -> dict:
    site = settings()
    logo = absolute(site.get("logo")) or absolute_url("/favicon.ico")
    return {
        "@type": "Organization",
        "name": site["title"],
        "url": absolute_url("/"),
        "logo": {"@type": "ImageObject", "url": logo},
    }


def _image(url: str | None) -> dict | None:
    """An ImageObject for url with its size when known; None for no image or an SVG (social
    networks do not render SVG)."""
    full = absolute(url)
    if not full or full.split("?")[0].lower().endswith(".svg"):
        return None
    found = {"@type": "ImageObject", "url": full}
    size = image_size(url)
    if size:
        found.update(width=size[0], height=size[1])
    return found


def _card(kind: str, title: str, description: str, url: str, image_url: str | None) -> dict:
    """The Open Graph and Twitter fields every page shares."""
    image = _image(image_url)
    return {
        "og_type": kind,
        "title": title,
        "description": description,
        "url": url,
        "image": image,
        "twitter_card": "summary_large_image" if image else "summary",
        "site_name": settings()["title"],
    }


def for_post(post) -> dict:
    """Share fields and JSON-LD (Article) for a post or static page."""
    url = absolute_url(post.url)
    description = meta_description(post)
    title = post.meta_title or post.title
    share = _card("article", title, description, url, post.feature_image)
    published = format_date(post.published_at, "iso-seconds")
    updated = getattr(post, "updated_at", None) or post.published_at
    modified = format_date(updated, "iso-seconds")
    author = post.primary_author
    json_ld = {
        "@context": "https://schema.org",
        "@type": "Article",
        "publisher": _publisher(),
        "headline": title,
        "url": url,
        "datePublished": published,
        "dateModified": modified,
        "description": description,
        "mainEntityOfPage": url,
    }
    if author is not None:
        json_ld["author"] = {
            "@type": "Person",
            "name": author.name,
            "url": absolute_url(author.url),
        }
        if _image(author.profile_image):
            json_ld["author"]["image"] = _image(author.profile_image)
    if share["image"]:
        json_ld["image"] = share["image"]
    if post.tags:
        json_ld["keywords"] = ", ".join(tag.name for tag in post.tags)
    share.update(
        canonical=url,
        published_time=published if post.type == "post" else None,
        modified_time=modified if post.type == "post" else None,
        tags=[tag.name for tag in post.tags] if post.type == "post" else [],
        json_ld=json_ld,
    )
    return share


def for_listing(path: str, prev_path: str | None, next_path: str | None, tag=None, author=None):
    """Share fields and JSON-LD for the home page (WebSite), a tag page (Series) or an author
    page (Person), at path (one of its /page/<n>/ pages, which are their own canonical URLs)."""
    site = settings()
    url = absolute_url(path)
    if tag is not None:
        description = tag.description or site["description"]
        share = _card("website", tag.name, description, url, tag.feature_image)
        kind, name, extra = "Series", tag.name, {}
    elif author is not None:
        description = author.bio or site["description"]
        share = _card("profile", author.name, description, url, author.profile_image)
        kind, name = "Person", author.name
        extra = {"sameAs": [author.website]} if absolute(author.website) else {}
    else:
        description = site["description"]
        share = _card("website", site["title"], description, url, site.get("logo"))
        kind, name, extra = "WebSite", site["title"], {}
    json_ld = {"@context": "https://schema.org", "@type": kind}
    if kind != "Person":
        json_ld["publisher"] = _publisher()
    json_ld.update(url=url, name=name, description=description, mainEntityOfPage=url, **extra)
    if share["image"] and kind != "WebSite":
        json_ld["image"] = share["image"]
    share.update(
        canonical=url,
        prev=absolute_url(prev_path) if prev_path else None,
        next=absolute_url(next_path) if next_path else None,
        json_ld=json_ld,
    )
    return share
