"""Site-wide settings and template helpers: what every page's layout needs.

The settings are config defaults with what the settings screen stored (JSON rows) over them;
blog.settings gathers their public names, with the theme and the settings form.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from flask import Flask, current_app, g
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from blog.extensions import db
from blog.models import Setting, utcnow

# Settings a page reads, and the config key each one defaults from.
SETTING_KEYS = {
    "title": "SITE_TITLE",
    "description": "SITE_DESCRIPTION",
    "language": "SITE_LANGUAGE",
    "accent_color": "SITE_ACCENT_COLOR",
    "navigation": "SITE_NAVIGATION",
    "url": "SITE_URL",
    "logo": "SITE_LOGO",
    "icon": "SITE_ICON",
    "newsletter_sender_name": "NEWSLETTER_SENDER_NAME",
    "newsletter_sender_email": "NEWSLETTER_SENDER_EMAIL",
    "newsletter_reply_to": "NEWSLETTER_REPLY_TO",
    "blocked_domains": "NEWSLETTER_BLOCKED_DOMAINS",
}


def settings() -> dict:
    """Return the site's settings for this request, keyed like SETTING_KEYS: config defaults,
    then what the settings screen stored (load_settings)."""
    if "site_settings" not in g:
        values = {name: current_app.config[key] for name, key in SETTING_KEYS.items()}
        values.update(load_settings())
        g.site_settings = values
    return g.site_settings


log = logging.getLogger(__name__)

# The keys of SETTING_KEYS an administrator may change ("url" stays in config).
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


def load_settings() -> dict:
    """Return the stored overrides, keyed like SETTING_KEYS (settings() calls it once a
    request).

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


def as_utc(moment: datetime | None) -> datetime | None:
    """Treat a naive datetime from the database as UTC: the one place that does."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


# The C locale's %b: English month abbreviations, whatever locale the server runs in.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_date(moment: datetime | None, style: str = "long") -> str:
    """Format a stored time: '28 Nov 2026' (long), ISO 8601 (iso; iso-seconds drops the
    fraction of a second, as a page's <time datetime> shows it), RFC 822 (rfc822) or day.

    Stored times are UTC (naive ones are read as UTC). Every card shows two, so the long and
    ISO forms are built directly: strftime and a tzinfo replace cost ten times as much.
    """
    if moment is None:
        return ""
    if style == "long":
        return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"
    if style in ("iso", "iso-seconds"):
        if style == "iso-seconds":
            moment = moment.replace(microsecond=0)
        return moment.isoformat() + ("+00:00" if moment.tzinfo is None else "")
    moment = as_utc(moment)
    if style == "rfc822":  # RFC 822 as RFC 2822 writes it: email.utils.format_datetime's form
        utc = moment.astimezone(UTC)
        return (
            f"{WEEKDAYS[utc.weekday()]}, {utc.day:02d} {MONTHS[utc.month - 1]} {utc.year:04d} "
            f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} GMT"
        )
    if style == "day":
        return moment.date().isoformat()
    raise ValueError(f"unknown date style: {style!r}")


def absolute_url(path: str) -> str:
    """Join a site path to the configured canonical address (never the request's Host)."""
    return current_app.config["SITE_URL"].rstrip("/") + "/" + path.lstrip("/")


def safe_url(url: str | None) -> str:
    """Return url if it is a site path or an http(s)/mailto address, else an empty string."""
    if not url:
        return ""
    cleaned = "".join(ch for ch in url if ch.isprintable() and not ch.isspace())
    if cleaned.startswith("/") and not cleaned.startswith(("//", "/\\")):
        return url
    scheme = cleaned.split(":", 1)[0].lower() if ":" in cleaned else ""
    return url if scheme in ("http", "https", "mailto") else ""


def init_app(app: Flask) -> None:
    """Expose settings and filters to templates."""
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["safe_url"] = safe_url
    app.jinja_env.globals["absolute_url"] = absolute_url
    app.context_processor(lambda: {"site": settings(), "now_year": datetime.now(UTC).year})
