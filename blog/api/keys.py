"""Content API keys: custom integrations (Ghost's term), each with one public read-only key.

Ghost's client refuses any key that is not 26 hex characters before it sends a request
(@tryghost/content-api: /[0-9a-f]{26}/), so keys are 26 lowercase hex characters from the
operating system's random source.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select

from blog.extensions import db
from blog.models import Integration

KEY = re.compile(r"[0-9a-f]{26}")


class IntegrationError(ValueError):
    """An integration could not be created or found; the message says why."""


def create_integration(name: str) -> Integration:
    """Add an integration with a new Content API key; raise IntegrationError for a bad name.

    The name is 1-191 characters on one line. The caller commits.
    """
    name = (name or "").strip()
    if not name or len(name) > 191 or any(ch in name for ch in "\x00\r\n"):
        raise IntegrationError("Give the integration a name of 1 to 191 characters on one line.")
    integration = Integration(name=name, content_key=secrets.token_hex(13))
    db.session.add(integration)
    db.session.flush()
    return integration


def integrations() -> list[Integration]:
    """Every integration, oldest first."""
    return list(db.session.scalars(select(Integration).order_by(Integration.id)))


def revoke(key_or_id: str | int) -> Integration:
    """Delete the integration with this key or id, so its key stops working at once.

    Raises IntegrationError when there is none. The caller commits.
    """
    text = str(key_or_id).strip()
    column = Integration.id if text.isdigit() and len(text) < 12 else Integration.content_key
    value = int(text) if column is Integration.id else text
    found = db.session.scalar(select(Integration).where(column == value))
    if found is None:
        raise IntegrationError(f"No integration with key or id {text!r}.")
    db.session.delete(found)
    db.session.flush()
    return found


def key_is_valid(key: str) -> bool:
    """Tell whether key belongs to an integration (one indexed query; none for a misshapen key)."""
    if not KEY.fullmatch(key or ""):
        return False
    return (
        db.session.scalar(select(Integration.id).where(Integration.content_key == key)) is not None
    )
