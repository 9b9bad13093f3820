"""Colour arithmetic for readable text: WCAG 2 relative luminance and contrast ratio.

Used by the theme's accent colours (blog.settings.theme) and code highlighting (blog.highlight).
Colours are hex "#rrggbb" or "rrggbb". Source: WCAG 2.1, "relative luminance" and
"contrast ratio" definitions.
"""


def luminance(color: str) -> float:
    """Return the WCAG 2 relative luminance of a #rrggbb colour (0 black .. 1 white)."""
    hex_colour = color.removeprefix("#")

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(hex_colour[i : i + 2]) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(one: str, two: str) -> float:
    """Return the WCAG 2 contrast ratio of two #rrggbb colours (1 .. 21)."""
    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
