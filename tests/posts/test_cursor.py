"""Reader selects run through the DB-API cursor give what SQLAlchemy gives (blog.posts.reading.cursor)."""

import sqlite3
from datetime import datetime

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from blog import transactions
from blog.extensions import db
from blog.models import Post, utcnow
from blog.posts.reading import cursor, lists, rows


def test_rows_are_the_values_and_types_sqlalchemy_gives(app, make_post, make_tag):
    tag = make_tag("Ünïcode “tag”")
    make_post("First", featured=True, tags=[tag], custom_excerpt="Quoted “text” & more")
    make_post("Second", published_at=datetime(2026, 1, 2, 3, 4, 5, 678901))
    connection = db.session.connection()
    page = lists._page_statement(rows.Card, False, False, False)
    params = {"now": utcnow(), "offset": 0, "limit": 10}
    names, found = cursor.run(connection, page, params)
    expected = connection.execute(page, params)
    assert names == tuple(expected.keys())
    assert found == [tuple(row) for row in expected] and len(found) == 2
    assert {type(row[names.index("published_at")]) for row in found} == {datetime}
    assert {row[names.index("featured")] for row in found} == {True, False}
    ids = [row[0] for row in found]
    # An expanding IN list used twice, a literal and a NULL: each IN length compiles its own SQL.
    for wanted in (ids, ids[:1], ids):
        _, bylines = cursor.run(connection, rows._BYLINES_AND_TAGS, {"ids": wanted})
        assert bylines == [
            tuple(row) for row in connection.execute(rows._BYLINES_AND_TAGS, {"ids": wanted})
        ]
    assert {row[0] for row in bylines} == set(ids) and {row[1] for row in bylines} == {0, 1}


def test_statements_are_counted_like_any_other(app, make_post, count_queries):
    make_post("Counted")
    with count_queries() as statements:
        cards = lists.list_cards(1, 12)
    assert [card.title for card in cards.posts] == ["Counted"]
    assert len(statements) == 2 and "posts_authors" in statements[1]


def test_a_locked_database_raises_sqlalchemys_error(app, make_post, database, monkeypatch):
    if database != "sqlite":
        pytest.skip("the DB-API cursor path is SQLite's")
    make_post("Locked")
    connection = db.session.connection()

    class Locked:
        def execute(self, *args):
            raise sqlite3.OperationalError("database is locked")

        def close(self):
            pass

    monkeypatch.setattr(type(connection.connection), "cursor", lambda self: Locked())
    stmt = select(Post.id).where(Post.title == bindparam("title"))
    with pytest.raises(OperationalError, match="database is locked"):
        cursor.run(connection, stmt, {"title": "Locked"})


def _reading_request(app, method="GET"):
    """A request context whose transactions know its method, as a served request's do."""
    context = app.test_request_context("/", method=method)
    context.push()
    transactions.request_started(method)
    return context


def _end(context):
    transactions.request_ended()
    context.pop()


def test_a_reader_request_reads_one_pooled_connection_and_gives_it_back(app, make_post, database):
    make_post("Pooled")
    db.session.remove()  # as a served request starts: no session yet
    pool = db.engine.pool
    context = _reading_request(app)
    try:
        connection = transactions.reading_connection()
        assert transactions.reading_connection() is connection  # one snapshot for the page
        assert [card.title for card in lists.list_cards(1, 12).posts] == ["Pooled"]
        if database == "sqlite":
            assert not isinstance(connection, Connection)  # no Session, no Connection around it
            assert not db.session.registry.has()
            assert pool.checkedout() == 1
        else:  # PostgreSQL keeps the session's connection
            assert connection is db.session.connection()
    finally:
        _end(context)
    assert pool.checkedout() == (0 if database == "sqlite" else 1)  # the session's, until removed


def test_a_reader_request_sees_what_its_session_has_not_committed(app, make_post):
    make_post("Stored")
    db.session.remove()
    context = _reading_request(app)
    try:
        db.session.add(Post(title="Flushed", slug="flushed", markdown="", html="", plaintext=""))
        db.session.flush()  # the session's transaction holds it: reads must go through it
        assert transactions.reading_connection() is db.session.connection()
        ids = cursor.run(transactions.reading_connection(), select(Post.title), {})[1]
        assert ("Flushed",) in ids
    finally:
        db.session.rollback()
        _end(context)


@pytest.mark.parametrize("method", ["POST", None])
def test_writers_and_commands_read_on_the_session(app, make_post, method):
    make_post("Written")
    context = _reading_request(app, method) if method else None
    try:
        assert transactions.reading_connection() is db.session.connection()
    finally:
        if context:
            _end(context)


def test_pages_read_on_the_reader_connection_render_as_before(client, make_post, make_tag):
    tag = make_tag("News")
    slug = make_post("Hello reader", tags=[tag]).slug
    db.session.remove()
    for path in ("/", f"/{slug}/", "/tag/news/", "/search/?q=hello", "/rss/"):
        response = client.get(path)
        assert response.status_code == 200 and b"Hello reader" in response.data, path
    assert db.engine.pool.checkedout() <= 1  # none kept by a request that ended
