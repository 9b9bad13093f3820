"""Site settings saved from the settings screen: stored as JSON rows, read on every request."""

from __future__ import annotations

import json
import logging
import re
import time

from flask import current_app, g
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from blog.colours import contrast_ratio, luminance
from blog.extensions import db
from blog.models import Setting, utcnow

log = logging.getLogger(__name__)

# The keys of blog.site.SETTING_KEYS an administrator may change ("url" stays in config).
EDITABLE = (
    "title",
    "description",
    "language",
    "accent_color",
    "navigation",
    "logo",
    "icon",
    "newsletter_sender_name",
    "newsletter_sender_email",
    "newsletter_reply_to",
    "blocked_domains",
)
COLOR = re.compile(r"#[0-9a-f]{6}")
DEFAULT_ACCENT = "#ff1a75"


def load_settings() -> dict:
    """Return the stored overrides (the loader blog.site.settings() calls once a request).

    Each app keeps what it read for SETTINGS_CACHE_SECONDS, so reader pages run no extra
    query; a save clears this process's copy at once, other workers see it within that time.
    """
    cache = current_app.extensions.setdefault("stored_settings", {})
    ttl = current_app.config.get("SETTINGS_CACHE_SECONDS", 5)
    if "values" in cache and time.monotonic() - cache["at"] < ttl:
        return dict(cache["values"])
    if g.get("no_database"):  # an error page: what this process read last, else config
        return dict(cache.get("values", {}))
    try:
        rows = db.session.execute(select(Setting.key, Setting.value)).all()
    except SQLAlchemyError:  # no table yet, or the database is busy: fall back to config
        log.warning("Could not read stored settings; using config defaults", exc_info=True)
        db.session.rollback()
        return {}
    stored = {}
    for key, value in rows:
        if key in EDITABLE:
            try:
                stored[key] = json.loads(value)
            except ValueError:
                log.warning("Ignoring unreadable stored setting %s", key)
    cache.update(values=stored, at=time.monotonic())
    return dict(stored)


def forget_settings() -> None:
    """Drop this app's copy of the stored settings, so the next request reads them again."""
    current_app.extensions.get("stored_settings", {}).clear()


def save_settings(values: dict) -> None:
    """Store settings (keys from EDITABLE) so they override config from the next request."""
    existing = {row.key: row for row in db.session.scalars(select(Setting))}
    for key, value in values.items():
        if key not in EDITABLE:
            continue
        encoded = json.dumps(value)
        if key in existing:
            existing[key].value = encoded
        else:
            db.session.add(Setting(key=key, value=encoded, updated_at=utcnow()))
    db.session.flush()
    forget_settings()


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
