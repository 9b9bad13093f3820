"""The authoring screens under /admin/ (plus the files they publish: uploads, theme.css)."""

from blog.admin import editor, integrations, profile, settings, staff, tags  # noqa: F401 (they add routes)
from blog.admin.views import bp

__all__ = ["bp"]
