"""The admin blueprint: guards, headers, the post list (or first-run setup), files and theme."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from blog import images
from blog.accounts import create_user
from blog.admin import services, store
from blog.admin.forms import parse_setup
from blog.authors.forms import Form
from blog.authors.permissions import can
from blog.authors.sessions import start_session
from blog.bounds import query_int
from blog.extensions import db, login_manager
from blog.htmx import render
from blog.models import User
from blog.security import reject_foreign_origin
from blog.site import settings
from blog.transactions import release_write_lock

bp = Blueprint("admin", __name__)

# Screens anyone may open: setup decides for itself; the theme and uploads are public files.
PUBLIC_ENDPOINTS = {
    "admin.index",
    "admin.setup",
    "admin.theme",
    "admin.uploaded",
    "admin.shared_preview",  # a draft's preview link: the signed token is the permission
}
# Sign-in screens carry CSRF tokens and secrets in links, so no cache may keep them.
NO_STORE_ENDPOINTS = {
    "authors.login",
    "authors.logout",
    "authors.forgot",
    "authors.reset",
    "authors.accept_invite",
}


@bp.record_once
def _register_settings_loader(state) -> None:
    """Let blog.site.settings() read what the settings screen stored."""
    state.app.extensions.setdefault("site_setting_loaders", []).append(store.load_settings)


@bp.before_request
def require_staff():
    """Refuse foreign-origin writes; send visitors to sign in and refuse other roles."""
    reject_foreign_origin()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not can(current_user, "admin.view"):
        abort(403)
    return None


@bp.after_app_request
def no_store(response: Response) -> Response:
    """Keep admin and sign-in pages out of every cache (and the back button's history)."""
    endpoint = request.endpoint or ""
    if endpoint in NO_STORE_ENDPOINTS or (
        request.blueprint == "admin" and endpoint not in ("admin.theme", "admin.uploaded")
    ):
        response.headers["Cache-Control"] = "no-store"
    elif (
        response.mimetype == "text/html"
        and "Cache-Control" not in response.headers
        and current_user.is_authenticated
    ):
        # A signed-in page carries a CSRF token and staff links: never for a shared cache.
        response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.app_template_global()
def theme_css_url() -> str:
    """Return the theme stylesheet's URL; it changes whenever the accent colour does."""
    return url_for("admin.theme", v=store.accent_color(settings().get("accent_color"))[1:])


@bp.app_context_processor
def _helpers() -> dict:
    return {"can": can, "srcset": images.srcset, "image_size": images.image_size}


def needs_setup() -> bool:
    """Tell whether this is a first run: no owner, and nobody who could sign in.

    Demo authors have no password, so a demo blog still offers setup; a blog whose first
    account came from `create-user` never offers it to strangers.
    """
    can_sign_in = (User.role == "owner") | (
        User.is_active.is_(True) & User.password_hash.is_not(None)
    )
    return db.session.scalar(select(User.id).where(can_sign_in).limit(1)) is None


@bp.get("/admin/")
def index():
    """List posts with filters and search, or offer first-run setup (see needs_setup)."""
    if needs_setup():
        return render("admin/setup.html", "admin/setup.html", form=Form(MultiDict()))
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not can(current_user, "admin.view"):
        abort(403)
    status = request.args.get("status")
    status = status if status in services.STATUS_FILTERS else None
    query = request.args.get("q", "").strip()[:100] or None
    author = None
    if request.args.get("author") and can(current_user, "post.view_all"):
        author = db.session.scalar(select(User).where(User.slug == request.args["author"][:191]))
    number = query_int("page", 1)  # 400 if not a number, 404 if out of range
    page = services.list_posts(current_user, status, author, query, number)
    if number > 1 and not page.posts:
        abort(404)
    return render(
        "admin/index.html",
        "admin/_post_rows.html",
        page=page,
        filter_status=status,  # not status=: render() takes that as the HTTP status
        query=query,
        author=author,
        staff=services.staff_members() if can(current_user, "post.view_all") else [],
        display_status=services.display_status,
    )


@bp.post("/admin/setup")
def setup():
    """Create the owner account on first run and sign them in; gone afterwards."""
    if not needs_setup():
        abort(404)
    form = parse_setup(request.form)
    if form.ok:
        user = create_user(
            email=form.values["email"],
            name=form.values["name"],
            role="owner",
            password=form.values["password"],
        )
        if form.values.get("site_title"):
            store.save_settings({"title": form.values["site_title"]})
        start_session(user)
        db.session.commit()
        return redirect(url_for("admin.index"), 303)
    return render("admin/setup.html", "admin/setup.html", 422, form=form)


@bp.get("/assets/theme.css")
def theme():
    """Serve the accent colour as CSS custom properties (no inline styles needed)."""
    color = store.accent_color(settings().get("accent_color"))
    response = Response(store.theme_css(color), mimetype="text/css")
    versioned = request.args.get("v") == color[1:]
    response.cache_control.public = True
    response.cache_control.max_age = 31_536_000 if versioned else 300
    if versioned:
        response.cache_control.immutable = True
    return response


@bp.get("/uploads/<name>")
def uploaded(name: str):
    """Serve an uploaded image with its image type; names are ours, so never a path."""
    response = images.send_upload(name)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.cache_control.immutable = True
    response.cache_control.public = True
    return response


@bp.post("/admin/uploads")
def upload():
    """Store an uploaded image; answer with its URL and the Markdown to insert it."""
    if not can(current_user, "upload.create"):
        abort(403)
    release_write_lock()  # re-encoding takes seconds: not while holding SQLite's write lock
    wants_json = request.accept_mimetypes.best == "application/json"  # the editor's script
    try:
        url = images.save_image(request.files.get("image"))
    except images.UploadError as error:
        if wants_json:
            return {"error": error.message}, error.status
        return render("admin/upload.html", "admin/_upload.html", error.status, error=error.message)
    if wants_json:
        return {"url": url}, 201
    return render("admin/upload.html", "admin/_upload.html", 201, url=url, error=None)
