"""Reader pages: home and its pages, posts, static pages, tags, authors, redirects and 404s."""

import re
from datetime import timedelta

import pytest

from blog.models import utcnow
from conftest import HX


def card_titles(html: str) -> list[str]:
    return re.findall(r'class="card__title"><a href="[^"]+">([^<]+)</a>', html)


def read_more_href(html: str) -> str | None:
    match = re.search(r'<a class="button read-more" href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.fixture
def twelve_posts(make_post):
    """Twelve published posts, newest first: 'Post 1' is the newest."""
    now = utcnow()
    return [
        make_post(f"Post {n}", published_at=now - timedelta(hours=n), slug=f"post-{n}")
        for n in range(12, 0, -1)
    ][::-1]


def test_home_lists_newest_published_posts_first(client, twelve_posts):
    response = client.get("/")
    assert response.status_code == 200
    assert card_titles(response.text) == [f"Post {n}" for n in range(1, 6)]


def test_home_card_shows_author_tag_date_and_reading_time(client, make_post, make_user, make_tag):
    author = make_user(name="Grace Hopper", slug="grace", profile_image="/static/img/avatar.svg")
    tag = make_tag("Compilers")
    make_post("Nanoseconds", authors=[author], tags=[tag], feature_image="/static/demo/tide.svg")
    html = client.get("/").text
    assert "Grace Hopper" in html and 'href="/tag/compilers/"' in html
    assert 'src="/static/demo/tide.svg"' in html
    assert "1 min read" in html


def test_page_two_continues_where_page_one_ended(client, twelve_posts):
    response = client.get("/page/2/")
    assert response.status_code == 200
    assert card_titles(response.text) == [f"Post {n}" for n in range(6, 11)]
    assert "<html" in response.text


def test_page_one_redirects_permanently_to_home(client, twelve_posts):
    response = client.get("/page/1/")
    assert response.status_code == 301
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("path", ["/page/4/", "/page/0/", "/page/abc/", "/page/-1/"])
def test_pages_past_the_end_or_not_numbers_are_404(client, twelve_posts, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_last_page_has_no_read_more_link(client, twelve_posts):
    html = client.get("/page/3/").text
    assert card_titles(html) == ["Post 11", "Post 12"]
    assert read_more_href(html) is None


def test_read_more_link_carries_page_number_and_keyset_cursor(client, twelve_posts):
    href = read_more_href(client.get("/").text)
    assert href.startswith("/page/2/?after=")
    assert re.fullmatch(r"/page/2/\?after=\d{8}T\d{6}\.\d{6}_\d+", href)


def test_read_more_returns_next_cards_for_htmx(client, twelve_posts):
    href = read_more_href(client.get("/").text)
    response = client.get(href, headers=HX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert card_titles(response.text) == [f"Post {n}" for n in range(6, 11)]
    assert read_more_href(response.text).startswith("/page/3/?after=")
    assert "HX-Request" in response.headers["Vary"]


def test_cursor_pages_follow_to_the_end_without_gaps_or_repeats(client, twelve_posts):
    seen, href = card_titles(client.get("/").text), read_more_href(client.get("/").text)
    while href:
        response = client.get(href, headers=HX)
        seen += card_titles(response.text)
        href = read_more_href(response.text)
    assert seen == [f"Post {n}" for n in range(1, 13)]


def test_cursor_wins_over_page_number_when_posts_were_published_meanwhile(
    client, twelve_posts, make_post
):
    href = read_more_href(client.get("/").text)
    make_post("Breaking news")  # lands on top, shifting every offset by one
    assert card_titles(client.get(href, headers=HX).text)[0] == "Post 6"


@pytest.mark.parametrize("cursor", ["garbage", "2020_x", "9" * 80])
def test_malformed_cursor_is_a_bad_request(client, twelve_posts, cursor):
    response = client.get(f"/page/2/?after={cursor}")  # issue 8: a malformed query is 400
    assert response.status_code == 400
    assert client.get("/page/2/").status_code == 200


def test_full_page_and_fragment_answer_the_same_url(client, twelve_posts):
    full = client.get("/page/2/")
    boosted = client.get("/page/2/", headers={**HX, "HX-Boosted": "true"})
    restore = client.get("/page/2/", headers={**HX, "HX-History-Restore-Request": "true"})
    fragment = client.get("/page/2/", headers=HX)
    assert "<html" in full.text and "<html" in boosted.text and "<html" in restore.text
    assert "<html" not in fragment.text and 'class="card' in fragment.text
    for response in (full, boosted, fragment):
        assert "HX-Request" in response.headers["Vary"]


def test_post_page_shows_title_byline_body_and_newsletter(client, make_post, make_user, make_tag):
    ada = make_user(name="Ada Lovelace", slug="ada", profile_image="/static/demo/avatar-ada.svg")
    tag = make_tag("Engines")
    make_post(
        "Notes on the engine",
        body="The **analytical** engine weaves algebraic patterns.",
        authors=[ada],
        tags=[tag],
        slug="notes",
        feature_image="/static/demo/ridge.svg",
        feature_image_alt="A loom",
    )
    response = client.get("/notes/")
    html = response.text
    assert response.status_code == 200
    assert '<h1 class="article__title">Notes on the engine</h1>' in html
    assert 'src="/static/demo/avatar-ada.svg"' in html
    assert re.search(r'by <a href="/author/ada/">Ada Lovelace</a>', html)
    assert "<strong>analytical</strong>" in html
    assert 'alt="A loom"' in html
    assert "Subscribe to Our Newsletter" in html
    assert "Never Miss a Post – Subscribe Now" in html
    assert html.count('action="/newsletter/"') == 2


def test_post_with_several_authors_names_them_all(client, make_post, make_user):
    one, two = make_user(name="First Writer"), make_user(name="Second Writer")
    make_post("Duet", authors=[one, two], slug="duet")
    html = client.get("/duet/").text
    assert "First Writer</a> and <a" in html and "Second Writer</a>" in html


def test_post_read_more_lists_three_newest_other_posts(client, twelve_posts):
    html = client.get("/post-2/").text
    section = html.split('id="read-more-title"')[1]
    assert card_titles(section) == ["Post 1", "Post 3", "Post 4"]


def test_static_page_is_served_but_never_listed(client, make_post):
    make_post("About us", slug="about", type="page")
    make_post("A real post")
    assert client.get("/about/").status_code == 200
    assert "About us" not in client.get("/").text
    assert "Read More" not in client.get("/about/").text


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "draft", "published_at": None},
        {"status": "scheduled", "published_at": utcnow() + timedelta(days=1)},
        {"status": "published", "published_at": utcnow() + timedelta(days=1)},
    ],
)
def test_drafts_and_future_posts_are_hidden_from_readers(client, make_post, make_tag, fields):
    tag = make_tag("Secret")
    make_post("Hidden thing", slug="hidden", tags=[tag], **fields)
    assert client.get("/hidden/").status_code == 404
    assert "Hidden thing" not in client.get("/").text
    assert "Hidden thing" not in client.get("/tag/secret/").text


