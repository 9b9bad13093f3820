"""The admin blueprint: its guard, the no-store header, the post list (or first-run setup),
and image uploads."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from blog import images
from blog.accounts import create_user
from blog.admin.forms import parse_setup
from blog.authors.permissions import can
from blog.authors.sessions import start_session
from blog.bounds import query_int
from blog.extensions import db, login_manager
from blog.forms import Form
from blog.htmx import render
from blog.models import User
from blog.posts import staff_list
from blog.security import reject_foreign_origin
from blog.settings import save_settings
from blog.transactions import release_write_lock

bp = Blueprint("admin", __name__)

# Screens anyone may open: setup decides for itself.
PUBLIC_ENDPOINTS = {
    "admin.index",
    "admin.setup",
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


def no_store(response: Response) -> Response:
    """Keep admin and sign-in pages out of every cache (and the back button's history).

    An app-wide after_request hook (blog.admin.init_app): signed-in reader pages need it too.
    """
    endpoint = request.endpoint or ""
    if endpoint in NO_STORE_ENDPOINTS or request.blueprint == "admin":
        response.headers["Cache-Control"] = "no-store"
    elif (
        response.mimetype == "text/html"
        and "Cache-Control" not in response.headers
        and current_user.is_authenticated
    ):
        # A signed-in page carries a CSRF token and staff links: never for a shared cache.
        response.headers["Cache-Control"] = "private, no-store"
    return response


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
    status = status if status in staff_list.STATUS_FILTERS else None
    query = request.args.get("q", "").strip()[:100] or None
    author = _author_filter()
    number = query_int("page", 1)  # 400 if not a number, 404 if out of range
    page = staff_list.list_staff_posts(current_user, status, author, query, number)
    if number > 1 and not page.posts:
        abort(404)
    return render(
        "admin/index.html",
        "admin/_post_rows.html",
        page=page,
        filter_status=status,  # not status=: render() takes that as the HTTP status
        query=query,
        author=author,
        staff=staff_list.staff_members() if can(current_user, "post.view_all") else [],
        display_status=staff_list.display_status,
    )


def _author_filter() -> User | None:
    """Return the staff member ?author= names, for those who may see everyone's posts."""
    if not request.args.get("author") or not can(current_user, "post.view_all"):
        return None
    return db.session.scalar(select(User).where(User.slug == request.args["author"][:191]))


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
            save_settings({"title": form.values["site_title"]})
        start_session(user)
        db.session.commit()
        return redirect(url_for("admin.index"), 303)
    return render("admin/setup.html", "admin/setup.html", 422, form=form)


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
