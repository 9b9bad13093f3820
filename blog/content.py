"""Post content: Markdown to sanitised HTML, excerpts and reading time.

Every piece of HTML a reader gets passes through sanitise() once, on save. bleach is no longer
maintained, so nothing else in the codebase calls it: swapping the sanitiser touches this file.

A YouTube or Vimeo link alone on a line becomes an embed. The server builds the iframe from the
video's id after the author's markup has been sanitised without any iframes; the final pass
allows only iframes of exactly that shape.
"""

import html
import math
import re
from functools import cache, partial
from urllib.parse import parse_qs, urlsplit

from blog.highlight import TOKEN_CLASS, highlight

ALLOWED_TAGS = frozenset(
    "p br hr h2 h3 h4 blockquote ul ol li strong b em i u s sub sup code pre a img "
    "figure figcaption table thead tbody tr th td abbr span".split()
)
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LANGUAGE_CLASS = re.compile(r"^language-[a-z0-9]+$")
WORDS_PER_MINUTE = 275  # Ghost's reading speed


NEW_TAB_REL = "noopener noreferrer"
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Allow only the attributes a post needs; code may carry one language class."""
    if tag == "code" and name == "class":
        return bool(LANGUAGE_CLASS.match(value))
    if tag == "span":  # Pygments' token spans in highlighted code (blog/highlight.py)
        return name == "class" and bool(TOKEN_CLASS.match(value))
    if tag == "a" and name == "target":
        return value == "_blank"
    if tag == "a" and name == "rel":
        return value == NEW_TAB_REL
    return name in _ALLOWED_ATTRIBUTES.get(tag, ())


def _new_tab_rel(attrs: dict, new: bool = False) -> dict:
    """Give links that open a new tab rel="noopener noreferrer", and no other link a rel."""
    if attrs.get((None, "target")) == "_blank":
        attrs[(None, "rel")] = NEW_TAB_REL
    else:
        attrs.pop((None, "rel"), None)
    return attrs


# --- Embeds: built by the server from an allowlist of video hosts ----------------------------

_YOUTUBE_HOSTS = {
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
}
_VIMEO_HOSTS = {"vimeo.com", "www.vimeo.com"}
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_VIMEO_ID = re.compile(r"[0-9]{1,12}")
_EMBED_SRC = re.compile(
    r"https://www\.youtube-nocookie\.com/embed/[A-Za-z0-9_-]{11}"
    r"|https://player\.vimeo\.com/video/[0-9]{1,12}"
)
_EMBED_TITLES = {"YouTube video", "Vimeo video"}
# Every attribute of a server-built player, with its one allowed value (after src and title).
_EMBED_ATTRIBUTES = {
    "width": "560",
    "height": "315",
    "loading": "lazy",
    "allow": "autoplay; encrypted-media; fullscreen; picture-in-picture",
    "referrerpolicy": "strict-origin-when-cross-origin",
    "sandbox": "allow-scripts allow-same-origin allow-presentation allow-popups",
    "allowfullscreen": "",
}
# A paragraph holding nothing but one bare link (what a URL alone on a line becomes).
_LINK_PARAGRAPH = re.compile(r'<p><a href="([^"<>]+)">([^<>]+)</a></p>')


def _allowed_embed_attribute(tag: str, name: str, value: str) -> bool:
    """Allow post attributes, plus exactly the iframe the server builds for an embed."""
    if tag == "iframe":
        if name == "src":
            return bool(_EMBED_SRC.fullmatch(value))
        if name == "title":
            return value in _EMBED_TITLES
        return name in _EMBED_ATTRIBUTES and value == _EMBED_ATTRIBUTES[name]
    if tag == "figure" and name == "class":
        return value == "embed"
    return _allowed_attribute(tag, name, value)


def embed_src(url: str) -> tuple[str, str] | None:
    """Return (provider, player URL) for a YouTube or Vimeo video link, else None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or parts.username or parts.port:
        return None
    segments = [s for s in parts.path.split("/") if s]
    video = ""
    if host in _YOUTUBE_HOSTS:
        if parts.path == "/watch":
            video = parse_qs(parts.query).get("v", [""])[0]
        elif len(segments) == 2 and segments[0] in ("embed", "shorts", "live"):
            video = segments[1]
    elif host == "youtu.be" and len(segments) == 1:
        video = segments[0]
    if _YOUTUBE_ID.fullmatch(video):
        return "YouTube", f"https://www.youtube-nocookie.com/embed/{video}"
    if host in _VIMEO_HOSTS and len(segments) == 1:
        video = segments[0]
    elif host == "player.vimeo.com" and len(segments) == 2 and segments[0] == "video":
        video = segments[1]
    if host in _VIMEO_HOSTS | {"player.vimeo.com"} and _VIMEO_ID.fullmatch(video):
        return "Vimeo", f"https://player.vimeo.com/video/{video}"
    return None


