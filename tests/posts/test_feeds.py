"""RSS feeds, the sitemap and robots.txt."""

import feedparser

from blog.extensions import db
from blog.settings import save_settings


def test_site_feed_lists_published_posts_with_absolute_links(client, make_post, make_user):
    author = make_user(name="Feed Writer")
    make_post("Fresh post", body="Hello **feed**.", authors=[author], slug="fresh")
    make_post("Draft post", status="draft", published_at=None)
    response = client.get("/rss/")
    assert response.status_code == 200
    assert response.mimetype == "application/rss+xml"
    feed = feedparser.parse(response.data)
    assert feed.bozo == 0
    assert feed.version == "rss20"
    assert [entry.title for entry in feed.entries] == ["Fresh post"]
    assert feed.entries[0].link == "http://localhost/fresh/"
    assert feed.entries[0].author == "Feed Writer"
    assert "<strong>feed</strong>" in feed.entries[0].content[0].value


def test_author_and_tag_feeds_hold_only_their_posts(client, make_post, make_user, make_tag):
    mine, other = make_user(name="Mine", slug="mine"), make_user(name="Other")
    tag = make_tag("Birds")
    make_post("By me", authors=[mine], tags=[tag])
    make_post("By them", authors=[other])
    author_feed = feedparser.parse(client.get("/author/mine/rss/").data)
    tag_feed = feedparser.parse(client.get("/tag/birds/rss/").data)
    assert [e.title for e in author_feed.entries] == ["By me"]
    assert [e.title for e in tag_feed.entries] == ["By me"]
    assert client.get("/tag/none/rss/").status_code == 404


def test_feed_escapes_markup_in_titles_and_excerpts(client, make_post):
    make_post("<script>alert(1)</script> & friends", custom_excerpt="<b>not bold</b>")
    body = client.get("/rss/").text
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends" in body
    feed = feedparser.parse(body)
    assert feed.bozo == 0
    # The excerpt is text: a feed reader showing the description as HTML shows the tags.
    assert feed.entries[0].summary == "&lt;b&gt;not bold&lt;/b&gt;"


def test_site_feed_uses_the_title_saved_on_the_settings_screen(client, make_post):
    save_settings({"title": "Renamed Blog", "description": "New words"})
    db.session.commit()
    feed = feedparser.parse(client.get("/rss/").data).feed
    assert (feed.title, feed.subtitle) == ("Renamed Blog", "New words")


def test_sitemap_lists_public_urls_only(client, make_post, make_tag):
    plants = make_tag("Plants")
    make_post("Public", slug="public", tags=[plants])
    make_post("Secret", slug="secret", status="draft", published_at=None)
    response = client.get("/sitemap.xml")  # an index; the URLs are in its sitemaps
    assert response.mimetype == "application/xml"
    listed = client.get("/sitemap-posts.xml").text + client.get("/sitemap-tags.xml").text
    assert "<loc>http://localhost/public/</loc>" in listed
    assert "<loc>http://localhost/tag/plants/</loc>" in listed
    assert "secret" not in listed


def test_robots_points_at_the_sitemap_and_hides_admin(client):
    text = client.get("/robots.txt").text
    assert "Disallow: /admin/" in text
    assert "Sitemap: http://localhost/sitemap.xml" in text
