"""Admin forms: the editor, site settings and first-run setup, read into clean values + errors."""

from __future__ import annotations

import re
from datetime import datetime

from werkzeug.datastructures import MultiDict

from blog.authors.forms import Form, clean, parse_account, parse_email, slug
from blog.content import nesting_problem
from blog.site import safe_url

POST_ACTIONS = ("save", "publish", "schedule", "unpublish", "email")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8}){0,3}")
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
MAX_MARKDOWN = 500_000
MAX_TAGS = 20
MAX_NAV_ITEMS = 20


def names_list(form: Form, name: str, label: str, max_items: int) -> list[str]:
    """Read a comma-separated list of names, in order, without blanks or repeats."""
    raw = form.data.get(name, "")
    if "\x00" in raw or len(raw) > 5000:
        form.errors[name] = f"{label} cannot be read."
        return []
    seen: dict[str, str] = {}
    for part in clean(raw).split(","):
        item = " ".join(part.split())
        if item and item.lower() not in seen:
            seen[item.lower()] = item
    items = list(seen.values())
    if len(items) > max_items:
        form.errors[name] = f"Use at most {max_items} {label.lower()}."
    elif any(len(item) > 191 for item in items):
        form.errors[name] = f"Each of the {label.lower()} can be at most 191 characters."
    form.values[name] = items
    return items


def parse_datetime(form: Form, name: str) -> datetime | None:
    """Read a datetime-local field (UTC); None when blank."""
    raw = form.data.get(name, "").strip()
    if not raw:
        form.values[name] = None
        return None
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            value = datetime.strptime(raw[:19], pattern)
        except ValueError:
            continue
        if 1970 <= value.year <= 9000:
            form.values[name] = value
            return value
    form.errors[name] = "Give the date and time as YYYY-MM-DD HH:MM (UTC)."
    form.values[name] = None
    return None


def image_url(form: Form, name: str, label: str) -> None:
    """Read an optional image address: a path on this site or an http(s) URL."""
    value = form.text(name, label, 2000)
    if value and (not safe_url(value) or value.lower().startswith("mailto:")):
        form.errors[name] = f"{label} must be a path on this site or an https:// address."


def parse_post(data: MultiDict) -> Form:
    """Read the editor: every field a post has, plus which button was pressed."""
    form = Form(data)
    title = form.text("title", "Title", 255)
    form.values["title"] = title or ""
    markdown = data.get("markdown", "")
    if "\x00" in markdown:
        form.errors["markdown"] = "The text contains a character that is not allowed."
    elif len(markdown) > MAX_MARKDOWN:
        form.errors["markdown"] = f"Posts can be at most {MAX_MARKDOWN:,} characters long."
    form.values["markdown"] = clean(markdown)
    if "markdown" not in form.errors:
        problem = nesting_problem(form.values["markdown"])  # nothing may vanish silently
        if problem:
            form.errors["markdown"] = problem
    slug(form)
    form.text("custom_excerpt", "Excerpt", 300, lines=True)
    form.text("meta_title", "Meta title", 300)
    form.text("meta_description", "Meta description", 500, lines=True)
    form.text("feature_image_alt", "Alt text", 191)
    image_url(form, "feature_image", "Feature image")
    form.values["remove_feature_image"] = data.get("remove_feature_image") == "on"
    form.values["featured"] = data.get("featured") == "on"
    form.values["email_when_published"] = data.get("email_when_published") == "on"
    names_list(form, "tags", "Tags", MAX_TAGS)
    names_list(form, "authors", "Authors", 10)
    parse_datetime(form, "published_at")
    action = data.get("action", "save")
    form.values["action"] = action if action in POST_ACTIONS else "save"
    return form


def parse_setup(data: MultiDict) -> Form:
    """Read the first-run form: the owner's account and the site's title."""
    form = parse_account(data)
    form.text("site_title", "Site title", 191)
    return form


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
