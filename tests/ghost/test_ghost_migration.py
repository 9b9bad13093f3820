"""Migration 0006: `flask init-db` builds the Ghost columns and tables exactly as the models
describe, on SQLite and PostgreSQL, and gives rows made before it Ghost ids."""

import os
import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, make_url, text

from blog import create_app
from blog.extensions import db
from blog.models import Base

GHOST_TABLES = {"integrations", "ghost_images"}
GHOST_COLUMNS = {"ghost_id", "uuid", "canonical_url", "og_image", "og_title", "og_description",
                 "twitter_image", "twitter_title", "twitter_description"}  # fmt: skip


def ghost_differences(diff) -> list:
    """Keep the differences that concern what migration 0006 adds."""
    found = []
    for entry in diff:
        entry = entry[0] if isinstance(entry, list) else entry
        parts = {str(part) for part in entry}
        names = {getattr(part, "name", None) for part in entry}
        tables = {getattr(getattr(part, "table", None), "name", None) for part in entry}
        if (
            (names | tables) & GHOST_TABLES
            or names & GHOST_COLUMNS
            or any(column in part for part in parts for column in GHOST_COLUMNS)
        ):
            found.append(entry)
    return found


def migrate_and_compare(url: str, tmp_path, monkeypatch) -> list:
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.connect() as conn:
            assert GHOST_TABLES <= set(inspect(conn).get_table_names())
            columns = {c["name"] for c in inspect(conn).get_columns("posts")}
            assert GHOST_COLUMNS <= columns
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        db.engine.dispose()
    return ghost_differences(diff)


def test_init_db_builds_the_ghost_schema_on_sqlite(tmp_path, monkeypatch):
    assert (
        migrate_and_compare(f"sqlite:///{tmp_path / 'fresh.sqlite'}", tmp_path, monkeypatch) == []
    )


def test_init_db_builds_the_ghost_schema_on_postgresql(postgres_url, tmp_path, monkeypatch):
    name = f"blog_ghost_migrate_{os.getpid()}"
    server = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        assert migrate_and_compare(url, tmp_path, monkeypatch) == []
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def test_existing_rows_get_ghost_ids_when_upgrading(tmp_path, monkeypatch):
    """A blog made before 0006 gets an id and a uuid on every post, tag and user."""
    from flask_migrate import upgrade

    from blog.cli import MIGRATIONS, enable_migrations

    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}"})  # fmt: skip
    enable_migrations(app)
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0005_drop_old_listing_index")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (email, name, slug, role, is_active, created_at, updated_at) "
                "VALUES ('a@example.com', 'A', 'a', 'author', 1, '2024-01-01', '2024-01-01')"
            ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO posts (title, slug, markdown, html, plaintext, excerpt, reading_time,"
                " status, type, featured, created_at, updated_at) VALUES ('P', 'p', '', '', '',"
                " '', 1, 'draft', 'post', 0, '2024-01-01', '2024-01-01')"
            ))  # fmt: skip
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            ghost_id, uuid = conn.execute(text("SELECT ghost_id, uuid FROM posts")).one()
            assert re.fullmatch(r"[0-9a-f]{24}", ghost_id) and len(uuid) == 36
            assert re.fullmatch(
                r"[0-9a-f]{24}", conn.execute(text("SELECT ghost_id FROM users")).scalar()
            )
        db.engine.dispose()
