"""Post content: Markdown to sanitised HTML, excerpts and reading time.

Every piece of HTML a reader gets passes through sanitise() once, on save. bleach is no longer
maintained, so nothing else in the codebase calls it: swapping the sanitiser touches this file.
"""

import html
import math
import re
from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    "p br hr h2 h3 h4 blockquote ul ol li strong b em i u s sub sup code pre a img "
    "figure figcaption table thead tbody tr th td abbr".split()
)
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LANGUAGE_CLASS = re.compile(r"^language-[a-z0-9]+$")
WORDS_PER_MINUTE = 275  # Ghost's reading speed


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Allow only the attributes a post needs; code may carry one language class."""
    allowed = {
        "a": {"href", "title"},
        "img": {"src", "alt", "title", "width", "height"},
        "abbr": {"title"},
        "td": {"colspan", "rowspan"},
        "th": {"colspan", "rowspan"},
    }
    if tag == "code" and name == "class":
        return bool(LANGUAGE_CLASS.match(value))
    return name in allowed.get(tag, ())


_markdown = (
    MarkdownIt("commonmark", {"html": True, "linkify": False})
    .enable("table")
    .enable("strikethrough")
)

_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allowed_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[], skip_tags={"pre", "code"}, parse_email=False)],
)

# The post title is the page's only h1: a Markdown h1 becomes h2, and h5/h6 become h4.
_HEADING = re.compile(r"<(/?)h([1-6])(\s|>)")


def sanitise(raw_html: str) -> str:
    """Return raw_html with everything outside the allowlist removed; a fixed point."""
    once = _cleaner.clean(raw_html)
    # Stripping can expose new markup (<scr<script>ipt>); clean until nothing changes.
    for _ in range(3):
        again = _cleaner.clean(once)
        if again == once:
            break
        once = again
    return once


def render_markdown(source: str) -> str:
    """Render Markdown (CommonMark, tables, fenced code) to sanitised HTML."""
    rendered = _markdown.render(source)
    rendered = _HEADING.sub(lambda m: f"<{m[1]}h{min(max(int(m[2]), 2), 4)}{m[3]}", rendered)
    return sanitise(rendered)


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
