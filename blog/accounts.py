"""Staff accounts: creating them, checking passwords, ending sessions.

One name per concept, used in the code, the screens and the tests:

- staff: the people who sign in (the User model): owner, administrator, editor, author,
  contributor (Ghost's roles, blog.models.ROLES). What each may do is one table,
  blog.authors.permissions.can(user, action, subject).
- author: a member of staff credited on a post (PostAuthor); their public page is
  /author/<slug>/ (blog.authors.views). "Author" is also the name of one role; the role is
  always written as a role ("the author role").
- member or subscriber: a newsletter reader (the Subscriber model, blog.newsletter). Members
  never sign in and are never staff.
"""

import functools
import hashlib

from sqlalchemy import event, inspect
from werkzeug.security import check_password_hash, generate_password_hash

from blog.addresses import AddressError, normalise_address
from blog.extensions import db, login_manager
from blog.models import ROLES, User
from blog.slugs import unique_slug

MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A staff account could not be created or changed; the message says why."""


def check_password_rules(password: str) -> None:
    """Raise AccountError if the password is too weak to accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 1000:
        raise AccountError("That password is too long.")


def create_user(email: str, name: str, role: str, password: str, **profile) -> User:
    """Add a staff user with a hashed password; raise AccountError for bad input.

    email follows blog.addresses' rule (stored lower-case, so staff addresses compare
    case-insensitively); profile holds optional User columns (bio, website, ...).
    """
    try:
        email = normalise_address(email)
    except AddressError as error:
        raise AccountError(str(error)) from None
    name = name.strip()
    if not name or len(name) > 191 or "\x00" in name or "\n" in name or "\r" in name:
        raise AccountError("Give a name of 1 to 191 characters on one line.")
    if role not in ROLES:
        raise AccountError(f"Role must be one of: {', '.join(ROLES)}.")
    check_password_rules(password)
    owner = (
        db.session.scalar(db.select(User).where(User.role == "owner")) if role == "owner" else None
    )
    if owner is not None:  # Ghost has exactly one owner; ownership moves by transfer
        raise AccountError(
            f"This blog already has an owner ({owner.email}). Create an administrator; the "
            "owner can then transfer ownership on the Staff screen."
        )
    if db.session.scalar(db.select(User.id).where(db.func.lower(User.email) == email)):
        raise AccountError(f"There is already an account for {email}.")
    user = User(
        email=email,
        name=name,
        role=role,
        slug=unique_slug(User, name),
        password_hash=generate_password_hash(password),
        **profile,
    )
    db.session.add(user)
    db.session.flush()
    return user


def password_matches(user: User | None, password: str) -> bool:
    """Check a password; an unknown user costs the same time as a wrong password."""
    return hash_matches(user.password_hash if user else None, password)


def hash_matches(password_hash: str | None, password: str) -> bool:
    """Check a password against a stored hash (None: no password, costs the same time as a
    wrong one). Takes about 0.1 s by design: call it with no transaction holding a lock."""
    if not password_hash:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)


@functools.cache
def _dummy_hash() -> str:
    """A hash made the way real ones are (so checking it costs what checking theirs does),
    made on first use: at import, its 32 MB of scrypt work cost every web worker 0.1-0.2 s
    of start-up and left glibc keeping freed memory. functools.cache is thread-safe: two
    first callers at once may both compute it, and either result does."""
    return generate_password_hash("not a real password")


def password_fingerprint(user: User) -> str:
    """Return a short digest (16 hex digits) of the user's password hash.

    It changes with the password: sessions and reset tokens carry it, so a new password
    ends the sessions and uses up the reset links made before it.
    """
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def find_staff(email: str) -> User | None:
    """Return the staff member with this address (any letter case), or None."""
    try:
        address = normalise_address(email)
    except AddressError:
        return None
    return db.session.scalar(db.select(User).where(db.func.lower(User.email) == address))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the signed-in staff user, or None once the account is gone or deactivated or
    the session was revoked.

    user_id is User.get_id(): "<id>-<session_version>" (a bare "<id>" from before sessions
    were versioned counts as version 0). Every session and remember-me cookie carries it,
    so raising the user's session_version (revoke_sessions) ends them all, server-side.
    """
    number, _, version = user_id.partition("-")
    if not number.isdigit() or not (version or "0").isdigit():
        return None
    user = db.session.get(User, int(number))
    if user is None or not user.is_active or user.session_version != int(version or "0"):
        return None
    return user


def revoke_sessions(user: User) -> None:
    """End every session and remember-me cookie of user (saved with the caller's commit)."""
    user.session_version = (user.session_version or 0) + 1


@event.listens_for(User.password_hash, "set")
def _password_changed(user: User, value, old, initiator) -> None:
    """A new password (change or reset) signs the account out everywhere."""
    if inspect(user).persistent and value != old:
        revoke_sessions(user)


@event.listens_for(User.is_active, "set")
def _deactivated(user: User, value, old, initiator) -> None:
    """Deactivation revokes every session: reactivating later does not bring them back."""
    if inspect(user).persistent and not value:
        revoke_sessions(user)


def rank(role: str) -> int:
    """Return a role's power: higher is more (owner highest, contributor lowest)."""
    return len(ROLES) - ROLES.index(role) if role in ROLES else 0


def transfer_ownership(owner: User, successor: User) -> None:
    """Make successor the owner and owner an administrator (Ghost's ownership transfer).

    Raises AccountError unless owner is the owner and successor an active administrator.
    """
    if owner.role != "owner":
        raise AccountError("Only the owner can transfer ownership.")
    if successor.id == owner.id or successor.role != "administrator" or not successor.is_active:
        raise AccountError("Ownership can go to an active administrator only.")
    owner.role, successor.role = "administrator", "owner"
    db.session.flush()
