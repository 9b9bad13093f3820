"""Turn the subscribe form into clean values plus an errors dict of field -> message."""

from dataclasses import dataclass, field

from flask import current_app
from werkzeug.datastructures import MultiDict

MAX_EMAIL = 254
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
    """Return the address trimmed, validated and with its domain lower-cased (ASCII only).

    Raises ValueError with a message for the reader. The SMTP side needs no SMTPUTF8, so
    internationalised domains are kept in their ASCII (punycode) form.
    """
    address = raw.strip()
    if not address:
        raise ValueError("Enter your email address.")
    if any(ch in address for ch in "\r\n\x00"):
        raise ValueError("Enter a single email address on one line.")
    if len(address) > MAX_EMAIL:
        raise ValueError(f"That address is too long (at most {MAX_EMAIL} characters).")
    from email_validator import EmailNotValidError, validate_email  # loaded on first use

    try:
        result = validate_email(
            address,
            check_deliverability=current_app.config["NEWSLETTER_CHECK_DELIVERABILITY"],
            allow_smtputf8=False,
        )
    except EmailNotValidError:
        raise ValueError("Enter a valid email address, like name@example.com.") from None
    return f"{result.local_part}@{result.ascii_domain.lower()}"


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
