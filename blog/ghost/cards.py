"""Ghost's editor documents to HTML: mobiledoc (Ghost 1-4) and lexical (Ghost 5+).

Ghost stores a post's body as one of these JSON documents and renders `html` from it. An
export normally carries that `html`; when it does not, the importer renders the document here.
Only what a post body needs is rendered (paragraphs, headings, lists, quotes, links and inline
marks, images, code, markdown and HTML cards, dividers); anything else is dropped, and the
result still goes through blog.content.sanitise like everything an author writes.

Formats: mobiledoc 0.3 (https://github.com/bustle/mobiledoc-kit/blob/master/MOBILEDOC.md) and
Lexical's serialised editor state as Ghost's Koenig editor writes it.
"""

from __future__ import annotations

import json
from html import escape

# Lexical text format bits (lexical/src/LexicalConstants.ts) and the tags they become.
_LEXICAL_FORMATS = [(1, "strong"), (2, "em"), (4, "s"), (8, "u"), (16, "code"), (32, "sub"),
                    (64, "sup")]  # fmt: skip
_MOBILEDOC_SECTION_TAGS = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "aside",
    "pull-quote",
}


def markdown_source(document: str | dict | None) -> str | None:
    """Return the Markdown of a mobiledoc or lexical document that is one markdown card, else
    None. Ghost 1.x posts are exactly that, so the editor can keep their Markdown source."""
    doc = _load(document)
    if not doc:
        return None
    if "root" in doc:
        children = [c for c in doc["root"].get("children", []) if c.get("type") != "paragraph"
                    or c.get("children")]  # fmt: skip
        if len(children) == 1 and children[0].get("type") == "markdown":
            return children[0].get("markdown") or ""
        return None
    cards = doc.get("cards") or []
    sections = doc.get("sections") or []
    if len(sections) == 1 and sections[0][0] == 10 and len(cards) == 1:
        name, payload = cards[0][0], cards[0][1] or {}
        if name in ("markdown", "card-markdown"):
            return payload.get("markdown", "")
    return None


def to_html(document: str | dict | None, markdown) -> str:
    """Render a mobiledoc or lexical document (JSON text or parsed) to unsanitised HTML.

    markdown: a function Markdown -> HTML for markdown cards (blog.content.render_markdown).
    Returns "" for an empty or unreadable document; never raises on a malformed one.
    """
    doc = _load(document)
    if not doc:
        return ""
    try:
        if "root" in doc:
            return "".join(
                _lexical_node(node, markdown) for node in doc["root"].get("children", [])
            )
        return _mobiledoc(doc, markdown)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return ""


def _load(document) -> dict | None:
    if isinstance(document, dict):
        return document
    if not document or not isinstance(document, str):
        return None
    try:
        loaded = json.loads(document)
    except ValueError:
        return None
    return loaded if isinstance(loaded, dict) else None


def _attr(value) -> str:
    return escape(str(value or ""), quote=True)


def _card(name: str, payload: dict, markdown) -> str:
    """Render one card, named as mobiledoc or lexical name it."""
    payload = payload or {}
    if name in ("markdown", "card-markdown"):
        return markdown(payload.get("markdown") or "")
    if name == "html":
        return payload.get("html") or ""
    if name == "image":
        src = payload.get("src") or ""
        alt = payload.get("alt") or payload.get("altText") or ""
        caption = payload.get("caption") or ""
        image = f'<img src="{_attr(src)}" alt="{_attr(alt)}">' if src else ""
        return f"<figure>{image}<figcaption>{caption}</figcaption></figure>" if caption else image
    if name in ("code", "codeblock"):
        language = payload.get("language") or ""
        css = f' class="language-{_attr(language.lower())}"' if language else ""
        return f"<pre><code{css}>{escape(payload.get('code') or '')}</code></pre>"
    if name in ("hr", "horizontalrule"):
        return "<hr>"
    return ""


# --- Lexical -----------------------------------------------------------------------------------


