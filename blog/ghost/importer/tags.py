"""Importing Ghost's tags: matched by Ghost's ObjectId, then by slug; two with one slug merge."""

from __future__ import annotations

from sqlalchemy import select

from blog import slugs
from blog.extensions import db
from blog.ghost.importer.run import ImportRun, assign, clip, ghost_id, url_field
from blog.models import Tag


def import_tags(run: ImportRun) -> None:
    """Create or update a tag per Ghost tag row; fill run.tags; commit."""
    report = run.report
    claimed: set[int] = set()
    for row in run.export.rows("tags"):
        source = str(row.get("id"))
        slug = slugs.slugify(str(row.get("slug") or row.get("name") or ""))
        if not slug:
            report.count("tag", "skipped", f"{source}: no name or slug")
            continue
        found_id = ghost_id(row.get("id"))
        tag = db.session.scalar(select(Tag).where(Tag.ghost_id == found_id)) if found_id else None
        tag = tag or db.session.scalar(select(Tag).where(Tag.slug == slug))
        if tag is not None and tag.id in claimed:
            run.tags[source] = tag.id
            report.count("tag", "skipped", f"{slug}: a second tag with this slug; merged")
            continue
        values = {
            "name": clip(row.get("name") or slug, 191),
            "description": clip(row.get("description"), 5000),
            "feature_image": url_field(row.get("feature_image"), run),
        }
        if tag is None:
            tag = Tag(slug=slug[:191], **values)
            if found_id and not db.session.scalar(select(Tag.id).where(Tag.ghost_id == found_id)):
                tag.ghost_id = found_id
            db.session.add(tag)
            db.session.flush()
            report.count("tag", "imported")
        else:
            report.count("tag", "updated" if assign(tag, values) else "unchanged")
        claimed.add(tag.id)
        run.tags[source] = tag.id
    db.session.commit()
