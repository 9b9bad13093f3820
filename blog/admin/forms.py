"""Admin forms: the editor and first-run setup, read into clean values + errors (the settings
screen's form is blog.settings.parse_settings)."""

from __future__ import annotations

from datetime import datetime

from werkzeug.datastructures import MultiDict

from blog.authors.forms import parse_account
from blog.content import nesting_problem
from blog.forms import Form, clean, slug
from blog.settings import image_url

POST_ACTIONS = ("save", "publish", "schedule", "unpublish", "email")
MAX_MARKDOWN = 500_000
MAX_TAGS = 20


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
