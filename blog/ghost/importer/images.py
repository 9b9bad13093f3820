"""Importing the images of a Ghost zip: each stored once, and remembered by its Ghost path."""

from __future__ import annotations

import io

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from blog.extensions import db
from blog.ghost.importer.run import ImportRun
from blog.models import GhostImage


def import_images(run: ImportRun) -> None:
    """Store every image of the export not stored by an earlier run; count each in the report.

    An image that run.save_image refuses (UploadError, or anything Pillow raises on a bad file)
    is skipped with its reason. Each stored image is committed at once: its file is on disk.
    """
    known = dict(db.session.execute(select(GhostImage.path, GhostImage.url)).all())
    run.images.update(known)
    for path in sorted(run.export.images):
        key = path.lower()
        if key in known:
            run.report.count("image", "unchanged")
            continue
        try:
            data = run.export.read_image(path)
            url = run.save_image(FileStorage(io.BytesIO(data), filename=_file_name(path)))
        except Exception as error:  # UploadError, or anything Pillow raises on a bad file
            run.report.count("image", "skipped", f"{path}: {getattr(error, 'message', error)}")
            continue
        db.session.add(GhostImage(path=key[:500], url=url))
        db.session.commit()  # the file is on disk: record it at once
        run.images[key] = url
        run.report.count("image", "imported")
    db.session.commit()


def _file_name(path: str) -> str:
    """The file name part of an image path, as a browser would send it."""
    return path.rsplit("/", 1)[-1]
