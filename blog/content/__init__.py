"""Post content: Markdown or HTML in, sanitised HTML, plain text, excerpt and reading time out.

The front door is render() (the editor, history restores, the demo, the tests' posts) and
from_html() (HTML from elsewhere: Ghost imports). Both sanitise through the one sanitiser
(blog.content.sanitise, bleach behind it). Nothing here reads a request, session or g.

    markdown.py  Markdown -> sanitised HTML, with video embeds (embeds.py)
    sanitise.py  the allowlist sanitiser
    text.py      plain text, excerpts, reading time, absolute URLs
"""

import re
from dataclasses import dataclass

from blog.content.embeds import embed_src
from blog.content.markdown import MAX_NESTING, nesting_problem, render_markdown
from blog.content.sanitise import ALLOWED_TAGS, LINKABLE_URL, NEW_TAB_REL, sanitise
from blog.content.text import (
    WORDS_PER_MINUTE,
    absolute_urls,
    make_excerpt,
    plain_text,
    reading_time,
)

__all__ = [
    "ALLOWED_TAGS",
    "LINKABLE_URL",
    "MAX_NESTING",
    "NEW_TAB_REL",
    "WORDS_PER_MINUTE",
    "Rendered",
    "absolute_urls",
    "embed_src",
    "from_html",
    "make_excerpt",
    "nesting_problem",
    "plain_text",
    "reading_time",
    "render",
    "render_markdown",
    "sanitise",
]


@dataclass(frozen=True)
class Rendered:
    """A post body ready to store.

    html: sanitised HTML (site paths left relative); text: its plain text (plain_text);
    excerpt: at most 300 characters of text, or of the custom excerpt when one was given
    (make_excerpt); reading_time: whole minutes at Ghost's 275 words a minute, at least 1.
    """

    html: str
    text: str
    excerpt: str
    reading_time: int


def _finish(safe_html: str, custom_excerpt: str | None) -> Rendered:
    text = plain_text(safe_html)
    return Rendered(safe_html, text, make_excerpt(custom_excerpt or text), reading_time(text))


def render(markdown: str, custom_excerpt: str | None = None) -> Rendered:
    """Render Markdown source into a Rendered body (render_markdown's rules: CommonMark with
    tables and fenced code, h1 -> h2 and h5/h6 -> h4, video embeds, sanitised).

    The excerpt is made from custom_excerpt when given (Ghost shows a custom excerpt where it
    has one), else from the text. Seconds for 500 KB: call it with no transaction open, so
    SQLite's write lock is not held meanwhile (blog.transactions).
    """
    return _finish(render_markdown(markdown), custom_excerpt)


# What from_html does to headings, as render_markdown does: the title is the page's only h1.
_H1 = re.compile(r"<(/?)h1(?=[\s>])", re.IGNORECASE)
_H56 = re.compile(r"<(/?)h[56](?=[\s>])", re.IGNORECASE)


def from_html(raw_html: str, custom_excerpt: str | None = None) -> Rendered:
    """Sanitise HTML written elsewhere (a Ghost export's post html) into a Rendered body.

    NUL characters are dropped; h1 becomes h2 and h5/h6 become h4, as the editor's Markdown
    does (the sanitiser would otherwise drop them, keeping their text). No embeds are kept:
    never trust another system's iframes. The excerpt is made as render() makes it.
    """
    html = _H56.sub(r"<\1h4", _H1.sub(r"<\1h2", raw_html.replace("\x00", "")))
    return _finish(sanitise(html), custom_excerpt)
