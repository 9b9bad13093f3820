"""Conditional GET and the response cache: validators and 304s on every reader URL, kept pages
for anonymous readers, and the content generation that makes them stale on any change."""

import time
import uuid
from datetime import timedelta

import feedparser
import pytest
from sqlalchemy import text, update

from blog import cache, create_app
from blog.cache import clock, public
from blog.extensions import db
from blog.models import Post, utcnow
from conftest import HX, form_token, free_port

pytestmark = pytest.mark.usefixtures("fresh_requests")

READER_URLS = ["/", "/page/2/", "/post-number-1/", "/tag/garden/", "/author/default-author/",
               "/rss/", "/tag/garden/rss/", "/sitemap.xml", "/newsletter/"]  # fmt: skip


@pytest.fixture
def app_config(app_config):
    app_config["RESPONSE_CACHE"] = True
    return app_config


@pytest.fixture
def blog(make_post, make_tag):
    garden = make_tag("Garden")
    return [make_post(tags=[garden]) for _ in range(7)]


@pytest.fixture
def later(monkeypatch):
    """Move the cache's clock a few seconds on: a reader comes back after the last change
    (Last-Modified is never in the future, so right after a change it cannot match yet)."""
    ahead = time.time() + 5
    monkeypatch.setattr(clock, "now", lambda: ahead)


@pytest.fixture
def reader(app):
    return app.test_client()


