"""Importing a Ghost export: settings, staff users, tags, posts and pages, their joins, and the
zip's images.

Real exports are messy (Ghost's own importer tests carry duplicate join rows, joins to missing
posts and users, two users with one address, posts without authors); none of that stops an
import. Every row ends up counted in a Report as imported, updated, unchanged or skipped, with
the reason for each skip.

Running an import again adds nothing: rows are matched to what an earlier run stored, by
Ghost's ObjectId (kept in `ghost_id`), then the post's uuid, then the slug (users: the
address; tags: the slug). The steps, in the order they run: images.py, settings.py, staff.py,
tags.py, posts.py (whose bodies body.py renders); run.py holds one run's state, report.py the
Report.
"""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.datastructures import FileStorage

from blog import images as uploads
from blog.ghost.importer.images import import_images
from blog.ghost.importer.posts import import_posts
from blog.ghost.importer.report import Report
from blog.ghost.importer.run import ImportRun
from blog.ghost.importer.settings import import_settings
from blog.ghost.importer.staff import import_users
from blog.ghost.importer.tags import import_tags
from blog.ghost.reader import Export

__all__ = ["Report", "import_export"]


def import_export(
    export: Export,
    batch_size: int = 100,
    progress: Callable[[int], None] | None = None,
    save_image: Callable[[FileStorage], str] | None = None,
) -> Report:
    """Import a read Ghost export into the blog; return the Report.

    batch_size: posts per transaction. progress(n) is called after every n posts handled.
    save_image(file) stores one image and returns its URL (default: blog.images.save_image,
    which checks, re-encodes and stores it in our uploads). Commits as it goes; rows of a failed
    batch are rolled back and reported, never left half-written.
    """
    run = ImportRun(export, Report(), save_image or uploads.save_image)
    try:
        import_images(run)
    finally:
        export.close()
    import_settings(run)
    import_users(run)
    import_tags(run)
    import_posts(run, max(1, batch_size), progress or (lambda n: None))
    return run.report
