"""Your profile: name, slug, bio, website, picture, and changing your password."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.security import generate_password_hash

from blog import images
from blog.accounts import password_matches
from blog.admin.views import bp
from blog.authors.forms import parse_password_change, parse_profile
from blog.authors.sessions import remember_password
from blog.extensions import db
from blog.forms import Form
from blog.models import User
from blog.slugs import SlugError, check_slug, unique_slug
from blog.transactions import release_write_lock


def _page(form: Form | None = None, password_form: Form | None = None, status: int = 200):
    """Render the profile screen, echoing whichever form was sent."""
    user = current_user
    if form is None:
        fields = {name: getattr(user, name) or "" for name in ("name", "slug", "bio", "location")}
        fields["website"] = user.website or ""
    else:
        fields = {name: form.data.get(name, "") for name in ("name", "slug", "bio", "location")}
        fields["website"] = form.data.get("website", "")
    return render_template(
        "admin/profile.html",
        fields=fields,
        errors=form.errors if form else {},
        password_errors=password_form.errors if password_form else {},
    ), status


@bp.route("/admin/profile/", methods=["GET", "POST"])
def profile():
    """Show and save your own profile."""
    if request.method == "GET":
        return _page()
    form = parse_profile(request.form)
    wanted = _wanted_slug(form)
    if not form.ok:
        return _page(form, status=422)
    upload = request.files.get("profile_image_file")
    if upload is not None and upload.filename:
        release_write_lock()  # re-encode with no lock held
        try:
            current_user.profile_image = images.save_image(upload)
        except images.UploadError as error:
            form.errors["profile_image_file"] = error.message
            return _page(form, status=error.status)
    elif form.values["remove_image"]:
        current_user.profile_image = None
    for name in ("name", "bio", "location", "website"):
        setattr(current_user, name, form.values.get(name))
    current_user.slug = wanted or current_user.slug
    db.session.commit()
    flash("Profile saved.", "success")
    return redirect(url_for("admin.profile"), 303)


def _wanted_slug(form: Form) -> str | None:
    """Return the slug the profile form asks for: the typed one if free (else an error on
    the form), one made from the name when the field was emptied, or None (keep it)."""
    wanted = form.values.get("slug")
    if form.values["slug_typed"] and wanted and wanted != current_user.slug:
        try:
            check_slug(User, wanted, exclude_id=current_user.id, what="staff member")
        except SlugError as error:
            form.errors["slug"] = error.message
    elif not form.values["slug_typed"] and form.values.get("name"):  # emptied: from the name
        wanted = unique_slug(User, form.values["name"], exclude_id=current_user.id)
    return wanted


@bp.post("/admin/profile/password")
def change_password():
    """Change your password; your other sessions end, this one continues."""
    form = parse_password_change(request.form)
    if not password_matches(current_user, form.values["current"]):
        form.errors["current"] = "That is not your current password."
    if not form.ok:
        return _page(password_form=form, status=422)
    current_user.password_hash = generate_password_hash(form.values["password"])
    remember_password(current_user)
    db.session.commit()
    flash("Password changed.", "success")
    return redirect(url_for("admin.profile"), 303)
