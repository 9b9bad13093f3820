"""Fixtures: an app on a real database (a SQLite file, and PostgreSQL where one answers), a real
SMTP server on 127.0.0.1, factories for staff, posts and tags, and a query counter."""

import asyncio
import os
import socket
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, make_url, text
from werkzeug.security import generate_password_hash

from blog import create_app
from blog.content import render
from blog.extensions import db
from blog.models import Base, Post, Tag, User, utcnow

HX = {"HX-Request": "true"}
PASSWORD = "correct horse battery"
PASSWORD_HASH = generate_password_hash(PASSWORD)  # hashed once, at import
ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "BLOG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# CI sets this so that a PostgreSQL run that cannot connect fails instead of skipping.
REQUIRE_POSTGRES = os.environ.get("BLOG_REQUIRE_POSTGRES") == "1"


# --- SMTP ------------------------------------------------------------------------------------


class SmtpSink:
    """Keeps every message a real SMTP server on 127.0.0.1 accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


def free_port() -> int:
    """Return a loopback port nobody listens on (aiosmtpd's Controller cannot take port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def _smtp_controller():
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, sink
    controller.stop()


@pytest.fixture
def smtp_sink(_smtp_controller):
    """A real SMTP server on 127.0.0.1, emptied for each test; .messages holds what arrived."""
    controller, sink = _smtp_controller
    sink.clear()
    sink.host, sink.port = controller.hostname, controller.port
    return sink


# --- Databases -------------------------------------------------------------------------------


def _postgres_reachable() -> str | None:
    """Return why PostgreSQL cannot be used, or None when it answers."""
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as error:  # any failure to connect means: no server here
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(error).__name__}"
    return None


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL database of this test run's own (several runs may share one server)."""
    reason = _postgres_reachable()
    if reason:
        if REQUIRE_POSTGRES:
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"blog_test_{os.getpid()}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request):
    """Name the database engine a test runs on; every app test runs once per engine."""
    if request.param == "postgresql":
        request.getfixturevalue("postgres_url")
    return request.param


