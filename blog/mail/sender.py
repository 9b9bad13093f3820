"""Who works through the outbox: `flask worker` (blog.mail.commands), or a thread inside each
web process.

The thread starts with a process's first request (never at import, so nothing touches the
database before gunicorn forks its workers) and is woken by any request that queued mail.
Each web worker has its own; claims are atomic, so several never send the same row. Under
TESTING it starts only once a request queues mail and stops when the outbox is drained.
init_app(app) wires this into the app (create_app calls it).
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask, Response, current_app

from blog.extensions import db
from blog.mail import newsletter
from blog.mail.delivery import Report, deliver_due
from blog.mail.outbox import QUEUED, purge_finished, register_renderer
from blog.newsletter.services import purge_pending
from blog.posts.scheduling import publish_due_posts

log = logging.getLogger(__name__)
PURGE_EVERY = 600  # seconds between purges: stale pending subscribers, old finished mail


def run_parallel(app: Flask, stop: threading.Event, *, burst: bool, connections: int) -> Report:
    """Run `connections` senders at once in threads, each with its own SMTP connection, and
    return their summed report. Claims are atomic, so no two threads send the same row; only
    the first purges. With burst, the first error any thread met is raised after all stop."""
    if connections <= 1:
        return run(app, stop, burst=burst)
    reports = [Report() for _ in range(connections)]
    errors: list[BaseException] = []

    def one(index: int) -> None:
        try:
            reports[index] = run(app, stop, burst=burst, purge=index == 0)
        except BaseException as error:  # reported by the caller's thread
            errors.append(error)
            stop.set()

    threads = [
        threading.Thread(target=one, args=(n,), name=f"mail-sender-{n}", daemon=True)
        for n in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():  # join in slices, so SIGTERM / Ctrl+C are handled at once
            thread.join(0.2)
    if errors:
        raise errors[0]
    total = Report()
    for report in reports:
        total.add(report)
    return total


def run(
    app: Flask,
    stop: threading.Event,
    *,
    burst: bool = False,
    wake: threading.Event | None = None,
    purge: bool = True,
) -> Report:
    """Deliver due mail until stopped (with burst: until none is due); purge what is stale."""
    total = Report()
    last_purge = -PURGE_EVERY if purge else float("inf")
    last_error = None
    while not stop.is_set():
        if wake is not None:
            wake.clear()
        try:
            with app.app_context():
                publish_due_posts()  # scheduled posts go live, their newsletters queue
                db.session.commit()  # (and SQLite's write lock is not held meanwhile)
                total.add(deliver_due(stop=stop))
                if time.monotonic() - last_purge >= PURGE_EVERY:
                    last_purge = time.monotonic()
                    if purged := purge_pending():
                        log.info("Purged %s unconfirmed subscribers", purged)
                    purge_finished()
                    db.session.commit()
            last_error = None
        except Exception as error:  # keep sending; report each new kind of failure once
            if burst:
                raise
            if repr(error) != last_error:
                log.exception("The mail sender failed; it tries again shortly")
            last_error = repr(error)
        if burst:
            break
        (wake or stop).wait(app.config["MAIL_POLL_SECONDS"])
    return total


class BackgroundSender:
    """The outbox sender thread of one web process."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.burst = app.testing
        self.lock = threading.Lock()
        self.wake_event = threading.Event()
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid: int | None = None

    def running(self) -> bool:
        thread = self.thread
        return thread is not None and self.pid == os.getpid() and thread.is_alive()

    def start(self) -> None:
        """Start the thread in this process unless it runs already."""
        if self.running():
            return
        with self.lock:
            if not self.running():
                self.stop_event.clear()
                self.pid = os.getpid()  # a forked child starts its own
                self.thread = threading.Thread(target=self._loop, name="mail-sender", daemon=True)
                self.thread.start()

    def wake(self) -> None:
        """Have the thread look at the outbox now."""
        with self.lock:
            self.wake_event.set()
        self.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop the thread after the message in hand."""
        self.stop_event.set()
        self.wake_event.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def _loop(self) -> None:
        while True:
            run(self.app, self.stop_event, burst=self.burst, wake=self.wake_event)
            with self.lock:  # decide to end under the lock wake() sets the flag under
                if self.stop_event.is_set() or not self.wake_event.is_set():
                    self.thread = None
                    return


def sender_for(app: Flask) -> BackgroundSender:
    """Return the app's background sender (one per app, created on first use)."""
    sender = app.extensions.get("mail_sender")
    if sender is None:
        sender = app.extensions.setdefault("mail_sender", BackgroundSender(app))
    return sender


def init_app(app: Flask) -> None:
    """Start this process's sender with its first request and wake it after a request that
    queued mail; register the newsletter issue's renderer (blog.mail.newsletter)."""
    register_renderer("newsletter", newsletter.prepare)
    app.before_request(_start_background_sender)
    app.after_request(_wake_background_sender)


def _start_background_sender() -> None:
    """Start this process's sender with its first request (outside TESTING)."""
    app = current_app._get_current_object()
    if app.config["MAIL_BACKGROUND_SENDER"] and not app.testing:
        sender_for(app).start()


def _wake_background_sender(response: Response) -> Response:
    """Send what this request queued (blog.mail.outbox.note_queued) within seconds, without
    waiting for the next poll."""
    registry = db.session.registry
    # A request that never opened a session (most reader pages) queued nothing; asking
    # db.session.info would create a session only to close it again (13 µs of robots.txt's 133).
    if not registry.has() or not registry().info.pop(QUEUED, False):
        return response
    app = current_app._get_current_object()
    if app.config["MAIL_BACKGROUND_SENDER"]:
        sender_for(app).wake()
    return response
