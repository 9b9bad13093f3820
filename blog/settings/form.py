"""Reading the settings screen's form (and a Ghost import's settings, by the same rules)."""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from blog.forms import Form, clean, parse_email
from blog.site import safe_url

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8}){0,3}")
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
MAX_NAV_ITEMS = 20


def image_url(form: Form, name: str, label: str) -> None:
    """Read an optional image address: a path on this site or an http(s) URL."""
    value = form.text(name, label, 2000)
    if value and (not safe_url(value) or value.lower().startswith("mailto:")):
        form.errors[name] = f"{label} must be a path on this site or an https:// address."


def parse_settings(data: MultiDict) -> Form:
    """Read the settings screen; values are keyed like blog.site.SETTING_KEYS."""
    form = Form(data)
    form.text("title", "Site title", 191, required=True)
    form.text("description", "Description", 500, lines=True)
    color = data.get("accent_color", "").strip()
    if not _COLOR.fullmatch(color):
        form.errors["accent_color"] = "Give the colour as #rrggbb."
    form.values["accent_color"] = color.lower()
    language = data.get("language", "").strip()
    if not _LANGUAGE.fullmatch(language):
        form.errors["language"] = "Give a language code such as en, de or pt-BR."
    form.values["language"] = language
    _navigation(form)
    image_url(form, "logo", "Logo")
    form.values["remove_logo"] = data.get("remove_logo") == "on"
    image_url(form, "icon", "Site icon")
    form.values["remove_icon"] = data.get("remove_icon") == "on"
    form.text("newsletter_sender_name", "Sender name", 100)
    if data.get("newsletter_sender_email", "").strip():
        parse_email(form, "newsletter_sender_email", "Sender address")
    else:
        form.values["newsletter_sender_email"] = None
    if data.get("newsletter_reply_to", "").strip():
        parse_email(form, "newsletter_reply_to", "Reply-to address")
    else:
        form.values["newsletter_reply_to"] = None
    _blocked_domains(form)
    return form


def _navigation(form: Form) -> None:
    """Read the navigation rows (label + URL pairs); rows with both blank are dropped."""
    labels, urls = form.data.getlist("nav_label"), form.data.getlist("nav_url")
    items = []
    for label, url in zip(labels, urls, strict=False):
        label, url = " ".join(clean(label).split()), url.strip()
        if not label and not url:
            continue
        if not label or not url or len(label) > 60 or len(url) > 2000 or "\x00" in label + url:
            form.errors["navigation"] = "Each link needs a label (up to 60 characters) and a URL."
        elif not safe_url(url) or any(ch.isspace() for ch in url):
            form.errors["navigation"] = f"“{url}” is not a path on this site or an http(s) URL."
        items.append({"label": label, "url": url})
    if len(items) > MAX_NAV_ITEMS:
        form.errors["navigation"] = f"Use at most {MAX_NAV_ITEMS} links."
    form.values["navigation"] = items


def _blocked_domains(form: Form) -> None:
    """Read blocked subscriber domains, one per line."""
    raw = form.data.get("blocked_domains", "")
    domains = []
    for line in raw.replace(",", "\n").splitlines():
        domain = line.strip().lower().lstrip("@")
        if not domain:
            continue
        if not _DOMAIN.fullmatch(domain):
            form.errors["blocked_domains"] = f"“{domain[:80]}” is not a domain name."
        elif domain not in domains:
            domains.append(domain)
    if len(domains) > 1000:
        form.errors["blocked_domains"] = "Block at most 1,000 domains."
    form.values["blocked_domains"] = domains
