"""Keeping SQLite's write lock short: slow work (rendering 500 KB of Markdown, re-encoding an
image) runs between transactions, never inside one.

On SQLite a request that may write begins with BEGIN IMMEDIATE (blog.extensions), and the
user loader's query already begins it, so every POST holds the one write lock from its first
query to its commit. A view ends that read-only start with release_write_lock() before its
slow work; its next query begins the write transaction again, which then lasts milliseconds.
"""

from blog.extensions import db


def release_write_lock() -> None:
    """End the request's transaction so far; it must not have written anything.

    Loaded objects are expired and reload with the next query (in a new transaction).
    """
    db.session.rollback()
