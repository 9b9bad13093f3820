"""Integrations (administrators): Content API keys for Ghost clients, themes and site generators.

As in Ghost's Settings -> Integrations: add a custom integration by name to get its Content API
key and the API URL, or delete it to revoke the key at once.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blog.admin.views import bp
from blog.api import keys
from blog.authors.permissions import can
from blog.extensions import db


def _page(errors: dict | None = None, name: str = "", status: int = 200):
    return render_template(
        "admin/integrations.html",
        integrations=keys.integrations(),
        errors=errors or {},
        name=name,
    ), status


def _administrators_only() -> None:
    if not can(current_user, "settings.edit"):
        abort(403)


@bp.get("/admin/integrations/")
def integrations():
    """List integrations with their Content API keys."""
    _administrators_only()
    return _page()


@bp.post("/admin/integrations/")
def add_integration():
    """Add a custom integration and show its new key."""
    _administrators_only()
    name = request.form.get("name", "")
    try:
        integration = keys.create_integration(name)
    except keys.IntegrationError as error:
        return _page({"name": str(error)}, name[:191], 422)
    db.session.commit()
    flash(f"Added “{integration.name}”. Its Content API key is below.", "success")
    return redirect(url_for("admin.integrations"), 303)


@bp.post("/admin/integrations/<int:integration_id>/revoke")
def revoke_integration(integration_id: int):
    """Delete an integration: its key stops working at once."""
    _administrators_only()
    try:
        found = keys.revoke(integration_id)
    except keys.IntegrationError:
        abort(404)
    db.session.commit()
    flash(f"Deleted “{found.name}”; its key no longer works.", "success")
    return redirect(url_for("admin.integrations"), 303)
