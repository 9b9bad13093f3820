"""Email addresses: the one rule that decides which are accepted, and their one stored form.

Every form and importer (subscribe, import-subscribers, invites, staff accounts, sign-in, the
sender setting) calls normalise_address(), so an address accepted in one place is accepted in
all, and `Alice@Example.com` and `alice@example.com` are one reader or one member of staff.

The rule, and why:

- Surrounding whitespace is trimmed, Unicode whitespace included (a no-break space pasted
  from a web page), so `"alice@example.com\\u00a0"` is `alice@example.com`. Whitespace or
  control characters inside the address are refused.
- At most 254 characters in all and 64 before the @ (RFC 5321 section 4.5.3.1.1 and .3).
- Only ASCII before the @. An address like `josé@example.com` needs SMTPUTF8 (RFC 6531) from
  every server on the way; our mail leaves through whatever SMTP relay the owner configured,
  and most relays do not offer it, so such an address would be stored and then never reached.
  email-validator's `allow_smtputf8=False` makes that call. The message says so.
- The domain may be internationalised; it is stored in its ASCII (IDNA, "xn--") form, which
  every SMTP server and mail header accepts, so an invite to `ana@bücher.de` is sent to
  `ana@xn--bcher-kva.de`.
- The whole address is stored lower-case. RFC 5321 section 2.4 lets a server treat the part
  before the @ case-sensitively, but no mailbox provider does, and Ghost compares member
  addresses case-insensitively (its MySQL collation ignores case); lower-casing on the way in
  lets the unique index on the column keep one row per mailbox.
"""

from __future__ import annotations

MAX_ADDRESS = 254  # RFC 5321 4.5.3.1.3 (a path of 256 octets, less the angle brackets)
MAX_LOCAL_PART = 64  # RFC 5321 4.5.3.1.1

ENTER_ONE = "Enter your email address."
INVALID = "Enter a valid email address, like name@example.com."


class AddressError(ValueError):
    """The address is not one we accept; str(error) is a message for the person who typed it."""


def normalise_address(raw: str, check_deliverability: bool = False) -> str:
    """Return the address in its stored form: trimmed, ASCII, lower-case, IDNA domain.

    raw is what was typed or imported. check_deliverability=True also looks up the domain's
    MX record in DNS (email-validator). Raises AddressError with a reader-facing message.
    """
    address = (raw or "").strip()
    if not address:
        raise AddressError(ENTER_ONE)
    if any(ch in address for ch in "\r\n\x00"):
        raise AddressError("Enter a single email address on one line.")
    if any(not ch.isprintable() or ch.isspace() for ch in address):
        raise AddressError(INVALID)
    if len(address) > MAX_ADDRESS:
        raise AddressError(f"That address is too long (at most {MAX_ADDRESS} characters).")
    local_part = address.rpartition("@")[0]
    if len(local_part.encode()) > MAX_LOCAL_PART:
        raise AddressError(
            f"The part before the @ is too long (at most {MAX_LOCAL_PART} characters)."
        )
    if not local_part.isascii():
        raise AddressError(
            "Use an address with only ASCII letters before the @: most mail servers cannot "
            "deliver to others."
        )
    from email_validator import EmailNotValidError, validate_email  # loaded on first use

    try:
        result = validate_email(
            address, check_deliverability=check_deliverability, allow_smtputf8=False
        )
    except EmailNotValidError:
        raise AddressError(INVALID) from None
    stored = f"{result.local_part}@{result.ascii_domain}".lower()
    if len(stored) > MAX_ADDRESS:  # the ASCII form of a domain can be longer than the Unicode
        raise AddressError(f"That address is too long (at most {MAX_ADDRESS} characters).")
    return stored


def address_key(raw: str) -> str:
    """Return the stored form of raw, or raw trimmed and lower-cased when it is not valid.

    For keys that must treat one mailbox as one (rate limits, look-ups) even for input the
    rule refuses; at most 254 characters.
    """
    try:
        return normalise_address(raw)
    except AddressError:
        return (raw or "").strip().lower()[:MAX_ADDRESS]
