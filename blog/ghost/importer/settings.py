"""Importing the site's settings from Ghost: title, description, accent colour, language,
navigation and logo, checked by the settings screen's own rules; a setting already saved here
is kept."""

from __future__ import annotations

import json

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from blog.extensions import db
from blog.ghost.importer.run import ImportRun, relink, url_field
from blog.models import Setting
from blog.settings import parse_settings, save_settings
from blog.site import safe_url

# Ghost's settings keys (and their 0.x names) -> ours (blog.site.SETTING_KEYS).
GHOST_SETTINGS = {
    "title": "title",
    "description": "description",
    "accent_color": "accent_color",
    "lang": "language",
    "locale": "language",
    "default_locale": "language",
    "navigation": "navigation",
    "logo": "logo",
}


def import_settings(run: ImportRun) -> None:
    """Take Ghost's settings that pass the settings screen's rules and are not set here yet;
    count each in the report (unchanged, skipped with the rule's message, or imported)."""
    ghost: dict = {}
    for row in run.export.rows("settings"):
        name = GHOST_SETTINGS.get(str(row.get("key")))
        if name and row.get("value") not in (None, "") and name not in ghost:
            ghost[name] = row["value"]
    if not ghost:
        return
    data = MultiDict({k: str(v) for k, v in ghost.items() if k not in ("navigation", "logo")})
    if "logo" in ghost:
        data["logo"] = url_field(ghost["logo"], run) or ""
    if "navigation" in ghost:
        _add_navigation(data, ghost["navigation"], run)
    stored = set(db.session.scalars(select(Setting.key)))
    errors = save_checked_settings(data, [name for name in ghost if name not in stored])
    for name in ghost:
        if name in stored:
            run.report.count("setting", "unchanged")
        elif name in errors:
            run.report.count("setting", "skipped", f"{name}: {errors[name]}")
        else:
            run.report.count("setting", "imported")
    db.session.commit()


def _add_navigation(data: MultiDict, navigation, run: ImportRun) -> None:
    """Add Ghost's navigation (a JSON list of {label, url}) as the form's nav_label/nav_url
    pairs; a link that is not a site path or http(s)/mailto URL is dropped and noted."""
    try:
        items = json.loads(navigation) if isinstance(navigation, str) else []
    except ValueError:
        items = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        url = relink(str(item.get("url") or ""), run) or ""
        if not safe_url(url):
            run.report.notes.append(f"setting: navigation link {url[:100]!r} dropped")
            continue
        data.add("nav_label", str(item.get("label") or ""))
        data.add("nav_url", url)


def save_checked_settings(data: MultiDict, names: list[str]) -> dict[str, str]:
    """Check data by the settings screen's rules and save those of names that pass (the caller
    commits); return {name: message} for every field that failed.

    The one place the importer reaches the settings screen's rules (parse_settings) and store
    (save_settings).
    """
    form = parse_settings(data)
    chosen = {name: form.values.get(name) for name in names if name not in form.errors}
    if chosen:
        save_settings(chosen)
    return form.errors
