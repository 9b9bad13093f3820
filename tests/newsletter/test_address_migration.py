"""Migration 0006 brings stored addresses to one form and merges subscribers that are one
mailbox, keeping the confirmed row and the history of every row, on SQLite and PostgreSQL."""

import importlib
import itertools
import os
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, make_url, text

from blog import create_app
from blog.cli import MIGRATIONS, enable_migrations
from blog.extensions import db

MIGRATION = importlib.import_module("blog.migrations.versions.0006_content_people")
filler = itertools.count(1)


def day(year, month=1, d=1):
    return datetime(year, month, d)


def insert(conn, table_name: str, /, **values) -> int:
    """Insert a row into the table as this schema version has it; fill other required columns."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=conn)
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key:
            continue
        python = column.type.python_type
        n = next(filler)
        values[column.name] = {str: f"x{n}", int: 0, bool: False, datetime: day(2020)}[python]
    return conn.execute(sa.insert(table).values(**values).returning(table.c.id)).scalar_one()


def seed(conn) -> dict:
    """Write the duplicates a mixed-case past left behind; return the ids a test checks."""
    ids = {}
    ids["writer"] = insert(
        conn, "users", email="Writer@Example.COM", name="W", slug="w", role="author"
    )
    insert(conn, "users", email="Twin@example.com", name="T1", slug="t1", role="author")
    insert(conn, "users", email="twin@example.com", name="T2", slug="t2", role="author")
    post1 = insert(conn, "posts", slug="one", status="published", type="post")
    post2 = insert(conn, "posts", slug="two", status="published", type="post")
    sub = dict(source="form", confirmations_sent=0)
    # Alice: a pending row (older) and a confirmed row.
    a1 = insert(conn, "subscribers", email="Alice@Example.com", status="pending",
                created_at=day(2020), requested_at=day(2020), name="Alice A", **sub)  # fmt: skip
    a2 = insert(conn, "subscribers", email="alice@example.com", status="confirmed",
                created_at=day(2021), requested_at=day(2021), confirmed_at=day(2021, 2), **sub)  # fmt: skip
    ids["alice"] = a2
    mail = dict(kind="newsletter", priority=1, attempts=0, next_attempt_at=day(2021),
                created_at=day(2021))  # fmt: skip
    insert(conn, "mail_outbox", subscriber_id=a1, post_id=None, status="sent",
           recipient="Alice@Example.com", **{**mail, "kind": "confirm"})  # fmt: skip
    insert(conn, "mail_outbox", subscriber_id=a2, post_id=post1, status="sent",
           recipient="alice@example.com", **mail)  # fmt: skip
    insert(conn, "mail_outbox", subscriber_id=a1, post_id=post1, status="queued",
           recipient="Alice@Example.com", **mail)  # fmt: skip
    insert(conn, "mail_outbox", subscriber_id=a1, post_id=post2, status="sent",
           recipient="Alice@Example.com", **mail)  # fmt: skip
    # Bob: confirmed on one row, then unsubscribed later on the other: his latest word wins.
    insert(conn, "subscribers", email="bob@example.com", status="confirmed", created_at=day(2020),
           requested_at=day(2020), confirmed_at=day(2020, 6), **sub)  # fmt: skip
    insert(conn, "subscribers", email="BOB@example.com", status="unsubscribed",
           created_at=day(2019), requested_at=day(2019), confirmed_at=day(2019, 2),
           unsubscribed_at=day(2022), **sub)  # fmt: skip
    # Carol: alone, with an IDN domain stored in Unicode.
    insert(conn, "subscribers", email="Carol@Bücher.de", status="confirmed", created_at=day(2020),
           requested_at=day(2020), confirmed_at=day(2020), **sub)  # fmt: skip
    # Dan: three rows, one confirmed.
    for email, status in [("dan@x.org", "pending"), ("DAN@x.org", "pending"),
                          ("Dan@X.org", "confirmed")]:  # fmt: skip
        insert(conn, "subscribers", email=email, status=status, created_at=day(2023),
               requested_at=day(2023), confirmed_at=day(2023) if status == "confirmed" else None,
               **sub)  # fmt: skip
    insert(conn, "invites", email="New@Bücher.de", role="author", token_hash="h",
           created_at=day(2024), expires_at=day(2024, 2))  # fmt: skip
    ids["posts"] = (post1, post2)
    return ids


def migrate_seeded(url: str, tmp_path: Path, monkeypatch) -> dict:
    """Migrate to the revision before 0006, seed, migrate to head; return the rows after."""
    from flask_migrate import upgrade

    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        enable_migrations(app)
        upgrade(directory=MIGRATIONS, revision=MIGRATION.down_revision)
        with db.engine.begin() as conn:
            ids = seed(conn)
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            found = {
                "subscribers": {
                    row.email: row
                    for row in conn.execute(
                        sa.select(sa.Table("subscribers", sa.MetaData(), autoload_with=conn))
                    )
                },
                "outbox": conn.execute(
                    text("SELECT subscriber_id, post_id, status, recipient FROM mail_outbox")
                ).all(),
                "users": sorted(conn.execute(text("SELECT email FROM users")).scalars()),
                "invites": list(conn.execute(text("SELECT email FROM invites")).scalars()),
            }
        db.engine.dispose()
    return {**found, "ids": ids}


def check(result: dict) -> None:
    subscribers, ids = result["subscribers"], result["ids"]
    assert set(subscribers) == {
        "alice@example.com", "bob@example.com", "carol@xn--bcher-kva.de", "dan@x.org"
    }  # fmt: skip
    alice = subscribers["alice@example.com"]
    assert alice.id == ids["alice"]  # the confirmed row is the one kept
    assert (alice.status, alice.name) == ("confirmed", "Alice A")
    assert (alice.created_at, alice.confirmed_at) == (day(2020), day(2021, 2))
    post1, post2 = ids["posts"]
    alice_mail = sorted(
        (row.post_id or 0, row.status) for row in result["outbox"] if row.subscriber_id == alice.id
    )
    # The confirmation mail and the post-2 delivery moved over; post 1 was sent once, kept once.
    assert alice_mail == sorted([(0, "sent"), (post1, "sent"), (post2, "sent")])
    assert len(result["outbox"]) == 3
    bob = subscribers["bob@example.com"]
    assert (bob.status, bob.unsubscribed_at, bob.created_at) == (
        "unsubscribed",
        day(2022),
        day(2019),
    )
    assert subscribers["dan@x.org"].status == "confirmed"
    assert subscribers["carol@xn--bcher-kva.de"].status == "confirmed"
    # Staff who differ only in case are left for a person to merge; the rest are lower-cased.
    assert result["users"] == ["Twin@example.com", "twin@example.com", "writer@example.com"]
    assert result["invites"] == ["new@xn--bcher-kva.de"]


def test_duplicates_merge_on_sqlite(tmp_path, monkeypatch):
    check(migrate_seeded(f"sqlite:///{tmp_path / 'old.sqlite'}", tmp_path, monkeypatch))


def test_duplicates_merge_on_postgresql(postgres_url, tmp_path, monkeypatch):
    name = f"blog_addresses_{os.getpid()}"
    server = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        check(migrate_seeded(url, tmp_path, monkeypatch))
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.mark.parametrize(
    "address, stored", [("A@B.COM", "a@b.com"), ("x@Bücher.de", "x@xn--bcher-kva.de")]
)
def test_the_migration_stores_what_the_app_stores(address, stored):
    from blog.addresses import normalise_address

    assert MIGRATION.stored_form(address) == normalise_address(address) == stored