@pytest.mark.parametrize("url", READER_URLS)
def test_every_reader_url_answers_a_repeat_request_with_304_and_no_body(blog, reader, url,
                                                                        later):  # fmt: skip
    first = reader.get(url)
    assert first.status_code == 200 and first.data
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith('"W/')  # strong
    assert "public" in first.headers["Cache-Control"] and "max-age=60" in first.headers[
        "Cache-Control"
    ]
    again = reader.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    by_date = reader.get(url, headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304 and by_date.data == b""
    head = reader.head(url)
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == etag
    assert int(head.headers["Content-Length"]) == len(first.data)


def test_a_feed_readers_repeat_poll_is_a_304_until_a_post_is_published(blog, reader, make_post,
                                                                       later):  # fmt: skip
    feed = reader.get("/rss/")
    assert feedparser.parse(feed.data).bozo == 0
    poll = {"If-None-Match": feed.headers["ETag"], "If-Modified-Since": feed.headers["Last-Modified"]}
    assert reader.get("/rss/", headers=poll).status_code == 304
    make_post("Fresh from the oven", published_at=utcnow())
    changed = reader.get("/rss/", headers=poll)
    assert changed.status_code == 200
    assert feedparser.parse(changed.data).entries[0].title == "Fresh from the oven"
    # A reader that only sends the date also learns of the change.
    by_date = reader.get("/rss/", headers={"If-Modified-Since": feed.headers["Last-Modified"]})
    assert by_date.status_code == 200


def test_an_htmx_fragment_has_its_own_validator(blog, reader):
    page = reader.get("/page/2/")
    fragment = reader.get("/page/2/", headers=HX)
    assert "<html" in page.text and "<html" not in fragment.text
    assert fragment.headers["ETag"] != page.headers["ETag"]
    assert "HX-Request" in fragment.headers["Vary"]
    asked = reader.get("/page/2/", headers={**HX, "If-None-Match": page.headers["ETag"]})
    assert asked.status_code == 200 and "<html" not in asked.text
    assert reader.get("/page/2/").text == page.text  # the page was not replaced by the fragment


def test_a_kept_page_is_served_without_touching_the_database(blog, reader, count_queries):
    first = reader.get("/")
    assert first.headers["X-Cache"] == "miss"
    with count_queries() as statements:
        again = reader.get("/")
    assert statements == []
    assert again.headers["X-Cache"] == "hit" and again.text == first.text


def test_an_edit_is_shown_to_the_next_reader_at_once(blog, reader):
    assert "Post number 1" in reader.get("/").text
    blog[0].title = "A better title"
    db.session.commit()
    page = reader.get("/")
    assert "A better title" in page.text and page.headers["X-Cache"] == "miss"
    assert "A better title" in reader.get("/post-number-1/").text


def test_unpublishing_and_deleting_take_a_post_off_kept_pages(blog, reader):
    assert reader.get("/post-number-2/").status_code == 200
    assert "Post number 3" in reader.get("/tag/garden/").text
    blog[1].status = "draft"
    db.session.delete(blog[2])
    db.session.commit()
    assert reader.get("/post-number-2/").status_code == 404
    assert "Post number 3" not in reader.get("/tag/garden/").text


def test_a_bulk_update_outside_the_unit_of_work_also_makes_pages_stale(blog, reader):
    assert "Post number 1" in reader.get("/").text
    db.session.execute(update(Post).where(Post.id == blog[0].id).values(title="Bulk title"))
    db.session.commit()
    assert "Bulk title" in reader.get("/").text


def test_code_that_writes_elsewhere_calls_bump_content_generation(app, blog, reader):
    assert "Post number 1" in reader.get("/").text
    raw = text("UPDATE posts SET title = 'Raw title' WHERE slug = 'post-number-1'")
    db.session.execute(raw)  # raw SQL: the session cannot tell which table it wrote
    db.session.commit()
    assert "Raw title" not in reader.get("/").text  # kept, as documented
    cache.bump_content_generation()
    assert "Raw title" in reader.get("/").text


def test_a_scheduled_post_goes_live_on_kept_pages_at_its_time(app, blog, reader, make_post,
                                                             monkeypatch):  # fmt: skip
    make_post("Tomorrow's news", status="scheduled", published_at=utcnow() + timedelta(hours=1))
    assert "Tomorrow" not in reader.get("/").text
    assert reader.get("/").headers["X-Cache"] == "hit"
    later = time.time() + 2 * 3600
    monkeypatch.setattr(clock, "now", lambda: later)
    monkeypatch.setattr("blog.posts.reading.lists.utcnow", lambda: utcnow() + timedelta(hours=2))
    page = reader.get("/")
    assert "Tomorrow&#39;s news" in page.text and page.headers["X-Cache"] == "miss"
    assert reader.get("/").headers["X-Cache"] == "hit"  # kept again until the next change


def test_settings_saved_in_one_worker_show_in_another_at_once(app, app_config, blog, tmp_path):
    """Two apps on one instance folder and database stand for two gunicorn workers."""
    other = create_app(app_config)
    first, second = app.test_client(), other.test_client()
    assert "Test Blog" in second.get("/").text  # the second worker keeps its settings copy
    from blog.settings import save_settings

    save_settings({"title": "Renamed Blog"})
    db.session.commit()
    assert "Renamed Blog" in first.get("/").text
    with other.app_context():
        page = second.get("/")
    assert "Renamed Blog" in page.text


def test_signed_in_staff_always_get_fresh_private_pages(blog, client, login, make_user, reader):
    assert reader.get("/").headers["X-Cache"] == "miss"
    login(client, make_user(role="editor"))
    page = client.get("/")
    assert "X-Cache" not in page.headers and "ETag" not in page.headers
    assert "no-store" in page.headers["Cache-Control"] and "public" not in page.headers[
        "Cache-Control"
    ]
    assert 'href="/admin/"' in page.text  # the staff link a kept page would lack


def test_a_response_that_sets_a_cookie_is_neither_kept_nor_public(app, reader, monkeypatch):
    from flask import session

    monkeypatch.setattr(public, "READER_ENDPOINTS", {*public.READER_ENDPOINTS, "cookie_page"})

    @app.get("/cookie-page/", endpoint="cookie_page")
    def cookie_page():
        session["seen"] = True
        return "<p>hello</p>"

    first = reader.get("/cookie-page/")
    assert "Set-Cookie" in first.headers
    assert "public" not in first.headers["Cache-Control"] and "ETag" not in first.headers
    fresh = app.test_client()
    assert fresh.get("/cookie-page/").headers.get("X-Cache") != "hit"


def test_a_forged_host_is_still_refused_after_the_page_is_kept(blog, app, reader):
    app.config["TRUSTED_HOSTS"] = ["localhost"]
    assert reader.get("/").status_code == 200
    assert reader.get("/", headers={"Host": "evil.example"}).status_code == 400



@pytest.fixture
def redis_prefix(redis_url):
    """A Redis key prefix of this test's own, emptied afterwards (Redis is shared)."""
    import redis

    prefix = f"test-{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)


def test_with_redis_every_machine_shares_the_kept_pages_and_the_generation(
    app_config, blog, redis_url, redis_prefix, tmp_path, monkeypatch
):
    """Two apps with separate instance folders stand for two machines sharing Redis."""
    post_id = blog[0].id
    db.session.rollback()  # end the test's own transaction (on SQLite, a write lock)
    app_config.update(REDIS_URL=redis_url, RESPONSE_CACHE_PREFIX=redis_prefix)
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "machine-a"))
    one = create_app(app_config)
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "machine-b"))
    two = create_app(app_config)
    assert one.test_client().get("/").headers["X-Cache"] == "miss"
    assert two.test_client().get("/").headers["X-Cache"] == "hit"  # kept by the other machine
    with one.app_context():
        post = db.session.get(Post, post_id)
        post.title = "Changed on machine A"
        db.session.commit()
    page = two.test_client().get("/")
    assert "Changed on machine A" in page.text and page.headers["X-Cache"] == "miss"


