"""Markdown (CommonMark, tables, strikethrough, fenced code) to sanitised HTML."""

import re
from functools import cache

from blog.content.embeds import LINK_PARAGRAPH, embed
from blog.content.sanitise import sanitise
from blog.highlight import highlight
from blog.xmlchars import NOT_XML

# markdown-it drops whatever lies deeper than maxNesting token levels, without a word; the
# CommonMark preset sets 20, which lost list levels 10-12. 100 is markdown-it's own default:
# 49 levels of lists in lists, 99 of quotes in quotes. Deeper is refused on save
# (nesting_problem), and the Python recursion it takes stays far below the interpreter's limit.
MAX_NESTING = 100
# Characters XML 1.0 forbids (C0 controls but TAB, LF, CR; lone surrogates; U+FFFE, U+FFFF)
# and DEL are invisible and make feeds not well-formed: blog.xmlchars.
_CONTROL = NOT_XML
# The post title is the page's only h1: a Markdown h1 becomes h2, and h5/h6 become h4.
_HEADING = re.compile(r"<(/?)h([1-6])(\s|>)")
_CONTAINERS = frozenset({"blockquote_open", "list_item_open"})


@cache
def _parser():
    """Build the Markdown parser on first use (a reader-only worker never imports it)."""
    from markdown_it import MarkdownIt

    options = {"html": True, "linkify": False, "maxNesting": MAX_NESTING, "highlight": highlight}
    return MarkdownIt("commonmark", options).enable("table").enable("strikethrough")


def nesting_problem(source: str) -> str | None:
    """Return a message naming the line where Markdown nests too deeply to render in full
    (lists in lists, quotes in quotes past MAX_NESTING token levels), or None if all of it
    renders. markdown-it would drop everything below that line silently."""
    tokens = _parser().parse(NOT_XML.sub("", source))
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
    rendered = _parser().render(_CONTROL.sub("", source))
    rendered = _HEADING.sub(lambda m: f"<{m[1]}h{min(max(int(m[2]), 2), 4)}{m[3]}", rendered)
    safe = sanitise(rendered)
    with_embeds = LINK_PARAGRAPH.sub(embed, safe)
    return sanitise(with_embeds, embeds=True) if with_embeds != safe else safe
