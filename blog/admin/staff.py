"""Staff screens: who is on staff, invites, roles and deactivation."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from blog import accounts
from blog.accounts import AccountError
from blog.admin.views import bp
from blog.authors import services
from blog.authors.forms import parse_invite
from blog.authors.permissions import assignable_roles, can, invitable_roles
from blog.extensions import db
from blog.forms import Form
from blog.mail import send_templated
from blog.models import ROLES, Invite, User
from blog.site import settings
from blog.transactions import expect_writes


def _staff_page(form: Form | None = None, status: int = 200, **extra):
    """Render the staff list with the invite form."""
    users = list(db.session.scalars(select(User).order_by(User.is_active.desc(), User.name)))
    return render_template(
        "admin/staff.html",
        users=users,
        invites=services.pending_invites(),
        invite_roles=invitable_roles(current_user),
        assignable_roles=assignable_roles,
        form=form or Form(MultiDict()),
        **extra,
    ), status


@bp.get("/admin/staff/")
def staff():
    """List staff members and pending invites."""
    if not can(current_user, "staff.view"):
        abort(403)
    return _staff_page()


@bp.post("/admin/staff/invite")
def invite():
    """Invite someone with a role: mail them the link and show it to copy."""
    role = request.form.get("role", "")
    if role in ROLES and not can(current_user, "staff.invite", role):
        abort(403)
    form = parse_invite(request.form, invitable_roles(current_user))
    if not form.ok:
        return _staff_page(form, 422)
    try:
        created, token = services.create_invite(current_user, form.values["email"], role)
    except AccountError as error:
        form.errors["email"] = str(error)
        return _staff_page(form, 422)
    db.session.commit()
    link = services.invite_link(token)
    mailed = _mail_invite(created, link)
    return _staff_page(invite_link=link, invited=created, mailed=mailed, status=201)


def _mail_invite(created: Invite, link: str) -> bool:
    """Queue the invite mail in its own transaction; tell whether that worked."""
    expect_writes()  # the invite was committed: this is a second transaction
    try:
        send_templated(
            created.email,
            f"You are invited to write for {settings()['title']}",
            "invite",
            invite=created,
            inviter=current_user,
            link=link,
        )
        db.session.commit()
    except Exception:  # the link on screen still works without mail
        db.session.rollback()
        current_app.logger.exception("Could not mail an invite")
        return False
    return True


@bp.post("/admin/staff/invites/<int:invite_id>/revoke")
def revoke_invite(invite_id: int):
    """Withdraw a pending invite; its link stops working."""
    pending = db.get_or_404(Invite, invite_id)
    if not can(current_user, "staff.invite", pending.role):
        abort(403)
    db.session.delete(pending)
    db.session.commit()
    flash(f"The invite for {pending.email} was withdrawn.", "success")
    return redirect(url_for("admin.staff"), 303)


def _managed(user_id: int) -> User:
    """Return a staff member the current user may manage (403 for the owner or oneself)."""
    user = db.get_or_404(User, user_id)
    if not can(current_user, "staff.manage", user):
        abort(403)
    return user


@bp.post("/admin/staff/<int:user_id>/role")
def change_role(user_id: int):
    """Give a staff member another role (never owner)."""
    user = _managed(user_id)
    role = request.form.get("role", "")
    if role not in assignable_roles(current_user, user):
        abort(400, "Choose one of the roles offered.")
    user.role = role
    db.session.commit()
    flash(f"{user.name} is now {'an' if role[0] in 'aeiou' else 'a'} {role}.", "success")
    return redirect(url_for("admin.staff"), 303)


@bp.post("/admin/staff/<int:user_id>/deactivate")
def deactivate(user_id: int):
    """Stop a staff member signing in; their open sessions end with their next request."""
    user = _managed(user_id)
    user.is_active = False
    db.session.commit()
    flash(f"{user.name} can no longer sign in.", "success")
    return redirect(url_for("admin.staff"), 303)


@bp.post("/admin/staff/<int:user_id>/activate")
def activate(user_id: int):
    """Let a deactivated staff member sign in again."""
    user = _managed(user_id)
    user.is_active = True
    db.session.commit()
    flash(f"{user.name} can sign in again.", "success")
    return redirect(url_for("admin.staff"), 303)


@bp.route("/admin/staff/<int:user_id>/transfer-ownership", methods=["GET", "POST"])
def transfer_ownership(user_id: int):
    """Ask to confirm, then hand ownership to an administrator (the owner becomes one)."""
    successor = db.get_or_404(User, user_id)
    if not can(current_user, "staff.transfer_ownership"):
        abort(403)
    if request.method == "GET":
        return render_template("admin/transfer_ownership.html", successor=successor)
    try:
        accounts.transfer_ownership(current_user, successor)
    except accounts.AccountError as error:
        abort(400, str(error))
    db.session.commit()
    flash(f"{successor.name} is now the owner; you are an administrator.", "success")
    return redirect(url_for("admin.staff"), 303)
