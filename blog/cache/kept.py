"""Kept responses: the response cache's entries, in this process's memory or in Redis.

Entries are filed under a generation number (blog.cache.generations): a store that sees a new
number drops what it held, and Redis keys carry the number, so a new generation makes every
kept response stale at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class KeptResponse:
    """A kept response: status line, headers (with ETag and Last-Modified) and body bytes."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    etag: str  # unquoted
    last_modified: int

    def encode(self) -> bytes:
        """The response as stored in Redis: a 4-byte head length, the head (latin-1), the body."""
        head = "\n".join([self.status, self.etag, str(self.last_modified)])
        head += "".join(f"\n{name}: {value}" for name, value in self.headers)
        raw = head.encode("latin-1")
        return len(raw).to_bytes(4, "big") + raw + self.body

    @classmethod
    def decode(cls, data: bytes) -> KeptResponse:
        """Read what encode() wrote."""
        size = int.from_bytes(data[:4], "big")
        status, etag, modified, *lines = data[4 : 4 + size].decode("latin-1").split("\n")
        headers = tuple(tuple(line.split(": ", 1)) for line in lines)
        return cls(status, headers, data[4 + size :], etag, int(modified))  # type: ignore[arg-type]


class MemoryResponses:
    """Responses kept in this process, least recently used dropped past max_bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.generation = -1
        self.responses: OrderedDict[tuple, KeptResponse] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, generation: int, key: tuple) -> KeptResponse | None:
        """Return the response kept under key in generation, or None (and forget an older one)."""
        with self.lock:
            if generation != self.generation:  # a new generation: everything kept is stale
                self.responses.clear()
                self.size = 0
                self.generation = generation
                return None
            kept = self.responses.get(key)
            if kept is not None:
                self.responses.move_to_end(key)
            return kept

    def put(self, generation: int, key: tuple, kept: KeptResponse) -> None:
        """Keep a response (unless over an eighth of max_bytes or of an older generation)."""
        cost = len(kept.body) + 512
        if cost > self.max_bytes // 8:
            return
        with self.lock:
            if generation != self.generation:
                return  # rendered under a generation that is no longer current: never keep it
            old = self.responses.pop(key, None)
            if old is not None:
                self.size -= len(old.body) + 512
            self.responses[key] = kept
            self.size += cost
            while self.size > self.max_bytes and self.responses:
                _, dropped = self.responses.popitem(last=False)
                self.size -= len(dropped.body) + 512


class RedisResponses:
    """Responses kept in Redis for ttl seconds (shared by every machine), with a copy in memory."""

    def __init__(self, redis_client, prefix: str, ttl: int, local: MemoryResponses) -> None:
        self.redis = redis_client
        self.prefix = prefix
        self.ttl = ttl
        self.local = local

    def _key(self, generation: int, key: tuple) -> str:
        host, htmx, url = key
        return f"{self.prefix}{generation}:{int(htmx)}:{host}{url}"

    def get(self, generation: int, key: tuple) -> KeptResponse | None:
        """Return the response kept under key, from memory or else Redis; None when not kept.
        Raises redis.RedisError when Redis is away."""
        kept = self.local.get(generation, key)
        if kept is None:
            data = self.redis.get(self._key(generation, key))
            if data is not None:
                kept = KeptResponse.decode(data)
                self.local.put(generation, key, kept)
        return kept

    def put(self, generation: int, key: tuple, kept: KeptResponse) -> None:
        """Keep a response in memory and in Redis for ttl seconds; raises redis.RedisError."""
        self.local.put(generation, key, kept)
        self.redis.set(self._key(generation, key), kept.encode(), ex=self.ttl)

