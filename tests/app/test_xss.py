"""The XSS corpus (tests/data/xss_payloads.txt) through every field a user can write: post
title, body, excerpt, tags, meta fields, image alt text; author name, bio, website, location.
Stored HTML, reader pages, feeds, the sitemap and the admin screens must hold nothing that
runs: no script, no event handler, no style, no htmx attribute of the author's, no
javascript:/data:/vbscript: URL, no frame but the server's own video embeds."""

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from blog.content import render_markdown, sanitise
from blog.extensions import db
from blog.models import Post
from conftest import HX, form_token

ESCAPES = {
    r"\t": "\t",
    r"\n": "\n",
    r"\r": "\r",
    r"\x0e": "\x0e",
    r"\u200b": "\u200b",
    r"\u202e": "\u202e",
    r"\u2028": "\u2028",
    "\\\\": "\\",
}


def load_payloads() -> list[str]:
    corpus = Path(__file__).parent.parent / "data" / "xss_payloads.txt"
    lines = corpus.read_text("utf-8").splitlines()
    pattern = re.compile("|".join(re.escape(escape) for escape in ESCAPES))
    return [
        pattern.sub(lambda m: ESCAPES[m[0]], line)
        for line in lines
        if line.strip() and not line.startswith("##")
    ]


PAYLOADS = load_payloads()

# Elements no page may carry from user input (the site's own scripts are checked apart).
FORBIDDEN_TAGS = {
    "object", "embed", "applet", "base", "frame", "frameset", "style", "svg", "math",
    "template", "xmp", "plaintext", "isindex", "keygen", "noscript", "marquee",
}  # fmt: skip
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "poster", "data", "cite", "background",
    "dynsrc", "lowsrc", "xlink:href", "ping", "icon", "manifest", "codebase",
}  # fmt: skip
EMBED = re.compile(
    r"https://www\.youtube-nocookie\.com/embed/[\w-]{11}|https://player\.vimeo\.com/video/\d+"
)
OWN_SCRIPTS = re.compile(r"/static/[\w/.-]+\.js")  # the site's own files (CSP: script-src 'self')


def url_is_safe(value: str) -> bool:
    """Tell whether a URL, as a browser reads it (the parser has decoded the attribute once),
    uses a harmless scheme or none."""
    cleaned = "".join(ch for ch in value if ch.isprintable() and not ch.isspace())
    cleaned = cleaned.replace("\u200b", "").lower()
    found = re.match(r"([a-z][a-z0-9+.\-]*):", cleaned)
    return found is None or found[1] in ("http", "https", "mailto")


