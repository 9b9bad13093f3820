"""Who may do what: Ghost's staff roles as one table, checked on the server for every action.

contributor  writes and edits their own drafts; cannot publish or create tags
author       publishes and edits their own posts; creates tags
editor       edits and publishes everyone's posts; manages tags; invites authors and contributors
administrator  everything, including site settings and staff
owner        an administrator who cannot be removed or demoted
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from blog.accounts import rank
from blog.extensions import login_manager
from blog.models import ROLES, Post, User

# The roles an inviter may hand out, by the inviter's role.
INVITABLE = {
    "owner": ("administrator", "editor", "author", "contributor"),
    "administrator": ("administrator", "editor", "author", "contributor"),
    "editor": ("author", "contributor"),
}


def _at_least(role: str) -> Callable[[User, object], bool]:
    return lambda user, _: rank(user.role) >= rank(role)


def _writes(user: User, post: Post | None) -> bool:
    """True when the user is one of the post's authors."""
    return post is not None and any(author.id == user.id for author in post.authors)


def _edit_post(user: User, post: Post | None) -> bool:
    if rank(user.role) >= rank("editor"):
        return True
    if user.role == "author":
        return _writes(user, post)
    return _writes(user, post) and post is not None and post.status == "draft"


def _publish_post(user: User, post: Post | None) -> bool:
    if rank(user.role) >= rank("editor"):
        return True
    return user.role == "author" and (post is None or _writes(user, post))


def _invite(user: User, role: object) -> bool:
    return role in INVITABLE.get(user.role, ())


def _manage_user(user: User, target: object) -> bool:
    """Administrators manage other staff, never the owner and never themselves."""
    return (
        rank(user.role) >= rank("administrator")
        and isinstance(target, User)
        and target.role != "owner"
        and target.id != user.id
    )


def _transfer_ownership(user: User, target: object) -> bool:
    """Only the owner hands ownership on, and only to an active administrator (Ghost)."""
    if user.role != "owner":
        return False
    return target is None or (
        isinstance(target, User) and target.role == "administrator" and target.is_active
    )


# action -> rule(user, subject). The subject is a post, a role name or a user, as named.
RULES: dict[str, Callable[[User, object], bool]] = {
    "admin.view": _at_least("contributor"),
    "post.create": _at_least("contributor"),
    "post.edit": _edit_post,  # subject: post
    "post.delete": _edit_post,  # subject: post
    "post.publish": _publish_post,  # subject: post (None: any post of their own)
    "post.set_authors": _at_least("editor"),
    "post.email": _at_least("administrator"),  # SECURITY #22: sending newsletters is admin-only
    "post.view_all": _at_least("editor"),
    "tag.create": _at_least("author"),
    "tag.manage": _at_least("editor"),
    "upload.create": _at_least("contributor"),
    "profile.edit": _at_least("contributor"),
    "staff.view": _at_least("editor"),
    "staff.invite": _invite,  # subject: role name
    "staff.manage": _manage_user,  # subject: user (change role, deactivate, reactivate)
    "staff.transfer_ownership": _transfer_ownership,  # subject: the successor (None: anyone)
    "settings.edit": _at_least("administrator"),
    "subscriber.view": _at_least("editor"),  # the Subscribers screen: list, remove, export
}


def can(user, action: str, subject: object = None) -> bool:
    """Tell whether user may do action (to subject, as RULES names it).

    Anonymous and deactivated users may do nothing; an action not in RULES raises KeyError.
    """
    rule = RULES.get(action)
    if rule is None:
        raise KeyError(f"Unknown action {action!r}")
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "is_active", False):
        return False
    return bool(rule(user, subject))


def invitable_roles(user) -> tuple[str, ...]:
    """Return the roles user may invite someone with, most powerful first."""
    return tuple(role for role in ROLES if can(user, "staff.invite", role))


def assignable_roles(user: User, target: User) -> tuple[str, ...]:
    """Return the roles an administrator may give target (never owner)."""
    if not can(user, "staff.manage", target):
        return ()
    return INVITABLE["administrator"]


def permission_required(action: str):
    """Guard a view with can(current_user, action): anonymous visitors go to sign in
    (login_manager.unauthorized), staff without the permission get 403."""
    if action not in RULES:
        raise KeyError(f"Unknown action {action!r}")

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(current_user, action):
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate
