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
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

from blog.highlight import TOKEN_CLASS, highlight
from blog.xmlchars import NOT_XML

ALLOWED_TAGS = frozenset(
    "p br hr h2 h3 h4 blockquote ul ol li strong b em i u s sub sup code pre a img "
    "figure figcaption table thead tbody tr th td abbr span".split()
)
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LANGUAGE_CLASS = re.compile(r"^language-[a-z0-9]+$")
WORDS_PER_MINUTE = 275  # Ghost's reading speed
# markdown-it drops whatever lies deeper than maxNesting token levels, without a word; the
# CommonMark preset sets 20, which lost list levels 10-12. 100 is markdown-it's own default:
# 49 levels of lists in lists, 99 of quotes in quotes. Deeper is refused on save
# (nesting_problem), and the Python recursion it takes stays far below the interpreter's limit.
MAX_NESTING = 100
# Only what is plainly a URL becomes a link: a scheme, or www. and a dotted host. So
# README.md and setup.py stay text (.md and .py are TLDs); any TLD is fine after a scheme.
LINKABLE_URL = re.compile(
    r"""\(*
    (?:
        \bhttps?://[\w-]+(?:\.[\w-]+)*
      | (?<![\w.@/-])www\.[\w-]+(?:\.[\w-]+)+
    )
    (?::[0-9]{1,5})?
    (?:[/?\#][^\s{}|\\^`<>"]*)?
    """,
    re.IGNORECASE | re.VERBOSE | re.UNICODE,
)


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
        MarkdownIt(
            "commonmark",
            {"html": True, "linkify": False, "maxNesting": MAX_NESTING, "highlight": highlight},
        )
        .enable("table")
        .enable("strikethrough")
    )
    linkify = partial(
        LinkifyFilter,
        callbacks=[_new_tab_rel],
        skip_tags={"pre", "code"},
        parse_email=False,
        url_re=LINKABLE_URL,
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


# Characters XML 1.0 forbids (C0 controls but TAB, LF, CR; lone surrogates; U+FFFE, U+FFFF)
# and DEL are invisible and make feeds not well-formed: blog.xmlchars.
_CONTROL = NOT_XML

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


_CONTAINERS = frozenset({"blockquote_open", "list_item_open"})


def nesting_problem(source: str) -> str | None:
    """Return a message naming the line where Markdown nests too deeply to render in full
    (lists in lists, quotes in quotes past MAX_NESTING token levels), or None if all of it
    renders. markdown-it would drop everything below that line silently."""
    tokens = _renderers()[0].parse(NOT_XML.sub("", source))
    line = None
    for token in tokens:
        if token.map is not None:
            line = token.map[0] + 1
        # A quote or list item opened here parses its inside at MAX_NESTING: dropped.
        if token.type in _CONTAINERS and token.level >= MAX_NESTING - 1:
            return (
                f"Line {line or 1} is nested too deeply: lists can nest {MAX_NESTING // 2 - 1} "
                f"levels deep and quotes {MAX_NESTING - 1}, and what lies deeper would be lost. "
                "Nothing was saved: flatten it and save again."
            )
    return None


def render_markdown(source: str) -> str:
    """Render Markdown (CommonMark, tables, fenced code) to sanitised HTML, with video embeds."""
    rendered = _renderers()[0].render(_CONTROL.sub("", source))
    rendered = _HEADING.sub(lambda m: f"<{m[1]}h{min(max(int(m[2]), 2), 4)}{m[3]}", rendered)
    safe = sanitise(rendered)
    with_embeds = _LINK_PARAGRAPH.sub(_embed, safe)
    return sanitise(with_embeds, embeds=True) if with_embeds != safe else safe


_URL_ATTRIBUTE = re.compile(r'(\s(?:href|src|srcset)=")([^"]*)(")')


def _absolute(url: str, base_url: str) -> str:
    """Resolve one URL against base_url (RFC 3986 section 5); absolute URLs stay as they are."""
    try:
        return urljoin(base_url, url.strip())
    except ValueError:  # e.g. a malformed IPv6 host: leave it for the reader's client
        return url


def absolute_urls(safe_html: str, base_url: str) -> str:
    """Return sanitised HTML with every href, src and srcset made absolute against base_url.

    base_url is the absolute address of the page the HTML belongs to, e.g.
    `https://blog.example/post/`: `/uploads/a.jpg` becomes `https://blog.example/uploads/a.jpg`
    and `#notes` `https://blog.example/post/#notes`; http(s) and mailto: URLs are unchanged.
    Feeds and mail are read away from the site, so they need this (Ghost's feeds do the same
    with htmlRelativeToAbsolute). Expects bleach's output: attributes in double quotes.
    """

    def resolve(match: re.Match) -> str:
        value = html.unescape(match[2])
        if match[1].strip().startswith("srcset"):
            candidates = [part.strip().split(None, 1) for part in value.split(",") if part.strip()]
            joined = ", ".join(" ".join([_absolute(c[0], base_url), *c[1:]]) for c in candidates)
        else:
            joined = _absolute(value, base_url)
        if joined == value:
            return match[0]
        return f"{match[1]}{html.escape(joined)}{match[3]}"

    return _URL_ATTRIBUTE.sub(resolve, safe_html)


# Elements that end a paragraph of text; list items and table rows end a line.
_TEXT_BLOCKS = frozenset(
    "p h1 h2 h3 h4 h5 h6 blockquote pre figure figcaption table hr div iframe".split()
)
# Private-use markers for a paragraph end, a line end, and what a code block keeps as it is.
_PARAGRAPH, _LINE, _INDENT, _PRE_LINE, _PRE_SPACE = "\ue000", "\ue001", "\ue002", "\ue003", "\ue004"


class _TextParser(HTMLParser):
    """Collect an HTML fragment's text with markers where paragraphs and lines end."""

    def __init__(self, links: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.links = links
        self.parts: list[str] = []
        self.lists: list[int] = []  # per open list: the next number (ol), or 0 (ul)
        self.pre = 0
        self.anchors: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _TEXT_BLOCKS or (tag in ("ul", "ol") and not self.lists):
            self.parts.append(_PARAGRAPH)
        if tag in ("ul", "ol"):
            self.lists.append(1 if tag == "ol" else 0)
        elif tag == "li" and self.lists:
            number = self.lists[-1]
            bullet = f"{number}. " if number else "- "
            self.lists[-1] = number + 1 if number else 0
            self.parts.append(_LINE + _INDENT * (len(self.lists) - 1) + bullet)
        elif tag in ("br", "tr"):
            self.parts.append(_LINE)
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "pre":
            self.pre += 1
        elif tag == "a":
            self.anchors.append((dict(attrs).get("href") or "", len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag in _TEXT_BLOCKS or (tag in ("ul", "ol") and not self.lists):
            self.parts.append(_PARAGRAPH)
        if tag == "pre":
            self.pre = max(self.pre - 1, 0)
        elif tag == "a" and self.anchors:
            href, start = self.anchors.pop()
            shown = "".join(self.parts[start:]).strip()
            if self.links and href and href.removeprefix("mailto:") not in shown:
                self.parts.append(f" [{href}]")

    def handle_data(self, data: str) -> None:
        if self.pre:
            self.parts.append(data.replace("\n", _PRE_LINE).replace(" ", _PRE_SPACE))
        else:
            self.parts.append(re.sub(r"\s+", " ", data))


def plain_text(safe_html: str, links: bool = False) -> str:
    """Return the text of sanitised HTML as paragraphs: the mail's text part, excerpts, search.

    Paragraphs, headings, quotes, lists and code blocks are separated by a blank line; each
    list item is a line starting "- " (or "1. " in a numbered list), indented two spaces per
    level; a line break stays a line break; code blocks keep their lines and spaces. Inline
    tags join their words (`<em>un</em>done` is "undone") and blocks never run together.
    With links, a link's URL follows its text in brackets, as in Ghost's plain-text
    newsletters (`the docs [https://...]`), unless the text shows the URL already.
    """
    parser = _TextParser(links)
    parser.feed(safe_html)
    parser.close()
    text = "".join(parser.parts).replace(_PARAGRAPH, "\n\n").replace(_LINE, "\n")
    lines = [re.sub(" {2,}", " ", line).strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    text = text.replace(_INDENT, "  ").replace(_PRE_SPACE, " ")
    return re.sub(r"\n{3,}", "\n\n", text.replace(_PRE_LINE, "\n"))


_BULLET = re.compile(r"^[ \t]*(?:- |\d+\. )", re.M)


def make_excerpt(text: str, limit: int = 300) -> str:
    """Cut text at a word boundary, at most limit characters, with an ellipsis when cut.

    text is plain_text's output: its list bullets ("- ", "1. ") are dropped and its lines
    joined with spaces, so a description reads as one sentence run and no words run together.
    """
    text = _BULLET.sub("", text)
    text = " ".join(text.split())  # one line: paragraphs end at a space in a description
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:!?") + "…"


def reading_time(text: str) -> int:
    """Return whole minutes to read text at Ghost's speed: rounded, at least 1."""
    words = len(text.split())
    return max(1, math.floor(words / WORDS_PER_MINUTE + 0.5))
