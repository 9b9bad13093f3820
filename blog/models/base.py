"""The declarative base and the one clock every timestamp comes from."""

import secrets
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Return the current time in UTC, naive, as every column stores it."""
    return datetime.now(UTC).replace(tzinfo=None)


def object_id() -> str:
    """Return a new id shaped like Ghost's (a MongoDB ObjectId): 24 lowercase hex characters,
    the first 8 the creation time in seconds, the rest random."""
    return f"{int(time.time()):08x}{secrets.token_hex(8)}"


def new_uuid() -> str:
    """Return a random UUID as text, the form Ghost gives every post."""
    return str(uuid.uuid4())
