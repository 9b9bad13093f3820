"""The WSGI entry point: `gunicorn` (gunicorn.conf.py) or any WSGI server serves wsgi:app.

Under gunicorn.conf.py's preload_app this module runs once, in the master, and the workers are
forked from it, sharing its memory until they write to it. So, before the fork:

- the garbage collector is off while the app is built (no holes freed among the objects every
  worker shares), and gc.freeze() then moves everything built so far out of the collector's
  sight: a collection in a worker would otherwise write to every shared object's header and copy
  each page (Instagram's finding; measured here: 143 -> 117 MB PSS for master + 2 workers);
- what the first reader request would build lazily is built once: SQLAlchemy's mapper
  configuration, Werkzeug's URL matcher, the reader pages' compiled templates;
- no database connection is open (nothing above opens one), and every engine's pool is dropped
  in the child after any fork all the same, so no connection is ever shared between processes.

Without preload (bench/run.py's default, `gunicorn wsgi:app`) each worker runs this module
itself: the same steps, paid at its start instead of by its first request.
"""

import gc
import os

from flask import Flask
from sqlalchemy.orm import configure_mappers

from blog import create_app
from blog.extensions import db

# The templates of the pages readers ask for; staff screens compile on first use.
READER_TEMPLATES = ("base.html", "posts/", "errors/", "newsletter/_subscribe")


def warm_up(app: Flask) -> None:
    """Build now what the first request would build: mappers, URL matcher, reader templates."""
    configure_mappers()
    app.url_map.update()
    for name in app.jinja_env.list_templates():
        if name.startswith(READER_TEMPLATES):
            app.jinja_env.get_template(name)


def _drop_inherited_connections() -> None:
    """In a forked child: forget the parent's pooled connections without closing them (they
    are the parent's), as SQLAlchemy's guide to pools and os.fork() advises."""
    for engine in _engines:
        engine.dispose(close=False)


gc.disable()
app = create_app()
warm_up(app)
with app.app_context():
    _engines = list(db.engines.values())  # made by create_app, once: the same in every child
gc.freeze()
gc.enable()
os.register_at_fork(after_in_child=_drop_inherited_connections)
