"""The newsletter: subscribe, confirm, unsubscribe, the subscriber list, and queueing a post's
deliveries (blog.mail composes and sends them)."""

# Importing these registers the staff routes and the subscriber list commands on bp.
from blog.newsletter import admin, commands  # noqa: F401
from blog.newsletter.services import queue_post_newsletter
from blog.newsletter.views import bp

__all__ = ["bp", "queue_post_newsletter"]
