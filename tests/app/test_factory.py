"""The app factory, configuration, the database set-up and the command-line tools."""

import sqlite3
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from blog import create_app
from blog.extensions import csrf, db
from blog.models import Base, Post, Tag, User
from blog.models.search import include_name


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """An empty instance folder that create_app() (no test config) will use."""
    for name in ("DATABASE_URL", "BLOG_SITE_TITLE", "BLOG_MAIL_PORT", "BLOG_SITE_URL"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "instance"
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(folder))
    return folder


def test_defaults_apply_without_any_configuration(instance):
    app = create_app()
    assert app.config["SITE_TITLE"] == "The Daily Draft"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///blog.sqlite"
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.instance_path == str(instance)


def test_instance_file_then_environment_then_database_url_win(instance, monkeypatch):
    instance.mkdir()
    (instance / "config.py").write_text(
        "SITE_TITLE = 'From file'\nSITE_DESCRIPTION = 'File description'\nMAIL_PORT = 2525\n"
    )
    assert create_app().config["SITE_TITLE"] == "From file"
    monkeypatch.setenv("BLOG_SITE_TITLE", "From env")
    monkeypatch.setenv("BLOG_MAIL_PORT", "587")
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.example/blog")
    config = create_app().config
    assert config["SITE_TITLE"] == "From env"
    assert config["SITE_DESCRIPTION"] == "File description"
    assert config["MAIL_PORT"] == 587  # parsed as JSON: a number
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://someone@db.example/blog"


def test_secrets_and_text_settings_stay_text_whatever_they_look_like(instance, monkeypatch):
    """Flask reads BLOG_* values as JSON where they parse: a password of digits must not
    become a number, nor an S3 secret "1e10" a float (SMTP login and signing would fail)."""
    monkeypatch.setenv("BLOG_MAIL_PASSWORD", "12345678")
    monkeypatch.setenv("BLOG_S3_SECRET_ACCESS_KEY", "1e10")
    monkeypatch.setenv("BLOG_SITE_TITLE", "2026")
    monkeypatch.setenv("BLOG_MAIL_PORT", "2525")
    config = create_app().config
    assert config["MAIL_PASSWORD"] == "12345678"
    assert config["S3_SECRET_ACCESS_KEY"] == "1e10"
    assert config["SITE_TITLE"] == "2026"
    assert config["MAIL_PORT"] == 2525  # a number setting stays a number


def test_test_config_ignores_instance_file_and_environment(instance, monkeypatch, tmp_path):
    instance.mkdir()
    (instance / "config.py").write_text("SITE_TITLE = 'From file'\n")
    monkeypatch.setenv("BLOG_SITE_TITLE", "From env")
    app = create_app({"TESTING": True, "SECRET_KEY": "x"})
    assert app.config["SITE_TITLE"] == "The Daily Draft"


def test_secret_key_is_generated_once_into_the_instance_folder(instance):
    first = create_app().config["SECRET_KEY"]
    key_file = instance / "secret_key"
    assert key_file.exists() and len(first) == 64
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only
    assert create_app().config["SECRET_KEY"] == first


def test_https_site_url_makes_cookies_secure_and_names_the_trusted_host(instance, monkeypatch):
    monkeypatch.setenv("BLOG_SITE_URL", "https://blog.example.com")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert "blog.example.com" in app.config["TRUSTED_HOSTS"]
    assert app.test_client().get("/robots.txt", headers={"Host": "evil.example"}).status_code == 400


def test_init_db_creates_the_schema_and_is_safe_to_run_again(instance):
    app = create_app()
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "Database ready" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 0
        version = db.session.scalar(text("select version_num from alembic_version"))
        assert version  # the schema is under Alembic's control


def test_migrations_build_exactly_the_models_schema(instance):
    app = create_app()
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(instance):
    app = create_app()
    app.test_cli_runner().invoke(args=["init-db"])
    with app.app_context():
        assert db.session.scalar(text("PRAGMA journal_mode")) == "wal"
        assert db.session.scalar(text("PRAGMA foreign_keys")) == 1
        assert db.session.scalar(text("PRAGMA busy_timeout")) == 5000


def test_demo_fills_an_empty_blog_once(instance):
    app = create_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--posts", "40"])
    assert result.exit_code == 0, result.output
    assert "Added 40 demo posts" in result.output
    assert "40 of 40" in result.output  # progress, where no progress bar can be drawn
    with app.app_context():
        # The demo writes without WAL (demo.bulk_writes); the blog runs with it again.
        assert db.session.scalar(text("PRAGMA journal_mode")) == "wal"
        assert db.session.scalar(select(func.count()).select_from(Post)) == 41  # + About page
        assert db.session.scalar(select(func.count()).select_from(User)) >= 3
        assert db.session.scalar(select(func.count()).select_from(Tag)) >= 3
        assert all(db.session.scalars(select(User.profile_image)))
    again = runner.invoke(args=["demo"])
    assert "already has posts" in again.output
    client = app.test_client()
    assert client.get("/").status_code == 200 and client.get("/about/").status_code == 200


def test_create_user_makes_a_staff_account(instance):
    app = create_app()
    runner = app.test_cli_runner()
    runner.invoke(args=["init-db"])
    result = runner.invoke(
        args=[
            "create-user",
            "Owner@Example.COM",
            "--name",
            "Olive Owner",
            "--role",
            "owner",
            "--password",
            "a long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.email, user.role, user.slug) == ("owner@example.com", "owner", "olive-owner")
        assert user.password_hash and "a long enough" not in user.password_hash


@pytest.mark.parametrize(
    "args, message",
    [
        (["not-an-email", "--name", "X", "--password", "long enough pass"], "email"),
        (["a@example.com", "--name", "X", "--password", "short"], "at least"),
        (
            ["a@example.com", "--name", "X", "--role", "king", "--password", "long enough pass"],
            "king",
        ),
    ],
)
def test_create_user_refuses_bad_input_with_a_message(instance, args, message):
    app = create_app()
    runner = app.test_cli_runner()
    runner.invoke(args=["init-db"])
    result = runner.invoke(args=["create-user", *args])
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_locked_database_answers_503_with_retry_after(instance, monkeypatch):
    monkeypatch.setenv("BLOG_SQLITE_BUSY_TIMEOUT_MS", "200")
    app = create_app()
    app.test_cli_runner().invoke(args=["init-db"])

    @app.post("/_write-a-tag")
    def write_a_tag():
        db.session.add(Tag(name="Locked out", slug="locked-out"))
        db.session.commit()
        return "saved"

    csrf.exempt(write_a_tag)
    blocker = sqlite3.connect(instance / "blog.sqlite", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        response = app.test_client().post("/_write-a-tag")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "try again" in response.text
    assert app.test_client().post("/_write-a-tag").text == "saved"  # fine once released


def test_concurrent_writers_on_sqlite_wait_instead_of_failing(instance):
    app = create_app()
    app.test_cli_runner().invoke(args=["init-db"])
    errors = []

    def write(n: int) -> None:
        with app.app_context():
            try:
                for k in range(20):
                    db.session.add(Tag(name=f"t{n}-{k}", slug=f"t{n}-{k}"))
                    db.session.scalar(select(func.count()).select_from(Tag))  # read, then write
                    db.session.commit()
            except Exception as error:  # collected and asserted below
                errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Tag)) == 80
