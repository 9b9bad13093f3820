"""A post's HTML made to fit a newsletter: 600 px wide at most, and narrower on a phone.

Mail clients ignore the site's stylesheet, and Outlook ignores max-width on images, so every
rule travels inline: an image gets a width attribute of at most the column's width and
`max-width:100%;height:auto`, code and tables wrap instead of widening the mail, and a video
embed (no mail client plays iframes) becomes a link to the video.
"""

from __future__ import annotations

import html
import re

from blog import images

COLUMN = 560  # the mail's 600 px less its 20 px padding on each side
_IMG = re.compile(r"<img\b([^>]*?)/?>")
_ATTRIBUTE = re.compile(r'([a-zA-Z-]+)="([^"]*)"')
_EMBED = re.compile(
    r'<figure class="embed"><iframe\b[^>]*?\bsrc="([^"]+)"[^>]*?\btitle="([^"]+)"[^>]*>'
    r"</iframe></figure>"
)
_STYLES = {
    "pre": "white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;"
    "max-width:100%;font-size:14px;",
    "table": "width:100%;max-width:100%;table-layout:fixed;border-collapse:collapse;"
    "overflow-wrap:anywhere;",
    "figure": "margin:0 0 16px;max-width:100%;",
    "blockquote": "margin:0 0 16px;padding-left:16px;border-left:3px solid #e5e7eb;",
}


def fit(post_html: str, column: int = COLUMN) -> str:
    """Return sanitised post HTML with inline styles that keep it within column px.

    post_html is blog.content's sanitised output (double-quoted attributes, no style
    attributes of its own), with absolute URLs. Images keep their proportions: a width
    attribute over column becomes column and the height follows (height:auto).
    """
    fitted = _EMBED.sub(
        lambda m: f'<p><a href="{m[1]}">{m[2]}: {m[1]}</a></p>',
        post_html,
    )
    fitted = _IMG.sub(lambda m: _image(m[1], column), fitted)
    for tag, style in _STYLES.items():
        fitted = re.sub(rf"<{tag}(?=[\s>])", f'<{tag} style="{style}"', fitted)
    return fitted


def _image(attributes: str, column: int) -> str:
    """Rebuild one img tag: a width of at most column px, no fixed height, inline scaling."""
    values = {name.lower(): value for name, value in _ATTRIBUTE.findall(attributes)}
    width = _number(values.pop("width", None))
    values.pop("height", None)
    if width is None:
        src = html.unescape(values.get("src", ""))
        size = images.image_size("/" + src.split("/", 3)[-1] if "://" in src else src)
        width = size[0] if size else None
    if width is not None:
        values["width"] = str(min(width, column))
    values["style"] = "display:block;max-width:100%;height:auto;border:0;"
    rebuilt = " ".join(f'{name}="{value}"' for name, value in values.items())
    return f"<img {rebuilt}>"


def _number(value: str | None) -> int | None:
    """Return an attribute's whole number of pixels ("2020" or "2020px"), or None."""
    found = re.fullmatch(r"\s*(\d{1,6})(?:px)?\s*", value or "")
    return int(found[1]) if found else None
