"""Case and trailing-slash normalisation ends at the real file in one redirect, and never adds a
slash to a file path (issue 8, item 4): `/Sitemap.xml` went to `/Sitemap.xml/`, then
`/sitemap.xml/`, a 404."""

import http.client
from urllib.parse import urlsplit

import pytest


@pytest.fixture
def a_post(make_post, make_tag):
    # Tagged: a tag's page and feed are public only while a published post carries it.
    return make_post("About us", slug="about", tags=[make_tag("Birds")])


FILES = [
    ("/Sitemap.xml", "/sitemap.xml", "application/xml"),
    ("/SITEMAP.XML", "/sitemap.xml", "application/xml"),
    ("/sitemap.xml/", "/sitemap.xml", "application/xml"),
    ("/Sitemap.xml/", "/sitemap.xml", "application/xml"),
    ("/ROBOTS.TXT", "/robots.txt", "text/plain"),
    ("/Robots.txt/", "/robots.txt", "text/plain"),
    ("/robots.txt/", "/robots.txt", "text/plain"),
    ("/Assets/Theme.CSS", "/assets/theme.css", "text/css"),
]


@pytest.mark.parametrize("path, target, mimetype", FILES)
def test_a_file_path_in_the_wrong_case_or_with_a_slash_ends_at_the_file_in_one_redirect(
    client, a_post, path, target, mimetype
):
    response = client.get(path)
    assert response.status_code == 301
    assert response.headers["Location"] == target
    final = client.get(response.headers["Location"])
    assert final.status_code == 200
    assert final.mimetype == mimetype


@pytest.mark.parametrize("path", ["/sitemap.xml", "/robots.txt", "/rss/", "/about/"])
def test_canonical_paths_are_served_directly(client, a_post, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    "path", ["/missing.png", "/Missing.PNG", "/missing.png/", "/ads.txt", "/a/b.txt"]
)
def test_a_missing_file_is_a_404_without_a_slash_added(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    "path, target",
    [
        ("/About", "/about/"),
        ("/ABOUT/", "/about/"),
        ("/RSS", "/rss/"),
        ("/Tag/Birds/RSS", "/tag/birds/rss/"),
        ("/page/1/", "/"),
    ],
)
def test_pages_still_get_their_slash_and_lower_case_in_one_redirect(
    client, a_post, make_tag, path, target
):
    response = client.get(path)
    assert response.status_code == 301 and response.headers["Location"] == target
    assert client.get(target).status_code == 200


def test_the_query_string_survives_the_redirect(client):
    response = client.get("/Sitemap.xml?x=1")
    assert response.headers["Location"] == "/sitemap.xml?x=1"


def follow(base: str, path: str) -> tuple[list[str], int, str]:
    """GET path over real HTTP, following redirects by hand; return (hops, status, type)."""
    host = urlsplit(base).netloc
    hops = []
    for _ in range(5):
        conn = http.client.HTTPConnection(host, timeout=10)
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status not in (301, 302, 303, 307, 308):
            return hops, response.status, response.getheader("Content-Type", "")
        path = urlsplit(response.getheader("Location")).path
        hops.append(path)
    raise AssertionError(f"redirect loop: {hops}")


@pytest.mark.parametrize("path, target, mimetype", FILES[:6])
def test_over_real_http_one_redirect_reaches_the_file(live_server, a_post, path, target, mimetype):
    hops, status, content_type = follow(live_server, path)
    assert hops == [target]
    assert status == 200 and content_type.startswith(mimetype)
