"""Running it: health checks for the process manager and load balancer, proxy headers, and
the gunicorn settings."""

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from blog.extensions import db
from blog.serving import migration_heads
from conftest import ROOT


def test_liveness_needs_no_database_and_no_trusted_host(app, client, count_queries):
    app.config["TRUSTED_HOSTS"] = ["blog.example.com"]
    with count_queries() as statements:
        response = client.get("/healthz", headers={"Host": "10.0.0.7:8000"})
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert statements == []
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@pytest.fixture
def version_table(app):
    """The table Alembic keeps the schema's revision in (the test schema is built without it)."""
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
    yield
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))


def test_readiness_says_whether_the_schema_is_migrated(app, client, version_table):
    behind = client.get("/healthz/ready")
    assert behind.status_code == 503 and behind.headers["Retry-After"]
    assert "init-db" in behind.json["migrations"]
    (head,) = migration_heads()
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})
    ready = client.get("/healthz/ready")
    assert ready.status_code == 200
    assert ready.json == {"status": "ok", "database": "ok", "migrations": "current"}


def test_readiness_fails_when_the_database_is_gone(app, client, tmp_path):
    # A database server that is not there: the app's engine swapped for one that points nowhere.
    from sqlalchemy import create_engine

    engines = app.extensions["sqlalchemy"]._app_engines[app]
    working, engines[None] = engines[None], create_engine("postgresql+psycopg://x@127.0.0.1:1/x")
    try:
        response = client.get("/healthz/ready")
    finally:
        engines[None] = working
    assert response.status_code == 503
    assert response.json["status"] == "unavailable" and response.json["database"]


def test_the_migration_head_is_the_newest_migration_file():
    (head,) = migration_heads()
    newest = sorted((ROOT / "blog" / "migrations" / "versions").glob("0*.py"))[-1]
    assert f'"{head}"' in newest.read_text()


