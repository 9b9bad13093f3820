"""Fixtures for the fault and contention tests: a real SQLite write lock held from outside the
app, and a tiny tmpfs that is full."""

import contextlib
import os
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from blog.extensions import db


class HeldLock:
    """SQLite's write lock, taken by another connection (as another gunicorn worker would)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None
        self.guard = threading.Lock()

    def take(self) -> None:
        with self.guard:
            if self.conn is None:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                       check_same_thread=False)  # fmt: skip
                conn.execute("BEGIN IMMEDIATE")
                self.conn = conn

    def release(self) -> None:
        with self.guard:
            if self.conn is not None:
                self.conn.execute("ROLLBACK")
                self.conn.close()
                self.conn = None

    def is_free(self) -> bool:
        """Tell whether nobody holds the write lock now (tries to take it, without waiting)."""
        conn = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            conn.close()


@pytest.fixture
def sqlite_lock(app, database):
    """A HeldLock on the app's SQLite file (SQLite only: PostgreSQL has no database lock)."""
    if database != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    lock = HeldLock(db.engine.url.database)
    yield lock
    lock.release()


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "2m"):
    """Mount a tmpfs of size at path (root only; skips the test elsewhere), unmount after."""
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                            capture_output=True, text=True)  # fmt: skip
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system folder is on until it has no space left; return the filler file."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler
