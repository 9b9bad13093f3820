"""The theme stylesheet: the accent colour and button colours readable on it (WCAG 2.1)."""

import re

from blog.colours import contrast_ratio, luminance

COLOR = re.compile(r"#[0-9a-f]{6}")
DEFAULT_ACCENT = "#ff1a75"


def accent_color(value: object) -> str:
    """Return value if it is a #rrggbb colour, else the default accent."""
    text = str(value or "").lower()
    return text if COLOR.fullmatch(text) else DEFAULT_ACCENT


def contrast_color(color: str) -> str:
    """Return black or white, whichever reads better on color (WCAG relative luminance)."""
    return "#15171a" if luminance(color) > 0.179 else "#ffffff"


def button_colors(color: str) -> tuple[str, str]:
    """Return (background, text) for buttons in the accent colour, at least 4.5:1 (WCAG AA).

    White text on the accent when that reads; dark text on a clearly light accent (7:1, e.g.
    yellow); otherwise, as for a bright pink, white text on the accent darkened just enough.
    """
    white, dark = "#ffffff", "#15171a"
    if contrast_ratio(color, white) >= 4.5:
        return color, white
    if contrast_ratio(color, dark) >= 7:
        return color, dark
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(1, 21):
        keep = 1 - step * 0.05
        darker = "#{:02x}{:02x}{:02x}".format(*(round(c * keep) for c in (r, g, b)))
        if contrast_ratio(darker, white) >= 4.5:
            return darker, white
    return "#000000", white


def theme_css(color: str) -> str:
    """Return the stylesheet that carries the accent colour to every page."""
    button, button_text = button_colors(color)
    return (
        f":root {{\n  --accent: {color};\n  --accent-contrast: {contrast_color(color)};\n"
        f"  --button-bg: {button};\n  --button-text: {button_text};\n}}\n"
        # The logo from the settings screen sits where the title would: keep it title-sized.
        ".site-title__logo {\n  display: block;\n  height: 2.25rem;\n  width: auto;\n"
        "  max-width: 14rem;\n  object-fit: contain;\n}\n"
    )