def test_scheduled_post_appears_once_its_time_has_come(client, make_post):
    make_post("Due now", slug="due", status="scheduled", published_at=utcnow())
    assert client.get("/due/").status_code == 200


@pytest.mark.parametrize(
    "path, target",
    [
        ("/about", "/about/"),
        ("/About/", "/about/"),
        ("/TAG/Kitchen/", "/tag/kitchen/"),
        ("/page/2", "/page/2/"),
        ("/Author/ada", "/author/ada/"),
    ],
)
def test_non_canonical_paths_redirect_permanently(client, path, target):
    response = client.get(path)
    assert response.status_code == 301
    assert response.headers["Location"] == target


def test_redirect_keeps_the_query_string(client):
    response = client.get("/page/2?after=x")
    assert response.headers["Location"] == "/page/2/?after=x"


def test_unknown_slug_is_a_404_in_the_sites_look(client):
    response = client.get("/no-such-post/")
    assert response.status_code == 404
    assert "Page not found" in response.text and "site-header" in response.text


def test_tag_page_shows_name_description_and_posts(client, make_post, make_tag):
    tag = make_tag("Gardening", description="Dirt under the nails.")
    make_post("Tomatoes", tags=[tag])
    make_post("Unrelated")
    response = client.get("/tag/gardening/")
    assert response.status_code == 200
    assert "Dirt under the nails." in response.text
    assert card_titles(response.text) == ["Tomatoes"]
    assert client.get("/tag/nope/").status_code == 404


def test_tag_pages_paginate_with_read_more(client, make_post, make_tag):
    tag = make_tag("Many")
    for n in range(7):
        make_post(f"Tagged {n}", tags=[tag])
    html = client.get("/tag/many/").text
    href = read_more_href(html)
    assert href.startswith("/tag/many/page/2/?after=")
    assert len(card_titles(client.get(href, headers=HX).text)) == 2
    assert client.get("/tag/many/page/1/").headers["Location"] == "/tag/many/"
    assert client.get("/tag/many/page/3/").status_code == 404


def test_author_page_shows_profile_and_their_posts(client, make_post, make_user):
    author = make_user(
        name="Mary Shelley",
        slug="mary",
        bio="Wrote a famous novel.",
        website="https://example.com/mary",
        profile_image="/static/img/avatar.svg",
    )
    other = make_user(name="Someone Else")
    make_post("Frankenstein", authors=[author])
    make_post("Other book", authors=[other])
    response = client.get("/author/mary/")
    html = response.text
    assert response.status_code == 200
    assert "Mary Shelley" in html and "Wrote a famous novel." in html
    assert 'href="https://example.com/mary"' in html
    assert card_titles(html) == ["Frankenstein"]
    assert client.get("/author/nobody/").status_code == 404


def test_author_website_with_a_script_url_is_not_linked(client, make_user, make_post):
    mallory = make_user(name="Mallory", slug="mallory", website="javascript:alert(1)")
    make_post("By Mallory", authors=[mallory])  # an author page needs a published post
    response = client.get("/author/mallory/")
    assert response.status_code == 200
    assert '<h1 class="hero__title">Mallory</h1>' in response.text  # the profile is shown
    assert "javascript:" not in response.text


def test_deactivated_author_page_is_gone(client, make_user):
    make_user(name="Gone", slug="gone", is_active=False)
    assert client.get("/author/gone/").status_code == 404


def test_every_page_sends_security_headers(client, make_post):
    make_post(slug="x")
    for path in ("/", "/x/", "/no-such/"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_uploaded_feature_images_are_served_in_several_widths(client, make_post):
    image = "/uploads/" + "a" * 32 + "-1600.webp"
    make_post("Wide picture", slug="wide", feature_image=image)
    token = "/uploads/" + "a" * 32
    expected = f"{token}-480.webp 480w, {token}-960.webp 960w, {token}-1600.webp 1600w"
    assert f'srcset="{expected}"' in client.get("/").text
    assert f'srcset="{expected}"' in client.get("/wide/").text


def test_images_from_elsewhere_get_no_srcset(client, make_post):
    make_post("Plain picture", slug="plain", feature_image="/static/demo/tide.svg")
    for path in ("/", "/plain/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Plain picture" in response.text
        assert 'src="/static/demo/tide.svg"' in response.text  # the picture is shown
        assert "srcset" not in response.text
