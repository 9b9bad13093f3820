"""The staff screen for subscribers (editors and above): list, search, remove, export."""

import io

from flask import Response, abort, redirect, render_template, request, url_for

from blog.authors.permissions import permission_required
from blog.bounds import query_int
from blog.extensions import db
from blog.htmx import is_htmx
from blog.newsletter import services, transfer
from blog.newsletter.views import bp

PER_PAGE = 50


@bp.after_request
def _no_store(response: Response) -> Response:
    """Keep staff screens (subscriber addresses) out of every cache and the back button."""
    if (request.endpoint or "").startswith("newsletter.admin_"):
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/admin/subscribers/", strict_slashes=False)  # the slash like every admin URL
@permission_required("subscriber.view")
def admin_subscribers():
    """List subscribers with status and dates, newest first, optionally searched."""
    query = request.args.get("q", "").strip()[:200]
    page = query_int("page", 1)  # 400 if not a number, 404 if out of range
    subscribers, total = services.search_subscribers(query, page, PER_PAGE)
    if page > 1 and not subscribers:
        abort(404)
    return render_template(
        "newsletter/admin_subscribers.html",
        subscribers=subscribers,
        total=total,
        query=query,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        counts=services.status_counts(),
    )


@bp.post("/admin/subscribers/<int:subscriber_id>/delete")
@permission_required("subscriber.view")
def admin_remove(subscriber_id: int):
    """Remove a subscriber (and every mail still waiting for them)."""
    services.remove_subscriber(subscriber_id)
    db.session.commit()
    if is_htmx():
        return ""  # the row asked to be deleted from the page
    return redirect(url_for(".admin_subscribers", q=request.form.get("q") or None), 303)


@bp.get("/admin/subscribers/export.csv")
@permission_required("subscriber.view")
def admin_export():
    """Download every subscriber as CSV, neutralised against spreadsheet formulas."""
    buffer = io.StringIO()
    transfer.write_csv(buffer, transfer.export_rows())
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="subscribers.csv"'},
    )
