"""Staff accounts' services: sign-in limit keys, reset links, invites, and the mail they send.

Request-free: values come in as arguments (the session lives in blog.authors.sessions).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from flask import current_app, url_for
from itsdangerous import BadData
from sqlalchemy import delete, func, select

from blog import ratelimits
from blog.accounts import AccountError, create_user, find_staff, password_fingerprint
from blog.addresses import address_key, normalise_address
from blog.extensions import db
from blog.mail import send_templated
from blog.models import Invite, User, utcnow
from blog.security import signed_tokens
from blog.site import absolute_url

log = logging.getLogger(__name__)

# --- Keys that sign-in and reset limits count against (blog.ratelimits) ----------------------


def account_key(email: str, ip: str | None = None) -> str:
    """Return the key failed sign-ins for an address count against, known or not.

    With ip: the key for that address from that client address ("<ip>|<address>"), which
    sign-in limits use, as Ghost's userLogin limit does (SECURITY.md #15; issue 10).
    """
    address = address_key(email)
    return (f"{ip}|{address}" if ip is not None else address)[:254]


def clear_account_attempts(email: str) -> None:
    """Forget an address's failed sign-ins from every client address (after a reset)."""
    ratelimits.forget("login-account", "|" + account_key(email), suffix=True)


# --- Where to go after signing in -----------------------------------------------------------

_SAFE_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*")


def safe_next(target: str | None, default: str) -> str:
    """Return target if it is a path on this site, else default (no open redirects)."""
    if not target or len(target) > 2000 or not _SAFE_PATH.fullmatch(target):
        return default
    decoded = target
    for _ in range(3):  # %252F decodes to %2F, then to /
        decoded = unquote(decoded)
    if decoded.startswith(("//", "/\\")) or "\\" in decoded:
        return default
    if any(not ch.isprintable() or ch.isspace() for ch in decoded):
        return default
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else default


# --- Password reset links: signed, expiring, single use -------------------------------------


RESET_SALT = "password-reset"


def make_reset_token(user: User) -> str:
    """Return a signed, timed token naming the user and their current password's digest.

    Setting a new password changes the digest, so a token works once.
    """
    return signed_tokens(RESET_SALT).dumps({"u": user.id, "p": password_fingerprint(user)})


def user_for_reset_token(token: str) -> User | None:
    """Return the active user a valid, unused reset token names, if it is younger than
    PASSWORD_RESET_MAX_AGE seconds; else None."""
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    try:
        data = signed_tokens(RESET_SALT).loads(token, max_age=max_age)
        user_id, fingerprint = int(data["u"]), str(data["p"])
    except (BadData, KeyError, TypeError, ValueError):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or password_fingerprint(user) != fingerprint:
        return None
    return user


def send_reset_link(user: User) -> None:
    """Mail the user a link to choose a new password."""
    from flask import url_for

    link = absolute_url(url_for("authors.reset", token=make_reset_token(user)))
    send_templated(user.email, "Reset your password", "reset", user=user, link=link)


# --- Invites --------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(inviter: User, email: str, role: str) -> tuple[Invite, str]:
    """Add an invite for email with role; return it and the token for its link.

    Raises AccountError when the address is invalid or already belongs to staff. An earlier
    pending invite for the same address is replaced.
    """
    try:
        address = normalise_address(email)
    except ValueError as error:
        raise AccountError(str(error)) from None
    if find_staff(address) is not None:
        raise AccountError(f"{address} is already a member of staff.")
    db.session.execute(
        delete(Invite).where(
            func.lower(Invite.email) == address.lower(), Invite.accepted_at.is_(None)
        )
    )
    token = secrets.token_urlsafe(32)
    days = current_app.config["INVITE_MAX_AGE_DAYS"]
    invite = Invite(
        email=address,
        role=role,
        token_hash=_token_hash(token),
        invited_by=inviter,
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(invite)
    db.session.flush()
    return invite, token


def find_invite(token: str) -> Invite | None:
    """Return the pending, unexpired invite for a link's token, else None."""
    if not token or len(token) > 200:
        return None
    invite = db.session.scalar(select(Invite).where(Invite.token_hash == _token_hash(token)))
    if invite is None or invite.accepted_at is not None or invite.expires_at < utcnow():
        return None
    return invite


def accept_invite(invite: Invite, name: str, password: str) -> User:
    """Create the invited staff account and use up the invite; raise AccountError."""
    if find_staff(invite.email) is not None:
        raise AccountError(f"{invite.email} is already a member of staff.")
    user = create_user(email=invite.email, name=name, role=invite.role, password=password)
    invite.accepted_at = utcnow()
    return user


def invite_link(token: str) -> str:
    """Return the absolute URL an invitee opens."""
    return absolute_url(url_for("authors.accept_invite", token=token))


def pending_invites() -> list[Invite]:
    """Return invites not yet accepted or expired, newest first."""
    return list(
        db.session.scalars(
            select(Invite)
            .where(Invite.accepted_at.is_(None), Invite.expires_at > utcnow())
            .order_by(Invite.created_at.desc())
        )
    )
