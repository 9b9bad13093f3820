"""The sign-in, invite and profile screens' parsers, built on blog.forms' Form and readers."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from blog.forms import Form, check_new_password, parse_email, slug, website
from blog.models import ROLES


def parse_login(data: MultiDict) -> Form:
    """Read the sign-in form; an unusable address is not an error here (same answer for all)."""
    form = Form(data)
    form.values["email"] = data.get("email", "").strip()[:254]
    form.values["password"] = data.get("password", "")[:1000]
    form.values["remember"] = data.get("remember") in ("on", "1", "true", "yes")
    if not form.values["email"] or not form.values["password"]:
        form.errors["form"] = "Enter your email address and password."
    return form


def parse_account(data: MultiDict, with_email: bool = True) -> Form:
    """Read a new staff account: name, (email,) password and confirmation."""
    form = Form(data)
    form.text("name", "Name", 191, required=True)
    if with_email:
        parse_email(form)
    check_new_password(form)
    return form


def parse_invite(data: MultiDict, roles: tuple[str, ...]) -> Form:
    """Read an invite: an address and one of the roles the inviter may give."""
    form = Form(data)
    parse_email(form)
    role = data.get("role", "")
    if role not in roles or role not in ROLES:
        form.errors["role"] = "Choose one of the roles offered."
    form.values["role"] = role
    return form


def parse_profile(data: MultiDict) -> Form:
    """Read the profile form: name, slug, bio, website, location."""
    form = Form(data)
    form.text("name", "Name", 191, required=True)
    slug(form, fallback=form.values.get("name"))
    form.text("bio", "Bio", 500, lines=True)
    form.text("location", "Location", 191)
    website(form)
    form.values["remove_image"] = data.get("remove_image") == "on"
    return form


def parse_password_change(data: MultiDict) -> Form:
    """Read the password change form: the current password and the new one twice."""
    form = Form(data)
    form.values["current"] = data.get("current", "")[:1000]
    check_new_password(form)
    return form