class Inspector(HTMLParser):
    """Collect everything executable in a document, and the htmx attributes (and formaction)
    it carries, which must be the site's own."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []
        self.htmx: set[tuple[str, str, str]] = set()

    def handle_starttag(self, tag, attrs):
        self.check(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self.check(tag, attrs)

    def check(self, tag: str, attrs) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in FORBIDDEN_TAGS:
            self.findings.append(f"<{tag}>")
        # JSON-LD is data, never run; a title that broke out of it would open another <script>.
        json_ld = values.get("type") == "application/ld+json" and "src" not in values
        if tag == "script" and not json_ld and not OWN_SCRIPTS.fullmatch(values.get("src", "")):
            self.findings.append(f"<script {values}>")
        if tag == "iframe" and not EMBED.fullmatch(values.get("src", "")):
            self.findings.append(f"<iframe {values}>")
        if tag == "meta" and "http-equiv" in values:
            self.findings.append(f"<meta http-equiv={values['http-equiv']}>")
        if tag == "link" and values.get("rel", "").lower() not in ("stylesheet", "alternate",
                                                                    "canonical", "icon",
                                                                    "prev", "next"):  # fmt: skip
            self.findings.append(f"<link {values}>")
        if tag == "link" and not url_is_safe(values.get("href", "")):
            self.findings.append(f"<link {values}>")
        for name, value in values.items():
            if name.startswith("on") or name in ("style", "srcdoc"):
                self.findings.append(f"<{tag} {name}={value!r}>")
            if name.startswith(("hx-", "data-hx-")) or name == "formaction":
                # Only the site's own are allowed; "Read More" links differ only by cursor.
                value = re.sub(r"after=[\w.]+", "after=*", re.sub(r"/page/\d+/", "/page/N/", value))
                value = re.sub(r"^/(tag|author)/[a-z0-9-]+/", r"/\1/S/", value)
                self.htmx.add((tag, name, value))
            if name in URL_ATTRIBUTES and not url_is_safe(value):
                self.findings.append(f"<{tag} {name}={value!r}>")
            if name == "srcset" and not all(url_is_safe(part) for part in value.split(",")):
                self.findings.append(f"<{tag} srcset={value!r}>")


def inspect_html(text: str) -> Inspector:
    inspector = Inspector()
    inspector.feed(text)
    inspector.close()
    return inspector


CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


def inspect_feed(text: str) -> list[str]:
    """Check a feed: well-formed XML (so every text field stayed text), and the post HTML it
    carries in content:encoded is inert."""
    try:
        root = ET.fromstring(text.encode())
    except ET.ParseError as error:
        return [f"feed is not well-formed XML: {error}"]
    findings = []
    for element in root.iter(CONTENT):
        found = inspect_html(element.text or "")
        findings += found.findings + [f"htmx {attr}" for attr in found.htmx]
    return findings


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_sanitiser_leaves_nothing_executable_and_is_a_fixed_point(payload):
    html = render_markdown(payload)
    assert inspect_html(html).findings == []
    assert inspect_html(html).htmx == set()
    assert sanitise(html, embeds=True) == html  # re-parsing changes nothing (no mXSS)
    assert sanitise(sanitise(payload)) == sanitise(payload)


def test_the_corpus_is_large_and_covers_every_family():
    assert len(PAYLOADS) >= 150
    text = "\n".join(PAYLOADS)
    for family in ("<script", "onerror", "javascript:", "<svg", "<math", "data:text/html",
                   "hx-get", "hx-on", "{{7*7}}", "&#x09;", "\t", "srcdoc", "<noscript"):  # fmt: skip
        assert family in text, family


@pytest.fixture
def author(client, login, make_user):
    user = make_user(role="owner", name="Owner", slug="owner")
    login(client, user)
    client.token = form_token(client, "/admin/")
    return client


def write_everything(client, payload: str) -> Post | None:
    """Put payload into every field of the profile and of a new published post."""
    client.post(
        "/admin/profile/",
        data={"csrf_token": client.token, "name": payload[:191], "slug": "owner",
              "bio": payload, "location": payload[:191], "website": payload},
    )  # fmt: skip
    response = client.post(
        "/admin/posts/new",
        data={"csrf_token": client.token, "title": payload[:255], "markdown": payload,
              "custom_excerpt": payload[:300], "meta_title": payload[:300],
              "meta_description": payload[:500], "feature_image_alt": payload[:191],
              "tags": payload[:191], "action": "publish"},
    )  # fmt: skip
    if response.status_code != 303:
        return None
    post_id = int(re.search(r"/admin/posts/(\d+)/", response.headers["Location"])[1])
    db.session.expire_all()
    return db.session.get(Post, post_id)


def pages_for(post: Post | None) -> list[tuple[str, dict]]:
    pages = [("/", {}), ("/author/owner/", {}), ("/admin/", {}), ("/admin/", HX),
             ("/admin/profile/", {}), ("/admin/staff/", {})]  # fmt: skip
    if post is not None:
        pages += [(post.url, {}), (f"/admin/posts/{post.id}/", {})]
        pages += [(tag.url, {}) for tag in post.tags]
    return pages


FEEDS = ["/rss/", "/author/owner/rss/", "/sitemap.xml"]


@pytest.mark.slow  # the whole corpus through every field: the suite's longest test
@pytest.mark.usefixtures("fresh_requests")
def test_no_payload_in_any_field_comes_out_executable(author):
    for _ in range(6):  # more than a page of posts, so "Read More" links appear too
        baseline = write_everything(author, "A perfectly plain title")
    allowed_htmx: set = set()
    for path, headers in pages_for(baseline):
        allowed_htmx |= inspect_html(author.get(path, headers=headers).text).htmx
    failures = []
    saved = 0
    for payload in PAYLOADS:
        post = write_everything(author, payload)
        if post is not None:
            saved += 1
            stored = inspect_html(post.html)
            if stored.findings or stored.htmx:
                failures.append((payload, "stored html", stored.findings, stored.htmx))
        for path, headers in pages_for(post):
            response = author.get(path, headers=headers)
            found = inspect_html(response.text)
            extra_htmx = found.htmx - allowed_htmx
            if response.status_code >= 500 or found.findings or extra_htmx:
                failures.append((payload, path, found.findings, extra_htmx))
        for path in FEEDS:
            findings = inspect_feed(author.get(path).text)
            if findings:
                failures.append((payload, path, findings, None))
    assert saved > len(PAYLOADS) * 0.9  # the payloads really went in, not just got refused
    assert failures[:5] == [] and len(failures) == 0


@pytest.mark.usefixtures("fresh_requests")
@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", "{{7*7}}", "{{config}}"])
def test_a_title_is_shown_literally_everywhere(app, author, payload):
    post = write_everything(author, payload)
    escaped = payload.replace("<", "&lt;").replace(">", "&gt;")
    page = author.get(post.url).text
    assert f'<h1 class="article__title">{escaped}</h1>' in page
    assert f"<title>{escaped}" in page and f'og:title" content="{escaped}"' in page
    assert "SECRET_KEY" not in page and "test secret key" not in page
    for path in ("/admin/", "/"):
        assert escaped in author.get(path).text
    assert escaped in author.get("/admin/?q=" + payload[:5], headers=HX).text
    feed = ET.fromstring(app.test_client().get("/rss/").data)
    assert feed.find("channel/item/title").text == payload


# --- Embeds and new-tab links ---------------------------------------------------------------


@pytest.mark.parametrize(
    "line, src",
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("https://youtu.be/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("https://m.youtube.com/shorts/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("<https://vimeo.com/76979871>", "https://player.vimeo.com/video/76979871"),
        ("https://player.vimeo.com/video/76979871", "https://player.vimeo.com/video/76979871"),
    ],
)  # fmt: skip
def test_a_video_link_alone_on_a_line_becomes_a_server_built_embed(line, src):
    html = render_markdown(f"Before.\n\n{line}\n\nAfter.")
    frames = re.findall(r"<iframe [^>]*>", html)
    assert len(frames) == 1 and f'src="{src}"' in frames[0]
    assert 'sandbox="allow-scripts allow-same-origin allow-presentation allow-popups"' in frames[0]
    assert inspect_html(html).findings == []
    assert sanitise(html, embeds=True) == html


@pytest.mark.parametrize(
    "source",
    [
        "Watch https://www.youtube.com/watch?v=dQw4w9WgXcQ now",  # not alone on its line
        "[my video](https://www.youtube.com/watch?v=dQw4w9WgXcQ)",  # a link with its own text
        "https://youtube.evil.example/watch?v=dQw4w9WgXcQ",
        "https://evil.example/youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=short",
        'https://www.youtube.com/watch?v=dQw4w9WgXcQ"onload="alert(1)',
        "https://vimeo.com/notanumber",
        "javascript://www.youtube.com/%0Aalert(1)",
        '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"></iframe>',
        '<figure class="embed"><iframe src="https://player.vimeo.com/video/1" title="Vimeo video"'
        ' width="560" height="315" loading="lazy"></iframe></figure>',
    ],
)
def test_nothing_else_becomes_a_frame(source):
    html = render_markdown(source)
    assert "<iframe" not in html
    assert inspect_html(html).findings == []


def test_only_links_that_open_a_new_tab_get_noopener_noreferrer():
    html = render_markdown(
        '<a href="https://a.example" target="_blank">a</a> '
        '<a href="https://b.example" rel="opener">b</a> '
        '<a href="https://c.example" target="_top">c</a> https://d.example.com'
    )
    assert '<a href="https://a.example" target="_blank" rel="noopener noreferrer">a</a>' in html
    assert '<a href="https://b.example">b</a>' in html
    assert '<a href="https://c.example">c</a>' in html
    assert '<a href="https://d.example.com">https://d.example.com</a>' in html
    assert sanitise(html) == html
