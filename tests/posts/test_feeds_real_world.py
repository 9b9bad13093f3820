"""Feeds and sitemaps stay well-formed XML whatever was typed, and carry absolute URLs, the
feature image and text escaped once (issue 8, items 2 and 3).

Hostile text goes in the way a user types it (the editor, the tag screen, the profile, the
settings screen, the subscribe form) and, for rows stored before the rule, straight into the
database. Every feed and the sitemap are then parsed with a strict XML parser (expat) and read
by feedparser, which must report bozo == 0.
"""

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import feedparser
import pytest
from sqlalchemy import select, text

from blog.extensions import db
from blog.models import Post, Subscriber, Tag, User
from conftest import form_token

pytestmark = pytest.mark.usefixtures("fresh_requests")

# Each is forbidden by XML 1.0 (https://www.w3.org/TR/xml/#charsets), but DEL, which is invisible.
FORBIDDEN = ["\uffff", "\ufffe", "\x0b", "\x0c", "\x1b", "\x01", "\x7f"]
HOSTILE = "".join(FORBIDDEN)
NAMESPACES = {"media": "http://search.yahoo.com/mrss/"}


def strict_parse(body: bytes) -> ET.Element:
    """Parse with expat, which refuses any document that is not well-formed XML 1.0."""
    return ET.fromstring(body)


def all_xml(client, tag_slug: str, author_slug: str) -> dict[str, bytes]:
    """Fetch every feed and the sitemap, and each sitemap a sitemap index lists."""
    paths = ["/rss/", f"/tag/{tag_slug}/rss/", f"/author/{author_slug}/rss/", "/sitemap.xml"]
    found = {}
    while paths:
        path = paths.pop(0)
        response = client.get(path)
        assert response.status_code == 200, path
        found[path] = response.data
        if "sitemap" in path and strict_parse(response.data).tag.endswith("sitemapindex"):
            locs = strict_parse(response.data).iter(
                "{http://www.sitemaps.org/schemas/sitemap/0.9}loc"
            )
            paths += [urlsplit(loc.text).path for loc in locs]
    return found


@pytest.fixture
def owner(client, login, make_user):
    user = make_user(role="owner", name="Olive Owner", slug="olive")
    login(client, user)
    client.token = form_token(client, "/admin/")
    return user


def test_forbidden_characters_typed_anywhere_are_dropped_and_every_feed_parses(client, owner):
    token = client.token
    profile = client.post(
        "/admin/profile/",
        data={"csrf_token": token, "name": f"Olive{HOSTILE} Owner", "slug": "olive",
              "bio": f"Bio{HOSTILE} here", "location": "", "website": ""},
    )  # fmt: skip
    assert profile.status_code == 303
    saved = client.post(
        "/admin/posts/new",
        data={"csrf_token": token, "title": f"Title \uffff with{HOSTILE} junk",
              "markdown": f"Body \ufffe text{HOSTILE}.\n\n- item\x0c one",
              "custom_excerpt": f"Excerpt{HOSTILE}", "tags": f"Tag\x1fName{HOSTILE}",
              "meta_title": f"Meta{HOSTILE}", "action": "publish"},
    )  # fmt: skip
    assert saved.status_code == 303, saved.text[:500]
    db.session.expire_all()
    post = db.session.scalar(select(Post))
    assert post.title == "Title with junk"
    assert post.markdown == "Body  text.\n\n- item one"
    assert post.custom_excerpt == "Excerpt" and post.meta_title == "Meta"
    assert "\ufffe" not in post.html and "\x0c" not in post.html
    tag = db.session.scalar(select(Tag))
    assert tag.name == "TagName"
    user = db.session.get(User, owner.id)
    assert (user.name, user.bio) == ("Olive Owner", "Bio here")

    for path, body in all_xml(client, tag.slug, "olive").items():
        strict_parse(body)
        if "sitemap" not in path:
            feed = feedparser.parse(body)
            assert feed.bozo == 0, (path, feed.get("bozo_exception"))
            assert feed.entries[0].title == "Title with junk"
            assert feed.entries[0].author == "Olive Owner"


def test_site_settings_with_forbidden_characters_keep_the_feed_well_formed(
    client, make_user, login
):
    login(client, make_user(role="administrator"))
    token = form_token(client, "/admin/settings/")
    response = client.post(
        "/admin/settings/",
        data={"csrf_token": token, "title": f"Site{HOSTILE}", "description": f"About{HOSTILE}",
              "language": "en", "accent_color": "#112233"},
    )  # fmt: skip
    assert response.status_code == 303
    body = client.get("/rss/").data
    strict_parse(body)
    feed = feedparser.parse(body)
    assert feed.bozo == 0 and feed.feed.title == "Site"


