"""Deep pages and post counts at any size: a deep /page/<n>/ shows exactly the posts OFFSET
would, author and tag counts follow every change, and neither costs more queries with more posts
(blog.posts.reading.memo)."""

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import Post, User, utcnow
from blog.posts.reading.lists import MARK_EVERY
from conftest import HX
from fixtures.factories import fill_posts

PER_PAGE = 12
TOTAL = 2 * MARK_EVERY + 50  # 530: marks after the 240th and 480th posts; 45 pages


def titles_on(client, path: str, **headers) -> list[int]:
    """Return the numbers n of the posts "P<n>" a list page shows, in order."""
    response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    found = []
    text = response.text
    for n in range(TOTAL + 10):
        at = text.find(f">P{n}</a>")
        if at >= 0:
            found.append((at, n))
    return [n for _, n in sorted(found)]


@pytest.fixture
def big_blog(app):
    app.config["POSTS_PER_PAGE"] = PER_PAGE  # as the blog runs (the tests' app shows 5)
    fill_posts(TOTAL)  # P0 newest ... P529 oldest, four authors and six tags, two of each per post


@pytest.mark.parametrize("number", [1, 20, 21, 22, 40, 41, 44, 45])
def test_a_deep_page_shows_the_posts_its_offset_names(client, big_blog, number):
    first = (number - 1) * PER_PAGE  # P<first> is the newest post on the page
    path = f"/page/{number}/" if number > 1 else "/"
    assert titles_on(client, path) == list(range(first, min(first + 12, TOTAL)))


def test_past_the_last_page_is_not_found_and_read_more_still_follows_on(client, big_blog):
    assert client.get("/page/46/").status_code == 404
    assert client.get("/page/400/").status_code == 404
    page = client.get("/page/41/").text
    after = page.split("after=")[1].split('"')[0].replace("&amp;", "&")
    assert titles_on(client, f"/page/42/?after={after}", **HX) == list(range(492, 504))


def test_deep_author_and_tag_pages_match_their_offsets(client, big_blog):
    # fill_posts() gives post i the authors a(i % 4) and a((i + 1) % 4): a1 has P0, P1, P4, P5, ...
    by_a1 = [n for n in range(TOTAL) if n % 4 in (0, 1)]
    for number in (2, 21, 23):
        expected = by_a1[(number - 1) * PER_PAGE : number * PER_PAGE]
        assert titles_on(client, f"/author/a1/page/{number}/") == expected, number
    by_t1 = [n for n in range(TOTAL) if n % 6 in (0, 1)]
    for number in (2, 15):
        expected = by_t1[(number - 1) * PER_PAGE : number * PER_PAGE]
        assert titles_on(client, f"/tag/t1/page/{number}/") == expected, number


def test_publishing_moves_deep_pages_and_counts_at_once(client, big_blog, make_post):
    author = db.session.scalar(select(User).where(User.slug == "a1"))
    assert "266 posts" in client.get("/author/a1/").text
    assert titles_on(client, "/page/41/")[0] == 480
    make_post("P-1", authors=[author], published_at=utcnow() - timedelta(seconds=1))
    assert "267 posts" in client.get("/author/a1/").text
    assert titles_on(client, "/page/41/")[0] == 479  # every later post moved one place down
    post = db.session.scalar(select(Post).where(Post.slug == "p4"))  # by a0 and a1
    post.status = "draft"
    db.session.commit()
    assert "266 posts" in client.get("/author/a1/").text
    assert titles_on(client, "/page/41/")[0] == 479 + 1  # P4 no longer counts


def test_a_scheduled_post_going_live_moves_deep_pages(client, big_blog, make_post, monkeypatch):
    soon = utcnow() + timedelta(minutes=5)
    author = db.session.scalar(select(User).where(User.slug == "a1"))
    make_post("P-2", authors=[author], status="scheduled", published_at=soon)
    assert (
        titles_on(client, "/page/41/")[0] == 480 and "266 posts" in client.get("/author/a1/").text
    )
    later = utcnow() + timedelta(minutes=6)
    moved = later.replace(tzinfo=UTC).timestamp()
    monkeypatch.setattr("blog.posts.reading.lists.utcnow", lambda: later)
    monkeypatch.setattr("blog.cache.clock.now", lambda: moved)
    assert titles_on(client, "/page/41/")[0] == 479
    assert "267 posts" in client.get("/author/a1/").text


def test_deep_pages_and_counts_run_the_same_queries_with_few_and_many_posts(
    app, client, count_queries
):
    def counted(paths: list[str]) -> list[tuple[int, int]]:
        client.get("/")
        result = []
        for path in paths:
            with count_queries() as first:  # the first visit in this content generation
                assert client.get(path).status_code == 200, path
            with count_queries() as again:
                client.get(path)
            result.append((len(first), len(again)))
        return result

    app.config["POSTS_PER_PAGE"] = PER_PAGE
    fill_posts(MARK_EVERY + 20)  # the last page is past one mark; the authors' lists are not
    small = counted(["/page/21/", "/author/a1/page/11/", "/tag/t1/", "/page/2/"])
    fill_posts(8 * MARK_EVERY, start=MARK_EVERY + 20)  # now past eight marks, and the authors' too
    large = counted(["/page/181/", "/author/a1/page/81/", "/tag/t1/", "/page/2/"])
    assert [again for _, again in small] == [again for _, again in large]
    assert large[0][1] == large[3][1]  # a deep page seeks: no more queries than page 2
    # The first visit in a generation counts the posts and finds the marks (deep pages only).
    assert [first - again for first, again in small] == [1, 1, 1, 0]
    assert [first - again for first, again in large] == [1, 2, 1, 0]
