"""The authoring tables come from migration 0003: `flask --app blog init-db` builds them exactly
as the models describe, on SQLite and on PostgreSQL."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, make_url, text

from blog import create_app
from blog.extensions import db
from blog.models import Base

AUTHORING_TABLES = {"settings", "invites", "slug_redirects", "login_attempts"}


def authoring_differences(diff) -> list:
    """Keep the differences that concern the authoring tables."""

    def names(entry):
        entry = entry[0] if isinstance(entry, list) else entry
        return {getattr(part, "name", None) for part in entry} | {
            getattr(getattr(part, "table", None), "name", None) for part in entry
        }

    return [entry for entry in diff if names(entry) & AUTHORING_TABLES]


def migrate_and_compare(url: str, tmp_path, monkeypatch) -> list:
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.connect() as conn:
            assert AUTHORING_TABLES <= set(inspect(conn).get_table_names())
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        db.engine.dispose()
    return authoring_differences(diff)


def test_init_db_builds_the_authoring_tables_on_sqlite(tmp_path, monkeypatch):
    assert (
        migrate_and_compare(f"sqlite:///{tmp_path / 'fresh.sqlite'}", tmp_path, monkeypatch) == []
    )


def test_init_db_builds_the_authoring_tables_on_postgresql(postgres_url, tmp_path, monkeypatch):
    name = f"blog_migrate_{os.getpid()}"
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


@pytest.mark.parametrize("table", sorted(AUTHORING_TABLES))
def test_every_authoring_table_is_in_the_models(table):
    assert table in Base.metadata.tables
