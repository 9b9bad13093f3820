"""Bidirectional text: a title typed with right-to-left controls (U+202E "invoice\\u202efdp.exe")
shows as typed and never reorders the text around it (Unicode TR #9, isolates; HTML's <bdi>)."""

import re

from flask import Flask
from markupsafe import Markup, escape

# Embeddings, overrides and isolates (TR #9, table 1), and the directional marks.
BIDI_CONTROLS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
FSI, PDI = "\u2068", "\u2069"


def has_bidi_controls(text: str | None) -> bool:
    """Tell whether text holds a bidirectional control character."""
    return bool(text) and BIDI_CONTROLS.search(text) is not None


def isolate_text(text: str | None) -> str:
    """Return text wrapped in FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE when it holds
    bidi controls (for plain-text places: <title>, mail subjects); else text unchanged."""
    text = text or ""
    return f"{FSI}{text}{PDI}" if has_bidi_controls(text) else text


def bdi(text: str | None) -> Markup:
    """Return text escaped inside <bdi>, so it cannot reorder the page around it."""
    return Markup("<bdi>") + escape(text or "") + Markup("</bdi>")


def init_app(app: Flask) -> None:
    """Add the bdi (HTML) and isolate (plain text) template filters."""
    app.jinja_env.filters["bdi"] = bdi
    app.jinja_env.filters["isolate"] = isolate_text
