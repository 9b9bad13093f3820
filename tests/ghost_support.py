"""Helpers for the Ghost tests: export files, zips with images, reading the import report."""

import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import func, select

from blog.extensions import db

HERE = Path(__file__).resolve().parent
FIXTURE_1_8_1 = Path("/work/shared/fixtures/ghost/ghost-export-1.8.1-authors.json")
if not FIXTURE_1_8_1.exists():  # the same file, kept beside the tests for machines without /work
    FIXTURE_1_8_1 = HERE / "data" / "ghost" / "ghost-export-1.8.1-authors.json"
MODERN = HERE / "data" / "ghost" / "ghost-5-lexical-mobiledoc.json"
LEGACY = HERE / "data" / "ghost" / "ghost-0.x-legacy.json"


def png_bytes(width: int = 64, height: int = 48, colour=(200, 30, 90)) -> bytes:
    """A small real PNG image."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def make_zip(path: Path, export: Path = MODERN, images: dict[str, bytes] | None = None) -> Path:
    """Write a Ghost export zip: the JSON at its root and images under content/images/."""
    if images is None:
        images = {"2024/01/photo.png": png_bytes()}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(export.name, export.read_text())
        for name, data in images.items():
            archive.writestr(f"content/images/{name}", data)
    return path


def report_table(output: str) -> dict[str, dict[str, int]]:
    """Read the counts table the import prints: {"post": {"imported": 3, ...}, ...}."""
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["imported"])
    outcomes = lines[header].split()
    table = {}
    for line in lines[header + 1 :]:
        words = line.split()
        if len(words) != len(outcomes) + 1 or not all(w.isdigit() for w in words[1:]):
            break
        table[words[0]] = dict(zip(outcomes, map(int, words[1:]), strict=True))
    return table


def row_counts() -> dict[str, int]:
    """How many rows each content table holds (the session is ended after reading)."""
    from blog.models import Post, PostAuthor, PostTag, Tag, User

    counts = {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Post, Tag, User, PostAuthor, PostTag)
    }
    db.session.rollback()
    return counts


def load(path: Path) -> dict:
    return json.loads(path.read_text())
