"""The newsletter: subscribe, confirm, unsubscribe, the subscriber list, and queueing a post's
deliveries (blog.mail composes and sends them)."""

from flask import Flask

from blog.newsletter import admin, commands  # noqa: F401 (admin: the staff routes on bp)
from blog.newsletter.services import queue_post_newsletter
from blog.newsletter.views import bp

__all__ = ["bp", "init_app", "queue_post_newsletter"]


def init_app(app: Flask) -> None:
    """Wire the newsletter's app-wide parts: its subscriber commands."""
    commands.init_app(app)
