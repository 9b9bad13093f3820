"""Code blocks coloured with Pygments: at render time on the server, no script for readers.

render_markdown (blog/content.py) calls highlight() for each fenced block with a language;
the spans carry Pygments' short token classes ("k", "s2", …), which the sanitiser keeps on
<span> only. The stylesheet's light and dark colours come from css(); newsletter mail, where
mail clients strip classes, gets the same light colours as inline styles from inline_styles().
"""

from __future__ import annotations

import re
from functools import cache

from blog.colours import contrast_ratio, luminance

LIGHT_STYLE = "friendly"
DARK_STYLE = "monokai"
# What a Pygments token class looks like: short lowercase names, e.g. "k", "nf", "s2", "err".
TOKEN_CLASS = re.compile(r"^[a-z][a-z0-9]{0,3}$")
_SPAN = re.compile(r'<span class="([a-z][a-z0-9]{0,3})">')
MAX_HIGHLIGHT = 100_000  # characters; a bigger block stays plain (bounded work per save)


def highlight(code: str, language: str, _attrs: str = "") -> str:
    """Return code as HTML spans for language (markdown-it's highlight hook), or "" to leave
    the block plain: an unknown language, no language, or a block over MAX_HIGHLIGHT."""
    language = (language or "").strip().lower()
    if not language or len(code) > MAX_HIGHLIGHT:
        return ""
    from pygments import highlight as pygmentize
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return ""
    return pygmentize(code, lexer, HtmlFormatter(nowrap=True))


LIGHT_BACKGROUND = "f5f6f8"  # site.css --bg-soft, behind code blocks
DARK_BACKGROUND = "1f2227"
MIN_CONTRAST = 4.5  # WCAG 2 AA for text


def readable(colour: str, background: str) -> str:
    """Return colour (rrggbb), moved towards black or white until it meets WCAG AA on
    background: a style's pale comment grey stays grey but becomes legible."""
    colour = colour if len(colour) == 6 else "".join(ch * 2 for ch in colour)
    target = 0 if luminance(background) > 0.18 else 255
    while contrast_ratio(colour, background) < MIN_CONTRAST:
        channels = [int(colour[i : i + 2], 16) for i in (0, 2, 4)]
        moved = [round(c + (target - c) * 0.1) if c != target else c for c in channels]
        if moved == channels:
            break
        colour = "".join(f"{c:02x}" for c in moved)
    return colour


@cache
def _colours(style_name: str) -> dict[str, str]:
    """Map each token class to its CSS declarations in a Pygments style (AA contrast)."""
    background = DARK_BACKGROUND if style_name == DARK_STYLE else LIGHT_BACKGROUND
    from pygments.formatters import HtmlFormatter
    from pygments.token import STANDARD_TYPES

    style = HtmlFormatter(style=style_name).style
    colours = {}
    for token, css_class in STANDARD_TYPES.items():
        if not css_class:
            continue
        found = style.style_for_token(token)
        rules = []
        if found["color"]:
            rules.append(f"color: #{readable(found['color'], background)}")
        if found["bold"]:
            rules.append("font-weight: bold")
        if found["italic"]:
            rules.append("font-style: italic")
        if rules:
            colours[css_class] = "; ".join(rules)
    return colours


def css() -> str:
    """Return the stylesheet for highlighted code: light colours, dark ones in dark mode."""
    light = "\n".join(f".content pre .{c} {{ {r} }}" for c, r in _colours(LIGHT_STYLE).items())
    dark_colours = {
        c: "color: inherit; font-weight: normal; font-style: normal" for c in _colours(LIGHT_STYLE)
    }
    dark_colours.update(_colours(DARK_STYLE))  # a light colour never stays on the dark background
    dark = "\n".join(f"  .content pre .{c} {{ {r} }}" for c, r in dark_colours.items())
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


def inline_styles(html: str) -> str:
    """Turn highlight classes into inline styles (light colours) for mail clients."""
    colours = _colours(LIGHT_STYLE)
    return _SPAN.sub(
        lambda m: f'<span style="{colours[m[1]]}">' if m[1] in colours else "<span>", html
    )
