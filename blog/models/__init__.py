"""All models. Each module holds one area; import them here so metadata sees every table."""

from blog.models.admin import Invite, RateLimitHit, Setting, SlugRedirect
from blog.models.base import Base, utcnow
from blog.models.content import ROLES, Post, PostAuthor, PostTag, Tag, User
from blog.models.editor import PostRevision
from blog.models.ghost import GhostImage, Integration
from blog.models.newsletter import OutboxMessage, Subscriber
from blog.models.search import SEARCH_TABLE

__all__ = [
    "ROLES",
    "SEARCH_TABLE",
    "Base",
    "GhostImage",
    "Integration",
    "Invite",
    "OutboxMessage",
    "Post",
    "PostAuthor",
    "PostRevision",
    "PostTag",
    "RateLimitHit",
    "Setting",
    "SlugRedirect",
    "Subscriber",
    "Tag",
    "User",
    "utcnow",
]