def test_proxy_headers_are_believed_only_from_a_configured_proxy(app_config, tmp_path, monkeypatch):
    from flask import request

    from blog import create_app

    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "instance"))
    seen = {}
    for hops in (0, 1):
        proxied = create_app({**app_config, "TRUSTED_PROXIES": hops})
        whoami = lambda hops=hops: seen.setdefault(hops, request.remote_addr)  # noqa: E731
        proxied.add_url_rule("/whoami/", "whoami", whoami)
        proxied.test_client().get("/whoami/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen == {0: "127.0.0.1", 1: "203.0.113.9"}


def test_gunicorn_settings_load_and_name_the_app():
    code = (
        "from gunicorn.config import Config; import runpy; c = Config();"
        "[c.set(k, v) for k, v in runpy.run_path('gunicorn.conf.py').items() if k in c.settings];"
        "import json; print(json.dumps([c.wsgi_app, c.workers, c.timeout, c.graceful_timeout,"
        " c.accesslog, c.max_requests, c.preload_app, c.worker_class_str]))"
    )
    environ = {k: v for k, v in os.environ.items() if k != "BLOG_PRELOAD"}
    settings = []
    for preload in (None, "false"):
        env = environ if preload is None else {**environ, "BLOG_PRELOAD": preload}
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        settings.append(json.loads(out.stdout))
    wsgi_app, workers, timeout, graceful, accesslog, max_requests, preload, worker = settings[0]
    assert wsgi_app == "wsgi:app" and workers >= 2 and timeout == 30 and graceful == 30
    assert accesslog == "-" and max_requests > 0
    assert worker == "blog.gunicorn_sync.SyncWorker"  # closes at once when it may
    assert preload is True and settings[1][-2] is False  # BLOG_PRELOAD=false: HUP loads new code


FORKED_WORKER = """
import os, sys
from sqlalchemy import text
import wsgi
from blog.extensions import db

seen = []  # held, so no connection's address is reused by another

def connection():
    with wsgi.app.app_context():
        db.session.execute(text("select 1"))
        seen.append(db.session.connection().connection.dbapi_connection)
        db.session.remove()
    return id(seen[-1])

parent = connection()  # now pooled in this process
child = os.fork()
if child == 0:
    os._exit(0 if connection() != parent else 1)
_, status = os.waitpid(child, 0)
print("child", "own" if os.waitstatus_to_exitcode(status) == 0 else "shared",
      "parent", "reused" if connection() == parent else "lost")
"""


def test_a_forked_worker_opens_its_own_database_connection(tmp_path):
    """Under gunicorn's preload_app the workers are forked from the master: a pooled
    connection must never be used by two processes, and the parent keeps its own."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "BLOG_INSTANCE_PATH": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", FORKED_WORKER], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["child", "own", "parent", "reused"]


WARMED_MASTER = """
import threading
import wsgi
from blog.extensions import db

with wsgi.app.app_context():
    pools = [engine.pool.checkedout() for engine in db.engines.values()]
print("threads", threading.active_count(), "checked-out", sum(pools),
      "sender", wsgi.app.config["MAIL_BACKGROUND_SENDER"])
"""


def test_the_preloading_master_serves_reader_pages_and_forks_clean(tmp_path):
    """Under preload_app the master serves the reader pages once (BLOG_WARM_BEFORE_FORK, set
    by gunicorn.conf.py) so workers share what that builds: it must leave no thread running
    (the mail sender may not start) and no database connection checked out at the fork."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "BLOG_INSTANCE_PATH": str(tmp_path)}
    demo = [sys.executable, "-m", "flask", "--app", "blog", "demo", "--posts", "30"]
    assert subprocess.run(demo, cwd=ROOT, env=env, capture_output=True).returncode == 0
    env |= {"BLOG_WARM_BEFORE_FORK": "1", "BLOG_MAIL_BACKGROUND_SENDER": "true"}
    out = subprocess.run(
        [sys.executable, "-c", WARMED_MASTER], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["threads", "1", "checked-out", "0", "sender", "True"]


WITHOUT_DOCSTRINGS = """
import re, sys
import wsgi
from blog import accounts
from blog.extensions import db

app = wsgi.app
with app.app_context():
    accounts.create_user(email="oo@example.com", name="Otto", role="owner",
                         password="correct horse battery")
    db.session.commit()
client = app.test_client()
token = lambda path: re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)[1]
home = client.get("/").text
post = re.search(r'class="card__title"><a href="(/[^"]+/)"', home)[1]
article = client.get(post).text
author = re.search(r'href="(/author/[^"/]+/)"', article)[1]
tag = re.search(r'href="(/tag/[^"/]+/)"', article)[1]
reader = [post, author, tag, "/", "/page/2/", "/rss/", "/sitemap.xml", "/search/?q=the"]
codes = [client.get(path).status_code for path in reader]
codes.append(client.get("/page/2/", headers={"HX-Request": "true"}).status_code)
subscribed = client.post("/newsletter/", data={"email": "reader@example.com"}, headers={"HX-Request": "true"})
codes.append("Now Check Your Email" in subscribed.text)
signed_in = client.post("/login", data={"csrf_token": token("/login"), "email": "oo@example.com",
                                        "password": "correct horse battery"})
saved = client.post("/admin/posts/new", data={"csrf_token": token("/admin/"), "title": "Stripped",
                                              "markdown": "Docstrings *gone*.", "action": "publish"})
live = client.get("/stripped/")
print(sys.flags.optimize, *codes, signed_in.status_code, saved.status_code, live.status_code,
      "<em>gone</em>" in live.text)
"""


def test_the_web_server_runs_with_docstrings_stripped(tmp_path):
    """deploy/blog-web.service and the README run gunicorn under PYTHONOPTIMIZE=2, which drops
    every docstring and assert (about 5 MB less memory for master and two workers,
    bench/memory.py): readers, subscribing, signing in and publishing must all still work."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "BLOG_INSTANCE_PATH": str(tmp_path)}
    demo = [sys.executable, "-m", "flask", "--app", "blog", "demo", "--posts", "30"]
    assert subprocess.run(demo, cwd=ROOT, env=env, capture_output=True).returncode == 0
    env |= {
        "PYTHONOPTIMIZE": "2",
        "BLOG_WARM_BEFORE_FORK": "1",
        "BLOG_NEWSLETTER_CHECK_DELIVERABILITY": "false",
    }
    out = subprocess.run(
        [sys.executable, "-c", WITHOUT_DOCSTRINGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", *["200"] * 9, "True", "303", "303", "200", "True"]
