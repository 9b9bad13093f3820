"""Static files: fingerprinted names, far-future immutable caching and gzip, served by WhiteNoise.

At start-up each file under static/ is copied into the instance folder twice, under its own
name and under a fingerprinted one (`css/site.css` -> `css/site.3f2a9c1d0b4e.css`, the first
12 hex digits of its SHA-256), each with a gzip copy for text types. url_for("static", ...)
hands out the fingerprinted name, which is served with `Cache-Control: max-age=315360000,
public, immutable`: a changed file gets a new name, so browsers never need to ask again. The
plain name keeps working (post content refers to /static/demo/...) with STATIC_MAX_AGE.
WhiteNoise answers before Flask, with ETag/Last-Modified, HEAD and Accept-Encoding handled.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from pathlib import Path

from flask import Flask

COMPRESSIBLE = {".css", ".js", ".svg", ".json", ".xml", ".txt", ".html", ".map", ".ico"}
FINGERPRINTED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
# Static files are our own; a document among them (an SVG opened on its own) runs nothing.
STATIC_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; sandbox"


def fingerprinted(relative: str, digest: str) -> str:
    """Return the fingerprinted name of a static path: 'css/site.css' -> 'css/site.<12 hex>.css'."""
    stem, dot, ext = relative.rpartition(".")
    if not dot or "/" in ext:
        return f"{relative}.{digest[:12]}"
    return f"{stem}.{digest[:12]}.{ext}"


def build(source: Path, target: Path) -> dict[str, str]:
    """Copy source's files into target under plain and fingerprinted names, with .gz copies.

    Returns {plain relative path: fingerprinted relative path}. Files already in place are
    left alone; new ones are written aside and renamed in, so workers starting together agree.
    """
    manifest = {}
    for path in sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".")):
        relative = path.relative_to(source).as_posix()
        data = path.read_bytes()
        hashed = fingerprinted(relative, hashlib.sha256(data).hexdigest())
        manifest[relative] = hashed
        packed = None
        for name in (relative, hashed):
            written = _put(target / name, data)
            if path.suffix.lower() in COMPRESSIBLE:
                zipped = target / f"{name}.gz"
                if written or not zipped.exists():
                    packed = packed or gzip.compress(data, 9, mtime=0)
                    _put(zipped, packed)
    return manifest


def _put(path: Path, data: bytes) -> bool:
    """Write data to path unless it already holds exactly that (atomic rename); say if written."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    draft.write_bytes(data)
    os.replace(draft, path)
    return True


def _headers(headers, path: str, url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Content-Security-Policy"] = STATIC_CSP


def init_app(app: Flask) -> None:
    """Build the fingerprinted copies, make url_for use them, and serve them with WhiteNoise."""
    from whitenoise import WhiteNoise

    target = Path(app.instance_path) / "static"
    manifest = build(Path(app.static_folder), target)

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = manifest.get(values["filename"], values["filename"])

    app.extensions["static_manifest"] = manifest
    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=str(target),
        prefix=app.static_url_path,
        max_age=app.config["STATIC_MAX_AGE"],
        allow_all_origins=False,
        immutable_file_test=lambda path, url: bool(FINGERPRINTED.search(url)),
        add_headers_function=_headers,
    )
