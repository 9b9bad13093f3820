"""The subscribe form, read with blog.forms' Form: values email, name, is_bot; errors."""

from werkzeug.datastructures import MultiDict

from blog import addresses
from blog.forms import Form, printable

MAX_NAME = 191
# Named like a field a bot fills in; people never see it (site.css moves it off-screen).
HONEYPOT = "comment"


def echo(data: MultiDict) -> dict[str, str]:
    """Return what the member typed, made printable, to show back in the form."""
    return {"email": printable(data.get("email", "")), "name": printable(data.get("name", ""))}


def parse_subscribe(data: MultiDict, check_deliverability: bool = False) -> Form:
    """Read the subscribe form: a valid address, an optional one-line name, the honeypot.

    The address follows blog.addresses' rule (its messages shown as they are);
    check_deliverability also looks the domain up in DNS (NEWSLETTER_CHECK_DELIVERABILITY).
    """
    form = Form(data)
    form.values["is_bot"] = bool(data.get(HONEYPOT, "").strip())
    try:
        form.values["email"] = addresses.normalise_address(
            data.get("email", ""), check_deliverability=check_deliverability
        )
    except addresses.AddressError as error:
        form.errors["email"] = str(error)
    name = data.get("name", "").strip()
    if len(name) > MAX_NAME or any(ch in name for ch in "\r\n\x00"):
        form.errors["name"] = f"Give a name on one line, at most {MAX_NAME} characters."
    form.values["name"] = name
    return form
