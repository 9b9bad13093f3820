"""Every reader page runs a fixed, small number of SQL queries, however much it shows."""

from conftest import HX
from fixtures.factories import fill_posts

FIRST_PAGES = ["/", "/p3/", "/tag/t1/", "/author/a1/"]
LATER_PAGES = {"/page/2/": "/", "/tag/t1/page/2/": "/tag/t1/", "/author/a1/page/3/": "/author/a1/"}


def queries_per_page(client, count_queries, paths) -> dict[tuple[str, bool], int]:
    """Return how many statements each path runs, as a full page and as an htmx fragment,
    when its content generation has been seen before (the steady state)."""
    client.get("/")  # warm up: the first request of an app also reads the stored settings
    counts = {}
    for path in paths:
        for headers in ({}, HX):
            # Post counts and deep pages' marks are worked out once per content generation
            # (blog.posts.reading.memo): test_memo.py counts that first visit.
            client.get(path, headers=headers)
            with count_queries() as statements:
                response = client.get(path, headers=headers)
            assert response.status_code == 200, path
            counts[(path, bool(headers))] = len(statements)
    return counts


def test_query_count_is_the_same_for_5_and_200_posts(client, count_queries):
    fill_posts(5)
    small = queries_per_page(client, count_queries, FIRST_PAGES)
    fill_posts(195, start=5)
    large = queries_per_page(client, count_queries, FIRST_PAGES)
    assert small == large
    assert max(large.values()) <= 6


def test_later_pages_run_the_same_queries_as_the_first(client, count_queries):
    fill_posts(200)
    first = queries_per_page(client, count_queries, LATER_PAGES.values())
    later = queries_per_page(client, count_queries, LATER_PAGES)
    for (path, htmx), count in later.items():
        assert count == first[(LATER_PAGES[path], htmx)], path


def test_home_page_runs_three_queries(client, count_queries):
    fill_posts(30)
    client.get("/")  # warm up, as above
    with count_queries() as statements:
        response = client.get("/")
    assert response.status_code == 200
    assert all(f">P{n}</a>" in response.text for n in range(5))  # the five newest posts
    assert len(statements) <= 3, statements