def test_pages_are_still_served_when_redis_is_down(app_config, blog, tmp_path, monkeypatch):
    db.session.remove()
    app_config.update(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")  # nobody listens there
    monkeypatch.setenv("BLOG_INSTANCE_PATH", str(tmp_path / "no-redis"))
    page = create_app(app_config).test_client().get("/")
    assert page.status_code == 200 and "Post number 1" in page.text
    assert "X-Cache" not in page.headers  # served, only not kept


def test_a_boosted_link_gets_the_whole_page_not_the_kept_fragment(blog, reader):
    fragment = reader.get("/page/2/", headers=HX)
    boosted = reader.get("/page/2/", headers={**HX, "HX-Boosted": "true"})
    assert "<html" not in fragment.text and "<html" in boosted.text


def test_a_post_scheduled_in_the_editor_goes_live_on_kept_pages_at_its_time(
    app, blog, reader, client, login, make_user, monkeypatch
):
    # The editor saves inside a savepoint (a slug clash retries there): only the outer commit
    # starts a generation, and by then the database knows when the post goes live.
    login(client, make_user(role="owner"))
    when = (utcnow() + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    generations = app.extensions["response_cache"].generations
    before = generations.read().number
    saved = client.post(
        "/admin/posts/new",
        data={"csrf_token": form_token(client, "/admin/"), "title": "Tomorrow's news",
              "markdown": "Soon.", "action": "schedule", "published_at": when},  # fmt: skip
    )
    assert saved.status_code == 303, saved.text[:500]
    assert generations.read().number == before + 1  # one save, one new generation
    assert "Tomorrow" not in reader.get("/").text
    assert reader.get("/").headers["X-Cache"] == "hit"
    later = time.time() + 2 * 3600
    monkeypatch.setattr(clock, "now", lambda: later)
    monkeypatch.setattr("blog.posts.reading.lists.utcnow", lambda: utcnow() + timedelta(hours=2))
    page = reader.get("/")
    assert "Tomorrow&#39;s news" in page.text and page.headers["X-Cache"] == "miss"


def test_a_worker_sees_every_bump_of_the_generation_file_at_once(tmp_path):
    # Two workers' views of one file: the reader keeps the file it read open and rereads only
    # when it was replaced; 300 quick bumps (inodes get reused) must each show at once.
    writer = cache.generations.FileGenerations(tmp_path / "generation")
    reader = cache.generations.FileGenerations(tmp_path / "generation")
    writer.start()
    assert reader.read().number == 1
    for expected in range(2, 302):
        writer.bump(time.time(), None)
        assert reader.read().number == expected
        assert reader.read().number == expected
