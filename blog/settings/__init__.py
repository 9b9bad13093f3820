"""Site settings an administrator changes on the settings screen: the theme stylesheet built
from the accent colour (theme.py) and the form's rules (form.py), with the stored values
(kept next to blog.site.settings(), which merges them over config for every page: a page
needs them without the admin's forms)."""

from blog.settings.form import image_url, parse_settings
from blog.settings.theme import (
    DEFAULT_ACCENT,
    accent_color,
    button_colors,
    contrast_color,
    theme_css,
)
from blog.site import EDITABLE, forget_settings, load_settings, save_settings

__all__ = [
    "DEFAULT_ACCENT",
    "EDITABLE",
    "accent_color",
    "button_colors",
    "contrast_color",
    "forget_settings",
    "image_url",
    "load_settings",
    "parse_settings",
    "save_settings",
    "theme_css",
]
