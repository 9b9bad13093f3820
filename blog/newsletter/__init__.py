"""The newsletter: subscribe, confirm, unsubscribe, and posts mailed to subscribers."""

# Importing these registers the staff routes, the commands, the sender hooks and the renderer.
from blog.newsletter import admin, commands, emails, sender  # noqa: F401
from blog.newsletter.services import queue_post_newsletter
from blog.newsletter.views import bp

__all__ = ["bp", "queue_post_newsletter"]
