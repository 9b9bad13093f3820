"""Real processes on one database: `flask worker` killed mid-send, stopped, or two at once;
subscribe limits shared by four gunicorn workers through Redis."""

import http.client
import os
import signal
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
from conftest import ROOT, free_port, received

LEASE_SECONDS = 2
pytestmark = pytest.mark.slow  # real worker and gunicorn processes


@pytest.fixture
def app_config(app_config):
    app_config["MAIL_BACKGROUND_SENDER"] = False
    return app_config


@pytest.fixture
def newsletter(app, make_post):
    """Queue one post for count confirmed subscribers; return the post."""

    def queue(count: int):
        db.session.add_all(
            Subscriber(email=f"reader{n:04d}@example.com", status="confirmed") for n in range(count)
        )
        db.session.commit()
        post = make_post()
        assert queue_post_newsletter(post) == count
        db.session.commit()
        return post

    return queue


@pytest.fixture
def workers(app, smtp_server, tmp_path):
    """Start `flask --app blog worker` processes on the test database, mailing to server."""
    started = []

    def start(server, *args: str, batch: int = 5) -> subprocess.Popen:
        env = {
            **os.environ,
            "BLOG_INSTANCE_PATH": str(tmp_path / "worker-instance"),
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "BLOG_SECRET_KEY": app.config["SECRET_KEY"],
            "BLOG_SITE_URL": app.config["SITE_URL"],
            "BLOG_MAIL_SERVER": server.host,
            "BLOG_MAIL_PORT": str(server.port),
            "BLOG_MAIL_BATCH_SIZE": str(batch),
            "BLOG_MAIL_LEASE_SECONDS": str(LEASE_SECONDS),
            "BLOG_MAIL_POLL_SECONDS": "0.2",
        }
        log = open(tmp_path / f"worker-{len(started)}.log", "w")
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "blog", "worker", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append((process, log))
        return process

    yield start
    for process, log in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        log.close()


def wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def outbox_counts() -> dict[str, int]:
    statement = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    counts = dict(db.session.execute(statement).all())
    db.session.commit()
    return counts


def check_every_reader_got_it(server, count: int) -> Counter:
    per_reader = Counter(to for _, [to], _ in server.messages)
    assert sorted(per_reader) == [f"reader{n:04d}@example.com" for n in range(count)]
    return per_reader


@pytest.mark.timeout(120)
@pytest.mark.parametrize("connections", [1, 3])
def test_sender_killed_mid_send_then_restarted_delivers_to_everyone(
    newsletter, workers, smtp_server, connections
):
    server = smtp_server(delay=0.05)
    newsletter(40)
    first = workers(server, "--connections", str(connections))
    wait_until(lambda: len(server.messages) >= 12)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert len(server.messages) < 40, "the sender finished before it could be killed"

    time.sleep(LEASE_SECONDS + 0.5)  # the dead sender's claim runs out
    second = workers(server, "--burst")
    assert second.wait(timeout=60) == 0

    per_reader = check_every_reader_got_it(server, 40)
    twice = [reader for reader, n in per_reader.items() if n > 1]
    # only the ones in flight: one per connection
    assert len(twice) <= connections and max(per_reader.values()) <= 2
    for reader in twice:  # and it is recognisably the same message
        ids = {str(m["Message-ID"]) for m in received(server) if str(m["To"]) == reader}
        assert len(ids) == 1
    assert outbox_counts() == {"sent": 40}


@pytest.mark.timeout(120)
def test_sigterm_finishes_the_message_in_hand_and_hands_back_the_rest(
    newsletter, workers, smtp_server
):
    server = smtp_server(delay=0.05)
    newsletter(30)
    first = workers(server)
    wait_until(lambda: len(server.messages) >= 8)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=20) == 0
    counts = outbox_counts()
    assert "sending" not in counts  # nothing left claimed by a sender that has gone
    assert counts["sent"] == len(server.messages) < 30

    assert workers(server, "--burst").wait(timeout=60) == 0  # no lease to wait for
    per_reader = check_every_reader_got_it(server, 30)
    assert max(per_reader.values()) == 1


@pytest.mark.timeout(120)
def test_two_senders_at_once_never_send_the_same_mail(app, newsletter, workers, smtp_server):
    server = smtp_server(delay=0.005)
    newsletter(300)
    # Claims of one row each: the two senders claim often, so their claims collide.
    both = [workers(server, "--burst", batch=1), workers(server, "--burst", batch=1)]
    for process in both:
        assert process.wait(timeout=90) == 0

    per_reader = check_every_reader_got_it(server, 300)
    assert max(per_reader.values()) == 1
    senders = {
        claimed_by.split(":")[1]
        for claimed_by in db.session.scalars(select(OutboxMessage.claimed_by).distinct())
    }
    db.session.commit()
    assert senders == {str(process.pid) for process in both}  # both really took a share
    assert outbox_counts() == {"sent": 300}



@pytest.mark.timeout(120)
def test_subscribe_limit_holds_across_four_gunicorn_workers_sharing_redis(app, tmp_path, redis_url):
    port = free_port()
    env = {
        **os.environ,
        "BLOG_INSTANCE_PATH": str(tmp_path / "gunicorn-instance"),
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "BLOG_SECRET_KEY": app.config["SECRET_KEY"],
        "BLOG_SITE_URL": f"http://127.0.0.1:{port}",
        "BLOG_MAIL_BACKGROUND_SENDER": "false",
        "BLOG_REDIS_URL": redis_url,
        "BLOG_RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "BLOG_RESPONSE_CACHE_PREFIX": f"test-{uuid.uuid4().hex}:",
        "BLOG_NEWSLETTER_SUBSCRIBE_LIMIT_PER_IP": "5 per minute",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-w", "4", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _get_status(port, "/newsletter/") == 200, seconds=30)
        statuses = Counter(
            _post_status(port, "/newsletter/", f"email=reader{n}%40example.com") for n in range(24)
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
    # Four workers with limits in their own memory would let up to 4 x 5 through.
    assert statuses == {303: 5, 429: 19}
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 5
    db.session.commit()


def _get_status(port: int, path: str) -> int | None:
    try:
        return _request(port, "GET", path)
    except OSError:
        return None


def _post_status(port: int, path: str, body: str) -> int:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return _request(port, "POST", path, body, headers)


def _request(port: int, method: str, path: str, body=None, headers=None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        return connection.getresponse().status
    finally:
        connection.close()
