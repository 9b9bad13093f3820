"""Content generations: a counter shared by every worker that says when reader content changed.

The generation lives in a small file in the instance folder (every worker on one machine) or in
one Redis key when REDIS_URL is set (every machine). Moving it on makes every kept page stale at
once, with no key to scan.
"""

from __future__ import annotations

import fcntl
import math
import os
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

from blog.cache import clock


@dataclass(frozen=True)
class Generation:
    """One content generation: number (bumped on every change), last_modified and next_go_live
    (Unix seconds of the next scheduled post's publication; None: none is scheduled; -1: not
    looked up yet, which the first request does).

    last_modified is the whole second after the change, plus one: every copy a client got
    before the change carries an earlier Last-Modified (sent as at most the current time), so
    If-Modified-Since stays correct with one-second dates even when changes come quickly.
    """

    number: int
    last_modified: int
    next_go_live: float | None

    def header_time(self) -> int:
        """Last-Modified as sent now: never in the future (RFC 9110 8.8.2.1)."""
        return min(self.last_modified, int(clock.now()))

    def encode(self) -> str:
        """The generation as stored: "number last_modified next_go_live" (0: none)."""
        return f"{self.number} {self.last_modified} {self.next_go_live or 0}"

    @classmethod
    def decode(cls, text: str | bytes | None) -> Generation | None:
        """Read what encode() wrote; None when there is nothing or it is unreadable."""
        if not text:
            return None
        if isinstance(text, bytes):
            text = text.decode()
        try:
            number, modified, go_live = text.split()
            return cls(int(number), int(modified), float(go_live) or None)
        except ValueError:
            return None


class FileGenerations:
    """The generation in a small file: shared by every worker on one machine."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._held: tuple[int, Generation | None] | None = None  # the file read last, open
        self._holding = threading.Lock()
        weakref.finalize(self, _close_held, self.__dict__)

    def read(self) -> Generation | None:
        """Return the current generation, or None when the file is not there yet.

        Every request asks, so the file read last is kept open and read again only once it
        has been replaced: bump() renames a new file over it, which leaves the open one with
        no name (st_nlink 0). An fstat costs a tenth of an open, read and close, and while the
        old file is open its inode cannot be reused, so a replacement is never missed.
        """
        with self._holding:
            if self._held is not None:
                if os.fstat(self._held[0]).st_nlink:
                    return self._held[1]
                os.close(self._held[0])
                self._held = None
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                return None
            found = Generation.decode(os.read(fd, 256))
            self._held = (fd, found)
            return found

    def start(self) -> None:
        """Create the file when there is none, with the next go-live still to be looked up
        (-1: the first request does), so reading a page never adds a file."""
        self.lock_path.touch()
        try:
            with open(self.path, "x") as file:
                file.write(Generation(1, math.ceil(clock.now()) + 1, -1).encode())
        except FileExistsError:
            pass

    def bump(self, moment: float, next_go_live: float | None) -> Generation:
        """Write the next generation for a change at moment (Unix seconds); return it."""
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one bump at a time: numbers never repeat
            old = self.read()
            new = next_generation(old, moment, next_go_live)
            draft = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
            draft.write_text(new.encode())
            os.replace(draft, self.path)
        return new


class RedisGenerations:
    """The generation in one Redis key: shared by every worker on every machine."""

    BUMP = """
    local old = redis.call('GET', KEYS[1])
    local number = 0
    if old then number = tonumber(string.match(old, '^(%d+)')) or 0 end
    local value = string.format('%d %s %s', number + 1, ARGV[1], ARGV[2])
    redis.call('SET', KEYS[1], value)
    return value
    """

    def __init__(self, redis_client, key: str) -> None:
        self.redis = redis_client
        self.key = key
        self._bump = redis_client.register_script(self.BUMP)

    def read(self) -> Generation | None:
        """Return the current generation, or None when the key is not set yet."""
        return Generation.decode(self.redis.get(self.key))

    def bump(self, moment: float, next_go_live: float | None) -> Generation:
        """Move the key on atomically (a Lua script) for a change at moment; return it."""
        value = self._bump(keys=[self.key], args=[math.ceil(moment) + 1, repr(next_go_live or 0)])
        return Generation.decode(value)


def _close_held(state: dict) -> None:
    """Close the file a FileGenerations kept open, when it is collected."""
    held = state.get("_held")
    if held is not None:
        os.close(held[0])


def next_generation(
    old: Generation | None, moment: float, next_go_live: float | None
) -> Generation:
    """The generation after old (None: the first), for a change at moment (Unix seconds)."""
    return Generation((old.number if old else 0) + 1, math.ceil(moment) + 1, next_go_live)