def test_a_subscriber_name_loses_forbidden_characters(client):
    client.post("/newsletter/", data={"email": "reader@example.com", "name": f"Rea{HOSTILE}der"})
    db.session.expire_all()
    assert db.session.scalar(select(Subscriber.name)) == "Reader"


def test_rows_stored_before_the_rule_still_give_well_formed_xml(client, make_post, make_user,
                                                                  make_tag):  # fmt: skip
    author, tag = make_user(name="Old Name", slug="old"), make_tag("Old Tag", slug="old-tag")
    make_post("Old post", authors=[author], tags=[tag], slug="old-post")
    # Written around the ORM, as an old version or another tool would have.
    stored = "Old \uffff\ufffe\x0b\x1b post"
    db.session.execute(text("UPDATE posts SET title = :t, html = :h, custom_excerpt = :t"),
                       {"t": stored, "h": f"<p>{stored}</p>"})  # fmt: skip
    db.session.execute(text("UPDATE tags SET name = :t"), {"t": stored})
    db.session.execute(text("UPDATE users SET name = :t"), {"t": stored})
    db.session.commit()
    for path, body in all_xml(client, "old-tag", "old").items():
        strict_parse(body)
        if "sitemap" not in path:
            feed = feedparser.parse(body)
            assert feed.bozo == 0, (path, feed.get("bozo_exception"))
            assert feed.entries[0].title == "Old  post"


@pytest.mark.parametrize(
    "title",
    [
        '<script>alert(1)</script> & "friends"',
        "]]> <![CDATA[ x",
        "Tom &amp; Jerry",
        "&#x0; &#xFFFF; &#1; &#65535;",
        "{{7*7}}",
    ],
)
def test_markup_and_entities_in_a_title_are_text_in_every_feed(client, make_post, make_user,
                                                               make_tag, title):  # fmt: skip
    author, tag = make_user(name=title, slug="a"), make_tag(title, slug="t")
    make_post(title, authors=[author], tags=[tag], custom_excerpt=title)
    for path, body in all_xml(client, "t", "a").items():
        root = strict_parse(body)
        if "sitemap" in path:
            continue
        assert feedparser.parse(body).bozo == 0, path
        item = root.find("channel/item")
        assert item.findtext("title") == title
        assert item.findtext("category") == title
        assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == title


# --- Item 3: absolute URLs, the feature image, text escaped once ----------------------------

BODY = """See [the about page](/about/) and [the notes](#notes).

![A picture](/uploads/picture.png "Pic")

<a href="relative/page">relative</a> <a href="https://example.org/x?a=1&b=2">out</a>
<a href="mailto:me@example.org">mail</a>
"""


@pytest.fixture
def illustrated(make_post, make_user, make_tag):
    author, tag = make_user(name="Ada", slug="ada"), make_tag("Birds", slug="birds")
    return make_post(
        'Say "hi" & <go>',
        body=BODY,
        slug="say-hi",
        authors=[author],
        tags=[tag],
        feature_image="/uploads/feature.jpg",
        feature_image_alt="A robin",
        custom_excerpt='He said "hi" & <b>left</b>',
    )


@pytest.mark.parametrize("path", ["/rss/", "/tag/birds/rss/", "/author/ada/rss/"])
def test_feed_items_carry_absolute_urls_only(client, illustrated, path):
    feed = feedparser.parse(client.get(path).data)
    assert feed.bozo == 0
    content = feed.entries[0].content[0].value
    assert 'href="http://localhost/about/"' in content
    assert 'href="http://localhost/say-hi/#notes"' in content
    assert 'href="http://localhost/say-hi/relative/page"' in content
    assert 'src="http://localhost/uploads/picture.png"' in content
    assert 'href="https://example.org/x?a=1&amp;b=2"' in content
    assert 'href="mailto:me@example.org"' in content
    assert not re.search(r'(href|src)="(?!https?://|mailto:)', content), content


