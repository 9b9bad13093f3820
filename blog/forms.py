"""The one form system: a Form that turns request.form into clean values plus an errors dict
(field -> message), and the field readers every screen shares.

A view builds Form(request.form), calls readers on it (form.text(), parse_email(form), ...),
and checks form.ok. Readers never raise for bad input: they put a message for the person
who typed it in form.errors[field]. Screen-specific parsers live with their screen
(blog/authors/forms.py, blog/admin/forms.py, blog/newsletter/forms.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from werkzeug.datastructures import MultiDict

from blog import addresses
from blog.accounts import AccountError, check_password_rules
from blog.slugs import RESERVED, SlugError, clean_slug, slugify

# What XML 1.0 forbids (C0 controls but TAB and LF, lone surrogates, U+FFFE, U+FFFF) and DEL:
# invisible, and they make feeds not well-formed (blog.xmlchars). NUL is refused, not dropped.
CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean(value: str) -> str:
    """Return typed text with CRLF as LF and stray control characters removed."""
    return CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def printable(text: str) -> str:
    """Return text with every unprintable character as a space: safe to echo into a form."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


@dataclass
class Form:
    """Clean values and what was wrong with the rest; `data` echoes the input back."""

    data: MultiDict
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def text(
        self, name: str, label: str, max_length: int, required: bool = False, lines: bool = False
    ) -> str | None:
        """Read a text field: trimmed, bounded, no NUL, one line unless lines; None if blank."""
        value = self.data.get(name, "")
        if "\x00" in value:
            self.errors[name] = f"{label} contains a character that is not allowed."
            return None
        value = clean(value).strip()
        if not lines:
            value = " ".join(value.split())
        if len(value) > max_length:
            self.errors[name] = f"{label} can be at most {max_length} characters."
        elif required and not value:
            self.errors[name] = f"{label} is required."
        self.values[name] = value or None
        return value or None


def check_new_password(form: Form, name: str = "password", confirm: str = "confirm") -> None:
    """Check a new password (blog.accounts' rules) and its confirmation."""
    password = form.data.get(name, "")
    try:
        check_password_rules(password)
    except AccountError as error:
        form.errors[name] = str(error)
    if password != form.data.get(confirm, ""):
        form.errors.setdefault(confirm, "The two passwords do not match.")
    form.values[name] = password


def parse_email(
    form: Form,
    name: str = "email",
    label: str = "Email address",
    check_deliverability: bool = False,
) -> str | None:
    """Read an address into values[name] in its stored form (blog.addresses' one rule).

    A specific problem (too long, not ASCII) keeps its own message; anything else reads
    "Enter a valid <label>.". check_deliverability also looks the domain up in DNS.
    """
    raw = form.data.get(name, "").strip()
    if "\x00" in raw or "\n" in raw or "\r" in raw or len(raw) > 254 or not raw:
        form.errors[name] = f"Enter a valid {label.lower()}."
        return None
    try:
        value = addresses.normalise_address(raw, check_deliverability=check_deliverability)
    except addresses.AddressError as error:
        specific = str(error) not in (addresses.INVALID, addresses.ENTER_ONE)
        form.errors[name] = str(error) if specific else f"Enter a valid {label.lower()}."
        return None
    form.values[name] = value
    return value


def website(form: Form, name: str = "website") -> None:
    """Read an optional http(s) address."""
    value = form.text(name, "Website", 2000)
    if value:
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            form.errors[name] = "Give a web address starting with https:// or http://."
        elif any(ch.isspace() or not ch.isprintable() for ch in value):
            form.errors[name] = "A web address cannot contain spaces."


def slug(form: Form, name: str = "slug", fallback: str | None = None) -> None:
    """Read an optional slug into values[name], with values[name + "_typed"] saying whether
    someone typed it. A typed slug must already be a slug and not reserved (else an error on
    the field: never quietly rewritten); a blank one is made from fallback, or is None."""
    raw = form.text(name, "Slug", 2000)
    form.values[f"{name}_typed"] = bool(raw)
    if form.errors.get(name):
        form.values[name] = None
        return
    if not raw:
        form.values[name] = slugify(fallback or "") or None
        return
    try:
        value = clean_slug(raw)
        if value in RESERVED:
            raise SlugError(f"“{value}” is reserved for the site itself; choose another slug.")
    except SlugError as error:
        form.errors[name] = error.message
        value = None
    form.values[name] = value
