"""Site-wide settings and template helpers: what every page's layout needs."""

from datetime import UTC, datetime
from email.utils import format_datetime

from flask import Flask, current_app, g

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
    """Return the site's settings for this request: config defaults, then stored overrides.

    Loaders in app.extensions["site_setting_loaders"] (the settings screen's store) return
    dicts of overrides keyed like SETTING_KEYS.
    """
    if "site_settings" not in g:
        values = {name: current_app.config[key] for name, key in SETTING_KEYS.items()}
        for loader in current_app.extensions.get("site_setting_loaders", []):
            values.update(loader())
        g.site_settings = values
    return g.site_settings


def as_utc(moment: datetime | None) -> datetime | None:
    """Treat a naive datetime from the database as UTC: the one place that does."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def format_date(moment: datetime | None, style: str = "long") -> str:
    """Format a stored time: '28 Nov 2026' (long), ISO 8601 (iso), RFC 822 (rfc822) or day."""
    moment = as_utc(moment)
    if moment is None:
        return ""
    if style == "iso":
        return moment.isoformat()
    if style == "rfc822":
        return format_datetime(moment, usegmt=True)
    if style == "day":
        return moment.date().isoformat()
    return f"{moment.day} {moment:%b %Y}"


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
