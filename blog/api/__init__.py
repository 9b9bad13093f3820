"""Ghost's Content API at /ghost/api/content/, for Ghost's clients, themes and site generators."""

from blog.api.views import bp

__all__ = ["bp"]
