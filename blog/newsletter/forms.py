"""Turn the subscribe form into clean values plus an errors dict of field -> message."""

from dataclasses import dataclass, field

from flask import current_app
from werkzeug.datastructures import MultiDict

from blog import addresses

MAX_EMAIL = addresses.MAX_ADDRESS
MAX_NAME = 191
# Named like a field a bot fills in; people never see it (site.css moves it off-screen).
HONEYPOT = "comment"


@dataclass
class SubscribeForm:
    email: str = ""
    name: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    is_bot: bool = False
    # What the reader typed, made printable, to show back in the form.
    values: dict[str, str] = field(default_factory=dict)


def printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)


def normalise_address(raw: str) -> str:
    """Return the address in its stored form (blog.addresses' one rule); raise AddressError.

    Looks the domain up in DNS when NEWSLETTER_CHECK_DELIVERABILITY is on.
    """
    return addresses.normalise_address(
        raw, check_deliverability=current_app.config["NEWSLETTER_CHECK_DELIVERABILITY"]
    )


def parse_subscribe(data: MultiDict) -> SubscribeForm:
    """Read the subscribe form: a valid address, an optional one-line name, the honeypot."""
    raw_email, raw_name = data.get("email", ""), data.get("name", "")
    form = SubscribeForm(values={"email": printable(raw_email), "name": printable(raw_name)})
    form.is_bot = bool(data.get(HONEYPOT, "").strip())
    try:
        form.email = normalise_address(raw_email)
    except ValueError as error:
        form.errors["email"] = str(error)
    form.name = raw_name.strip()
    if len(form.name) > MAX_NAME or any(ch in form.name for ch in "\r\n\x00"):
        form.errors["name"] = f"Give a name on one line, at most {MAX_NAME} characters."
    return form
