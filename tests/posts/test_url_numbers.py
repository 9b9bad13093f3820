"""Numbers from URLs and query strings are bounded before they reach a query (issue 8, item 1).

A page number, cursor or id too large for the database answered 500 (SQLite overflows past
2**63 - 1, PostgreSQL's integer past 2**31 - 1). Out of range is 404; a malformed query 400.
Every test here runs on SQLite and on PostgreSQL.
"""

import re

import pytest

from conftest import HX, form_token

pytestmark = pytest.mark.usefixtures("fresh_requests")

HUGE = ["2147483648", "9223372036854775808", "99999999999999999999", "9" * 60]


@pytest.fixture
def blog(make_post, make_user, make_tag):
    """Seven published posts by one author with one tag: two pages at five per page."""
    ada = make_user(name="Ada", slug="ada")
    birds = make_tag("Birds")
    return [make_post(f"Post {n}", authors=[ada], tags=[birds]) for n in range(7)]


@pytest.fixture
def owner(client, login, make_user):
    user = make_user(role="owner", name="Olive Owner", slug="olive")
    login(client, user)
    return user


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize("prefix", ["", "/tag/birds", "/author/ada"])
def test_a_page_number_too_large_for_the_database_is_404(client, blog, prefix, number):
    response = client.get(f"{prefix}/page/{number}/")
    assert response.status_code == 404
    assert "Page not found" in response.text
    for rss in ("/rss/", "/tag/birds/rss/", "/author/ada/rss/"):  # the feeds still answer
        assert client.get(rss).status_code == 200


@pytest.mark.parametrize("prefix", ["", "/tag/birds", "/author/ada"])
def test_pages_in_range_work_and_past_the_end_is_404(client, blog, prefix):
    assert client.get(f"{prefix}/page/2/").status_code == 200
    assert client.get(f"{prefix}/page/3/").status_code == 404
    assert client.get(f"{prefix}/page/2147483647/").status_code == 404


@pytest.mark.parametrize("digits", ["٣", "３", "²"])
def test_non_ascii_digits_are_not_page_numbers(client, blog, digits):
    assert client.get(f"/page/{digits}/").status_code == 404


def read_more(body: str) -> str:
    return re.search(r'href="([^"]*after=[^"]+)"', body)[1].replace("&amp;", "&")


def test_the_read_more_cursor_still_pages_through_every_post(client, blog):
    href = read_more(client.get("/").text)
    response = client.get(href, headers=HX)
    assert response.status_code == 200
    assert response.text.count('<article class="card') == 2


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "2020_x",
        "9" * 80,
        "20261128T093000.000000_99999999999999999999",
        "20261128T093000.000000_-1",
        "20261128T093000.000000_0",
        "20261399T093000.000000_1",
        "20261128T093000.000000_٣",
    ],
)
@pytest.mark.parametrize("prefix", ["", "/tag/birds", "/author/ada"])
def test_a_malformed_or_out_of_range_cursor_is_400(client, blog, prefix, after):
    response = client.get(f"{prefix}/page/2/", query_string={"after": after})
    assert response.status_code == 400
    assert "Read More" in response.text  # the site's error page says what is wrong
    assert (
        client.get(f"{prefix}/page/2/", query_string={"after": after}, headers=HX).status_code
        == 400
    )


@pytest.mark.parametrize(
    "path",
    [
        "/admin/posts/{n}/",
        "/admin/posts/{n}/delete",
    ],
)
@pytest.mark.parametrize("number", ["2147483648", "99999999999999999999"])
def test_admin_ids_too_large_are_404(client, owner, path, number):
    assert client.get(path.format(n=number)).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/admin/posts/{n}/",
        "/admin/tags/{n}/",
        "/admin/tags/{n}/delete",
        "/admin/staff/{n}/role",
        "/admin/staff/{n}/deactivate",
        "/admin/staff/invites/{n}/revoke",
        "/admin/subscribers/{n}/delete",
    ],
)
def test_admin_posts_to_ids_too_large_are_404(client, owner, path):
    token = form_token(client, "/admin/")
    response = client.post(path.format(n="99999999999999999999"), data={"csrf_token": token})
    assert response.status_code == 404


@pytest.mark.parametrize("value, status", [("abc", 400), ("1.5", 400), ("-1", 400), ("٣", 400),
                                           ("0", 404), ("99999999999999999999", 404),
                                           ("2147483648", 404), ("7", 404)])  # fmt: skip
@pytest.mark.parametrize("path", ["/admin/", "/admin/subscribers"])
def test_admin_list_page_numbers_are_checked(client, owner, blog, path, value, status):
    response = client.get(path, query_string={"page": value})
    assert response.status_code == status
    assert client.get(path, query_string={"page": "1"}).status_code == 200


def test_autosave_with_an_id_too_large_is_404_and_creates_nothing(client, owner):
    from sqlalchemy import func, select

    from blog.extensions import db
    from blog.models import Post

    token = form_token(client, "/admin/")
    for post_id, status in (("99999999999999999999", 404), ("x1", 400), ("²", 400)):
        response = client.post(
            "/admin/posts/autosave",
            data={"post_id": post_id, "title": "T", "markdown": "x"},
            headers={**HX, "X-CSRFToken": token},
        )
        assert response.status_code == status
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0
