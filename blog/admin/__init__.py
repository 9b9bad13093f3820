"""The authoring screens under /admin/ (plus the files they publish: uploads, theme.css)."""

from blog.admin import editor, profile, settings, staff  # noqa: F401 (they add routes to bp)
from blog.admin.views import bp

__all__ = ["bp"]
