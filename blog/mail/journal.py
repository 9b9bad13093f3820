"""A record of what left: the Message-ID of each message the mail server accepted but the
database could not be told about at once (SQLite locked, PostgreSQL unreachable).

SMTP cannot be exactly-once: between the server's 250 and the "sent" mark in the database lies
a window. When that mark fails, the sender writes the Message-ID here (flushed to disk) before
it retries the mark; any sender that later holds the same row (its lease ran out, or this
process died) finds it here and marks the row sent instead of sending it again. Only failed
marks are written, so the file stays small. Senders on one machine share it
(instance/mail/sent-journal); fcntl locks keep appends and pruning apart. What stays open is
the process dying between the 250 and its first mark (SECURITY.md: at most the message in
flight), and, with several machines on one PostgreSQL, a claim from another machine.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)
KEEP_SECONDS = 24 * 3600  # far longer than any lease: an unknown outcome is settled by then


def path() -> Path:
    """Return the journal's path (instance/mail/sent-journal), creating its folder."""
    folder = Path(current_app.instance_path) / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "sent-journal"


def record(message_id: str) -> bool:
    """Append message_id, flushed to disk; False (and logged) when it could not be written."""
    line = f"{int(time.time())} {message_id}\n".encode()
    try:
        fd = os.open(path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        log.exception("Could not note that %s was sent", message_id)
        return False
    return True


def sent_ids() -> set[str]:
    """Return every Message-ID the journal holds."""
    try:
        with open(path(), "rb") as journal:
            fcntl.flock(journal, fcntl.LOCK_SH)
            lines = journal.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return set()
    return {line.split(" ", 1)[1] for line in lines if " " in line}


def prune(keep_seconds: int = KEEP_SECONDS) -> None:
    """Drop entries older than keep_seconds (their rows were marked sent long ago)."""
    try:
        with open(path(), "r+b") as journal:
            fcntl.flock(journal, fcntl.LOCK_EX)
            cutoff = time.time() - keep_seconds
            lines = journal.read().splitlines(keepends=True)
            kept = [ln for ln in lines if ln.split(b" ", 1)[0].isdigit()
                    and int(ln.split(b" ", 1)[0]) >= cutoff]  # fmt: skip
            if len(kept) != len(lines):
                journal.seek(0)
                journal.write(b"".join(kept))
                journal.truncate()
    except FileNotFoundError:
        pass
    except OSError:
        log.exception("Could not prune the sent-mail journal")
