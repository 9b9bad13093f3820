"""Text from sanitised HTML: plain text, excerpts, reading time; absolute URLs for feeds and mail."""

import html
import math
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

WORDS_PER_MINUTE = 275  # Ghost's reading speed

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

    if "=" not in safe_html or (
        'href="' not in safe_html and 'src="' not in safe_html and 'srcset="' not in safe_html
    ):
        return safe_html  # no URL to resolve (no attribute at all: one memchr for "=")
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
