"""What crawlers and shared links see: sitemaps (index, split files, lastmod, only public tags
and authors), canonical and prev/next links, Open Graph and Twitter tags, JSON-LD, meta
descriptions, post counts, the favicon."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from blog.models import utcnow

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def locs(client, path: str) -> list[str]:
    """Parse a sitemap strictly (ElementTree refuses anything not well-formed) and list its locs."""
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    return [loc.text for loc in root.iter(f"{NS}loc")]


def test_sitemap_index_points_at_the_four_sitemaps_with_lastmod(client, make_post, make_tag):
    make_post("One", slug="one", tags=[make_tag("Birds")])
    make_post("About", slug="about", type="page")
    root = ET.fromstring(client.get("/sitemap.xml").data)
    assert root.tag == f"{NS}sitemapindex"
    entries = root.findall(f"{NS}sitemap")
    assert [e.find(f"{NS}loc").text for e in entries] == [
        "http://localhost/sitemap-pages.xml",
        "http://localhost/sitemap-posts.xml",
        "http://localhost/sitemap-tags.xml",
        "http://localhost/sitemap-authors.xml",
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT.*", e.find(f"{NS}lastmod").text) for e in entries)
    assert locs(client, "/sitemap-pages.xml") == ["http://localhost/", "http://localhost/about/"]
    assert locs(client, "/sitemap-posts.xml") == ["http://localhost/one/"]
    assert locs(client, "/sitemap-tags.xml") == ["http://localhost/tag/birds/"]
    assert locs(client, "/sitemap-authors.xml") == ["http://localhost/author/default-author/"]


def test_sitemaps_split_at_the_limit(client, app, make_post):
    app.config["SITEMAP_URLS_PER_FILE"] = 2
    for n in range(5):
        make_post(f"Post {n}", slug=f"post-{n}")
    index = locs(client, "/sitemap.xml")
    files = [url for url in index if "sitemap-posts" in url]
    assert files == [
        "http://localhost/sitemap-posts.xml",
        "http://localhost/sitemap-posts-2.xml",
        "http://localhost/sitemap-posts-3.xml",
    ]
    listed = [loc for url in files for loc in locs(client, url.replace("http://localhost", ""))]
    assert sorted(listed) == [f"http://localhost/post-{n}/" for n in range(5)]
    assert client.get("/sitemap-posts-4.xml").status_code == 404
    assert client.get("/sitemap-posts-1.xml").status_code == 404  # the first has no number
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_unlisted_tags_and_authors_are_not_served(client, make_post, make_tag, make_user):
    """Issue 8 item 15: tags on drafts only, tags on nothing and authors with nothing published
    are neither in the sitemap nor served; those with a published post are."""
    drafts_only, empty, used = make_tag("Drafty"), make_tag("Empty"), make_tag("Used")
    idle, busy = make_user(name="Idle", slug="idle"), make_user(name="Busy", slug="busy")
    make_post("Draft", status="draft", published_at=None, tags=[drafts_only], authors=[idle])
    make_post("Later", status="scheduled", published_at=utcnow() + timedelta(days=1),
              tags=[drafts_only], authors=[idle])  # fmt: skip
    make_post("Live", tags=[used], authors=[busy])
    assert locs(client, "/sitemap-tags.xml") == ["http://localhost/tag/used/"]
    assert locs(client, "/sitemap-authors.xml") == ["http://localhost/author/busy/"]
    for path in ("/tag/drafty/", "/tag/empty/", "/author/idle/", "/tag/drafty/rss/",
                 "/author/idle/rss/"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    for path in ("/tag/used/", "/author/busy/", "/tag/used/rss/", "/author/busy/rss/"):
        assert client.get(path).status_code == 200, path
    assert "Drafty" not in client.get("/tag/drafty/").text
    assert empty.slug not in client.get("/sitemap-tags.xml").text


def test_sitemaps_stay_well_formed_with_hostile_slugs_and_titles(client, make_post, make_tag):
    make_post('<b>&amp; "quotes" </urlset>', slug="a-b", tags=[make_tag("A&B <c>", slug="a-b-c")])
    for path in ("/sitemap.xml", "/sitemap-posts.xml", "/sitemap-tags.xml", "/sitemap-pages.xml"):
        locs(client, path)


# --- Head tags ------------------------------------------------------------------------------


class Head(HTMLParser):
    """Collect a page's <link rel>, <meta property/name> and JSON-LD blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}
        self.meta: dict[str, list[str]] = {}
        self.json_ld: list[str] = []
        self._in_ld = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "link" and values.get("rel"):
            self.links[values["rel"]] = values.get("href")
        if tag == "meta" and (values.get("property") or values.get("name")):
            key = values.get("property") or values.get("name")
            self.meta.setdefault(key, []).append(values.get("content"))
        self._in_ld = tag == "script" and values.get("type") == "application/ld+json"

    def handle_data(self, data):
        if self._in_ld:
            self.json_ld.append(data)

    def handle_endtag(self, tag):
        self._in_ld = False


def head(client, path: str) -> Head:
    response = client.get(path)
    assert response.status_code == 200, path
    parser = Head()
    parser.feed(response.text)
    return parser


@pytest.fixture
def site(make_post, make_user, make_tag):
    ada = make_user(name="Ada Okafor", slug="ada", bio="Maps.", website="https://ada.example",
                    profile_image="/static/demo/avatar-ada.svg")  # fmt: skip
    tag = make_tag("Cities", description="Streets.")
    posts = [
        make_post(f"Post {n}", slug=f"post-{n}", authors=[ada], tags=[tag],
                  feature_image="/static/demo/harbour.jpg", feature_image_alt="Harbour")
        for n in range(7)
    ]  # fmt: skip
    return {"ada": ada, "tag": tag, "posts": posts}


