"""Newsletter: the subscribe URL the reader pages post to (the newsletter issue fills it in)."""

from flask import Blueprint, render_template

bp = Blueprint("newsletter", __name__, url_prefix="/newsletter")


@bp.route("/", methods=["GET", "POST"])
def subscribe():
    """Show the newsletter page with its subscribe form."""
    return render_template("newsletter/subscribe.html")