def _lexical_children(node: dict, markdown) -> str:
    return "".join(_lexical_node(child, markdown) for child in node.get("children") or [])


def _lexical_node(node: dict, markdown) -> str:
    kind = node.get("type")
    if kind in ("text", "extended-text"):
        text = escape(node.get("text") or "")
        for bit, tag in _LEXICAL_FORMATS:
            if (node.get("format") or 0) & bit:
                text = f"<{tag}>{text}</{tag}>"
        return text
    if kind == "linebreak":
        return "<br>"
    if kind in ("paragraph",):
        return f"<p>{_lexical_children(node, markdown)}</p>"
    if kind in ("heading", "extended-heading"):
        tag = node.get("tag") if node.get("tag") in {f"h{n}" for n in range(1, 7)} else "h2"
        return f"<{tag}>{_lexical_children(node, markdown)}</{tag}>"
    if kind in ("quote", "extended-quote", "aside"):
        return f"<blockquote>{_lexical_children(node, markdown)}</blockquote>"
    if kind == "list":
        tag = "ol" if node.get("listType") == "number" else "ul"
        return f"<{tag}>{_lexical_children(node, markdown)}</{tag}>"
    if kind == "listitem":
        return f"<li>{_lexical_children(node, markdown)}</li>"
    if kind in ("link", "autolink"):
        return f'<a href="{_attr(node.get("url"))}">{_lexical_children(node, markdown)}</a>'
    if kind == "codeblock":
        return _card("code", node, markdown)
    if kind in ("markdown", "html", "image", "horizontalrule"):
        return _card(kind, node, markdown)
    return _lexical_children(node, markdown) if node.get("children") else ""


# --- Mobiledoc ---------------------------------------------------------------------------------


def _mobiledoc(doc: dict, markdown) -> str:
    markups = doc.get("markups") or []
    cards = doc.get("cards") or []
    atoms = doc.get("atoms") or []
    out = []
    for section in doc.get("sections") or []:
        kind = section[0]
        if kind == 1:  # markup section: [1, tagName, markers]
            tag = str(section[1]).lower()
            tag = tag if tag in _MOBILEDOC_SECTION_TAGS else "p"
            tag = "blockquote" if tag in ("aside", "pull-quote") else tag
            out.append(f"<{tag}>{_markers(section[2], markups, atoms)}</{tag}>")
        elif kind == 3:  # list section: [3, "ul"|"ol", [markers, ...]]
            tag = "ol" if section[1] == "ol" else "ul"
            items = "".join(f"<li>{_markers(item, markups, atoms)}</li>" for item in section[2])
            out.append(f"<{tag}>{items}</{tag}>")
        elif kind == 2:  # image section: [2, src]
            out.append(f'<img src="{_attr(section[1])}" alt="">')
        elif kind == 10:  # card section: [10, card index]
            name, payload = cards[section[1]][0], cards[section[1]][1]
            out.append(_card(name, payload, markdown))
    return "".join(out)


def _markers(markers: list, markups: list, atoms: list) -> str:
    """Render mobiledoc markers: [type, opened markup indexes, closed count, value]."""
    html, stack = [], []
    for kind, opened, closed, value in markers:
        for index in opened:
            tag, *attrs = markups[index]
            tag = str(tag).lower()
            pairs = attrs[0] if attrs else []
            if tag == "a":
                href = dict(zip(pairs[::2], pairs[1::2], strict=False)).get("href", "")
                html.append(f'<a href="{_attr(href)}">')
            else:
                html.append(f"<{tag}>")
            stack.append(tag)
        if kind == 0:
            html.append(escape(str(value)))
        elif kind == 1:  # an atom: [name, text, payload]; its text is what readers saw
            html.append(escape(str(atoms[value][1])))
        for _ in range(closed):
            if stack:
                html.append(f"</{stack.pop()}>")
    while stack:
        html.append(f"</{stack.pop()}>")
    return "".join(html)