def test_every_reader_page_has_a_canonical_link_and_share_tags(client, site):
    for path, og_type, ld_type in [
        ("/", "website", "WebSite"),
        ("/page/2/", "website", "WebSite"),
        ("/post-3/", "article", "Article"),
        ("/tag/cities/", "website", "Series"),
        ("/author/ada/", "profile", "Person"),
    ]:
        found = head(client, path)
        assert found.links["canonical"] == f"http://localhost{path}", path
        assert found.meta["og:type"] == [og_type]
        assert found.meta["og:url"] == [f"http://localhost{path}"]
        assert found.meta["og:site_name"] == ["Test Blog"]
        assert found.meta["og:title"][0] and found.meta["og:description"][0]
        assert found.meta["twitter:card"][0] in ("summary", "summary_large_image")
        data = json.loads("".join(found.json_ld))  # JSON-LD parses
        assert data["@context"] == "https://schema.org" and data["@type"] == ld_type, path
        assert data["url"] == f"http://localhost{path}"


def test_numbered_pages_link_prev_and_next(client, site):
    first, second = head(client, "/"), head(client, "/page/2/")
    assert "prev" not in first.links and first.links["next"] == "http://localhost/page/2/"
    assert second.links["prev"] == "http://localhost/"
    assert "next" not in second.links  # 7 posts, 5 a page
    tag_two = head(client, "/tag/cities/page/2/")
    assert tag_two.links["prev"] == "http://localhost/tag/cities/"
    assert tag_two.links["canonical"] == "http://localhost/tag/cities/page/2/"


def test_post_carries_article_tags_and_json_ld(client, site):
    found = head(client, "/post-3/")
    assert found.meta["og:image"] == ["http://localhost/static/demo/harbour.jpg"]
    assert found.meta["og:image:width"] == ["1200"] and found.meta["og:image:height"] == ["800"]
    assert found.meta["twitter:card"] == ["summary_large_image"]
    assert found.meta["twitter:image"] == ["http://localhost/static/demo/harbour.jpg"]
    assert found.meta["article:tag"] == ["Cities"]
    assert found.meta["article:published_time"][0].startswith(str(utcnow().year))
    assert found.meta["article:modified_time"]
    article = json.loads("".join(found.json_ld))
    assert article["headline"] == "Post 3"
    assert article["url"] == "http://localhost/post-3/"
    assert article["image"] == {"@type": "ImageObject", "url": "http://localhost/static/demo/harbour.jpg",
                                "width": 1200, "height": 800}  # fmt: skip
    assert article["datePublished"] and article["dateModified"]
    assert article["author"] == {"@type": "Person", "name": "Ada Okafor",
                                 "url": "http://localhost/author/ada/"}  # fmt: skip
    assert article["publisher"]["@type"] == "Organization"
    assert article["publisher"]["logo"]["url"] == "http://localhost/favicon.ico"


def test_svg_images_are_not_offered_to_social_networks(client, make_post):
    make_post("Vector", slug="vector", feature_image="/static/demo/harbour.svg")
    found = head(client, "/vector/")
    assert "og:image" not in found.meta and found.meta["twitter:card"] == ["summary"]


def test_json_ld_keeps_a_closing_script_tag_as_text(client, make_post):
    title = 'Evil </script><script>alert(1)</script> "quoted"'
    make_post(title, slug="evil")
    body = client.get("/evil/").text
    assert "<script>alert(1)" not in body
    found = Head()
    found.feed(body)
    assert json.loads("".join(found.json_ld))["headline"] == title


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"custom_excerpt": "Custom.", "meta_description": "Meta."}, "Custom."),
        ({"meta_description": "Meta only."}, "Meta only."),
        ({}, "First sentence here. Second one follows."),
    ],
)
def test_meta_description_prefers_custom_excerpt_then_meta_then_first_sentences(
    client, make_post, fields, expected
):
    # Whole sentences up to about 160 characters: the long third one does not fit.
    body = "First sentence here.\n\nSecond one follows.\n\nThird " + "goes on " * 20 + "and on."
    make_post("Described", slug="described", body=body, **fields)
    found = head(client, "/described/")
    assert found.meta["description"] == [expected]
    assert found.meta["og:description"] == [expected]


def test_paragraph_breaks_become_spaces_in_descriptions(client, make_post):
    make_post("Lines", slug="lines", body="Alpha\n\n- one\n- two\n\nOmega.")
    description = head(client, "/lines/").meta["description"][0]
    assert description == "Alpha one two Omega."


def test_author_and_tag_pages_show_post_counts(client, site, make_post):
    make_post("Draft", status="draft", published_at=None, authors=[site["ada"]], tags=[site["tag"]])
    assert "A collection of 7 posts" in client.get("/tag/cities/").text
    assert "7 posts" in client.get("/author/ada/").text


@pytest.mark.usefixtures("fresh_requests")  # settings are read afresh for each request
def test_favicon_is_served_from_the_icon_setting_or_the_default(app):
    client = app.test_client()
    default = client.get("/favicon.ico")
    assert default.status_code == 200 and default.data[:4] == b"\x00\x00\x01\x00"  # ICO
    app.config["SITE_ICON"] = "/static/demo/harbour.jpg"
    mine = client.get("/favicon.ico")
    assert mine.status_code == 200 and mine.mimetype == "image/jpeg"
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/").text
    app.config["SITE_ICON"] = "https://cdn.example/icon.png"  # linked, never redirected to
    assert client.get("/favicon.ico").data[:4] == b"\x00\x00\x01\x00"
    assert '<link rel="icon" href="https://cdn.example/icon.png"' in client.get("/").text
