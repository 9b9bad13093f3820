"""Importing Ghost's staff users (Ghost's term; ours are users with a role).

Matched to an earlier run's row by Ghost's ObjectId, then by address. Two Ghost users with one
address become one; two with one slug but different addresses stay two, the second with a new
slug. An imported owner never displaces ours (it becomes an administrator), and one of our own
accounts matched by address only gets what it lacks.
"""

from __future__ import annotations

from sqlalchemy import func, select

from blog import slugs
from blog.addresses import AddressError, normalise_address
from blog.extensions import db
from blog.ghost.importer.run import ImportRun, assign, clip, ghost_id, url_field
from blog.ghost.reader import Export
from blog.models import ROLES, User


def import_users(run: ImportRun) -> None:
    """Create or update a user per Ghost user row; fill run.users and run.owner_id; commit."""
    report, roles = run.report, _roles(run.export)
    our_owner = db.session.scalar(select(User.id).where(User.role == "owner").limit(1))
    claimed: dict[int, str] = {}  # our user id -> the Ghost user it came from in this run
    for row in run.export.rows("users"):
        source = str(row.get("id"))
        label = f"{source} ({row.get('slug') or row.get('email')})"
        try:
            email = normalise_address(str(row.get("email") or ""))
        except AddressError as error:
            report.count("user", "skipped", f"{label}: no usable email address ({error})")
            continue
        user = _find_user(ghost_id(row.get("id")), email)
        if user is not None and user.id in claimed:
            run.users[source] = user.id
            report.count(
                "user", "skipped", f"{label}: same address as {claimed[user.id]}; "
                "their posts go to that user"
            )  # fmt: skip
            continue
        role = roles.get(source, "author")
        if role == "owner" and (our_owner is not None or run.owner_id is not None):
            role = "administrator"  # an imported owner never displaces ours
        user = _write_user(run, row, user, email, role, label)
        if user.role == "owner":
            run.owner_id = user.id
        claimed[user.id] = label
        run.users[source] = user.id
    db.session.commit()
    run.owner_id = our_owner or run.owner_id


def _roles(export: Export) -> dict[str, str]:
    """Map Ghost user ids to our role names (Ghost's roles, lower-cased; author if unknown)."""
    names = {str(r.get("id")): str(r.get("name", "")).lower() for r in export.rows("roles")}
    roles: dict[str, str] = {}
    for link in export.rows("roles_users"):
        name = names.get(str(link.get("role_id")), "")
        user = str(link.get("user_id"))
        if name in ROLES and (user not in roles or ROLES.index(name) < ROLES.index(roles[user])):
            roles[user] = name
    return roles


def _find_user(found_id: str | None, email: str) -> User | None:
    """The user an earlier run stored for this Ghost id, else the one with this address."""
    user = None
    if found_id:
        user = db.session.scalar(select(User).where(User.ghost_id == found_id))
    return user or db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))


def _write_user(run: ImportRun, row: dict, user: User | None, email: str, role: str, label: str):
    """Create the user (user is None) or update the one found; count it; return it."""
    report, found_id = run.report, ghost_id(row.get("id"))
    slug = slugs.slugify(str(row.get("slug") or row.get("name") or "")) or "author"
    values = {
        "name": clip(row.get("name") or slug, 191),
        "bio": clip(row.get("bio"), 5000),
        "profile_image": url_field(row.get("profile_image"), run),
        "website": url_field(row.get("website"), run),
        "location": clip(row.get("location"), 191),
        "is_active": str(row.get("status") or "active") != "inactive",
    }
    if user is None:
        if db.session.scalar(select(User.id).where(User.slug == slug)) or slug in slugs.RESERVED:
            new = slugs.unique_slug(User, slug)
            report.notes.append(f"user: {label}: slug {slug!r} is taken; now {new!r}")
            slug = new
        user = User(email=email, slug=slug, role=role, password_hash=None, **values)
        if found_id and not db.session.scalar(select(User.id).where(User.ghost_id == found_id)):
            user.ghost_id = found_id
        db.session.add(user)
        db.session.flush()
        report.count("user", "imported")
        return user
    if not found_id or user.ghost_id != found_id:
        # One of our own accounts (matched by address): fill in what it lacks,
        # never overwrite or deactivate it.
        values = {k: v for k, v in values.items() if k != "is_active" and not getattr(user, k)}
    report.count("user", "updated" if assign(user, values) else "unchanged")
    return user
