"""Several machines, tested on one: two app servers as separate gunicorn processes on two ports,
sharing PostgreSQL, Redis and S3-compatible object storage, each with its own mail worker.

A post published on one is served fresh by the other on the very next request; the subscribe
limit counts requests to both; an image uploaded on one shows on the other; 1,000 newsletter
mails go out exactly once between the two workers."""

import io
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import OutboxMessage, Subscriber
from blog.newsletter import queue_post_newsletter
from conftest import PASSWORD, ROOT, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

requests = pytest.importorskip("requests")
SUBSCRIBERS = 1000


@pytest.fixture
def app_config(app_config, database):
    if database != "postgresql":
        pytest.skip("several servers share PostgreSQL (SQLite serves one machine)")
    app_config["MAIL_BACKGROUND_SENDER"] = False
    return app_config



def wait_until(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


class Cluster:
    """Two servers (gunicorn) and two mail workers (`flask worker`), all on one config."""

    def __init__(self, env: dict, tmp_path: Path) -> None:
        self.env, self.tmp_path = env, tmp_path
        self.processes: list[tuple[subprocess.Popen, object]] = []
        self.urls: list[str] = []

    def _start(self, name: str, argv: list[str]) -> subprocess.Popen:
        env = {**self.env, "BLOG_INSTANCE_PATH": str(self.tmp_path / name)}
        log = open(self.tmp_path / f"{name}.log", "w")
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append((process, log))
        return process

    def server(self, name: str) -> str:
        port = free_port()
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self._start(name, [gunicorn, "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"])
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _alive(url), seconds=60)
        return url

    def mail_worker(self, name: str) -> subprocess.Popen:
        return self._start(name, [sys.executable, "-m", "flask", "--app", "blog", "worker"])

    def stop(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.terminate()
        for process, log in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            log.close()


def _alive(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def cluster(app, app_config, tmp_path, redis_url, s3_bucket, smtp_sink):
    run = uuid.uuid4().hex
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "BLOG_SECRET_KEY": app.config["SECRET_KEY"],
        "BLOG_SITE_URL": "http://127.0.0.1",
        "BLOG_REDIS_URL": redis_url,
        "BLOG_RESPONSE_CACHE_PREFIX": f"test-{run}:",
        "BLOG_RATELIMIT_KEY_PREFIX": f"test-{run}",
        "BLOG_NEWSLETTER_SUBSCRIBE_LIMIT_PER_IP": "4 per minute",
        "BLOG_MAIL_SERVER": smtp_sink.host,
        "BLOG_MAIL_PORT": str(smtp_sink.port),
        "BLOG_MAIL_BACKGROUND_SENDER": "false",
        "BLOG_MAIL_POLL_SECONDS": "0.2",
        **{f"BLOG_{key}": value for key, value in s3_bucket.items()},
    }
    db.session.remove()
    running = Cluster(env, tmp_path)
    try:
        yield running
    finally:
        running.stop()
        import redis

        client = redis.Redis.from_url(redis_url)
        keys = [*client.scan_iter(f"test-{run}*")]
        if keys:
            client.delete(*keys)


def signed_in(url: str, email: str) -> requests.Session:
    """A browser session signed in as email on the server at url; .token is its CSRF token."""
    browser = requests.Session()
    login_form = browser.get(f"{url}/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_form)[1]
    answer = browser.post(
        f"{url}/login",
        data={"csrf_token": token, "email": email, "password": PASSWORD},
        allow_redirects=False,
    )
    assert answer.status_code in (302, 303), answer.text[:500]
    admin = browser.get(f"{url}/admin/").text
    browser.token = re.search(r'name="csrf_token" value="([^"]+)"', admin)[1]
    return browser


def test_two_servers_share_posts_cache_limits_images_and_the_newsletter(
    cluster, make_user, make_post, smtp_sink
):
    owner = make_user(role="owner", name="Olive Owner", slug="olive").email
    make_post("Already there")
    db.session.remove()
    one, two = cluster.server("server-one"), cluster.server("server-two")
    cluster.mail_worker("mail-one")
    cluster.mail_worker("mail-two")

    # The second server keeps its home page in the shared cache...
    assert requests.get(f"{two}/").headers["X-Cache"] in ("miss", "hit")
    assert requests.get(f"{two}/").headers["X-Cache"] == "hit"
    # ...and a post published on the first shows there on the very next request.
    writer = signed_in(one, owner)
    published = writer.post(
        f"{one}/admin/posts/new",
        data={"csrf_token": writer.token, "title": "Fresh on every server",
              "markdown": "Written on server one.", "action": "publish"},
        allow_redirects=False,
    )  # fmt: skip
    assert published.status_code == 303, published.text[:500]
    home = requests.get(f"{two}/")
    assert "Fresh on every server" in home.text and home.headers["X-Cache"] == "miss"
    assert requests.get(f"{two}/fresh-on-every-server/").status_code == 200

    # An image uploaded on the first is served by the second (both read the bucket).
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (640, 320), "teal").save(picture, "PNG")
    uploaded = writer.post(
        f"{one}/admin/uploads",
        data={"csrf_token": writer.token},
        files={"image": ("photo.png", picture.getvalue(), "image/png")},
    )
    assert uploaded.status_code == 201, uploaded.text[:500]
    image_url = re.search(r'<img src="(/uploads/[0-9a-f]{32}-\d+(?:x\d+)?\.\w+)"', uploaded.text)[1]
    there = requests.get(f"{two}{image_url}")
    assert there.status_code == 200 and there.headers["Content-Type"] == "image/png"
    assert there.content == requests.get(f"{one}{image_url}").content
    assert Image.open(io.BytesIO(there.content)).width == 640

    # The subscribe limit (4 a minute per address) counts requests to both servers together.
    statuses = Counter(
        requests.post(
            f"{(one, two)[n % 2]}/newsletter/",
            data={"email": f"visitor{n}@example.com"},
            allow_redirects=False,
        ).status_code
        for n in range(10)
    )
    assert statuses == {303: 4, 429: 6}

    # 1,000 confirmed subscribers: the two mail workers send each exactly one newsletter.
    db.session.add_all(
        Subscriber(email=f"reader{n:04d}@example.com", status="confirmed")
        for n in range(SUBSCRIBERS)
    )
    db.session.commit()
    post = make_post("The big issue")
    assert queue_post_newsletter(post) == SUBSCRIBERS
    db.session.commit()

    def all_sent() -> bool:
        pending = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
        )
        db.session.commit()
        return pending == 0

    wait_until(all_sent, seconds=240)
    with smtp_sink.lock:
        recipients = Counter(to for _, tos, _ in smtp_sink.messages for to in tos)
    newsletter = {to: n for to, n in recipients.items() if to.startswith("reader")}
    assert sorted(newsletter) == [f"reader{n:04d}@example.com" for n in range(SUBSCRIBERS)]
    assert set(newsletter.values()) == {1}
    senders = {
        claimed_by.split(":")[1]
        for claimed_by in db.session.scalars(select(OutboxMessage.claimed_by).distinct())
        if claimed_by
    }
    db.session.commit()
    assert len(senders) == 2  # both workers took a share
