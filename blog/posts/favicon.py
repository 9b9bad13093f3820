"""/favicon.ico: the site icon from the settings (SITE_ICON), or the default icon."""

import mimetypes
from pathlib import Path

from flask import current_app, send_file

from blog.images import stored_path
from blog.posts.views import bp
from blog.site import safe_url, settings

DEFAULT_ICON = "img/favicon.ico"


@bp.get("/favicon.ico")
def favicon():
    """Serve the site icon: a stored or static image as is, else the default icon.

    A remote icon (an https URL in the settings) is linked from every page's head instead:
    the site never redirects off itself (blog.security), and browsers follow the link.
    """
    icon = safe_url(settings().get("icon"))
    path = None
    if icon.startswith("/static/") and ".." not in icon:
        path = Path(current_app.static_folder or "") / icon[len("/static/") :]
    elif icon.startswith("/uploads/") and ".." not in icon:

        path = stored_path(icon[len("/uploads/") :])
    if path is None or not path.is_file():
        path = Path(current_app.static_folder or "") / DEFAULT_ICON
    mimetype = mimetypes.guess_type(path.name)[0] or "image/x-icon"
    response = send_file(path, mimetype=mimetype, max_age=86400)
    return response
