"""The issue 10 acceptance run, on 127.0.0.1 only and bounded in count and time: 4 gunicorn
workers over one SQLite file take 200 concurrent subscribes while two writers save 500 KB posts
and readers read. Readers get no 5xx, every reply tells the truth about what was stored (303:
there once; 503: not there, and a retry stores it once), and no mail goes out twice."""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, func, select, text

from blog import create_app
from blog.accounts import create_user
from blog.extensions import db
from blog.models import OutboxMessage, Post, Subscriber
from conftest import PASSWORD, ROOT, free_port

pytestmark = pytest.mark.slow

SUBSCRIBES = 200
WRITERS = 2
POSTS_PER_WRITER = 2
BODY = "A paragraph of **Markdown** with a [link](https://example.com/) in it. " * 7 + "\n\n"
BIG_MARKDOWN = BODY * (500_000 // len(BODY))  # about 500 KB


class Browser:
    """A tiny HTTP client with a cookie jar (http.client: redirects are not followed)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.headers, data.decode(errors="replace")

    def token(self, path: str) -> str:
        status, _, page = self.request("GET", path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]


@pytest.fixture
def site(tmp_path, smtp_sink, monkeypatch):
    """Gunicorn, 4 sync workers, on a free loopback port, over a fresh SQLite file."""
    port = free_port()
    instance = tmp_path / "instance"
    env = {
        **os.environ,
        "BLOG_INSTANCE_PATH": str(instance),
        "BLOG_SITE_URL": f"http://127.0.0.1:{port}",
        "BLOG_MAIL_SERVER": smtp_sink.host,
        "BLOG_MAIL_PORT": str(smtp_sink.port),
        "BLOG_MAIL_POLL_SECONDS": "1",
        "BLOG_SQLITE_BUSY_TIMEOUT_MS": "300",  # short: some writes get 503, and must say so
        "BLOG_NEWSLETTER_SUBSCRIBE_LIMIT_PER_IP": "100000 per minute",
        "BLOG_NEWSLETTER_SUBSCRIBE_LIMIT_PER_ADDRESS": "100000 per minute",
    }
    env.pop("DATABASE_URL", None)
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(instance))
    setup = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///blog.sqlite",
                        "SITE_URL": env["BLOG_SITE_URL"]})  # fmt: skip
    assert setup.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with setup.app_context():
        create_user("writer@example.com", "Writer", "owner", PASSWORD)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = (tmp_path / "gunicorn.log").open("wb")  # a file, not a pipe nobody reads: it never fills
    server = subprocess.Popen(
        [str(gunicorn), "-w", "4", "-b", f"127.0.0.1:{port}", "--timeout", "120",
         "--graceful-timeout", "5", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert server.poll() is None, errors(tmp_path)
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield port, instance / "blog.sqlite"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def errors(tmp_path) -> str:
    """The end of the server's error log (its tracebacks), for a failed assertion's message."""
    return (tmp_path / "gunicorn.log").read_text(errors="replace")[-3000:]


def test_subscribes_writers_and_readers_at_once_on_four_workers(site, smtp_sink, tmp_path):
    port, database = site
    stop = threading.Event()
    reader_statuses: Counter = Counter()
    lock = threading.Lock()

    def read():
        browser = Browser(port)
        paths = ["/", "/newsletter/", "/rss/"]
        n = 0
        while not stop.is_set() and n < 2000:
            status, _, _ = browser.request("GET", paths[n % len(paths)])
            with lock:
                reader_statuses[status] += 1
            n += 1

    def subscribe(n: int):
        address = f"reader{n}@example.com"
        status, _, _ = Browser(port).request("POST", "/newsletter/", {"email": address})
        return address, status

    saves: list[tuple[str, int]] = []

    def write(w: int):
        browser = Browser(port)
        token = browser.token("/login")
        for _attempt in range(5):  # a 503 (the lock was busy past the timeout) signed no one in
            status, _, _ = browser.request(
                "POST",
                "/login",
                {"csrf_token": token, "email": "writer@example.com", "password": PASSWORD},
            )
            if status != 503:
                break
        assert status == 303
        token = browser.token("/admin/posts/new")
        for k in range(POSTS_PER_WRITER):
            title = f"Writer {w} post {k}"
            for _attempt in range(5):  # a 503 stored nothing: the same save again
                status, _, _ = browser.request("POST", "/admin/posts/new", {
                    "csrf_token": token, "title": title, "markdown": BIG_MARKDOWN,
                    "action": "publish"})  # fmt: skip
                with lock:
                    saves.append((title, status))
                if status != 503:
                    break

    readers = [threading.Thread(target=read) for _ in range(3)]
    writers = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in readers + writers:
        thread.start()
    with ThreadPoolExecutor(max_workers=50) as pool:
        subscribed = list(pool.map(subscribe, range(SUBSCRIBES)))
    for thread in writers:
        thread.join(timeout=240)
    stop.set()
    for thread in readers:
        thread.join(timeout=60)

    print(
        f"readers: {dict(reader_statuses)}; subscribes: "
        f"{dict(Counter(s for _, s in subscribed))}; saves: {saves}"
    )  # shown with -s
    # Readers: never a 5xx.
    assert sum(reader_statuses.values()) > 0
    assert {s for s in reader_statuses if s >= 500} == set(), (reader_statuses, errors(tmp_path))

    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            stored = set(conn.scalars(select(Subscriber.email)))
            titles = Counter(conn.scalars(select(Post.title)))
        # Subscribes: 303 means stored, 503 means not; nothing else.
        for address, status in subscribed:
            assert status in (303, 503), (address, status, errors(tmp_path))
            assert (address in stored) == (status == 303), (address, status)
        # Writers: every title saved exactly once, after however many 503s.
        for title, status in saves:
            assert status in (303, 503), (title, status, errors(tmp_path))
        for w in range(WRITERS):
            for k in range(POSTS_PER_WRITER):
                title = f"Writer {w} post {k}"
                assert titles[title] == (1 if (title, 303) in saves else 0), title

        # Mail: every stored subscriber gets one confirmation, none twice.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                waiting = conn.scalar(
                    select(func.count()).select_from(OutboxMessage)
                    .where(OutboxMessage.status.in_(("queued", "sending")))
                )  # fmt: skip
            if not waiting:
                break
            time.sleep(0.5)
        assert waiting == 0
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        engine.dispose()
    with smtp_sink.lock:
        raw = [content for _, _, content in smtp_sink.messages]
    messages = [message_from_bytes(r, policy=policy.default) for r in raw]
    ids = Counter(m["Message-ID"] for m in messages)
    recipients = Counter(m["To"] for m in messages)
    assert [i for i, n in ids.items() if n > 1] == []
    assert [r for r, n in recipients.items() if n > 1] == []
    assert set(recipients) == stored
