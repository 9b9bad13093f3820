"""One import's state, and the helpers that turn a Ghost row's values into ours.

Ghost's URLs carry `__GHOST_URL__` for the old site's address, and images under
`/content/images/...`: relink() resolves the first and points the second at the copies this
import stored. Text is clipped to our columns' lengths, without NULs (PostgreSQL refuses them).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from werkzeug.datastructures import FileStorage

from blog.ghost.importer.report import Report
from blog.ghost.reader import Export, image_path
from blog.site import safe_url

OBJECT_ID = re.compile(r"[0-9a-f]{24}")
# A Ghost image URL in HTML or a field: `__GHOST_URL__/content/images/...`, `/content/images/...`
# or the old site's absolute address (the host is unknown, so any http(s) host is taken).
_IMAGE_URL = re.compile(r"""(?:__GHOST_URL__|https?://[^/"'\s<>]+)?/content/images/[^"'\s<>)?#]+""")
_GHOST_URL = "__GHOST_URL__"


class ImportRun:
    """One import's state: the export, the report, and Ghost ids mapped to our rows' ids."""

    def __init__(
        self, export: Export, report: Report, save_image: Callable[[FileStorage], str]
    ) -> None:
        self.export = export
        self.report = report
        self.save_image = save_image
        self.users: dict[str, int] = {}  # Ghost user id -> our users.id
        self.tags: dict[str, int] = {}
        self.posts: dict[str, int] = {}
        self.images: dict[str, str] = {}  # path below content/images/ (lower case) -> our URL
        self.claimed_posts: set[int] = set()
        self.claimed_uuids: set[str] = set()
        self.owner_id: int | None = None


def clip(value, length: int) -> str | None:
    """Text of at most length characters, without NULs (PostgreSQL refuses them); None stays."""
    if value is None:
        return None
    return str(value).replace("\x00", "")[:length]


def ghost_id(value) -> str | None:
    """Ghost's ObjectId if value is one (Ghost 1.0+), else None (0.x numbers, odd ids)."""
    text = str(value or "")
    return text if OBJECT_ID.fullmatch(text) else None


def assign(row, values: dict) -> bool:
    """Set values on row; tell whether any changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def relink(url: str | None, run: ImportRun) -> str | None:
    """Return a field's URL with Ghost's placeholders resolved and imported images re-linked."""
    if not url:
        return url
    url = _IMAGE_URL.sub(lambda m: _image_url(m[0], run), url)
    return url.replace(_GHOST_URL, "") or "/"


def url_field(value, run: ImportRun) -> str | None:
    """A URL field: re-linked, and kept only if it is a site path or http(s)/mailto (SECURITY #5:
    no javascript: or data: URL reaches a reader)."""
    url = safe_url(relink(clip(value, 2000), run))
    return url[:2000] if url else None


def relink_html(html: str, run: ImportRun) -> str:
    """Return HTML (or Markdown) with imported images re-linked and `__GHOST_URL__` removed."""
    html = _IMAGE_URL.sub(lambda m: _image_url(m[0], run), html)
    return html.replace(_GHOST_URL, "")


def _image_url(found: str, run: ImportRun) -> str:
    """Our URL for an image URL Ghost wrote, when this import (or an earlier one) stored it."""
    path = image_path(found.replace(_GHOST_URL, ""))
    if path and path.lower() in run.images:
        return run.images[path.lower()]
    if found.startswith(_GHOST_URL):
        return found[len(_GHOST_URL) :]
    return found
