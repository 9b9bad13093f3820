"""The authoring screens under /admin/ (plus the files they publish: uploads, theme.css)."""

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
from blog.admin.views import bp

__all__ = ["bp"]
