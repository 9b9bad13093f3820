"""The authoring screens under /admin/: views, forms and templates over the services of
blog.posts (writing, the staff's list), blog.settings and the other blueprints."""

from flask import Flask

from blog.admin import (  # noqa: F401 (they add routes)
    editor,
    history,
    integrations,
    profile,
    settings,
    sharing,
    staff,
    tags,
)
from blog.admin.views import bp, no_store

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    """Wire the admin's app-wide parts: no-store on staff and sign-in pages (and private on
    signed-in reader pages) after every request, and share_token for preview-link templates."""
    app.after_request(no_store)
    app.add_template_global(sharing.share_token, "share_token")
