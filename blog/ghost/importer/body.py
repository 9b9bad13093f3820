"""A Ghost post's body: its HTML (rendered from Lexical, Mobiledoc or Markdown when Ghost left
none), the Markdown the editor gets, and the text, excerpt and reading time derived from them.

All body HTML goes through blog.content's sanitiser, the one sanitiser, like anything an author
writes; every call into blog.content is in this module.
"""

from __future__ import annotations

from blog import content
from blog.ghost import cards
from blog.ghost.importer.run import ImportRun, relink_html


def post_body(row: dict, run: ImportRun, custom_excerpt: str | None) -> dict:
    """Return the body fields of a Ghost post row: html (sanitised), markdown, plaintext,
    excerpt (custom_excerpt, else the text's start) and reading_time (minutes).

    The body is Ghost's rendered `html`; when that is empty, it is rendered from `lexical`,
    then `mobiledoc`, then Ghost 0.x's `markdown`. Markdown source is kept when the post is one
    Markdown card (Ghost 1.x) or 0.x Markdown; otherwise the editor gets the sanitised HTML,
    which Markdown passes through.
    """
    source = (
        row.get("markdown")
        or cards.markdown_source(row.get("lexical"))
        or (cards.markdown_source(row.get("mobiledoc")))
    )
    raw = row.get("html") or ""
    if not raw.strip():
        raw = cards.to_html(row.get("lexical"), content.render_markdown) or cards.to_html(
            row.get("mobiledoc"), content.render_markdown
        )
    if not raw.strip() and source:
        raw = content.render_markdown(source)
    body = content.from_html(relink_html(raw.replace("\x00", ""), run), custom_excerpt)
    if source is not None:
        source = relink_html(source.replace("\x00", ""), run)
    return {
        "markdown": source if source is not None else body.html,
        "html": body.html,
        "plaintext": body.text,
        "excerpt": body.excerpt,
        "reading_time": body.reading_time,
    }