def _embed(match: re.Match) -> str:
    """Replace a paragraph that is only a video link with the server-built player."""
    href, text = html.unescape(match[1]), html.unescape(match[2])
    found = embed_src(href) if href == text else None
    if found is None:
        return match[0]
    provider, src = found
    attributes = " ".join(f'{name}="{value}"' for name, value in _EMBED_ATTRIBUTES.items())
    return (
        f'<figure class="embed"><iframe src="{src}" title="{provider} video" {attributes}>'
        "</iframe></figure>"
    )


@cache
def _renderers() -> tuple:
    """Build the Markdown parser and the two cleaners on first use.

    Only saving needs them; a reader-only web worker never imports bleach or markdown-it.
    """
    import bleach
    from bleach.linkifier import LinkifyFilter
    from markdown_it import MarkdownIt

    markdown = (
        MarkdownIt("commonmark", {"html": True, "linkify": False, "highlight": highlight})
        .enable("table")
        .enable("strikethrough")
    )
    linkify = partial(
        LinkifyFilter, callbacks=[_new_tab_rel], skip_tags={"pre", "code"}, parse_email=False
    )
    common = {"protocols": ALLOWED_PROTOCOLS, "strip": True, "strip_comments": True}
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS, attributes=_allowed_attribute, filters=[linkify], **common
    )
    embed_cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS | {"iframe"},
        attributes=_allowed_embed_attribute,
        filters=[linkify],
        **common,
    )
    return markdown, cleaner, embed_cleaner


# Control characters (but TAB, LF, CR) are invisible and make feeds invalid XML.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The post title is the page's only h1: a Markdown h1 becomes h2, and h5/h6 become h4.
_HEADING = re.compile(r"<(/?)h([1-6])(\s|>)")


def sanitise(raw_html: str, embeds: bool = False) -> str:
    """Return raw_html with everything outside the allowlist removed; a fixed point.

    With embeds, iframes of exactly the shape render_markdown builds are kept too; never pass
    author-written HTML with embeds=True.
    """
    _, cleaner, embed_cleaner = _renderers()
    cleaner = embed_cleaner if embeds else cleaner
    once = cleaner.clean(raw_html)
    # Stripping can expose new markup (<scr<script>ipt>); clean until nothing changes.
    for _ in range(3):
        again = cleaner.clean(once)
        if again == once:
            break
        once = again
    return once


def render_markdown(source: str) -> str:
    """Render Markdown (CommonMark, tables, fenced code) to sanitised HTML, with video embeds."""
    rendered = _renderers()[0].render(_CONTROL.sub("", source))
    rendered = _HEADING.sub(lambda m: f"<{m[1]}h{min(max(int(m[2]), 2), 4)}{m[3]}", rendered)
    safe = sanitise(rendered)
    with_embeds = _LINK_PARAGRAPH.sub(_embed, safe)
    return sanitise(with_embeds, embeds=True) if with_embeds != safe else safe


def plain_text(safe_html: str) -> str:
    """Return the text of sanitised HTML, with tags removed and white space folded."""
    text = re.sub(r"<[^>]+>", " ", safe_html)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def make_excerpt(text: str, limit: int = 300) -> str:
    """Cut text at a word boundary, at most limit characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:!?") + "…"


def reading_time(text: str) -> int:
    """Return whole minutes to read text at Ghost's speed: rounded, at least 1."""
    words = len(text.split())
    return max(1, math.floor(words / WORDS_PER_MINUTE + 0.5))