@pytest.mark.parametrize("path", ["/rss/", "/tag/birds/rss/", "/author/ada/rss/"])
def test_the_feature_image_is_media_content_and_leads_the_content(client, illustrated, path):
    body = client.get(path).data
    item = strict_parse(body).find("channel/item")
    media = item.find("media:content", NAMESPACES)
    assert media is not None
    assert media.attrib == {"url": "http://localhost/uploads/feature.jpg", "medium": "image"}
    entry = feedparser.parse(body).entries[0]
    assert entry.media_content[0]["url"] == "http://localhost/uploads/feature.jpg"
    assert entry.content[0].value.startswith(
        '<img src="http://localhost/uploads/feature.jpg" alt="A robin" />'
    ) or entry.content[0].value.startswith('<img alt="A robin" src="http://localhost/uploads/')


def test_a_post_without_a_feature_image_has_no_media_content(client, make_post):
    make_post("Plain")
    body = client.get("/rss/").data
    assert strict_parse(body).find("channel/item/media:content", NAMESPACES) is None


def test_an_absolute_feature_image_is_kept_and_only_http_is_offered(client, make_post):
    make_post("Remote", feature_image="https://images.example.org/a.jpg")
    make_post("Odd", feature_image="javascript:alert(1)")
    entries = feedparser.parse(client.get("/rss/").data).entries
    assert entries[0].media_content[0]["url"] == "https://images.example.org/a.jpg"
    assert "media_content" not in entries[1] and "javascript" not in entries[1].content[0].value


def test_text_is_escaped_exactly_once(client, illustrated):
    body = client.get("/rss/").data
    texts = re.findall(r"<(?:title|description|category|dc:creator)>[^<]*<", body.decode())
    assert len(texts) == 6  # the channel's title and description, the item's four
    for raw in texts:
        assert "&#34;" not in raw and "&amp;#" not in raw and "&quot;" not in raw, raw
    item = strict_parse(body).find("channel/item")
    assert item.findtext("title") == 'Say "hi" & <go>'  # XML-escaped once: plain text
    # The description is HTML (what readers do with it): markup someone typed shows as typed,
    # and quotes stay quotes.
    assert item.findtext("description") == 'He said "hi" &amp; &lt;b&gt;left&lt;/b&gt;'
    entry = feedparser.parse(body).entries[0]
    assert entry.title == 'Say "hi" & <go>'
    assert entry.summary == 'He said "hi" &amp; &lt;b&gt;left&lt;/b&gt;'


def test_the_newsletter_mail_shares_the_absolute_url_rewriting(app, illustrated):
    from blog.mail.newsletter import issue

    html = issue(illustrated)["html"]
    assert 'href="http://localhost/about/"' in html
    assert 'src="http://localhost/uploads/picture.png"' in html
    assert 'href="http://localhost/say-hi/#notes"' in html


def test_the_cli_drops_forbidden_characters_too(runner, client):
    result = runner.invoke(
        args=["create-user", "cli@example.com", "--name", "Жанна\uffff\x0b Д'Арк",
              "--role", "author", "--password", "a long enough password"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "cli@example.com"))
    assert (user.name, user.slug) == ("Жанна Д'Арк", "zhanna-dark")


@pytest.mark.parametrize(
    "html",
    [
        "<p>a ]]> b</p><p>]]]]><![CDATA[></p>",
        "<pre><code>&lt;![CDATA[ x ]]&gt; &amp; &lt;b&gt;</code></pre>",
        "<p>ends in ]]</p>",
    ],
)
def test_the_content_is_a_cdata_section_that_gives_back_the_html_exactly(client, make_post, html):
    """As Ghost's feeds do, content:encoded carries the post's HTML unescaped in CDATA; a
    "]]>" inside (a row stored by another tool) cannot end it early."""
    post = make_post("Markup", slug="markup")
    db.session.execute(text("UPDATE posts SET html = :h WHERE id = :i"), {"h": html, "i": post.id})
    db.session.commit()
    body = client.get("/rss/").data
    assert b"<content:encoded><![CDATA[" in body
    encoded = strict_parse(body).find(
        "channel/item/{http://purl.org/rss/1.0/modules/content/}encoded"
    )
    assert encoded.text == html
    assert feedparser.parse(body).bozo == 0


def test_cdata_keeps_html_given_as_markup_unescaped():
    from markupsafe import Markup

    from blog.posts.feeds import cdata

    assert cdata(Markup("<p>a]]>b</p>")) == "<![CDATA[<p>a]]]]><![CDATA[>b</p>]]>"
    assert cdata(None) == "<![CDATA[]]>"
