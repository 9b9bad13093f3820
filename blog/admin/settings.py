"""The settings screen (administrators): the site's title, look, navigation and newsletter."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blog import images
from blog.admin.views import bp
from blog.authors.permissions import can
from blog.extensions import db
from blog.models import Post
from blog.posts.reading import visible
from blog.settings import forget_settings, parse_settings, save_settings
from blog.site import settings as site_settings
from blog.transactions import release_write_lock


def _page(values: dict, errors: dict, status: int = 200):
    """Render the settings form with values (stored or as typed) and errors."""
    navigation = list(values.get("navigation") or []) + [{"label": "", "url": ""}] * 2
    pages = db.session.scalars(
        select(Post).where(Post.type == "page", visible()).order_by(Post.title)
    ).all()  # offered as navigation links
    return render_template(
        "admin/settings.html", values=values, errors=errors, navigation=navigation, pages=pages
    ), status


@bp.route("/admin/settings/", methods=["GET", "POST"])
def settings():
    """Show and save the site settings; they apply from the next request, no restart."""
    if not can(current_user, "settings.edit"):
        abort(403)
    current = dict(site_settings())
    if request.method == "GET":
        return _page(current, {})
    form = parse_settings(request.form)
    for name in ("logo", "icon"):  # the logo and the site icon (favicon) upload alike
        upload = request.files.get(f"{name}_file")
        if form.ok and upload is not None and upload.filename:
            release_write_lock()  # re-encode with no lock held
            try:
                form.values[name] = images.save_image(upload)
            except images.UploadError as error:
                form.errors[f"{name}_file"] = error.message
                return _page({**current, **form.values}, form.errors, error.status)
    if not form.ok:
        return _page({**current, **form.values}, form.errors, 422)
    for name in ("logo", "icon"):
        if form.values.pop(f"remove_{name}"):
            form.values[name] = None
        elif not form.values.get(name):
            form.values[name] = current.get(name)
    save_settings(form.values)
    db.session.commit()
    forget_settings()  # again: another thread may have read the old values meanwhile
    flash("Settings saved.", "success")
    return redirect(url_for("admin.settings"), 303)
