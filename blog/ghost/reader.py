"""Reading a Ghost export: a JSON file of any Ghost version, or a zip with its images.

Shapes (from Ghost's importer, ghost/core/core/server/data/importer/importers/data):
- Ghost 1.0 and later: {"db": [{"meta": {"exported_on", "version"}, "data": {table: rows}}]};
- Ghost 0.x: {"meta": ..., "data": ...} with numeric ids, millisecond timestamps, and the
  older names `markdown`, `image` (posts, tags, users), `cover` (users) and `page` (a flag);
- a zip from Ghost's "Export content" or a backup: that JSON plus `content/images/...`.

read_export() turns each into one Export with Ghost 5's field names, so the importer handles
a single shape.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp"}
MAX_JSON_BYTES = 512 * 1024 * 1024


class ExportError(ValueError):
    """The file is not a Ghost export we can read; the message says why."""


@dataclass
class Export:
    """One Ghost export, normalised: rows per table, and the zip's images by their path under
    content/images/ (read one at a time with read_image, so a large zip never sits in memory)."""

    version: str
    tables: dict[str, list[dict]]
    legacy: bool = False
    images: dict[str, str] = field(default_factory=dict)  # path -> member of the zip
    archive: Path | None = None
    _open: zipfile.ZipFile | None = field(default=None, repr=False)

    def rows(self, table: str) -> list[dict]:
        """Return the rows of a table (an empty list when the export has none)."""
        rows = self.tables.get(table) or []
        return [row for row in rows if isinstance(row, dict)]

    def read_image(self, path: str) -> bytes:
        """Return the bytes of the image at path (a key of images); raise KeyError if absent."""
        if self._open is None:
            if self.archive is None:
                raise KeyError(path)
            self._open = zipfile.ZipFile(self.archive)
        return self._open.read(self.images[path])

    def close(self) -> None:
        """Close the zip, if one is open."""
        if self._open is not None:
            self._open.close()
            self._open = None


def read_export(path: str | Path, max_image_bytes: int = 10 * 1024 * 1024) -> Export:
    """Read a Ghost export from a .json or .zip file at path.

    Raises ExportError when the file is missing, is not JSON or a zip, or has no Ghost data.
    Images in a zip larger than max_image_bytes are left out (the importer then reports the
    posts' links to them as kept).
    """
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"No such file: {path}")
    if zipfile.is_zipfile(path):
        return _read_zip(path, max_image_bytes)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_JSON_BYTES + 1)
        document = json.loads(raw)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ExportError(f"{path.name} is not a Ghost JSON export: {error}") from None
    return parse_export(document)


def parse_export(document) -> Export:
    """Normalise a parsed Ghost export document; raise ExportError if it is not one."""
    if isinstance(document, dict) and isinstance(document.get("db"), list) and document["db"]:
        document = document["db"][0]
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise ExportError("This file has no Ghost data (expected db[0].data or data).")
    meta = document.get("meta") or {}
    version = str(meta.get("version") or "")
    tables = {name: rows for name, rows in document["data"].items() if isinstance(rows, list)}
    legacy = version.startswith("0") or version in {"000", "001", "002", "003", "004"}
    export = Export(version=version, tables=tables, legacy=legacy)
    _normalise(export)
    return export


def _read_zip(path: Path, max_image_bytes: int) -> Export:
    with zipfile.ZipFile(path) as archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        exports = [
            i for i in infos if i.filename.endswith(".json") and "__MACOSX" not in i.filename
        ]
        if not exports:
            raise ExportError(f"{path.name} holds no Ghost JSON export.")
        main = min(exports, key=lambda info: info.filename.count("/"))
        if main.file_size > MAX_JSON_BYTES:
            raise ExportError(f"{main.filename} is too large to import.")
        try:
            export = parse_export(json.loads(archive.read(main)))
        except ValueError as error:
            raise ExportError(f"{main.filename} is not a Ghost JSON export: {error}") from None
        for info in infos:
            relative = image_path(info.filename)
            if relative and info.file_size <= max_image_bytes:
                export.images[relative] = info.filename
    export.archive = path
    return export


def image_path(name: str) -> str | None:
    """Return the path below content/images/ of a file or URL path, or None if it is not one.

    `ghost/content/images/2017/05/a.jpg` -> `2017/05/a.jpg`; Ghost's resized copies
    (`content/images/size/w600/2017/05/a.jpg`) name their original. Paths climbing out
    (`..`) are refused.
    """
    parts = PurePosixPath(name.replace("\\", "/")).parts
    for start in range(len(parts) - 2):
        if parts[start] == "content" and parts[start + 1] == "images":
            rest = list(parts[start + 2 :])
            if len(rest) > 2 and rest[0] == "size" and rest[1][:1] in "wh":
                rest = rest[2:]
            if (
                not rest
                or ".." in rest
                or PurePosixPath(rest[-1]).suffix.lower() not in IMAGE_SUFFIXES
            ):
                return None
            return "/".join(rest)
    return None


def parse_date(value) -> datetime | None:
    """Read a date as Ghost exports write them, as a naive UTC datetime (None if unreadable).

    Accepts ISO 8601 (`2017-09-01T12:29:50.000Z`), MySQL's `2017-09-01 12:29:50`, RFC 2822,
    and numbers of milliseconds (Ghost 0.x) or seconds since 1970.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    try:
        if isinstance(value, int | float):
            seconds = value / 1000 if abs(value) > 100_000_000_000 else value
            moment = datetime.fromtimestamp(seconds, UTC)
        elif isinstance(value, str):
            text = value.strip()
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                moment = parsedate_to_datetime(text)
        else:
            return None
    except (OverflowError, OSError, TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _normalise(export: Export) -> None:
    """Rename Ghost 0.x fields to Ghost 5's, in place."""
    for post in export.rows("posts"):
        _rename(post, "image", "feature_image")
        if "type" not in post:
            post["type"] = "page" if post.get("page") in (1, True, "1", "true") else "post"
    for tag in export.rows("tags"):
        _rename(tag, "image", "feature_image")
    for user in export.rows("users"):
        _rename(user, "image", "profile_image")
        _rename(user, "cover", "cover_image")


def _rename(row: dict, old: str, new: str) -> None:
    if old in row and not row.get(new):
        row[new] = row.pop(old)
