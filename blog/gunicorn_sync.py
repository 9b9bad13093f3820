"""Gunicorn's sync worker, closing a finished connection at once when nothing is left to read.

Gunicorn 27 ends every connection with a lingering close (RFC 9112, section 9.6): it shuts its
sending side, then waits for the client's FIN, reading and dropping whatever arrives, before it
closes. That keeps a close from turning into a reset that could destroy the response while
request bytes are still unread, but the worker waits on every client: under load a quarter to a
third of a cached page's time (bench/README.md). nginx lingers only when the client may still be
sending ("lingering_close auto"); so does this worker. A request without a body whose
connection has nothing unread when the response is done is closed at once: the kernel sends a
FIN behind the response, as any server's close does, and there is nothing to reset it. Anything
else (a request with a body, bytes waiting, an error, a TLS connection gunicorn terminates
itself) keeps gunicorn's lingering close.

Measured on 2 cores, wrk at 16 connections, the two workers side by side in alternating 5 s
runs (median of 3): a cached post page 9,775 -> 11,590 requests/s, Flask's hello 8,244 -> 9,043,
uncached pages +0-4% (their time is the app's). Behind Caddy or nginx the proxy is the client;
it closes its side at once, so there the gain is smaller.
"""

from __future__ import annotations

import socket

from gunicorn.workers import sync

_BODY_HEADERS = frozenset(("CONTENT-LENGTH", "TRANSFER-ENCODING"))


class SyncWorker(sync.SyncWorker):
    """gunicorn.workers.sync.SyncWorker, closing at once when a lingering close has nothing
    to wait for (the module's rules). Use it as `-k blog.gunicorn_sync.SyncWorker` or
    worker_class in gunicorn.conf.py."""

    def handle_request(self, listener, req, client, addr):
        super().handle_request(listener, req, client, addr)
        # Reached only when the response went out whole. Gunicorn's lingering close runs after
        # this: on a socket closed here it is a no-op (its shutdown fails, it returns).
        if (
            type(client) is socket.socket  # not TLS: an SSLSocket takes no recv flags
            and not any(name in _BODY_HEADERS for name, _ in req.headers)
            and not _unread(client)
        ):
            client.close()


def _unread(client: socket.socket) -> bool:
    """Tell whether bytes the client sent are waiting to be read on client (a peek: nothing is
    consumed). A client that has closed its side has nothing waiting."""
    try:
        return bool(client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except BlockingIOError:
        return False
    except OSError:
        return True  # whatever went wrong, leave the close to gunicorn's careful path