def _truncate_postgres() -> None:
    """Empty every table, so the next test starts from a blank database."""
    db.session.remove()
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def make_config(database: str, tmp_path: Path, smtp_sink, postgres: str = "", **overrides) -> dict:
    """Return a test app config on the given database, mailing to the SMTP sink."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test secret key",
        "SITE_URL": "http://localhost",
        "SITE_TITLE": "Test Blog",
        "SQLALCHEMY_DATABASE_URI": (
            f"sqlite:///{tmp_path / 'blog.sqlite'}" if database == "sqlite" else postgres
        ),
        "MAIL_SERVER": smtp_sink.host,
        "MAIL_PORT": smtp_sink.port,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_DEFAULT_SENDER": "Test Blog <blog@localhost>",
        "POSTS_PER_PAGE": 5,
    }
    config.update(overrides)
    return config


@pytest.fixture
def app_config(request, database, tmp_path, smtp_sink) -> dict:
    """The config the app fixture builds from; a test may change it before asking for app."""
    postgres = request.getfixturevalue("postgres_url") if database == "postgresql" else ""
    return make_config(database, tmp_path, smtp_sink, postgres)


@pytest.fixture
def app(app_config, database, tmp_path, monkeypatch):
    """A blog app with an empty schema, on a SQLite file or the test PostgreSQL database."""
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(app_config)
    with app.app_context():
        if database == "sqlite":
            db.create_all()
        yield app
        if database == "postgresql":
            _truncate_postgres()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- Factories -------------------------------------------------------------------------------


@pytest.fixture
def make_user(app):
    """Create a staff user (password PASSWORD) and commit; keyword arguments override defaults."""
    counter = iter(range(1, 10_000))

    def make(**fields) -> User:
        n = next(counter)
        fields.setdefault("name", f"Writer {n}")
        fields.setdefault("slug", f"writer-{n}")
        fields.setdefault("email", f"writer{n}@example.com")
        fields.setdefault("role", "author")
        fields.setdefault("password_hash", PASSWORD_HASH)
        user = User(**fields)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_tag(app):
    def make(name: str, **fields) -> Tag:
        fields.setdefault("slug", name.lower().replace(" ", "-"))
        tag = Tag(name=name, **fields)
        db.session.add(tag)
        db.session.commit()
        return tag

    return make


@pytest.fixture
def make_post(app, make_user):
    """Create a post (published an hour ago by default) and commit."""
    counter = iter(range(1, 100_000))
    default_author: list[User] = []

    def make(title: str | None = None, body: str = "Some words.", authors=None, tags=(), **f):
        n = next(counter)
        if authors is None:
            if not default_author:
                default_author.append(make_user(name="Default Author", slug="default-author"))
            authors = default_author
        rendered = render(body)
        f.setdefault("status", "published")
        f.setdefault("published_at", utcnow() - timedelta(hours=1, minutes=n))
        post = Post(
            title=title or f"Post number {n}",
            slug=f.pop("slug", None) or f"post-number-{n}",
            markdown=body,
            html=rendered.html,
            plaintext=rendered.text,
            excerpt=rendered.excerpt,
            reading_time=rendered.reading_time,
            **f,
        )
        for author in authors:
            post.authors.append(author)
        for tag in tags:
            post.tags.append(tag)
        db.session.add(post)
        db.session.commit()
        return post

    return make


@pytest.fixture
def count_queries(app):
    """Count the SQL statements run inside a `with count_queries() as counted:` block."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        statements: list[str] = []

        def record(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counting


# --- Browser ---------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive Debian's Chromium (Playwright's own browser download does not work here)."""
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("BLOG_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def live_server(app):
    """Serve the test app on a free loopback port in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


# --- Signing in (the authoring screens) -------------------------------------------------------


class FreshRequestClient(FlaskClient):
    """A test client whose requests each start and end the way they do in production.

    The app fixture keeps one app context open for the whole test, and Flask reuses it for
    test requests: g (the signed-in user, cached settings, the CSRF token) would carry over
    from one request into the next, and the shared session would keep its transaction (on
    SQLite, a write lock) open after the response. So: empty g before each request, and end
    the session's transaction before and after it, as the app context's teardown would.
    Tests commit what they write before making a request.
    """

    def open(self, *args, **kwargs):
        from flask import g, has_app_context

        if not has_app_context():
            return super().open(*args, **kwargs)
        vars(g._get_current_object()).clear()
        db.session.rollback()
        try:
            return super().open(*args, **kwargs)
        finally:
            db.session.rollback()


@pytest.fixture
def fresh_requests(app):
    """Make app.test_client() (and the client fixture) a FreshRequestClient."""
    app.test_client_class = FreshRequestClient


def form_token(client, path: str = "/login") -> str:
    """Return the CSRF token of the form a page renders, the way a browser would get it."""
    import re

    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, f"no CSRF token in the form at {path} (status {page.status_code})"
    return found[1]


@pytest.fixture
def login():
    """Sign in through the real form: login(client, user, password=PASSWORD, remember=...)."""

    def sign_in(client, user, password: str = PASSWORD, **fields):
        token = form_token(client, "/login")
        data = {"csrf_token": token, "email": user.email, "password": password, **fields}
        return client.post("/login", data=data)

    return sign_in


# --- Newsletter mail -------------------------------------------------------------------------


def received(sink) -> list:
    """Parse what an SMTP sink received into EmailMessage objects, in arrival order."""
    from email import message_from_bytes, policy

    with sink.lock:
        raw = [content for _, _, content in sink.messages]
    return [message_from_bytes(content, policy=policy.default) for content in raw]


class ScriptedSink(SmtpSink):
    """An SMTP sink that can be slow, answer chosen recipients with scripted replies (each
    used once, e.g. "451 4.7.1 Try later" then a 250), and count the connections it served."""

    def __init__(self, delay: float = 0.0, replies: dict[str, list[str]] | None = None) -> None:
        super().__init__()
        self.delay = delay
        self.replies = {address: list(answers) for address, answers in (replies or {}).items()}
        self.connections: set[int] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answers = self.replies.get(address)
        reply = answers.pop(0) if answers else "250 OK"
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if not hasattr(session, "number"):
            session.number = len(self.connections) + 1
        self.connections.add(session.number)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp_server():
    """Start another real SMTP server on 127.0.0.1: smtp_server(delay=..., replies=...) returns
    its ScriptedSink, with .host and .port."""
    controllers = []

    def start(**behaviour) -> ScriptedSink:
        sink = ScriptedSink(**behaviour)
        controller = Controller(sink, hostname="127.0.0.1", port=free_port())
        controller.start()
        controllers.append(controller)
        sink.host, sink.port = controller.hostname, controller.port
        return sink

    yield start
    for controller in controllers:
        controller.stop()


def received_mail(app, smtp_sink, count: int = 1, timeout: float = 5.0) -> list:
    """Wait until the SMTP sink holds count messages (sending the app's outbox, if it keeps
    one), and return every message it holds, parsed."""
    import email
    import email.policy
    import time

    db.session.rollback()  # a read by the test would hold SQLite's write lock
    deadline = time.monotonic() + timeout
    while len(smtp_sink.messages) < count and time.monotonic() < deadline:
        try:
            from blog import mail as outbox
        except ImportError:
            outbox = None
        if outbox is not None and hasattr(outbox, "deliver_due"):
            with app.app_context():
                outbox.deliver_due()
        if len(smtp_sink.messages) < count:
            time.sleep(0.05)
    return [
        email.message_from_bytes(raw, policy=email.policy.default)
        for _, _, raw in list(smtp_sink.messages)
    ]
