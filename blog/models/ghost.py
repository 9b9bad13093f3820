"""What moving from and to Ghost keeps: Content API integrations and imported image paths."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from blog.models.base import Base, utcnow


class Integration(Base):
    """A custom integration (Ghost's term): a name and the Content API key it reads with.

    The key is 26 lowercase hex characters, the shape Ghost's client accepts. Content API keys
    are public by design (they sit in a theme's pages), so the key is stored as it is.
    """

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(191))
    content_key: Mapped[str] = mapped_column(String(26), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GhostImage(Base):
    """An image a Ghost import brought: its old path under /content/images/ and its new URL."""

    __tablename__ = "ghost_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(500), unique=True, index=True)
    url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
